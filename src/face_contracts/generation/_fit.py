"""Where a template lands on a face: an affine map from template units (u, v) to pixels.

A face known only by its box (a Hypothesis scene, a box set by the user) gets the box map,
``x = left + u * width``, as always. A face found by the detector carries measured anchors
(pupils, nose tip, mouth corners); each template names the points that are those anchors
(its ``anchors`` entry), and the least-squares affine map from them to the measured ones
places every point of the template, so eyes land on eyes and mouths on mouths whatever the
face's size, position, roll or proportions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, cast

from face_contracts._resources import data_dir, load_json

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from face_contracts.generation._scene import Face

__all__ = [
    "Affine",
    "ThinPlate",
    "anchor_sets",
    "canonical_anchors",
    "face_map",
    "fit",
    "placement",
    "thin_plate",
]

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Affine:
    """``x = a*u + b*v + c``, ``y = d*u + e*v + f``."""

    a: float
    b: float
    c: float
    d: float
    e: float
    f: float

    def __call__(self, u: float, v: float) -> Point:
        return (self.a * u + self.b * v + self.c, self.d * u + self.e * v + self.f)

    def many(self, points: Sequence[Point]) -> list[Point]:
        """Every point mapped (what a renderer places at once)."""
        a, b, c, d, e, f = self.a, self.b, self.c, self.d, self.e, self.f
        return [(a * u + b * v + c, d * u + e * v + f) for u, v in points]

    @property
    def box_width(self) -> float:
        """How many pixels one template width spans (the length of the mapped u axis)."""
        return float((self.a * self.a + self.d * self.d) ** 0.5)

    @property
    def box_height(self) -> float:
        return float((self.b * self.b + self.e * self.e) ** 0.5)


def box_map(face: Face) -> Affine:
    """The map of a face known by its box only."""
    return Affine(face.width, 0.0, face.left, 0.0, face.height, face.top)


def _solve3(m: list[list[float]], r: list[float]) -> list[float]:
    """Cramer's rule for a 3x3 system (the normal equations of a plane fit)."""

    def det(x: list[list[float]]) -> float:
        return (
            x[0][0] * (x[1][1] * x[2][2] - x[1][2] * x[2][1])
            - x[0][1] * (x[1][0] * x[2][2] - x[1][2] * x[2][0])
            + x[0][2] * (x[1][0] * x[2][1] - x[1][1] * x[2][0])
        )

    whole = det(m)
    if abs(whole) < 1e-12:
        msg = "the anchors are collinear: no affine map fits them"
        raise ValueError(msg)
    found = []
    for column in range(3):
        swapped = [[r[i] if j == column else m[i][j] for j in range(3)] for i in range(3)]
        found.append(det(swapped) / whole)
    return found


def fit(
    source: Sequence[Point], target: Sequence[Point], weights: Sequence[float] | None = None
) -> Affine:
    """The (weighted) least-squares affine map taking ``source`` points (u, v) to ``target``
    (x, y); at least three points, not all on one line."""
    if len(source) != len(target) or len(source) < 3:
        msg = "an affine fit needs the same three or more points on both sides"
        raise ValueError(msg)
    w = list(weights) if weights is not None else [1.0] * len(source)
    rows_in = list(zip(source, target, w, strict=True))
    suu = sum(k * u * u for (u, _), _, k in rows_in)
    suv = sum(k * u * v for (u, v), _, k in rows_in)
    svv = sum(k * v * v for (_, v), _, k in rows_in)
    su = sum(k * u for (u, _), _, k in rows_in)
    sv = sum(k * v for (_, v), _, k in rows_in)
    n = float(sum(w))
    normal = [[suu, suv, su], [suv, svv, sv], [su, sv, n]]
    rows = []
    for axis in (0, 1):
        rows.append(
            _solve3(
                normal,
                [
                    sum(k * u * p[axis] for (u, _), p, k in rows_in),
                    sum(k * v * p[axis] for (_, v), p, k in rows_in),
                    sum(k * p[axis] for _, p, k in rows_in),
                ],
            )
        )
    (a, b, c), (d, e, f) = rows
    return Affine(a, b, c, d, e, f)


# How much each anchor counts in a fit. A face's proportions differ from the templates'
# one face model, so the map cannot hit all five points; the eyes matter most (a pupil
# off the pupil is what anyone sees first), then the mouth corners, then the nose tip,
# which also moves most when the head turns.
WEIGHTS = {
    "image_left_eye": 4.0,
    "image_right_eye": 4.0,
    "image_left_mouth_corner": 2.0,
    "image_right_mouth_corner": 2.0,
    "nose_tip": 1.0,
}


@cache
def _template_file(operation: str) -> Mapping[str, Any]:
    vendor, name = operation.split(".", 1)
    return cast(
        "Mapping[str, Any]", load_json(data_dir("mocks") / vendor / f"{name}.template.json")
    )


@cache
def anchor_sets(operation: str) -> tuple[tuple[frozenset[str], tuple[tuple[str, Point], ...]], ...]:
    """An operation's anchor sets from its template: (the groups placed, ((anchor, (u, v)),
    ...)), each anchor the mean of the template points its entry names."""
    data = _template_file(operation)
    groups = data["groups"]
    sets = []
    for entry in data["anchors"]:
        anchors = []
        for name, refs in sorted(entry["points"].items()):
            points = []
            for ref in refs:
                group, _, key = ref.partition("/")
                layout = groups[group]
                value = layout[int(key)] if isinstance(layout, list) else layout[key]
                points.append((float(value[0]), float(value[1])))
            u = sum(p[0] for p in points) / len(points)
            v = sum(p[1] for p in points) / len(points)
            anchors.append((name, (u, v)))
        sets.append((frozenset(entry["groups"]), tuple(anchors)))
    return tuple(sets)


OPERATIONS = (
    "facepp.detect",
    "facepp.thousandlandmark",
    "ailab.face_key_points",
    "ailab.face_analyzer_advanced",
    "acedata.face_analyze",
)


CORE_ANCHORS = frozenset(WEIGHTS)
_ASPECT = 0.75  # the templates' nominal box width / height: bends are measured in round units
_MIN_DENSE = 8  # a thin-plate warp needs this many anchors; with fewer, the affine fit


@dataclass(frozen=True, slots=True)
class ThinPlate:
    """A thin-plate spline through every anchor: exactly on each measured point, the least
    bending in between, affine far away (``affine``: its affine part)."""

    centres: tuple[Point, ...]  # anchors in template units, u scaled by _ASPECT
    weights_x: tuple[float, ...]
    weights_y: tuple[float, ...]
    affine: Affine

    @property
    def box_width(self) -> float:
        return self.affine.box_width

    @property
    def box_height(self) -> float:
        return self.affine.box_height

    def __call__(self, u: float, v: float) -> Point:
        return self.many([(u, v)])[0]

    def many(self, points: Sequence[Point]) -> list[Point]:
        import numpy as np  # deferred: numpy, for detected faces only (see thin_plate)

        uv = np.asarray(points, dtype=float).reshape(-1, 2)
        kernel = _kernel(uv * (_ASPECT, 1.0), np.asarray(self.centres))
        a = self.affine
        xs = a.a * uv[:, 0] + a.b * uv[:, 1] + a.c + kernel @ np.asarray(self.weights_x)
        ys = a.d * uv[:, 0] + a.e * uv[:, 1] + a.f + kernel @ np.asarray(self.weights_y)
        return [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]


def _kernel(points: Any, centres: Any) -> Any:
    """r^2 log r^2 between every point and every centre (0 where they meet)."""
    import numpy as np  # deferred: numpy, for detected faces only (see thin_plate)

    squared = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = squared * np.log(squared)
    return np.where(squared > 0, values, 0.0)


def thin_plate(source: Sequence[Point], target: Sequence[Point]) -> ThinPlate:
    """The thin-plate spline taking ``source`` (u, v) exactly to ``target`` (x, y)."""
    # Deferred: numpy is loaded by the first detected face, not by the validator or an
    # engine that only ever fits boxes.
    import numpy as np

    uv = np.asarray(source, dtype=float)
    scaled = uv * (_ASPECT, 1.0)
    n = len(source)
    system = np.zeros((n + 3, n + 3))
    system[:n, :n] = _kernel(scaled, scaled)
    system[:n, n] = 1.0
    system[:n, n + 1 :] = uv
    system[n, :n] = 1.0
    system[n + 1 :, :n] = uv.T
    goal = np.zeros((n + 3, 2))
    goal[:n] = np.asarray(target, dtype=float)
    solved = np.linalg.solve(system, goal)
    (c, f), (a, d), (b, e) = solved[n], solved[n + 1], solved[n + 2]
    return ThinPlate(
        tuple((float(p[0]), float(p[1])) for p in scaled),
        tuple(float(w) for w in solved[:n, 0]),
        tuple(float(w) for w in solved[:n, 1]),
        Affine(float(a), float(b), float(c), float(d), float(e), float(f)),
    )


@cache
def canonical_anchors() -> tuple[tuple[str, Point], ...]:
    """Where the anchors sit in the face box that every vendor shares (the mean over every
    template's anchor sets: all are sampled from one face model, so they agree). The scene's
    face box of a detected face is the box these anchors put it in."""
    sums: dict[str, list[float]] = {}
    for operation in OPERATIONS:
        for _, anchors in anchor_sets(operation):
            for name, (u, v) in anchors:
                total = sums.setdefault(name, [0.0, 0.0, 0.0])
                total[0] += u
                total[1] += v
                total[2] += 1
    return tuple((name, (s[0] / s[2], s[1] / s[2])) for name, s in sorted(sums.items()))


def face_map(measured: Mapping[str, Point]) -> Affine | ThinPlate:
    """The map from the shared face box (template units) to a detected face: the thin-plate
    warp through every canonical anchor measured, or the affine fit of the core five."""
    canonical = dict(canonical_anchors())
    shared = [name for name in canonical if name in measured]
    if len(shared) >= _MIN_DENSE:
        return thin_plate([canonical[name] for name in shared], [measured[name] for name in shared])
    core = [name for name in shared if name in CORE_ANCHORS]
    return fit([canonical[name] for name in core], [measured[name] for name in core])


def placement(face: Face, operation: str, group: str) -> Affine | ThinPlate:
    """The map that places ``group`` of ``operation``'s template on ``face``: the box map
    for a face known by its box; for a detected face, a thin-plate warp through every
    anchor the template and the face share (eye corners, lips and chin besides pupils,
    nose tip and mouth corners), or with fewer than eight of them the weighted affine fit of
    the core five."""
    if not face.anchors:
        return box_map(face)
    # A face read back from JSON (a stored face_token) holds lists: make it hashable.
    measured = tuple((str(name), float(x), float(y)) for name, x, y in face.anchors)
    return _fitted(measured, operation, group)


@lru_cache(maxsize=1024)  # a face is placed once per operation and group, then reused
def _fitted(
    measured: tuple[tuple[str, float, float], ...], operation: str, group: str
) -> Affine | ThinPlate:
    found = {name: (x, y) for name, x, y in measured}
    for placed, anchors in anchor_sets(operation):
        if group in placed:
            uv = dict(anchors)
            shared = [name for name, _ in anchors if name in found]
            if len(shared) >= _MIN_DENSE:
                return thin_plate([uv[name] for name in shared], [found[name] for name in shared])
            names = [name for name in shared if name in CORE_ANCHORS]
            return fit(
                [uv[name] for name in names],
                [found[name] for name in names],
                [WEIGHTS.get(name, 1.0) for name in names],
            )
    msg = f"{operation}'s template has no anchor set for group {group!r}"
    raise ValueError(msg)
