"""AILabTools rules a schema cannot state.

Sources are tags of research/vendors.md (A1 = the ailabtools-docs repository, A2 = the old
response-description page) and the seeds 000-002; the rule catalogue is docs/invariants.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from face_contracts._invariants._registry import at, invariant
from face_contracts.contracts import contracts

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from face_contracts._invariants._registry import Context

__all__ = ["FACE_FIELDS", "PER_FACE", "QUALITY_LISTS", "face_fields_asked", "max_faces_asked"]

KEY_POINTS = "ailab.face_key_points"
ADVANCED = "ailab.face_analyzer_advanced"

# face_field items: each adds the per-face key of the same name (A1 face-key-points/api.mdx).
FACE_FIELDS = ("age", "gender", "landmark4", "landmark72", "landmark150", "landmark201")
DEFAULT_MAX_FACE_NUM = 1

# face-analyzer-advanced data lists and their length per face (seed 002 table).
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


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --------------------------------------------------------------------------- face key points


@invariant("face_num.matches_face_list", (KEY_POINTS, "response"))
def face_num_matches_face_list(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """result.face_num is the number of entries in result.face_list."""
    face_num, faces = at(document, "result", "face_num"), at(document, "result", "face_list")
    if isinstance(face_num, int) and isinstance(faces, list) and face_num != len(faces):
        yield "/result/face_num", f"face_num is {face_num} but face_list has {len(faces)} faces"


@invariant("face_field.gating", (KEY_POINTS, "response"), needs=("request",))
def face_field_gating(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """A face carries age, gender and landmarkN exactly when face_field asked for them
    (A1 face-key-points/api.mdx: without face_field only face_token, location,
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


# --------------------------------------------------------------------------- face analyzer advanced


@invariant("face_count.matches_lists", (ADVANCED, "response"))
def face_count_matches_lists(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """Every per-face list of data has face_count times its per-face length: 4 for
    face_rectangles, 210 for landmarks (105 points), 6 for pupils, 3 for pose_list, 1 for the
    other lists and for every qualities list (seed 002 table)."""
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
    """data.pose_list is [yaw, pitch, roll] per face: yaw and pitch are in [-90, 90] (seed 002
    table; roll's [-180, 180] is the schema's bound on every value)."""
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


# --------------------------------------------------------------------------- both operations


@invariant(
    "response.http_status", (KEY_POINTS, "response"), (ADVANCED, "response"), needs=("status",)
)
def response_http_status(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """A success body comes with HTTP 200 (A1 response-description: a request succeeds when
    the HTTP status is 200; any other status is a failure)."""
    if context.status is not None and context.status != 200:
        yield "", f"a success body came with HTTP {context.status}; success is HTTP 200"


@invariant("error_code.matches_status_code", (KEY_POINTS, "error"), (ADVANCED, "error"))
def error_code_matches_status_code(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """error_detail.status_code, when present, equals error_code (both are the HTTP status:
    A1 response-description at 37f810e/b42b812, A2)."""
    status_code = at(document, "error_detail", "status_code")
    error_code = at(document, "error_code")
    if isinstance(status_code, int) and isinstance(error_code, int) and status_code != error_code:
        message = f"status_code is {status_code} but error_code is {error_code}"
        yield "/error_detail/status_code", message


@invariant(
    "error_code.matches_http_status", (KEY_POINTS, "error"), (ADVANCED, "error"), needs=("status",)
)
def error_code_matches_http_status(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """With the HTTP status known, error_code equals it (A1 response-description at
    37f810e/b42b812, A2: 'otherwise exactly the same as HTTP Status')."""
    if context.status is None:
        return
    error_code = at(document, "error_code")
    if isinstance(error_code, int) and error_code != context.status:
        yield "/error_code", f"error_code is {error_code} but the HTTP status is {context.status}"


@invariant("error.status", (KEY_POINTS, "error"), (ADVANCED, "error"), needs=("status",))
def status_matches_code(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """With the HTTP status known, a catalogued error_detail.code comes with its documented
    status (mocks/ailab/*.json errors: the map of A1 response-description.mdx HEAD, 2026-01-08
    and later)."""
    if context.status is None:
        return
    code = at(document, "error_detail", "code")
    statuses = {
        entry["status"]
        for entry in contracts().mock_data[context.operation.id]["errors"]
        if entry["code"] == code
    }
    if statuses and context.status not in statuses:
        documented = " or ".join(str(s) for s in sorted(statuses))
        message = f"{code} is documented with HTTP {documented}, not {context.status}"
        yield "/error_detail/code", message
