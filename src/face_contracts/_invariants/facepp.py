"""Face++ rules a schema cannot state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from face_contracts._invariants._registry import at, invariant
from face_contracts.contracts import contracts

if TYPE_CHECKING:
    from collections.abc import Iterator

    from face_contracts._invariants._registry import Context

__all__ = [
    "LANDMARK_GROUPS",
    "attributes_asked",
    "error_code",
    "groups_asked",
    "landmark_kind",
    "landmark_sets",
]

LANDMARK_GROUPS = (
    "left_eyebrow",
    "right_eyebrow",
    "left_eye",
    "left_eye_eyelid",
    "right_eye",
    "right_eye_eyelid",
    "nose",
    "mouth",
    "face",
)
# The Chinese table spells the mouth value "mouse" (discrepancy register D-FPP-05).
_ALIASES = {"mouse": "mouth"}


def groups_asked(return_landmark: str) -> frozenset[str]:
    """The landmark groups a return_landmark value asks for ('all' in any case: every group)."""
    items = {item.strip() for item in return_landmark.split(",")}
    if any(item.lower() == "all" for item in items):
        return frozenset(LANDMARK_GROUPS)
    return frozenset(_ALIASES.get(item, item) for item in items)


def error_code(document: Any) -> str:
    """The catalogue code of an error answer: the message up to its colon, or the 413 text."""
    if isinstance(document, str):
        return document
    message = at(document, "error_message")
    return message.split(":", 1)[0] if isinstance(message, str) else ""


@invariant(
    "landmark.groups_match_request", ("facepp.thousandlandmark", "response"), needs=("request",)
)
def groups_match_request(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """The groups returned are exactly the groups return_landmark asked for."""
    return_landmark = context.request_body.get("return_landmark")
    landmark = at(document, "face", "landmark")
    if not isinstance(return_landmark, str) or not isinstance(landmark, dict):
        return
    asked = groups_asked(return_landmark)
    returned = set(landmark)
    for group in sorted(asked - returned):
        yield f"/face/landmark/{group}", f"group {group!r} was asked for but is missing"
    for group in sorted(returned - asked):
        yield f"/face/landmark/{group}", f"group {group!r} was returned but not asked for"


@invariant(
    "error.status",
    ("facepp.thousandlandmark", "error"),
    ("facepp.detect", "error"),
    needs=("status",),
)
def status_matches_message(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """The HTTP status is the one documented for the error message."""
    code = error_code(document)
    if context.status is None or not code:
        return
    statuses = {
        entry["status"]
        for entry in contracts().mock_data[context.operation.id]["errors"]
        if entry["code"] == code
    }
    if statuses and context.status not in statuses:
        where = "" if isinstance(document, str) else "/error_message"
        documented = " or ".join(str(s) for s in sorted(statuses))
        yield where, f"{code} is documented with HTTP {documented}, not {context.status}"


# --- facepp.detect -----------------------------------------------------------------------------

_DETECT = ("facepp.detect", "response")


def _detect_data() -> dict[str, Any]:
    data: dict[str, Any] = contracts().mock_data["facepp.detect"]
    return data


def landmark_sets() -> dict[str, frozenset[str]]:
    """The Detect point sets by return_landmark value: '1' (83 points) and '2' (106 points)."""
    landmarks = _detect_data()["landmarks"]
    return {value: frozenset(landmarks[value]) for value in ("1", "2")}


def landmark_kind(names: set[str]) -> str:
    """The return_landmark value whose point set is nearest to ``names`` ('1' on a tie)."""
    sets = landmark_sets()
    return min(sets, key=lambda value: (len(sets[value] ^ names), value))


def attributes_asked(return_attributes: str) -> frozenset[str]:
    """The response keys a return_attributes value asks for ('none': nothing; smiling -> smile)."""
    keys = _detect_data()["attributes"]["response_keys"]
    items = {item.strip() for item in return_attributes.split(",")} - {"none", ""}
    return frozenset(keys.get(item, item) for item in items)


def _analysed(face: Any) -> bool:
    return isinstance(face, dict) and ("landmark" in face or "attributes" in face)


def _area(face: Any) -> float | None:
    width, height = at(face, "face_rectangle", "width"), at(face, "face_rectangle", "height")
    if not isinstance(width, int | float) or not isinstance(height, int | float):
        return None
    return width * height


def _faces(document: Any) -> list[Any]:
    faces = at(document, "faces")
    return faces if isinstance(faces, list) else []


@invariant("face_num.matches_faces", _DETECT)
def face_num_matches_faces(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """face_num, when present, is the number of faces."""
    faces, face_num = at(document, "faces"), at(document, "face_num")
    if face_num is not None and isinstance(faces, list) and face_num != len(faces):
        yield "/face_num", f"face_num is {face_num} but faces has {len(faces)} items"


@invariant("face_token.unique", _DETECT)
def face_tokens_unique(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """Every detected face gets its own face_token."""
    seen: dict[str, int] = {}
    for index, face in enumerate(_faces(document)):
        token = face.get("face_token") if isinstance(face, dict) else None
        if not isinstance(token, str):
            continue
        if token in seen:
            yield (
                f"/faces/{index}/face_token",
                f"face_token {token!r} is also the token of face {seen[token]}",
            )
        else:
            seen[token] = index


@invariant("landmark.point_set", _DETECT)
def landmark_point_set(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """A landmark is exactly the 83-point or the 106-point set (the nearer one is assumed)."""
    sets = landmark_sets()
    for index, face in enumerate(_faces(document)):
        landmark = face.get("landmark") if isinstance(face, dict) else None
        if not isinstance(landmark, dict):
            continue
        names = set(landmark)
        kind = landmark_kind(names)
        size = len(sets[kind])
        for name in sorted(sets[kind] - names):
            yield (
                f"/faces/{index}/landmark/{name}",
                f"point {name!r} of the {size}-point landmark is missing",
            )
        other = next(value for value in sets if value != kind)
        for name in sorted((names & sets[other]) - sets[kind]):
            yield (
                f"/faces/{index}/landmark/{name}",
                f"point {name!r} belongs to the {len(sets[other])}-point landmark, "
                f"not to this {size}-point one",
            )


@invariant("landmark.matches_request", _DETECT, needs=("request",))
def landmark_matches_request(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """Landmarks only when return_landmark is 1 or 2: on every analysed face, 83 or 106 points."""
    asked = context.request_body.get("return_landmark", "0")
    if context.request is None or not isinstance(asked, str) or asked not in {"0", "1", "2"}:
        return
    sizes = {value: len(names) for value, names in landmark_sets().items()}
    for index, face in enumerate(_faces(document)):
        if not isinstance(face, dict):
            continue
        where = f"/faces/{index}/landmark"
        landmark = face.get("landmark")
        if asked == "0":
            if landmark is not None:
                yield where, "a landmark was returned but return_landmark is 0 (or absent)"
        elif landmark is None:
            if _analysed(face):
                yield where, f"the face was analysed but has no landmark (return_landmark={asked})"
        elif isinstance(landmark, dict) and landmark_kind(set(landmark)) != asked:
            yield where, f"return_landmark={asked} means {sizes[asked]} points, not {len(landmark)}"


@invariant("attributes.match_request", _DETECT, needs=("request",))
def attributes_match_request(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """Analysed faces carry exactly the attributes asked for (plus the deprecated glass); none
    when return_attributes is none or absent."""
    return_attributes = context.request_body.get("return_attributes", "none")
    if context.request is None or not isinstance(return_attributes, str):
        return
    asked = attributes_asked(return_attributes)
    extra_allowed = set(_detect_data()["attributes"]["unrequested_allowed"])
    for index, face in enumerate(_faces(document)):
        if not isinstance(face, dict):
            continue
        where = f"/faces/{index}/attributes"
        attributes = face.get("attributes")
        if not asked:
            if attributes is not None:
                yield where, "attributes were returned but return_attributes is none (or absent)"
            continue
        if attributes is None:
            if _analysed(face):
                yield where, "the face was analysed but has none of the attributes asked for"
            continue
        if not isinstance(attributes, dict):
            continue
        for key in sorted(asked - set(attributes)):
            yield f"{where}/{key}", f"attribute {key!r} was asked for but is missing"
        for key in sorted(set(attributes) - asked - extra_allowed):
            yield f"{where}/{key}", f"attribute {key!r} was returned but not asked for"


@invariant("faces.analysed_count", _DETECT, needs=("request",))
def analysed_count(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """With landmarks or attributes asked for, the 5 largest faces are analysed, or every face
    with calculate_all=1."""
    body = context.request_body
    return_landmark = body.get("return_landmark", "0")
    return_attributes = body.get("return_attributes", "none")
    if context.request is None or not isinstance(return_attributes, str):
        return
    wants = return_landmark in ("1", "2") or bool(attributes_asked(return_attributes))
    faces = _faces(document)
    if not wants or not faces:
        return
    limit = _detect_data()["analysis"]["max_analysed_faces"]
    expected = len(faces) if body.get("calculate_all") == "1" else min(limit, len(faces))
    analysed = sum(1 for face in faces if _analysed(face))
    if analysed != expected:
        why = "calculate_all=1: all" if body.get("calculate_all") == "1" else f"the {limit} largest"
        yield "/faces", f"{analysed} of {len(faces)} faces were analysed, not {expected} ({why})"


@invariant("faces.analysed_largest", _DETECT)
def analysed_largest(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """The analysed faces are the largest by face_rectangle area: with k faces analysed, each
    analysed face is at least as large as the k-th largest face."""
    faces = [(index, face) for index, face in enumerate(_faces(document)) if isinstance(face, dict)]
    analysed = [index for index, face in faces if _analysed(face)]
    if not analysed or len(analysed) == len(faces):
        return
    measured = [_area(face) for _, face in faces]
    areas = sorted((area for area in measured if area is not None), reverse=True)
    if len(areas) < len(measured):
        return
    smallest_allowed = areas[len(analysed) - 1]
    for (index, face), area in zip(faces, measured, strict=True):
        if _analysed(face) and area is not None and area < smallest_allowed:
            yield (
                f"/faces/{index}",
                f"face {index} was analysed but is not among the {len(analysed)} largest faces",
            )


def _analysis_shape(face: dict[str, Any], extra_allowed: set[str]) -> tuple[str, frozenset[str]]:
    landmark = face.get("landmark")
    kind = landmark_kind(set(landmark)) if isinstance(landmark, dict) else "0"
    attributes = face.get("attributes")
    keys = frozenset(attributes) - extra_allowed if isinstance(attributes, dict) else frozenset()
    return kind, keys


@invariant("faces.same_analysis", _DETECT)
def same_analysis(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """Without the request: every analysed face carries the same landmark kind and attributes,
    since one request's parameters apply to all of them. (With the request, the *.match_request
    rules say it precisely.)"""
    if context.request is not None:
        return
    extra_allowed = set(_detect_data()["attributes"]["unrequested_allowed"])
    first: tuple[int, tuple[str, frozenset[str]]] | None = None
    for index, face in enumerate(_faces(document)):
        if not _analysed(face):
            continue
        shape = _analysis_shape(face, extra_allowed)
        if first is None:
            first = (index, shape)
        elif shape != first[1]:
            yield f"/faces/{index}", f"face {index} is analysed differently from face {first[0]}"


@invariant("face_rectangle.matches_request", _DETECT, needs=("request",))
def face_rectangle_matches_request(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """With face_rectangle in the request, the returned rectangle is the one passed."""
    passed_value = context.request_body.get("face_rectangle")
    parts = passed_value.split(",") if isinstance(passed_value, str) else []
    if len(parts) != 4 or not all(part.strip().isdecimal() for part in parts):
        return  # absent, or not the documented top,left,width,height: the request's own rule
    top, left, width, height = (int(part) for part in parts)
    passed = {"top": top, "left": left, "width": width, "height": height}
    for index, face in enumerate(_faces(document)):
        if isinstance(face, dict) and face.get("face_rectangle") != passed:
            yield f"/faces/{index}/face_rectangle", f"face_rectangle is not the requested {passed}"


@invariant("attributes.sums_to_100", _DETECT)
def attributes_sum_to_100(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """eyestatus (each eye), emotion and mouthstatus are confidences that sum to 100."""
    settings = _detect_data()["attributes"]
    tolerance = settings["sum_tolerance"]
    for index, face in enumerate(_faces(document)):
        attributes = face.get("attributes") if isinstance(face, dict) else None
        if not isinstance(attributes, dict):
            continue
        for path in settings["sums_to_100"]:
            value: Any = attributes
            for part in path.split("/"):
                value = value.get(part) if isinstance(value, dict) else None
            if not isinstance(value, dict):
                continue
            numbers = [
                v for v in value.values() if isinstance(v, int | float) and not isinstance(v, bool)
            ]
            total = sum(numbers)
            if len(numbers) == len(value) and abs(total - 100) > tolerance:
                yield f"/faces/{index}/attributes/{path}", f"the values sum to {total:.3f}, not 100"
