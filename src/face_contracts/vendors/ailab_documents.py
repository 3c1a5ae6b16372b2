"""AILabTools documents: what Facial Landmarks and Face Analyzer Advanced answer (the
renderers), the rules a schema cannot state (invariants), the special ways to break an
answer, the documented request options, how an answer is read for drawing, and the live
suite's cases.

Sources are cited by their ids in docs/sources.md (e.g. [ailab-response-description]); the
rule catalogue is docs/invariants.md.
:class:`AILabToolsDocuments` is the documents half of the vendor; :mod:`.ailab` adds how
the service handles a call.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from face_contracts._invariants._registry import at, invariant
from face_contracts.contract_suite._case import (
    GROUP,
    NO_FACE,
    Case,
    Expect,
    auth_cases,
    below_minimum,
    expect_error,
    expect_success,
    picture_cases,
)
from face_contracts.contracts import contracts
from face_contracts.generation._fit import placement
from face_contracts.generation._mutations import Invalid, broken_invariant
from face_contracts.generation._render import (
    face_token,
    flat_at,
    jitter,
    place,
    probability,
    produce,
    template,
)
from face_contracts.generation._scene import HEX
from face_contracts.generation._schema import flatten, property_schema, schema_of
from face_contracts.vendors._base import (
    Circle,
    FaceMarks,
    Group,
    Reader,
    Renderer,
    Vendor,
    by_prefix,
    comma_subset,
    documented_status,
    xy,
)

if TYPE_CHECKING:
    import random
    from collections.abc import Iterator, Mapping, Sequence

    from face_contracts._invariants._registry import Context
    from face_contracts.generation._fit import Affine, ThinPlate
    from face_contracts.generation._scene import Chooser, Face, Scene

__all__ = [
    "ADVANCED",
    "FACE_FIELDS",
    "KEY_POINTS",
    "PER_FACE",
    "QUALITY_LISTS",
    "AILabToolsDocuments",
    "face_fields_asked",
    "max_faces_asked",
]

KEY_POINTS = "ailab.face_key_points"
ADVANCED = "ailab.face_analyzer_advanced"
ERROR_CODE_AT = "/error_detail/code"

# face_field items: each adds the per-face key of the same name ([ailab-face-key-points-doc]).
FACE_FIELDS = ("age", "gender", "landmark4", "landmark72", "landmark150", "landmark201")
DEFAULT_MAX_FACE_NUM = 1

# face-analyzer-advanced data lists and their length per face ([ailab-analyzer-advanced-2]
# field table).
PER_FACE: Mapping[str, int] = {
    "face_rectangles": 4,
    "face_probability_list": 1,
    "pose_list": 3,
    "landmarks": 210,
    "pupils": 6,
    "gender_list": 1,
    "age_list": 1,
    "expressions": 1,
    "glasses": 1,
    "hat_list": 1,
    "masks": 1,
    "beauty_list": 1,
}
QUALITY_LISTS = (
    "score_list",
    "blur_list",
    "fnf_list",
    "glass_list",
    "illu_list",
    "mask_list",
    "noise_list",
    "pose_list",
)
# pose_list is [yaw, pitch, roll] per face: yaw and pitch in [-90, 90]; roll's [-180, 180]
# is the bound the schema sets on every pose_list value.
_POSE_LIMITS = (("yaw", 90), ("pitch", 90))


def face_fields_asked(request: Mapping[str, Any]) -> frozenset[str]:
    """The face_field items a request document asks for (none when it has no face_field)."""
    value = request.get("body", {}).get("face_field")
    if not isinstance(value, str):
        return frozenset()
    return frozenset(item.strip() for item in value.split(",")) & frozenset(FACE_FIELDS)


def max_faces_asked(request: Mapping[str, Any]) -> int | None:
    """max_face_num of a request document (default 1), or None when it is not a number."""
    value = request.get("body", {}).get("max_face_num", str(DEFAULT_MAX_FACE_NUM))
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value)
    return None


def error_code(document: Any) -> str | None:
    """The catalogue code of an error answer: ``error_detail.code``, else
    ``error_code_str``."""
    code = at(document, "error_detail", "code")
    if isinstance(code, str) and code:
        return code
    text = at(document, "error_code_str")
    return text if isinstance(text, str) and text else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- answers ---------------------------------------------------------------------------------


def _envelope(chooser: Chooser) -> dict[str, Any]:
    return {
        "request_id": chooser.token(HEX.upper(), 32),
        "log_id": chooser.token(HEX.upper(), 32),
        "error_code": 0,
        "error_code_str": "",
        "error_msg": "",
        "error_detail": {"status_code": 200, "code": "", "code_message": "", "message": ""},
    }


def render_key_points(
    scene: Scene, request: Mapping[str, Any] | None, chooser: Chooser
) -> dict[str, Any]:
    """Facial Landmarks' answer: up to max_face_num faces with the face_field items asked."""
    operation = KEY_POINTS
    if request is not None:
        asked = face_fields_asked(request)
        most = max_faces_asked(request) or 1
    else:
        asked = frozenset(field for field in FACE_FIELDS if chooser.choice((True, False)))
        most = 10
    face_schema = flat_at(operation, "response", ("result", "face_list", "[]"))
    points = template(operation)
    noise = jitter(chooser)
    faces = []
    for index, face in enumerate(scene.faces[:most]):
        entry: dict[str, Any] = {}
        for name in face_schema["properties"]:
            if name in FACE_FIELDS and name not in asked:
                continue
            if name == "face_token":
                entry[name] = face_token(chooser, index)
            elif name == "location":
                entry[name] = {
                    "left": float(face.left),
                    "top": float(face.top),
                    "width": float(face.width),
                    "height": float(face.height),
                    "rotation": round(face.roll),
                }
            elif name == "face_probability":
                entry[name] = probability(face, chooser)
            elif name == "angle":
                entry[name] = {"yaw": face.yaw, "pitch": face.pitch, "roll": face.roll}
            elif name.startswith("landmark"):
                layout = points[name]
                where = placement(face, operation, name)
                if isinstance(layout, list):
                    entry[name] = [_point(face, uv, noise, where) for uv in layout]
                else:
                    names = flat_at(operation, "response", ("result", "face_list", "[]", name))[
                        "required"
                    ]
                    entry[name] = {key: _point(face, layout[key], noise, where) for key in names}
            else:
                entry[name] = produce(
                    flat_at(operation, "response", ("result", "face_list", "[]", name)), chooser
                )
        faces.append(entry)
    return {**_envelope(chooser), "result": {"face_num": len(faces), "face_list": faces}}


def _point(
    face: Face, uv: Sequence[float], noise: random.Random, where: Affine | ThinPlate
) -> dict[str, float]:
    x, y = place(face, uv, noise, where)
    return {"x": round(x, 2), "y": round(y, 2)}


def render_advanced(
    scene: Scene, request: Mapping[str, Any] | None, chooser: Chooser
) -> dict[str, Any]:
    """Face Analyzer Advanced's answer: per-face lists, every face analysed."""
    del request  # the operation takes only an image
    data_schema = flat_at(ADVANCED, "response", ("data",))
    layout = template(ADVANCED)["landmarks"]
    noise = jitter(chooser)
    data: dict[str, Any] = {}
    for name in data_schema["properties"]:
        if name == "face_count":
            data[name] = len(scene.faces)
        elif name == "qualities":
            data[name] = {
                quality: [round(chooser.number(60, 100), 2) for _ in scene.faces]
                for quality in QUALITY_LISTS
            }
        elif name in PER_FACE:
            item = flat_at(ADVANCED, "response", ("data", name, "[]"))
            values: list[Any] = []
            for face in scene.faces:
                values.extend(_advanced_values(name, face, item, layout, noise, chooser))
            data[name] = values
        else:
            data[name] = produce(flat_at(ADVANCED, "response", ("data", name)), chooser)
    return {**_envelope(chooser), "data": data}


def _advanced_values(
    name: str,
    face: Face,
    item: Mapping[str, Any],
    layout: Sequence[Sequence[float]],
    noise: random.Random,
    chooser: Chooser,
) -> list[Any]:
    if name == "face_rectangles":
        return [face.left, face.top, face.width, face.height]
    if name == "pose_list":
        return [face.yaw, face.pitch, face.roll]
    if name == "face_probability_list":
        return [probability(face, chooser)]
    if name == "landmarks":
        where = placement(face, ADVANCED, "landmarks")
        return [round(c, 2) for uv in layout for c in place(face, uv, noise, where)]
    if name == "pupils":
        pupils = template(ADVANCED)["pupils"]
        where = placement(face, ADVANCED, "pupils")
        values: list[Any] = []
        for side in ("left", "right"):  # the image-left pupil first (template convention)
            x, y = place(face, pupils[side], noise, where)
            radius = pupils[f"{side}_radius"] * where.box_width
            values += [round(x, 2), round(y, 2), round(radius, 2)]
        return values
    return [produce(item, chooser)]


def render_face_detail_infos(
    scene: Scene, request: Mapping[str, Any] | None, chooser: Chooser
) -> dict[str, Any]:
    """The ``face_detail_infos`` variant of Face Analyzer Advanced's answer: the shape its
    OpenAPI example shows (D-AIL-02), one entry per face with its box and every attribute."""
    del request  # the operation takes only an image
    node, base = schema_of(ADVANCED, "response", "face_detail_infos")
    info = flatten(flatten(node, base)["properties"]["face_detail_infos"]["schema"], base)
    entry = flatten(info["items"], base)
    attributes = flatten(*property_schema(entry, "face_detail_attributes_info"))
    return {
        **_envelope(chooser),
        "image_width": scene.width,
        "image_height": scene.height,
        "face_detail_infos": [
            {
                "face_rect": {
                    "x": int(face.left),
                    "y": int(face.top),
                    "width": int(face.width),
                    "height": int(face.height),
                },
                "face_detail_attributes_info": produce(attributes, chooser),
            }
            for face in scene.faces
        ],
    }


# --- invariants: face key points ------------------------------------------------------------


@invariant("face_num.matches_face_list", (KEY_POINTS, "response"))
def face_num_matches_face_list(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """result.face_num is the number of entries in result.face_list."""
    face_num, faces = at(document, "result", "face_num"), at(document, "result", "face_list")
    if isinstance(face_num, int) and isinstance(faces, list) and face_num != len(faces):
        yield "/result/face_num", f"face_num is {face_num} but face_list has {len(faces)} faces"


@invariant("face_field.gating", (KEY_POINTS, "response"), needs=("request",))
def face_field_gating(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """A face carries age, gender and landmarkN exactly when face_field asked for them
    ([ailab-face-key-points-doc]: without face_field only face_token, location,
    face_probability and angle are returned)."""
    if context.request is None:
        return
    asked = face_fields_asked(context.request)
    faces = at(document, "result", "face_list")
    for index, face in enumerate(faces if isinstance(faces, list) else ()):
        if not isinstance(face, dict):
            continue
        for field in FACE_FIELDS:
            where = f"/result/face_list/{index}/{field}"
            if field in asked and field not in face:
                yield where, f"face_field asks for {field!r} but the face does not carry it"
            elif field not in asked and field in face:
                yield where, f"the face carries {field!r} but face_field does not ask for it"


@invariant("max_face_num.limits_face_list", (KEY_POINTS, "response"), needs=("request",))
def max_face_num_limits_face_list(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """face_list holds at most max_face_num faces (default 1: only the largest face)."""
    if context.request is None:
        return
    limit = max_faces_asked(context.request)
    faces = at(document, "result", "face_list")
    if limit is not None and isinstance(faces, list) and len(faces) > limit:
        yield "/result/face_list", f"face_list has {len(faces)} faces but max_face_num is {limit}"


# --- invariants: face analyzer advanced -----------------------------------------------------


@invariant("face_count.matches_lists", (ADVANCED, "response"))
def face_count_matches_lists(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """Every per-face list of data has face_count times its per-face length: 4 for
    face_rectangles, 210 for landmarks (105 points), 6 for pupils, 3 for pose_list, 1 for the
    other lists and for every qualities list ([ailab-analyzer-advanced-2] field table)."""
    data = at(document, "data")
    count = at(data, "face_count")
    if not isinstance(count, int) or isinstance(count, bool):
        return
    lists: list[tuple[str, Any, int]] = [
        (f"/data/{name}", data.get(name), n) for name, n in PER_FACE.items()
    ]
    qualities = data.get("qualities")
    if isinstance(qualities, dict):
        lists += [(f"/data/qualities/{name}", qualities.get(name), 1) for name in QUALITY_LISTS]
    for where, values, n in lists:
        if isinstance(values, list) and len(values) != n * count:
            expected = f"expected {n} per face ({n * count})"
            yield where, f"{len(values)} values for {count} faces; {expected}"


@invariant("pose_list.ranges", (ADVANCED, "response"))
def pose_list_ranges(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """data.pose_list is [yaw, pitch, roll] per face: yaw and pitch are in [-90, 90]
    ([ailab-analyzer-advanced-2] field table; roll's [-180, 180] is the schema's bound on
    every value)."""
    values = at(document, "data", "pose_list")
    if not isinstance(values, list):
        return
    for index, value in enumerate(values):
        if index % 3 >= len(_POSE_LIMITS):
            continue
        name, limit = _POSE_LIMITS[index % 3]
        if _is_number(value) and not -limit <= value <= limit:
            message = f"{name} of face {index // 3} is {value}; it must be in [-{limit}, {limit}]"
            yield f"/data/pose_list/{index}", message


@invariant("face_rectangles.size", (ADVANCED, "response"))
def face_rectangles_size(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """data.face_rectangles is [left, top, width, height] per face; width and height are
    not negative."""
    values = at(document, "data", "face_rectangles")
    if not isinstance(values, list):
        return
    for index, value in enumerate(values):
        if index % 4 in (2, 3) and _is_number(value) and value < 0:
            name = "width" if index % 4 == 2 else "height"
            message = f"{name} of face {index // 4} is {value}; it cannot be negative"
            yield f"/data/face_rectangles/{index}", message


@invariant("pupils.radius", (ADVANCED, "response"))
def pupils_radius(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """data.pupils is [left.x, left.y, left.radius, right.x, right.y, right.radius] per face;
    a radius is not negative."""
    values = at(document, "data", "pupils")
    if not isinstance(values, list):
        return
    for index, value in enumerate(values):
        if index % 3 == 2 and _is_number(value) and value < 0:
            side = "left" if index % 6 == 2 else "right"
            message = f"{side} pupil radius of face {index // 6} is {value}; it cannot be negative"
            yield f"/data/pupils/{index}", message


# --- invariants: both operations --------------------------------------------------------------


@invariant(
    "response.http_status", (KEY_POINTS, "response"), (ADVANCED, "response"), needs=("status",)
)
def response_http_status(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """A success body comes with HTTP 200 ([ailab-response-description]: a request succeeds
    when the HTTP status is 200; any other status is a failure)."""
    if context.status is not None and context.status != 200:
        yield "", f"a success body came with HTTP {context.status}; success is HTTP 200"


@invariant("error_code.matches_status_code", (KEY_POINTS, "error"), (ADVANCED, "error"))
def error_code_matches_status_code(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """error_detail.status_code, when present, equals error_code (both are the HTTP status:
    [ailab-response-description] at 37f810e/b42b812, [ailab-response-description-old])."""
    status_code = at(document, "error_detail", "status_code")
    code = at(document, "error_code")
    if isinstance(status_code, int) and isinstance(code, int) and status_code != code:
        message = f"status_code is {status_code} but error_code is {code}"
        yield "/error_detail/status_code", message


@invariant(
    "error_code.matches_http_status", (KEY_POINTS, "error"), (ADVANCED, "error"), needs=("status",)
)
def error_code_matches_http_status(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """With the HTTP status known, error_code equals it ([ailab-response-description] at
    37f810e/b42b812, [ailab-response-description-old]: 'otherwise exactly the same as HTTP
    Status')."""
    if context.status is None:
        return
    code = at(document, "error_code")
    if isinstance(code, int) and code != context.status:
        yield "/error_code", f"error_code is {code} but the HTTP status is {context.status}"


# With the HTTP status known, a catalogued error_detail.code comes with its documented status
# (mocks/ailab/*.json errors: the map of [ailab-response-description] at HEAD, 2026-01-08
# and later).
invariant("error.status", (KEY_POINTS, "error"), (ADVANCED, "error"), needs=("status",))(
    documented_status(error_code, ERROR_CODE_AT)
)


# --- special invalid answers -------------------------------------------------------------------


def _key_points_breaks(valid: Any, request: Any) -> list[Invalid]:
    found = []
    faces = valid["result"]["face_list"]
    mutated = copy.deepcopy(valid)
    mutated["result"]["face_num"] = len(faces) + 1 if len(faces) < 10 else len(faces) - 1
    found.append(
        broken_invariant(
            mutated,
            "face_num.matches_face_list",
            "/result/face_num",
            "face_num disagrees with face_list",
        )
    )
    asked = face_fields_asked(request)
    unasked = [field for field in FACE_FIELDS if field not in asked and field in ("age",)]
    if unasked:
        mutated = copy.deepcopy(valid)
        mutated["result"]["face_list"][0]["age"] = 30.0
        found.append(
            broken_invariant(
                mutated,
                "face_field.gating",
                "/result/face_list/0/age",
                "age is returned without being asked",
                request,
            )
        )
    limit = max_faces_asked(request)
    if limit is not None and len(faces) >= 2 and limit < 10:
        narrowed = copy.deepcopy(request)
        narrowed["body"]["max_face_num"] = str(len(faces) - 1)
        found.append(
            broken_invariant(
                valid,
                "max_face_num.limits_face_list",
                "/result/face_list",
                "more faces than max_face_num",
                narrowed,
            )
        )
    return found


def _advanced_breaks(valid: Any, chooser: Chooser) -> list[Invalid]:
    data = valid["data"]
    found = []
    if data["face_count"] >= 1:
        name = chooser.choice(sorted(PER_FACE))
        mutated = copy.deepcopy(valid)
        mutated["data"][name].pop()
        found.append(
            broken_invariant(
                mutated, "face_count.matches_lists", f"/data/{name}", f"{name} is one value short"
            )
        )
        mutated = copy.deepcopy(valid)
        mutated["data"]["pose_list"][0] = 120.0
        found.append(
            broken_invariant(mutated, "pose_list.ranges", "/data/pose_list/0", "yaw is 120 degrees")
        )
        mutated = copy.deepcopy(valid)
        mutated["data"]["pupils"][2] = -1.0
        found.append(
            broken_invariant(
                mutated, "pupils.radius", "/data/pupils/2", "a pupil radius is negative"
            )
        )
    return found


def _error_breaks(valid: Any) -> list[Invalid]:
    if "status_code" not in valid["error_detail"]:
        return []
    mutated = copy.deepcopy(valid)
    mutated["error_detail"]["status_code"] = 500 if valid["error_code"] != 500 else 502
    return [
        broken_invariant(
            mutated,
            "error_code.matches_status_code",
            "/error_detail/status_code",
            "status_code disagrees with error_code",
        )
    ]


# --- reading an answer for drawing --------------------------------------------------------------

# AILabTools names (Baidu's): eye_right_* is the subject's right eye, on the image left.
_GROUPS = (
    ("cheek/chin", ("cheek", "chin")),
    ("eyebrow_right", ("eyebrow_right",)),
    ("eyebrow_left", ("eyebrow_left",)),
    ("eye_right", ("eye_right",)),
    ("eye_left", ("eye_left",)),
    ("iris_right", ("iris_right",)),
    ("iris_left", ("iris_left",)),
    ("nose", ("nose",)),
    ("mouth", ("mouth",)),
    ("forehead", ("forehead",)),
)
# The legend says which side of the picture those names lie on.
_SIDES = {
    "eyebrow_right": "image left",
    "eye_right": "image left",
    "iris_left": "image left",
    "eyebrow_left": "image right",
    "eye_left": "image right",
    "iris_right": "image right",
}
# landmark4 ([ailab-face-key-points] example): the image-left eye, the image-right eye, nose
# tip, mouth.
_LANDMARK4 = ("eye (image left)", "eye (image right)", "nose tip", "mouth centre")
# [ailab-analyzer-advanced-2] and the schema: 105 points per face, eyebrows 24, eyes 32,
# nose 6, mouth 34, outer contour 9, in that order; pupils are [x, y, radius] image-left
# then image-right.
_ADVANCED_PARTS = (("eyebrows", 24), ("eyes", 32), ("nose", 6), ("mouth", 34), ("contour", 9))


@cache
def _landmark72_names() -> tuple[str, ...]:
    schema = contracts().schemas[contracts().operation(KEY_POINTS).schemas["response"]]
    names: list[str] = schema["$defs"]["landmark72"]["x-point-names"]
    return tuple(names)


def _read_key_points(document: Mapping[str, Any]) -> tuple[str, list[FaceMarks]]:
    faces = []
    labels = set()
    for entry in document["result"]["face_list"]:
        where = entry["location"]
        box = (where["left"], where["top"], where["width"], where["height"])
        groups: tuple[Group, ...] = ()
        # The richest set present: every richer set holds the poorer ones' points.
        for name in ("landmark201", "landmark150", "landmark72", "landmark4"):
            if name not in entry:
                continue
            labels.add(name)
            value = entry[name]
            if name == "landmark4":
                groups = tuple(
                    Group(part, (xy(point),)) for part, point in zip(_LANDMARK4, value, strict=True)
                )
            else:
                named = (
                    zip(_landmark72_names(), map(xy, value), strict=True)
                    if isinstance(value, list)
                    else ((key, xy(point)) for key, point in value.items())
                )
                groups = by_prefix(named, _GROUPS)
            break
        faces.append(FaceMarks(box, groups))
    label = ", ".join(sorted(labels)) or "no landmarks"
    return label, faces


def _read_advanced(document: Mapping[str, Any]) -> tuple[str, list[FaceMarks]]:
    data = document["data"]
    count = data["face_count"]
    per_face = sum(size for _, size in _ADVANCED_PARTS)
    faces = []
    for index in range(count):
        left, top, width, height = data["face_rectangles"][4 * index : 4 * index + 4]
        flat = data["landmarks"][2 * per_face * index : 2 * per_face * (index + 1)]
        points = [(float(flat[i]), float(flat[i + 1])) for i in range(0, len(flat), 2)]
        groups = []
        start = 0
        for name, size in _ADVANCED_PARTS:
            groups.append(Group(name, tuple(points[start : start + size])))
            start += size
        pupils = data["pupils"][6 * index : 6 * index + 6]
        circles = tuple(
            Circle("pupils", float(pupils[i]), float(pupils[i + 1]), float(pupils[i + 2]))
            for i in (0, 3)
        )
        faces.append(FaceMarks((left, top, width, height), tuple(groups), circles))
    return "105 points", faces


# --- the live suite's cases ---------------------------------------------------------------------

_NO_KEY = ("ERROR_APPLICATIONS_NOT_EXISTS", "ERROR_USER_NOT_EXISTS")


def _picture_codes(op: str) -> dict[str, Expect]:
    codes = {
        "unsupported-format-gif": expect_error("UNSUPPORTED_FILE_TYPES"),
        "truncated-jpeg": expect_error("FILE_DECODING_FAILURE"),
        "huge-5000x5000": expect_error("FILE_RESOLUTION_EXCEEDS_LIMITS", "ERROR_HIGH_RESOLUTION"),
        "over-byte-limit": expect_error("FILE_SIZE_EXCEEDS_LIMIT", "ERROR_REQUEST_BODY_TOO_LARGE"),
    }
    if below_minimum(op, 20):
        codes["tiny-20x20"] = expect_error("ERROR_LOW_RESOLUTION")
    return codes


def _key_points_cases() -> list[Case]:
    op = KEY_POINTS
    bad_parameter = expect_error(
        "ERROR_PARAMETERS", "UNSUPPORTED_PARAMETER_VALUES", "ERROR_INVALID_PARAMETER"
    )
    found = [
        Case(op, "happy", "a portrait with the default options", expect_success()),
        *(
            Case(
                op,
                f"face-field-{item}",
                f"face_field={item}",
                expect_success(),
                (("face_field", item),),
            )
            for item in FACE_FIELDS
        ),
        Case(
            op,
            "face-field-all",
            "every face_field item at once",
            expect_success(),
            (("face_field", ",".join(FACE_FIELDS)),),
        ),
        Case(
            op,
            "several-faces-max-face-num-10",
            "three faces, max_face_num=10: every face, at most ten",
            expect_success(2, 10),
            (("max_face_num", "10"), ("face_field", "landmark4")),
            image=GROUP,
            mock_faces=3,
        ),
        Case(
            op,
            "several-faces-default-max",
            "three faces, max_face_num left at its default 1: only the largest",
            expect_success(1, 1),
            image=GROUP,
            mock_faces=3,
        ),
        Case(
            op,
            "no-face",
            "a picture without a face",
            expect_error("ERROR_NO_FACE_IN_FILE"),
            image=NO_FACE,
        ),
        *auth_cases(op, expect_error(*_NO_KEY, inferred=True)),
        Case(op, "missing-image", "no image part", expect_error("MISSING_PARAMETERS"), image=None),
        Case(
            op,
            "bad-max-face-num",
            "max_face_num=11, outside 1..10",
            bad_parameter,
            (("max_face_num", "11"),),
        ),
        Case(
            op,
            "bad-face-field",
            "face_field=nose, not a documented item",
            bad_parameter,
            (("face_field", "nose"),),
        ),
    ]
    return found + picture_cases(op, _picture_codes(op))


def _advanced_cases() -> list[Case]:
    op = ADVANCED
    no_face = (
        "ERROR_NO_FACE_IN_FILE",
        "ERROR_FACE_NOT_FOUND",
        "ERROR_NO_RECOGNITION_TARGET_DETECTED",
    )
    found = [
        Case(op, "happy", "a portrait", expect_success()),
        Case(
            op,
            "several-faces",
            "three faces: every one analysed",
            expect_success(2, None),
            image=GROUP,
            mock_faces=3,
        ),
        Case(
            op,
            "no-face",
            "a picture without a face: no face, or a no-face error",
            Expect("either", frozenset(no_face), faces=(0, 0), inferred=True),
            image=NO_FACE,
        ),
        *auth_cases(op, expect_error(*_NO_KEY, inferred=True)),
        Case(op, "missing-image", "no image part", expect_error("MISSING_PARAMETERS"), image=None),
    ]
    return found + picture_cases(op, _picture_codes(op))


# --- the vendor's documents --------------------------------------------------------------------


class AILabToolsDocuments(Vendor):
    """AILabTools' documents; :class:`~face_contracts.vendors.ailab.AILabTools` adds the
    service's handling of a call."""

    error_code_at = ERROR_CODE_AT
    wrong_status_breaks: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {("error_code.matches_http_status", "/error_code")}
    )
    renderers: ClassVar[Mapping[str, Renderer]] = {
        KEY_POINTS: render_key_points,
        ADVANCED: render_advanced,
    }
    variant_renderers: ClassVar[Mapping[tuple[str, str], Renderer]] = {
        (ADVANCED, "face_detail_infos"): render_face_detail_infos
    }
    readers: ClassVar[Mapping[str, Reader]] = {
        KEY_POINTS: _read_key_points,
        ADVANCED: _read_advanced,
    }

    def error_code(self, operation: str, document: Any) -> str | None:
        return error_code(document)

    def fresh_value(self, name: str, chooser: Chooser, index: int) -> Any:
        if name in ("request_id", "log_id"):
            return chooser.token(HEX.upper(), 32)
        if name == "face_token":
            return face_token(chooser, index)
        msg = f"AILabTools issues no per-call value {name!r}"
        raise KeyError(msg)

    def legend_notes(self, operation: str) -> Mapping[str, str]:
        return _SIDES if operation == KEY_POINTS else {}

    def richest_request(
        self, operation: str, picture: Mapping[str, str], image_url: str
    ) -> dict[str, Any]:
        if operation == ADVANCED:
            return {"image": dict(picture)}
        landmarks = ",".join(field for field in FACE_FIELDS if field.startswith("landmark"))
        return {"image": dict(picture), "face_field": landmarks, "max_face_num": "10"}

    def request_options(self, operation: str, chooser: Chooser) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if operation == KEY_POINTS:
            if chooser.choice((True, False)):
                options["max_face_num"] = str(chooser.integer(1, 10))
            if chooser.choice((True, False)):
                options["face_field"] = comma_subset(chooser, FACE_FIELDS)
        return options

    def min_faces(self, operation: str) -> int:
        if operation != KEY_POINTS:
            return 0
        return int(flat_at(operation, "response", ("result", "face_list")).get("minItems", 0))

    def face_count(self, operation: str, document: Any) -> int | None:
        try:
            if operation == KEY_POINTS:
                return len(document["result"]["face_list"])
            if "face_detail_infos" in document:  # the documented alternative shape (D-AIL-02)
                return len(document["face_detail_infos"])
            return int(document["data"]["face_count"])
        except (KeyError, TypeError, ValueError):
            return None

    def invalid_documents(
        self,
        operation: str,
        kind: str,
        valid: Any,
        request: Any,
        status: int | None,
        chooser: Chooser,
    ) -> list[Invalid]:
        if kind == "error":
            return _error_breaks(valid) if status is not None else []
        if kind != "response":
            return []
        if operation == KEY_POINTS:
            return _key_points_breaks(valid, request)
        return _advanced_breaks(valid, chooser)

    def contract_cases(self, operation: str) -> list[Case]:
        return _key_points_cases() if operation == KEY_POINTS else _advanced_cases()
