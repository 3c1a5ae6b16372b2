"""Build the landmark templates in ``mocks/`` from one parametric face model.

A template says where each landmark of one operation sits on a face, in units of the face
box (``u = (x - left) / width``, ``v = (y - top) / height``). The Hypothesis strategies and
the mock engine fit it to a face box. Every template is sampled from the same model below,
so the vendors agree with each other. Key names and counts are read from the schemas at
build time. Only the geometry, and the order and direction of each vendor's sequences,
live here, each with its source.

The model is written in face units: x from the widest left point of the head outline (0)
to the widest right point (1), y from the top of the forehead/hairline (0) to the chin
(1), frontal, no roll. It is mapped into the box with a margin (``MARGIN``), so every point
lies inside it. Proportions come from vendor examples with real coordinates: the Face++
dense answer of [facepp-answer-vue-demo], the landmark example of [ailab-face-key-points-doc]
(read at ``0b2eef3``), the result example of [acedata-face-analyze] and the Face++ Detect
answers of [facepp-answer-hinata013] (83 points) and [facepp-answer-vue-upload] (106 points).
The ids in square brackets are the sources of ``docs/sources.md``.

Run ``python scripts/build_landmark_templates.py`` to write the files; ``build()`` returns
them without writing (the tests compare it with the committed files).
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
MOCKS = ROOT / "mocks"

Point = tuple[float, float]
Points = list[Point]

# --- model parameters (face units) ------------------------------------------------------

MARGIN = 0.03  # face units -> box: u = MARGIN + (1 - 2 * MARGIN) * x
ASPECT = 0.75  # nominal box width / height in pixels (Face++ sample 288/402, AILab 185/246)

# The image-left half of the head outline, from the top of the forehead to the chin
# (the Face++ dense sample's hairline and contours, averaged over both sides).
OUTLINE_LEFT: Points = [
    (0.5, 0.0),
    (0.375, 0.005),
    (0.25, 0.03),
    (0.15, 0.085),
    (0.075, 0.165),
    (0.028, 0.265),
    (0.007, 0.365),
    (0.0, 0.46),
    (0.007, 0.545),
    (0.03, 0.62),
    (0.066, 0.728),
    (0.128, 0.817),
    (0.218, 0.9),
    (0.34, 0.972),
    (0.5, 1.0),
]
EAR_V = 0.425  # the eye line, where sparse jaw contours start (Ace Data, Face++ Detect)
CONTOUR_END_V = 0.48  # Face++ face_contour_*_63 (sample: y 263-268 of 73..475)
HAIRLINE_END_V = 0.55  # Face++ face_hairline_0 / _144 (sample: y 292-297, overlapping)
CHEEK_START_V = 0.527  # AILab cheek_right_1 / cheek_left_1 (docs example)
FOREHEAD_END_V = 0.383  # AILab forehead_right_5 / forehead_left_5 (docs example)

EYE_CENTER: Point = (0.265, 0.425)  # image-left eye; the other one is its mirror image
EYE_A = 0.095  # half width
EYE_B = 0.024  # half height
IRIS_CENTER: Point = (EYE_CENTER[0], EYE_CENTER[1] - 0.15 * EYE_B)  # tucked under the lid
IRIS_R = 0.044  # face widths: AILab iris 7.9 px of 185; Face++ pupil radius 13 px of 288
EYELID_SCALE = (1.2, 1.1)  # Face++ *_eye_eyelid around *_eye (sample: 60x22 vs 47x20 px)

# The image-left eyebrow, from its outer end to its inner end.
BROW_UPPER: Points = [
    (0.08, 0.35),
    (0.12, 0.31),
    (0.19, 0.288),
    (0.28, 0.29),
    (0.36, 0.302),
    (0.405, 0.315),
]
BROW_LOWER: Points = [
    (0.08, 0.35),
    (0.13, 0.335),
    (0.2, 0.326),
    (0.28, 0.326),
    (0.36, 0.333),
    (0.405, 0.352),
]
BROW_INNER_END: Point = (0.412, 0.3335)

# The image-left side of the nose, from beside the bridge round the wing to the base.
NOSE_SIDE: Points = [
    (0.42, 0.455),
    (0.415, 0.5),
    (0.405, 0.55),
    (0.39, 0.59),
    (0.375, 0.62),
    (0.367, 0.643),
    (0.378, 0.667),
    (0.4, 0.678),
    (0.43, 0.684),
    (0.46, 0.688),
    (0.49, 0.69),
]
NOSE_TIP: Point = (0.5, 0.59)
NOSE_BASE: Point = (0.5, 0.69)  # subnasale
NOSE_WING: Point = (0.367, 0.643)  # outermost point of the image-left wing
NOSTRIL: Point = (0.425, 0.662)  # upper edge of the image-left nostril
MIDLINE_TOP_V, MIDLINE_BOTTOM_V = 0.315, 0.73  # between the brows .. philtrum

MOUTH_HALF_WIDTH = 0.195
MOUTH_CORNER_V = 0.78


def lip(edge: str, p: float) -> Point:
    """A point on a lip edge at p in [-1, 1] (image-left corner to image-right corner).

    Edges: upper_outer (with the cupid's bow), upper_inner (lower edge of the upper lip),
    lower_inner (upper edge of the lower lip), lower_outer. The mouth is barely open.
    """
    w = max(0.0, 1.0 - p * p)
    if edge == "upper_outer":
        dv = -0.042 * w**0.8 + 0.008 * math.exp(-((p / 0.13) ** 2))
    elif edge == "upper_inner":
        dv = 0.01 * w
    elif edge == "lower_inner":
        dv = 0.016 * w
    elif edge == "lower_outer":
        dv = 0.065 * w**0.7
    else:
        raise ValueError(edge)
    return (0.5 + MOUTH_HALF_WIDTH * p, MOUTH_CORNER_V + dv)


# --- geometry -----------------------------------------------------------------------------


def mirror(point: Point) -> Point:
    return (1.0 - point[0], point[1])


def mirrored(points: Points) -> Points:
    return [mirror(point) for point in points]


def distance(a: Point, b: Point) -> float:
    """Distance in box heights for a box of the nominal aspect (so circles stay round)."""
    return math.hypot((a[0] - b[0]) * ASPECT, a[1] - b[1])


def catmull_rom(points: Points, closed: bool = False, steps: int = 40) -> Points:
    """A dense smooth curve through the points (uniform Catmull-Rom: the control points
    are evenly spread)."""
    count = len(points)
    spans = count if closed else count - 1

    def blend(p0: float, p1: float, p2: float, p3: float, t: float) -> float:
        return 0.5 * (
            2 * p1
            + (p2 - p0) * t
            + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t * t
            + (3 * p1 - p0 - 3 * p2 + p3) * t * t * t
        )

    dense: Points = []
    for i in range(spans):
        p0 = points[(i - 1) % count] if closed or i > 0 else points[0]
        p1, p2 = points[i], points[(i + 1) % count]
        p3 = points[(i + 2) % count] if closed or i + 2 < count else points[-1]
        for step in range(steps):
            t = step / steps
            dense.append(
                (blend(p0[0], p1[0], p2[0], p3[0], t), blend(p0[1], p1[1], p2[1], p3[1], t))
            )
    if not closed:
        dense.append(points[-1])
    return dense


def cumulative(points: Points) -> list[float]:
    lengths = [0.0]
    for a, b in itertools.pairwise(points):
        lengths.append(lengths[-1] + distance(a, b))
    return lengths


def at_length(points: Points, lengths: list[float], s: float) -> Point:
    """The point at arc length s along a polyline with its cumulative lengths."""
    s = min(max(s, 0.0), lengths[-1])
    low, high = 0, len(lengths) - 1
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if lengths[middle] <= s else (low, middle)
    span = lengths[high] - lengths[low]
    t = 0.0 if span == 0 else (s - lengths[low]) / span
    a, b = points[low], points[high]
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def resample(points: Points, count: int) -> Points:
    """count points at equal arc length along an open polyline, both ends included."""
    lengths = cumulative(points)
    return [at_length(points, lengths, lengths[-1] * i / (count - 1)) for i in range(count)]


def ring(points: Points, count: int) -> Points:
    """count points at equal arc length round a closed polyline, from its first point."""
    closed = [*points, points[0]]
    lengths = cumulative(closed)
    return [at_length(closed, lengths, lengths[-1] * i / count) for i in range(count)]


def at_x_fraction(edge: Points, fraction: float) -> Point:
    """The point of an x-monotonic polyline at a fraction of its x-extent."""
    x0, x1 = edge[0][0], edge[-1][0]
    x = x0 + (x1 - x0) * fraction
    for a, b in itertools.pairwise(edge):
        if min(a[0], b[0]) <= x <= max(a[0], b[0]) and a[0] != b[0]:
            t = (x - a[0]) / (b[0] - a[0])
            return (x, a[1] + (b[1] - a[1]) * t)
    return edge[0] if fraction <= 0.5 else edge[-1]


def ellipse(center: Point, a: float, b: float) -> Points:
    """A dense ellipse from its image-left end, clockwise on screen (y grows downwards)."""
    n = 720
    return [
        (
            center[0] + a * math.cos(math.pi + 2 * math.pi * i / n),
            center[1] + b * math.sin(math.pi + 2 * math.pi * i / n),
        )
        for i in range(n)
    ]


def circle(center: Point, count: int) -> Points:
    """count points of the iris circle from its top, counter-clockwise on screen (towards
    the image left first), as iris_left_2..20 in the AILabTools docs example."""
    return [
        (
            center[0] + IRIS_R * math.cos(-math.pi / 2 - 2 * math.pi * i / count),
            center[1] + IRIS_R * ASPECT * math.sin(-math.pi / 2 - 2 * math.pi * i / count),
        )
        for i in range(count)
    ]


def eye_edge(center: Point, upper: bool, fraction: float) -> Point:
    """The eyelid point at a fraction of the eye's width, from its image-left corner."""
    x = -1.0 + 2.0 * fraction
    dy = EYE_B * math.sqrt(max(0.0, 1.0 - x * x))
    return (center[0] + EYE_A * x, center[1] - dy if upper else center[1] + dy)


def eye_ring(count: int, upper_first: bool) -> Points:
    """count points round the image-left eye from its outer (image-left) corner."""
    points = ring(ellipse(EYE_CENTER, EYE_A, EYE_B), count)
    return points if upper_first else [points[0], *points[:0:-1]]


class Outline:
    """The closed head outline with an arc-length coordinate s: 0 at the top centre,
    growing towards the image left (counter-clockwise on screen); the chin is at L / 2."""

    def __init__(self) -> None:
        loop = OUTLINE_LEFT[:-1] + mirrored(OUTLINE_LEFT[1:])[::-1]
        self.points = catmull_rom(loop, closed=True)
        self.closed = [*self.points, self.points[0]]
        self.lengths = cumulative(self.closed)
        self.length = self.lengths[-1]

    def at(self, s: float) -> Point:
        return at_length(self.closed, self.lengths, s % self.length)

    def s_left(self, v: float) -> float:
        """The arc length of the image-left point at height v."""
        low, high = 0.0, self.length / 2
        for _ in range(60):
            middle = (low + high) / 2
            low, high = (middle, high) if self.at(middle)[1] < v else (low, middle)
        return (low + high) / 2

    def run(self, start: float, end: float, count: int) -> Points:
        """count points at equal steps of s from start to end (either direction)."""
        return [self.at(start + (end - start) * i / (count - 1)) for i in range(count)]

    def jaw(self, top_v: float, count: int) -> Points:
        """From the image-left side at height top_v, round the chin, to the image right."""
        s = self.s_left(top_v)
        return self.run(s, self.length - s, count)


OUTLINE = Outline()


def brow_edges() -> tuple[Points, Points]:
    """Dense upper and lower edges of the image-left brow, outer end to inner end."""
    return catmull_rom(BROW_UPPER), catmull_rom(BROW_LOWER)


def brow_ring(count: int, upper_first: bool) -> Points:
    """count points round the image-left brow from the centre of its outer end."""
    upper, lower = brow_edges()
    closed = [*upper, BROW_INNER_END, *lower[::-1][:-1]]
    points = ring(closed, count)
    return points if upper_first else [points[0], *points[:0:-1]]


def brow_point(upper: bool, fraction: float, image_right: bool) -> Point:
    """The point of a brow edge at a fraction of the brow's width from its image-left end."""
    upper_edge, lower_edge = brow_edges()
    edge = upper_edge if upper else lower_edge
    if image_right:
        return mirror(at_x_fraction(edge, 1.0 - fraction))
    return at_x_fraction(edge, fraction)


# --- box units and output -----------------------------------------------------------------


def box(point: Point) -> list[float]:
    scale = 1.0 - 2.0 * MARGIN
    return [round(MARGIN + scale * point[0], 4), round(MARGIN + scale * point[1], 4)]


def boxed(points: Points) -> list[list[float]]:
    return [box(point) for point in points]


def radius(value: float) -> float:
    """A length in face widths, in box widths."""
    return round(value * (1.0 - 2.0 * MARGIN), 4)


def render(template: dict[str, Any]) -> str:
    """JSON with one point per line: readable diffs, modest size."""
    lines = ["{"]
    for key in ("operation", "x-sources", "coordinates", "convention"):
        lines.append(f"  {json.dumps(key)}: {json.dumps(template[key], ensure_ascii=False)},")
    lines.append('  "groups": {')
    groups = list(template["groups"].items())
    for index, (group, points) in enumerate(groups):
        if isinstance(points, dict):
            opening, closing = "{", "}"
            items = [f"{json.dumps(key)}: {json.dumps(value)}" for key, value in points.items()]
        else:
            opening, closing = "[", "]"
            items = [json.dumps(value) for value in points]
        lines.append(f"    {json.dumps(group)}: {opening}")
        lines.extend(f"      {item}," for item in items[:-1])
        lines.append(f"      {items[-1]}")
        lines.append(f"    {closing}{',' if index < len(groups) - 1 else ''}")
    lines.append("  },")
    lines.append('  "anchors": [')
    sets = template["anchors"]
    for index, anchor_set in enumerate(sets):
        lines.append(f"    {json.dumps(anchor_set)}{',' if index < len(sets) - 1 else ''}")
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


# The points a detected face is measured at, in the model's face units: a renderer fits each
# template to a detected face by these (least squares), so eyes land on eyes and mouths on
# mouths. Names say the IMAGE side; the eyes are the pupils (iris centres).
ANCHORS: dict[str, Point] = {
    "image_left_eye": IRIS_CENTER,
    "image_right_eye": mirror(IRIS_CENTER),
    "nose_tip": NOSE_TIP,
    "image_left_mouth_corner": lip("upper_outer", -1.0),
    "image_right_mouth_corner": lip("upper_outer", 1.0),
}
# Measured too, for a denser fit: where a template has a point (or the mean of two
# neighbours) at these, it names it; each set then holds the ones its template has.
DENSE_ANCHORS: dict[str, Point] = {
    "image_left_eye_outer_corner": (EYE_CENTER[0] - EYE_A, EYE_CENTER[1]),
    "image_left_eye_inner_corner": (EYE_CENTER[0] + EYE_A, EYE_CENTER[1]),
    "image_right_eye_inner_corner": mirror((EYE_CENTER[0] + EYE_A, EYE_CENTER[1])),
    "image_right_eye_outer_corner": mirror((EYE_CENTER[0] - EYE_A, EYE_CENTER[1])),
    "upper_lip_top": lip("upper_outer", 0.0),
    "lower_lip_bottom": lip("lower_outer", 0.0),
    "chin": (0.5, 1.0),
}
ANCHORS_NOTE = (
    "own: anchors: which template points a detected face's measured points are (ANCHORS and "
    "DENSE_ANCHORS in scripts/build_landmark_templates.py): each set names the groups it "
    "places and, per anchor, the 'group/key' (or 'group/index') points whose mean is that "
    "anchor; a face found by the detector is placed by the map from these points to the "
    "measured ones (src/face_contracts/generation/_fit.py)"
)


def anchor_set(
    groups: dict[str, Any], placed: list[str], refs: dict[str, list[str]]
) -> dict[str, Any]:
    """One anchor set, checked: every reference exists and sits at the model's anchor;
    the dense anchors are looked up (a point, or the mean of two neighbours, at the
    model's place)."""
    if set(refs) != set(ANCHORS):
        raise ValueError(f"anchors {sorted(refs)} are not {sorted(ANCHORS)}")
    found_refs = dict(refs)
    for name, wanted_point in DENSE_ANCHORS.items():
        near = _nearest_refs(groups, box(wanted_point))
        if near is not None:
            found_refs[name] = near
    every = {**ANCHORS, **DENSE_ANCHORS}
    for name, found in found_refs.items():
        wanted = box(every[name])
        values = [_at(groups, ref) for ref in found]
        mean = (
            sum(value[0] for value in values) / len(values),
            sum(value[1] for value in values) / len(values),
        )
        if distance(mean, (wanted[0], wanted[1])) > 0.002:
            raise ValueError(f"anchor {name}: {found} at {mean} is not at {wanted}")
    return {"groups": placed, "points": found_refs}


def _at(groups: dict[str, Any], ref: str) -> list[float]:
    group, _, key = ref.partition("/")
    points = groups[group]
    value: list[float] = points[int(key)] if isinstance(points, list) else points[key]
    return value


def _nearest_refs(groups: dict[str, Any], wanted: list[float]) -> list[str] | None:
    """The template point at ``wanted``, else the two neighbours whose mean is, else None
    (within 0.002 box units)."""
    candidates = []
    for group, points in groups.items():
        items = points.items() if isinstance(points, dict) else enumerate(points)
        for key, value in items:
            if isinstance(value, list):
                near = distance((value[0], value[1]), (wanted[0], wanted[1]))
                candidates.append((near, f"{group}/{key}", value))
    candidates.sort(key=lambda item: item[0])
    if candidates and candidates[0][0] <= 0.002:
        return [candidates[0][1]]
    closest = candidates[:6]
    pairs = []
    for (_, ref_a, a), (_, ref_b, b) in itertools.combinations(closest, 2):
        mean = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        pairs.append((distance(mean, (wanted[0], wanted[1])), sorted([ref_a, ref_b])))
    pairs.sort(key=lambda item: (item[0], item[1]))
    if pairs and pairs[0][0] <= 0.002:
        return pairs[0][1]
    return None


COORDINATES = (
    "u, v in units of the face box: u = (x - left) / width, v = (y - top) / height; "
    "image x grows to the right, y downwards"
)
MODEL_SOURCE = (
    "scripts/build_landmark_templates.py: one parametric frontal face for every vendor; "
    "box = hairline/forehead to chin, head outline to head outline, margin 0.03; "
    "proportions from vendor examples with real coordinates: the Face++ dense answer of "
    "[facepp-answer-vue-demo], the landmark example of [ailab-face-key-points-doc] (read at "
    "0b2eef3), the result example of [acedata-face-analyze] and the Face++ Detect answers "
    "of [facepp-answer-hinata013] and [facepp-answer-vue-upload]"
)


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


# --- Face++ dense landmarks ---------------------------------------------------------------


def facepp_thousandlandmark() -> dict[str, Any]:
    schema = load(SCHEMAS / "facepp" / "thousandlandmark.response.json")
    defs = schema["$defs"]
    # One sampled list per documented sequence, all on the image-left side (or the whole
    # face); the image-right sequences are their mirror images, index for index.
    hair_end = OUTLINE.s_left(HAIRLINE_END_V)
    contour_end = OUTLINE.s_left(CONTOUR_END_V)
    half = OUTLINE.length / 2
    # hairline_0 is near the image-right ear, then over the top (counter-clockwise on
    # screen) to the image-left ear; contours run from the chin up to the ear.
    hairline = OUTLINE.run(-hair_end, hair_end, 145)
    contour_left = OUTLINE.run(half, contour_end, 64)
    brow = brow_ring(64, upper_first=True)  # left_eyebrow_0 at the left end, clockwise
    eye = eye_ring(63, upper_first=True)  # left_eye_0 at the left end, clockwise
    lid_a, lid_b = EYE_A * EYELID_SCALE[0], EYE_B * EYELID_SCALE[1]
    eyelid = ring(ellipse(EYE_CENTER, lid_a, lid_b), 64)  # from the outer canthus, clockwise
    nose_left = resample(catmull_rom(NOSE_SIDE), 63)  # upper end -> nose bottom centre
    midline = [
        (0.5, MIDLINE_TOP_V + (MIDLINE_BOTTOM_V - MIDLINE_TOP_V) * i / 59) for i in range(60)
    ]
    pupil_radius = radius(IRIS_R)

    def lips(first: str, second: str) -> Points:
        # 0..31 along the first edge left to right, 32..63 along the second right to left
        forward = [lip(first, -1.0 + 2.0 * i / 31) for i in range(32)]
        backward = [lip(second, 1.0 - 2.0 * i / 31) for i in range(32)]
        return forward + backward

    sequences: dict[str, Points] = {
        "face_hairline_": hairline,
        "face_contour_right_": mirrored(contour_left),
        "face_contour_left_": contour_left,
        "left_eyebrow_": brow,
        "right_eyebrow_": mirrored(brow),
        "left_eye_eyelid_": eyelid,
        "right_eye_eyelid_": mirrored(eyelid),
        "left_eye_": eye,
        "right_eye_": mirrored(eye),
        "nose_left_": nose_left,
        "nose_right_": mirrored(nose_left),
        "nose_midline_": midline,
        "upper_lip_": lips("upper_outer", "upper_inner"),
        "lower_lip_": lips("lower_outer", "lower_inner"),
    }
    single: dict[str, Point] = {
        "left_eye_pupil_center": IRIS_CENTER,
        "right_eye_pupil_center": mirror(IRIS_CENTER),
        "left_nostril": NOSTRIL,
        "right_nostril": mirror(NOSTRIL),
    }
    radii = {"left_eye_pupil_radius": pupil_radius, "right_eye_pupil_radius": pupil_radius}

    def place(key: str) -> Any:
        if key in radii:
            return radii[key]
        if key in single:
            return box(single[key])
        prefix, _, index = key.rpartition("_")
        return box(sequences[prefix + "_"][int(index)])

    groups = {
        group: {key: place(key) for key in defs[f"group_{group}"]["required"]}
        for group in defs["landmark"]["properties"]
    }
    return {
        "operation": "facepp.thousandlandmark",
        "x-sources": [
            "[facepp-dense-cn] §landmark 中包含的元素说明 (order and direction of every "
            "sequence), §成功请求返回值示例 (left_eyebrow on the image left)",
            "[facepp-dense-en] (the eyelid groups: <side>_eye_eyelid_0 at the outside "
            "canthus, clockwise); [facepp-client-faceppswift-dense] (every group; pupil radius "
            "a bare number)",
            "the Face++ dense answer of [facepp-answer-vue-demo]: contour ends y 263-268 and "
            "hairline ends y 292-297 (they overlap), pupil radius 13 px for a 288 px wide "
            "head, eyelid contour slightly larger than the eye",
            MODEL_SOURCE,
        ],
        "coordinates": COORDINATES,
        "convention": (
            "left_*/right_* are image sides: left_* lies on the image left ([facepp-dense-cn] "
            "success example: left_eyebrow x 211-232, right_eyebrow x 358-362, face_rectangle "
            "left 161 width 216). face_hairline_0..144 from near the image-right ear over the top "
            "to the image-left ear (counter-clockwise on screen); face_contour_right_0 and "
            "face_contour_left_0 at the chin centre, each running up to its ear; "
            "<side>_eyebrow_0, <side>_eye_0 and <side>_eye_eyelid_0 at the outer end, left_* "
            "clockwise and right_* counter-clockwise on screen (upper edge first); "
            "nose_left/right_0..62 from the upper end beside the bridge round the wing to the "
            "nose bottom centre; nose_midline_0..59 from between the brows down to the philtrum; "
            "upper_lip_0..31 upper edge left to right, 32..63 its lower edge right to left; "
            "lower_lip_0..31 lower edge left to right, 32..63 its upper edge right to left; "
            "*_pupil_radius is a bare number in box widths"
        ),
        "groups": groups,
    }


# --- Ace Data Cloud -----------------------------------------------------------------------


def acedata_face_analyze() -> dict[str, Any]:
    schema = load(SCHEMAS / "acedata" / "face_analyze.response.json")
    face_shape = schema["$defs"]["face_shape"]
    counts = {
        group: face_shape["properties"][group]["minItems"] for group in face_shape["required"]
    }
    # The orders of the [acedata-face-analyze] example, confirmed on the frontal
    # Tencent-style face_shape answer of [facepp-answer-vue-demo]: eyes and brows start at
    # the outer end and run along the lower edge first; face_profile runs from the image-left
    # ear level round the chin to the image right; the mouth is corner, lower outer edge,
    # corner, upper outer edge, then the inner edges; the nose is tip, bridge top, down the
    # image-left side, along the base, up the image-right side.

    def eye(count: int) -> Points:
        return eye_ring(count, upper_first=False)

    def brow(count: int) -> Points:
        half = count // 2
        lower = [brow_point(False, i / half, image_right=False) for i in range(half + 1)]
        upper = [brow_point(True, 1 - i / half, image_right=False) for i in range(1, half)]
        return lower + upper

    def mouth(count: int) -> Points:
        side = (count - 2) // 4 + 1  # 22 points: 6 steps per edge
        outer = [lip("lower_outer", -1 + 2 * i / side) for i in range(side + 1)]
        outer += [lip("upper_outer", 1 - 2 * i / side) for i in range(1, side)]
        inner = [lip("lower_inner", -1 + 2 * i / side) for i in range(1, side)]
        inner += [lip("upper_inner", 1 - 2 * i / side) for i in range(1, side)]
        return outer + inner

    def nose(count: int) -> Points:
        top = (0.5, EAR_V + 0.015)
        steps = (count - 7) // 2 + 1  # 13 points: 3 between the top and the wing
        dx, dy = NOSE_WING[0] - top[0], NOSE_WING[1] - top[1]
        side = [(top[0] + dx * i / steps, top[1] + dy * i / steps) for i in range(1, steps)]
        base = (0.5 - 0.07, NOSE_BASE[1] - 0.016)
        left = [*side, NOSE_WING, base]
        return [NOSE_TIP, top, *left, NOSE_BASE, *mirrored(left)[::-1]]

    shapes: dict[str, Points] = {}
    for group, count in counts.items():
        right = group.startswith("right_")
        kind = group.removeprefix("left_").removeprefix("right_")
        if kind == "face_profile":
            points = OUTLINE.jaw(EAR_V, count)
        elif kind == "eye":
            points = eye(count)
        elif kind == "eye_brow":
            points = brow(count)
        elif kind == "pupil":
            points = [IRIS_CENTER] * count
        elif kind == "mouth":
            points = mouth(count)
        elif kind == "nose":
            points = nose(count)
        else:
            raise ValueError(group)
        if len(points) != count:
            raise ValueError(f"{group}: {len(points)} points, the schema says {count}")
        shapes[group] = mirrored(points) if right else points
    return {
        "operation": "acedata.face_analyze",
        "x-sources": [
            "[acedata-face-analyze] §Basic Usage result example (coordinates: order and "
            "direction of every group, left_* on the image left)",
            "the groups and counts of schemas/acedata/face_analyze.response.json (minItems; "
            "from [acedata-face-analyze] §Basic Usage)",
            "[tencent-iai-sdk] (FaceShape of AnalyzeFace, the inferred upstream: 90 points)",
            "the frontal Tencent-style face_shape answer of [facepp-answer-vue-demo]: the same "
            "orders without the roll of the [acedata-face-analyze] example",
            MODEL_SOURCE,
        ],
        "coordinates": COORDINATES,
        "convention": (
            "left_*/right_* are image sides: left_* lies on the image left "
            "([acedata-face-analyze] example: left_pupil x 310 < right_pupil x 357, left_eye x "
            "298-314 < right_eye x 342-363). Orders as in that example: face_profile from the "
            "image-left side at eye level round the chin (index 10) to the image right; each eye "
            "and eyebrow starts at its outer end and runs along its lower edge to the inner end, "
            "then back along the upper edge (left_* counter-clockwise, right_* clockwise on "
            "screen); mouth: image-left corner, lower outer edge, image-right corner, upper outer "
            "edge back, then the upper edge of the lower lip left to right and the lower edge of "
            "the upper lip right to left; nose: tip, top of the bridge, down the image-left side "
            "to the wing, along the base, up the image-right side"
        ),
        "groups": {group: boxed(points) for group, points in shapes.items()},
    }


# --- AILabTools face key points -----------------------------------------------------------


def ailab_points() -> dict[str, Point]:
    """Every landmark201 name (Baidu face/v1/landmark) at its place on the model.

    Sub-part sides (corner_right, eyeball_right, cheek_right, nose_right_contour,
    mouth_corner_right, forehead_right, and the eye_right_/eyebrow_right_ organs) are the
    subject's sides: *right* is on the image left. Numbered points run from the image left
    to the image right (eyelids, lips, brows), from the ear down to the chin (cheeks), from
    the centre outwards (forehead) and from the top down (nose). iris_left_* circles the
    image-left eye: the naming clash the docs example shows ([ailab-feature-points], D-AIL-06).
    """
    names: dict[str, Point] = {}
    for organ, center in (("right", EYE_CENTER), ("left", mirror(EYE_CENTER))):
        iris = (center[0], IRIS_CENTER[1])
        names[f"eye_{organ}_corner_right"] = (center[0] - EYE_A, center[1])
        names[f"eye_{organ}_corner_left"] = (center[0] + EYE_A, center[1])
        for k in range(1, 8):
            names[f"eye_{organ}_eyelid_upper_{k}"] = eye_edge(center, True, k / 8)
            names[f"eye_{organ}_eyelid_lower_{k}"] = eye_edge(center, False, k / 8)
        names[f"eye_{organ}_eyeball_center"] = iris
        names[f"eye_{organ}_eyeball_right"] = (iris[0] - IRIS_R, iris[1])
        names[f"eye_{organ}_eyeball_left"] = (iris[0] + IRIS_R, iris[1])
        image_right = organ == "left"
        tip, cap = BROW_UPPER[0], BROW_INNER_END  # outer and inner ends of the brow
        left_end, right_end = (mirror(cap), mirror(tip)) if image_right else (tip, cap)
        names[f"eyebrow_{organ}_corner_right"] = left_end
        names[f"eyebrow_{organ}_corner_left"] = right_end
        for k in range(1, 6):
            fraction = 0.03 + 0.94 * (k - 1) / 4
            names[f"eyebrow_{organ}_upper_{k}"] = brow_point(True, fraction, image_right)
        for k in range(1, 4):
            names[f"eyebrow_{organ}_lower_{k}"] = brow_point(False, k / 4, image_right)
        iris_name = "left" if organ == "right" else "right"  # the clash, kept
        names[f"iris_{iris_name}_1"] = iris
        for k, point in enumerate(circle(iris, 19), start=2):
            names[f"iris_{iris_name}_{k}"] = point

    cheeks = OUTLINE.jaw(CHEEK_START_V, 25)
    chain = [f"cheek_right_{k}" for k in range(1, 12)] + ["chin_1", "chin_2", "chin_3"]
    chain += [f"cheek_left_{k}" for k in range(11, 0, -1)]
    names.update(zip(chain, cheeks, strict=True))
    forehead_end = OUTLINE.s_left(FOREHEAD_END_V)
    names["forehead_center"] = OUTLINE.at(0.0)
    for k in range(1, 6):
        names[f"forehead_right_{k}"] = OUTLINE.at(forehead_end * k / 5)
        names[f"forehead_left_{k}"] = mirror(OUTLINE.at(forehead_end * k / 5))

    nose_right = {  # the image-left side of the nose, top down, as in the docs example
        1: (0.435, 0.445),
        2: (0.432, 0.505),
        3: (0.425, 0.56),
        4: NOSE_WING,
        5: (0.41, 0.68),
        6: (0.445, 0.672),
        7: (0.433, 0.654),
    }
    for k, point in nose_right.items():
        names[f"nose_right_contour_{k}"] = point
        names[f"nose_left_contour_{k}"] = mirror(point)
    for k, v in enumerate((0.44, 0.49, 0.54), start=1):
        names[f"nose_bridge_{k}"] = (0.5, v)
    names["nose_tip"] = NOSE_TIP
    names["nose_middle_contour"] = NOSE_BASE

    names["mouth_corner_right_outer"] = lip("upper_outer", -1.0)
    names["mouth_corner_left_outer"] = lip("upper_outer", 1.0)
    names["mouth_corner_right_inner"] = lip("upper_inner", -0.94)
    names["mouth_corner_left_inner"] = lip("upper_inner", 0.94)
    for k in range(1, 12):
        outer_p = -1.0 + 2.0 * k / 12
        inner_p = 0.94 * outer_p
        names[f"mouth_lip_upper_outer_{k}"] = lip("upper_outer", outer_p)
        names[f"mouth_lip_lower_outer_{k}"] = lip("lower_outer", outer_p)
        names[f"mouth_lip_upper_inner_{k}"] = lip("upper_inner", inner_p)
        names[f"mouth_lip_lower_inner_{k}"] = lip("lower_inner", inner_p)
    return names


def ailab_face_key_points() -> dict[str, Any]:
    schema = load(SCHEMAS / "ailab" / "face_key_points.response.json")
    defs = schema["$defs"]
    names201: list[str] = defs["landmark201"]["required"]
    names150: list[str] = defs["landmark150"]["required"]
    names72: list[str] = defs["landmark72"].get("x-point-names") or names201[:72]
    count4 = defs["landmark4"]["minItems"]
    points = ailab_points()
    mouth_centre = (0.5, (lip("upper_inner", 0.0)[1] + lip("lower_inner", 0.0)[1]) / 2)
    landmark4 = [points["eye_right_eyeball_center"], points["eye_left_eyeball_center"]]
    landmark4 += [points["nose_tip"], mouth_centre]
    if count4 != len(landmark4) or len(names72) != defs["landmark72"]["minItems"]:
        raise ValueError("landmark4/landmark72 counts changed in the schema")
    return {
        "operation": "ailab.face_key_points",
        "x-sources": [
            "[ailab-face-key-points] (landmark4 example: (148.37,100.59), (234.82,90.52), "
            "(199.34,135.81), (203.17,179.29) = image-left eye, image-right eye, nose tip, "
            "mouth centre)",
            "the names and order of schemas/ailab/face_key_points.response.json ($defs "
            "landmark72 x-point-names, landmark150/landmark201 required; from "
            "[ailab-feature-points])",
            "[ailab-feature-points] (names; landmark72 = the first 72 landmark201 names; side "
            "naming clash eye_right_* vs iris_left_*; forehead y may be negative)",
            "[ailab-face-key-points-doc] landmark72/150/201 example, read at 0b2eef3 (where "
            "each named point lies; landmark4 points equal landmark72 points 21, 38, 57)",
            MODEL_SOURCE,
        ],
        "coordinates": COORDINATES,
        "convention": (
            "Baidu upstream names sides from the subject's view: eye_right_*, eyebrow_right_*, "
            "cheek_right_*, forehead_right_*, nose_right_contour_*, mouth_corner_right_* and "
            "every *_corner_right / eyeball_right lie on the IMAGE LEFT, but iris_left_* circles "
            "that same image-left eye and iris_right_* the image-right one "
            "([ailab-feature-points] 'side naming clash'; docs example: eye_right_eyeball_center "
            "(149.0, 100.9), iris_left_1 (149.4, 100.1)). iris_*_1 is the iris centre, "
            "iris_*_2..20 the circle from its top, counter-clockwise on screen. Numbered eyelid, "
            "lip and brow points run from the image left to the image right; cheek_right_1..11 "
            "from the image-left ear down to the chin, chin_1..3 left to right, cheek_left_11..1 "
            "up the image right; forehead_*_1..5 from the centre outwards; nose_bridge_1..3 and "
            "nose_*_contour_1..7 top down. landmark4: image-left eye, image-right eye, nose tip, "
            "mouth centre ([ailab-face-key-points])"
        ),
        "groups": {
            "landmark4": boxed(landmark4),
            "landmark72": boxed([points[name] for name in names72]),
            "landmark150": {name: box(points[name]) for name in names150},
            "landmark201": {name: box(points[name]) for name in names201},
        },
    }


# --- AILabTools face analyzer advanced ----------------------------------------------------

# Alibaba facebody DetectFace: 105 points = eyebrows 24, eyes 32, nose 6, mouth 34, outer
# contour 9 ([ailab-analyzer-advanced-2], [alibaba-recognizeface]). The order inside each
# part is not documented; ours below.
ADVANCED_PARTS = (("eyebrows", 24), ("eyes", 32), ("nose", 6), ("mouth", 34), ("contour", 9))


def advanced_landmarks() -> Points:
    brow = brow_ring(12, upper_first=True)
    eye = eye_ring(16, upper_first=True)
    nose = [(0.5, EAR_V + 0.015), (0.5, 0.51), NOSE_TIP, NOSE_WING, NOSE_BASE]
    nose.append(mirror(NOSE_WING))
    outer = [lip("upper_outer", -1 + 2 * i / 9) for i in range(10)]
    outer += [lip("lower_outer", 1 - 2 * i / 9) for i in range(1, 9)]
    inner = [lip("upper_inner", -1 + 2 * (i + 0.5) / 8) for i in range(8)]
    inner += [lip("lower_inner", 1 - 2 * (i + 0.5) / 8) for i in range(8)]
    contour = OUTLINE.jaw(CONTOUR_END_V, 9)
    parts = {
        "eyebrows": brow + mirrored(brow),
        "eyes": eye + mirrored(eye),
        "nose": nose,
        "mouth": outer + inner,
        "contour": contour,
    }
    points: Points = []
    for part, count in ADVANCED_PARTS:
        if len(parts[part]) != count:
            raise ValueError(f"advanced {part}: {len(parts[part])} points, expected {count}")
        points += parts[part]
    return points


def ailab_face_analyzer_advanced() -> dict[str, Any]:
    schema = load(SCHEMAS / "ailab" / "face_analyzer_advanced.response.json")
    expected = schema["$defs"]["data"]["properties"]["landmark_count"]["const"]
    landmarks = advanced_landmarks()
    if len(landmarks) != expected or sum(count for _, count in ADVANCED_PARTS) != expected:
        raise ValueError(f"landmark_count is {expected}, the parts give {len(landmarks)}")
    pupil_radius = radius(IRIS_R)
    return {
        "operation": "ailab.face_analyzer_advanced",
        "x-sources": [
            "[ailab-analyzer-advanced-2] and its upstream [alibaba-recognizeface] "
            "(landmark_count 105: eyebrows 24, eyes 32, nose 6, mouth 34, outer contour 9, "
            "Alibaba 眉毛24,眼睛32,鼻子6,嘴巴34,外轮廓9; pupils [l.x, l.y, l.r, r.x, r.y, r.r])",
            "the count of schemas/ailab/face_analyzer_advanced.response.json (landmark_count "
            "const; from [ailab-analyzer-advanced-2])",
            MODEL_SOURCE,
        ],
        "coordinates": COORDINATES,
        "convention": (
            "No source names sides or the order inside each part; ours [I]: parts in the "
            "documented order (eyebrows 0-23, eyes 24-55, nose 56-61, mouth 62-95, outer "
            "contour 96-104), the image-left member of every pair first. Each eyebrow (12) and "
            "eye (16) is a ring from its outer end along the upper edge (image-left ones "
            "clockwise on screen, image-right ones their mirror images); nose: top of the "
            "bridge, middle of the bridge, tip, image-left wing, base centre, image-right "
            "wing; mouth: outer ring (18) from the image-left corner along the upper edge, "
            "then inner ring (16) in the same direction; outer contour from the image-left ear "
            "round the chin (index 100) to the image right. pupils: image-left first [I], "
            "radius in box widths"
        ),
        "groups": {
            "landmarks": boxed(landmarks),
            "pupils": {
                "left": box(IRIS_CENTER),
                "left_radius": pupil_radius,
                "right": box(mirror(IRIS_CENTER)),
                "right_radius": pupil_radius,
            },
        },
    }


# --- Face++ Detect (83 / 106 points) ------------------------------------------------------


def detect_points(set_id: str) -> dict[str, Point]:
    """Every name of one Detect landmark set. Sides are image sides; where a name's place
    differs between the sets (contours, mouth contour numbers, brow corners), the real
    answers decide (83: [facepp-answer-hinata013]; 106: [facepp-answer-vue-upload])."""
    names: dict[str, Point] = {}
    side_count = 9 if set_id == "1" else 16
    jaw = OUTLINE.jaw(EAR_V, 2 * side_count + 1)
    names["contour_chin"] = jaw[side_count]
    for k in range(1, side_count + 1):
        names[f"contour_left{k}"] = jaw[k - 1]
        names[f"contour_right{k}"] = jaw[-k]
    for side in ("left", "right"):
        image_right = side == "right"

        def flip(point: Point, image_right: bool = image_right) -> Point:
            return mirror(point) if image_right else point

        center = flip(EYE_CENTER)
        eye = f"{side}_eye_"
        names[eye + "center"] = center
        names[eye + "pupil"] = flip(IRIS_CENTER)
        names[eye + "left_corner"] = (center[0] - EYE_A, center[1])
        names[eye + "right_corner"] = (center[0] + EYE_A, center[1])
        names[eye + "top"] = eye_edge(center, True, 0.5)
        names[eye + "bottom"] = eye_edge(center, False, 0.5)
        for edge, upper in (("upper", True), ("lower", False)):
            names[f"{eye}{edge}_left_quarter"] = eye_edge(center, upper, 0.25)
            names[f"{eye}{edge}_right_quarter"] = eye_edge(center, upper, 0.75)
        brow = f"{side}_eyebrow_"
        outer, inner = ("right", "left") if image_right else ("left", "right")
        names[f"{brow}{outer}_corner"] = flip(BROW_UPPER[0])
        for edge, upper in (("upper", True), ("lower", False)):
            names[f"{brow}{edge}_left_quarter"] = brow_point(upper, 0.25, image_right)
            names[f"{brow}{edge}_middle"] = brow_point(upper, 0.5, image_right)
            names[f"{brow}{edge}_right_quarter"] = brow_point(upper, 0.75, image_right)
        if set_id == "1":
            names[f"{brow}{inner}_corner"] = flip(BROW_INNER_END)
        else:
            names[f"{brow}upper_{inner}_corner"] = flip(BROW_UPPER[-1])
            names[f"{brow}lower_{inner}_corner"] = flip(BROW_LOWER[-1])

        sign = 1.0 if image_right else -1.0
        if set_id == "1":
            upper = {1: ("upper_outer", 0.2), 2: ("upper_outer", 0.62), 3: ("upper_inner", 0.5)}
            lower = {1: ("lower_inner", 0.5), 2: ("lower_outer", 0.7), 3: ("lower_outer", 0.36)}
            names[f"nose_contour_{side}1"] = flip((0.44, 0.445))
            names[f"nose_contour_{side}2"] = flip((0.415, 0.57))
            names[f"nose_contour_{side}3"] = flip((0.45, 0.672))
            names[f"nose_{side}"] = flip(NOSE_WING)
        else:
            upper = {1: ("upper_outer", 0.28), 2: ("upper_outer", 0.64), 3: ("upper_outer", 0.85)}
            upper[4] = ("upper_inner", 0.52)
            lower = {1: ("lower_inner", 0.53), 2: ("lower_outer", 0.76), 3: ("lower_outer", 0.47)}
            nose_side = [(0.435, 0.44), (0.41, 0.58), NOSE_WING, (0.4, 0.672), (0.455, 0.68)]
            for k, point in enumerate(nose_side, start=1):
                names[f"nose_{side}_contour{k}"] = flip(point)
        for k, (edge, p) in upper.items():
            names[f"mouth_upper_lip_{side}_contour{k}"] = lip(edge, sign * p)
        for k, (edge, p) in lower.items():
            names[f"mouth_lower_lip_{side}_contour{k}"] = lip(edge, sign * p)
        names[f"mouth_{side}_corner"] = lip("upper_outer", sign)
    names["nose_tip"] = NOSE_TIP
    if set_id == "1":
        names["nose_contour_lower_middle"] = NOSE_BASE
    else:
        names["nose_middle_contour"] = NOSE_BASE
        for k, v in enumerate((EAR_V, 0.48, 0.535), start=1):
            names[f"nose_bridge{k}"] = (0.5, v)
    names["mouth_upper_lip_top"] = lip("upper_outer", 0.0)
    names["mouth_upper_lip_bottom"] = lip("upper_inner", 0.0)
    names["mouth_lower_lip_top"] = lip("lower_inner", 0.0)
    names["mouth_lower_lip_bottom"] = lip("lower_outer", 0.0)
    return names


def facepp_detect() -> dict[str, Any] | None:
    """The Detect template, or None while the Detect schema or its name lists are missing."""
    schema_path = SCHEMAS / "facepp" / "detect.response.json"
    mock_path = MOCKS / "facepp" / "detect.json"
    if not schema_path.exists() or not mock_path.exists():
        return None
    allowed = set(load(schema_path)["$defs"]["landmark"].get("properties", {}))
    listed = load(mock_path).get("landmarks", {})
    sets = {key: value for key, value in listed.items() if isinstance(value, list)}
    if not allowed or not sets:
        return None
    groups: dict[str, Any] = {}
    for set_id, names in sorted(sets.items()):
        if not set(names) <= allowed:
            raise ValueError(f"detect set {set_id} names what the schema does not allow")
        points = detect_points(set_id)
        groups[set_id] = {name: box(points[name]) for name in names}
    return {
        "operation": "facepp.detect",
        "x-sources": [
            "the name lists of mocks/facepp/detect.json landmarks (the 83-point set for "
            "return_landmark=1 and the 106-point set for 2, keyed like it) and "
            "schemas/facepp/detect.response.json (from [facepp-client-faceppswift-detect])",
            "real Detect answers: 83 points [facepp-answer-hinata013], 106 points "
            "[facepp-answer-vue-upload]: where each name lies",
            "[facepp-landmark-83]: left and right are the image's, not the subject's",
            MODEL_SOURCE,
        ],
        "coordinates": COORDINATES,
        "convention": (
            "Groups are the return_landmark values of mocks/facepp/detect.json ('1': 83 points, "
            "'2': 106 points). left_*/right_* and *_left_*/*_right_* are image sides "
            "([facepp-landmark-83]; the 83-point answer of [facepp-answer-hinata013]: "
            "left_eye_center x 613 < right_eye_center x 742). contour_left1/contour_right1 at eye "
            "level, numbers growing towards contour_chin; quarters and middles at 1/4, 1/2, 3/4 of "
            "the feature's width from its image-left end; a name shared by both sets may sit "
            "elsewhere in each (the answers: e.g. mouth_upper_lip_left_contour3 is on the inner "
            "edge in the 83 set, on the outer edge in the 106 set)"
        ),
        "groups": groups,
    }


# --- entry points ---------------------------------------------------------------------------


def build() -> dict[Path, str]:
    """Every template file (absolute path -> text); writes nothing."""
    builders = {
        "facepp/thousandlandmark": facepp_thousandlandmark,
        "acedata/face_analyze": acedata_face_analyze,
        "ailab/face_key_points": ailab_face_key_points,
        "ailab/face_analyzer_advanced": ailab_face_analyzer_advanced,
        "facepp/detect": facepp_detect,
    }
    files: dict[Path, str] = {}
    for name, builder in builders.items():
        template = builder()
        if template is not None:
            template["x-sources"].append(ANCHORS_NOTE)
            template["anchors"] = [
                anchor_set(template["groups"], placed, refs)
                for placed, refs in ANCHOR_REFS[template["operation"]]
            ]
            files[MOCKS / f"{name}.template.json"] = render(template)
    return files


def _detect_refs(set_id: str) -> tuple[list[str], dict[str, list[str]]]:
    return [set_id], {
        "image_left_eye": [f"{set_id}/left_eye_pupil"],
        "image_right_eye": [f"{set_id}/right_eye_pupil"],
        "nose_tip": [f"{set_id}/nose_tip"],
        "image_left_mouth_corner": [f"{set_id}/mouth_left_corner"],
        "image_right_mouth_corner": [f"{set_id}/mouth_right_corner"],
    }


# Per operation: (the groups a set places, anchor -> template points). Sides as each vendor
# names them: Face++ and Ace Data name image sides, AILabTools' Baidu names the subject's
# (eye_right_* and mouth_corner_right_* lie on the image left), the Advanced pupils list the
# image-left one first.
ANCHOR_REFS: dict[str, list[tuple[list[str], dict[str, list[str]]]]] = {
    "facepp.detect": [_detect_refs("1"), _detect_refs("2")],
    "facepp.thousandlandmark": [
        (
            [
                "face",
                "left_eyebrow",
                "right_eyebrow",
                "left_eye",
                "right_eye",
                "left_eye_eyelid",
                "right_eye_eyelid",
                "nose",
                "mouth",
            ],
            {
                "image_left_eye": ["left_eye/left_eye_pupil_center"],
                "image_right_eye": ["right_eye/right_eye_pupil_center"],
                "nose_tip": ["nose/nose_midline_39"],
                "image_left_mouth_corner": ["mouth/upper_lip_0"],
                "image_right_mouth_corner": ["mouth/upper_lip_31"],
            },
        )
    ],
    "ailab.face_key_points": [
        (
            ["landmark4", "landmark72", "landmark150", "landmark201"],
            {
                "image_left_eye": ["landmark201/eye_right_eyeball_center"],
                "image_right_eye": ["landmark201/eye_left_eyeball_center"],
                "nose_tip": ["landmark201/nose_tip"],
                "image_left_mouth_corner": ["landmark201/mouth_corner_right_outer"],
                "image_right_mouth_corner": ["landmark201/mouth_corner_left_outer"],
            },
        )
    ],
    "ailab.face_analyzer_advanced": [
        (
            ["landmarks", "pupils"],
            {
                "image_left_eye": ["pupils/left"],
                "image_right_eye": ["pupils/right"],
                "nose_tip": ["landmarks/58"],
                "image_left_mouth_corner": ["landmarks/62"],
                "image_right_mouth_corner": ["landmarks/71"],
            },
        )
    ],
    "acedata.face_analyze": [
        (
            [
                "face_profile",
                "left_eye",
                "right_eye",
                "left_eye_brow",
                "right_eye_brow",
                "mouth",
                "nose",
                "left_pupil",
                "right_pupil",
            ],
            {
                "image_left_eye": ["left_pupil/0"],
                "image_right_eye": ["right_pupil/0"],
                "nose_tip": ["nose/0"],
                "image_left_mouth_corner": ["mouth/0"],
                "image_right_mouth_corner": ["mouth/6"],
            },
        )
    ],
}


def main() -> None:
    for path, text in build().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
