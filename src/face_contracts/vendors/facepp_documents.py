"""Face++ documents: what Dense Facial Landmarks and Detect answer (the renderers), the rules
a schema cannot state (invariants), the special ways to break an answer, the documented
request options, how an answer is read for drawing, and the live suite's cases.

Names, counts and limits come from ``schemas/facepp/`` and ``mocks/facepp/``; sources of
the rules are in docs/invariants.md. :class:`FacePlusPlusDocuments` is the documents half
of the vendor; :mod:`.facepp` adds how the service handles a call.
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
    expect_error,
    expect_success,
    picture_cases,
)
from face_contracts.contracts import contracts
from face_contracts.generation._fit import placement
from face_contracts.generation._mutations import Invalid, broken_invariant
from face_contracts.generation._render import (
    JITTER,
    face_token,
    flat_at,
    jitter,
    place,
    produce,
    template,
    uuid,
)
from face_contracts.generation._scene import HEX, Face
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
    from collections.abc import Iterator, Mapping

    from face_contracts._invariants._registry import Context
    from face_contracts.generation._scene import Chooser, Scene

__all__ = [
    "DENSE",
    "DETECT",
    "FacePlusPlusDocuments",
    "attributes_asked",
    "error_code",
    "groups_asked",
    "landmark_groups",
    "landmark_kind",
    "landmark_sets",
]

DENSE = "facepp.thousandlandmark"
DETECT = "facepp.detect"
ERROR_CODE_AT = "/error_message"
_DETECT = (DETECT, "response")
# The Chinese table spells the mouth value "mouse" (discrepancy register D-FPP-05).
_GROUP_ALIASES = {"mouse": "mouth"}


@cache
def landmark_groups() -> tuple[str, ...]:
    """Dense Landmarks' groups, in the schema's order."""
    schema = contracts().schemas[contracts().operation(DENSE).schema_id("response")]
    return tuple(schema["$defs"]["landmark"]["properties"])


def groups_asked(return_landmark: str) -> frozenset[str]:
    """The landmark groups a ``return_landmark`` value asks for (``all``, in any letter
    case, is every group)."""
    names = [part.strip() for part in return_landmark.split(",") if part.strip()]
    if any(name.lower() == "all" for name in names):
        return frozenset(landmark_groups())
    return frozenset(_GROUP_ALIASES.get(name, name) for name in names)


def error_code(document: Any) -> str | None:
    """The catalogue code of an error answer: the message up to its colon, or the 413's
    plain text."""
    if isinstance(document, str):
        return document.strip() or None
    message = at(document, "error_message")
    if not isinstance(message, str):
        return None
    return message.split(":", 1)[0].strip()


def _detect_data() -> dict[str, Any]:
    data: dict[str, Any] = contracts().mock_data[DETECT]
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


def _request_id(chooser: Chooser) -> str:
    """'<unix seconds>,<uuid>' as in every doc example (drawn in the renderers' order)."""
    return f"{chooser.integer(1_500_000_000, 1_800_000_000)},{uuid(chooser)}"


# --- answers ---------------------------------------------------------------------------------


@cache
def _prepared(
    group: str,
) -> tuple[tuple[tuple[str, float, float], ...], tuple[tuple[str, float], ...]]:
    """A Dense Landmarks group's template in the schema's key order: points, kept far
    enough from the box edge that jitter cannot leave it, and pupil radii (in box widths)."""
    keys = flat_at(DENSE, "response", ("face", "landmark", group))["required"]
    layout = template(DENSE)[group]
    margin = 0.01 + JITTER / 2
    points = tuple(
        (
            key,
            min(1 - margin, max(margin, layout[key][0])),
            min(1 - margin, max(margin, layout[key][1])),
        )
        for key in keys
        if not isinstance(layout[key], int | float)
    )
    radii = tuple((key, float(layout[key])) for key in keys if isinstance(layout[key], int | float))
    return points, radii


def render_thousandlandmark(
    scene: Scene, request: Mapping[str, Any] | None, chooser: Chooser
) -> dict[str, Any]:
    """Dense Landmarks' answer: the largest face's asked-for groups."""
    all_groups = list(flat_at(DENSE, "response", ("face", "landmark"))["properties"])
    if request is not None:
        asked = groups_asked(request["body"]["return_landmark"])
        groups = [group for group in all_groups if group in asked]
    else:
        groups = [group for group in all_groups if chooser.choice((True, False))] or all_groups
    document: dict[str, Any] = {
        "time_used": chooser.integer(40, 900),
        "request_id": _request_id(chooser),
    }
    if not scene.faces:
        document["face"] = {}
        return document
    face = scene.faces[0]  # only the largest face is analysed ([facepp-dense-cn] §描述)
    rand = jitter(chooser).random
    landmark: dict[str, Any] = {}
    for group in groups:
        points, radii = _prepared(group)
        where = placement(face, DENSE, group)
        # The hot loop of generation: 975 points per answer, so plain arithmetic, and every
        # point of a group placed in one call.
        jittered = [
            (u + (rand() - 0.5) * JITTER, v + (rand() - 0.5) * JITTER) for _, u, v in points
        ]
        values: dict[str, Any] = {
            key: {"x": int(x), "y": int(y)}
            for (key, _, _), (x, y) in zip(points, where.many(jittered), strict=True)
        }
        width = where.box_width
        for key, radius in radii:
            values[key] = round(radius * width * (0.9 + 0.2 * rand()), 3)
        landmark[group] = values
    document["face"] = {
        "landmark": landmark,
        "face_rectangle": {
            "width": face.width,
            "top": face.top,
            "height": face.height,
            "left": face.left,
        },
    }
    return document


def _detect_options(request: Mapping[str, Any] | None, chooser: Chooser) -> dict[str, Any]:
    """return_landmark, the asked attributes (request values), calculate_all, face_rectangle."""
    rules = _detect_data()["attributes"]
    if request is not None:
        body = request["body"]
        asked = body.get("return_attributes", "none")
        return {
            "return_landmark": body.get("return_landmark", "0"),
            "attributes": [] if asked.strip() == "none" else [a.strip() for a in asked.split(",")],
            "calculate_all": body.get("calculate_all") == "1",
            "face_rectangle": body.get("face_rectangle"),
        }
    return {
        "return_landmark": chooser.choice(("0", "1", "2")),
        "attributes": [a for a in rules["request_values"] if chooser.choice((True, False, False))],
        "calculate_all": chooser.choice((True, False)),
        "face_rectangle": None,
    }


def _attribute(name: str, chooser: Chooser) -> Any:
    rules = _detect_data()["attributes"]
    value = produce(flat_at(DETECT, "response", ("faces", "[]", "attributes", name)), chooser)
    for path in rules["sums_to_100"]:
        head, _, tail = path.partition("/")
        if head != name:
            continue
        target = value[tail] if tail else value
        _share_100(target)
    return value


def _share_100(shares: dict[str, Any]) -> None:
    """Rescale confidences to thousandths that sum to exactly 100 (largest remainders)."""
    total = sum(shares.values())
    keys = list(shares)
    if total <= 0:
        exact = [100_000 / len(keys)] * len(keys)
    else:
        exact = [shares[key] * 100_000 / total for key in keys]
    whole = [int(part) for part in exact]
    order = sorted(range(len(keys)), key=lambda i: exact[i] - whole[i], reverse=True)
    for i in order[: 100_000 - sum(whole)]:
        whole[i] += 1
    for key, thousandths in zip(keys, whole, strict=True):
        shares[key] = thousandths / 1000


def render_detect(
    scene: Scene, request: Mapping[str, Any] | None, chooser: Chooser
) -> dict[str, Any]:
    """Detect's answer: every face with its token and box; landmarks and attributes on the
    analysed ones."""
    data = _detect_data()
    options = _detect_options(request, chooser)
    faces = list(scene.faces)
    if options["face_rectangle"]:
        top, left, width, height = (int(part) for part in options["face_rectangle"].split(","))
        faces = [Face(left, top, width, height)]
    wants_analysis = options["return_landmark"] != "0" or bool(options["attributes"])
    analysed = len(faces) if options["calculate_all"] else data["analysis"]["max_analysed_faces"]
    keys = data["attributes"]["response_keys"]
    noise = jitter(chooser)
    entries = []
    for index, face in enumerate(faces):
        entry: dict[str, Any] = {
            "face_token": face_token(chooser, index),
            "face_rectangle": {
                "top": face.top,
                "left": face.left,
                "width": face.width,
                "height": face.height,
            },
        }
        if wants_analysis and index < analysed:
            if options["return_landmark"] != "0":
                layout = template(DETECT)[options["return_landmark"]]
                where = placement(face, DETECT, options["return_landmark"])
                entry["landmark"] = {}
                for name in data["landmarks"][options["return_landmark"]]:
                    x, y = place(face, layout[name], noise, where)
                    entry["landmark"][name] = {"x": int(x), "y": int(y)}
            if options["attributes"]:
                entry["attributes"] = {
                    keys.get(asked, asked): _attribute(keys.get(asked, asked), chooser)
                    for asked in options["attributes"]
                }
        entries.append(entry)
    return {
        "request_id": _request_id(chooser),
        "time_used": chooser.integer(40, 900),
        "image_id": chooser.token(HEX, 22),
        "face_num": len(entries),
        "faces": entries,
    }


# --- invariants ------------------------------------------------------------------------------

invariant("error.status", (DENSE, "error"), (DETECT, "error"), needs=("status",))(
    documented_status(error_code, ERROR_CODE_AT)
)


@invariant("landmark.groups_match_request", (DENSE, "response"), needs=("request",))
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


# --- special invalid answers -------------------------------------------------------------------


def _thousandlandmark_breaks(valid: Any, request: Any, chooser: Chooser) -> list[Invalid]:
    landmark = valid["face"].get("landmark", {})
    groups = list(landmark)
    found: list[Invalid] = []
    if len(groups) >= 2:
        source = chooser.choice(groups)
        target = chooser.choice([group for group in groups if group != source])
        key = chooser.choice(sorted(landmark[source]))
        mutated = copy.deepcopy(valid)
        mutated["face"]["landmark"][target][key] = mutated["face"]["landmark"][source].pop(key)
        expected = {
            ("required", f"/face/landmark/{source}/{key}"),
            ("additionalProperties", f"/face/landmark/{target}/{key}"),
        }
        found.append(
            Invalid(
                mutated,
                "misplaced_key",
                "additionalProperties",
                f"/face/landmark/{target}/{key}",
                frozenset(expected),
                f"{key} is in group {target}",
            )
        )
        dropped = chooser.choice(groups)
        mutated = copy.deepcopy(valid)
        del mutated["face"]["landmark"][dropped]
        found.append(
            broken_invariant(
                mutated,
                "landmark.groups_match_request",
                f"/face/landmark/{dropped}",
                f"asked-for group {dropped} is missing",
                request,
            )
        )
    return found


def _detect_breaks(valid: Any, request: Any, chooser: Chooser) -> list[Invalid]:
    del request, chooser
    found = []
    mutated = copy.deepcopy(valid)
    mutated["face_num"] = len(valid["faces"]) + 1
    found.append(
        broken_invariant(
            mutated, "face_num.matches_faces", "/face_num", "face_num is one more than the faces"
        )
    )
    if len(valid["faces"]) >= 2:
        mutated = copy.deepcopy(valid)
        mutated["faces"][1]["face_token"] = mutated["faces"][0]["face_token"]
        found.append(
            broken_invariant(
                mutated, "face_token.unique", "/faces/1/face_token", "two faces share a face_token"
            )
        )
    return found


# --- reading an answer for drawing --------------------------------------------------------------


def _read_thousandlandmark(document: Mapping[str, Any]) -> tuple[str, list[FaceMarks]]:
    face = document.get("face") or {}
    if not face:
        return "no face", []
    rect = face["face_rectangle"]
    groups: list[Group] = []
    circles: list[Circle] = []
    for name, values in face.get("landmark", {}).items():
        # A group maps key -> point, except the pupil radius, a bare number of pixels.
        groups.append(
            Group(name, tuple(xy(value) for value in values.values() if isinstance(value, dict)))
        )
        for key, value in values.items():
            if key.endswith("_pupil_radius") and isinstance(value, int | float):
                centre = values.get(key.removesuffix("_radius") + "_center")
                if isinstance(centre, dict):
                    circles.append(Circle(name, *xy(centre), float(value)))
    box = (rect["left"], rect["top"], rect["width"], rect["height"])
    # Counted as the vendor counts: every key, the two pupil radii included (975 in all).
    keys = sum(len(values) for values in face.get("landmark", {}).values())
    return f"{keys} points", [FaceMarks(box, tuple(groups), tuple(circles))]


# Detect names: contour_*, left_eyebrow_*, left_eye_*, ...; eyebrow before eye.
_DETECT_GROUPS = (
    ("contour", ("contour",)),
    ("left_eyebrow", ("left_eyebrow",)),
    ("right_eyebrow", ("right_eyebrow",)),
    ("left_eye", ("left_eye",)),
    ("right_eye", ("right_eye",)),
    ("nose", ("nose",)),
    ("mouth", ("mouth",)),
)


def _read_detect(document: Mapping[str, Any]) -> tuple[str, list[FaceMarks]]:
    faces = []
    sizes = set()
    for entry in document.get("faces", []):
        rect = entry["face_rectangle"]
        marks = entry.get("landmark", {})
        sizes.add(len(marks))
        groups = by_prefix(((name, xy(value)) for name, value in marks.items()), _DETECT_GROUPS)
        faces.append(FaceMarks((rect["left"], rect["top"], rect["width"], rect["height"]), groups))
    sizes.discard(0)
    label = f"{max(sizes)} points" if sizes else "no landmarks"
    return label, faces


# --- the live suite's cases ---------------------------------------------------------------------


def _common_cases(op: str) -> list[Case]:
    base: tuple[tuple[str, Any], ...] = (("return_landmark", "all"),) if op == DENSE else ()
    bad_image = expect_error("IMAGE_ERROR_UNSUPPORTED_FORMAT")
    found = [
        *auth_cases(op, expect_error("AUTHENTICATION_ERROR"), expect_error("MISSING_ARGUMENTS")),
        Case(
            op,
            "missing-api-secret",
            "api_key without api_secret",
            expect_error("MISSING_ARGUMENTS"),
            auth="missing_secret",
        ),
        Case(
            op,
            "missing-image",
            "no image_file, image_base64 or image_url",
            expect_error("MISSING_ARGUMENTS"),
            base,
            image=None,
        ),
        Case(
            op,
            "image-base64",
            "the picture as image_base64 in a urlencoded form",
            expect_success(),
            base,
            source="base64",
        ),
        Case(op, "image-url", "the picture as an image_url", expect_success(), base, source="url"),
        Case(op, "no-face", "a picture without a face", expect_success(0, 0), base, image=NO_FACE),
    ]
    codes = {
        "unsupported-format-gif": bad_image,
        "truncated-jpeg": bad_image,
        "tiny-20x20": expect_error("INVALID_IMAGE_SIZE"),
        "huge-5000x5000": expect_error("INVALID_IMAGE_SIZE"),
        "over-byte-limit": expect_error("Request Entity Too Large"),
    }
    return found + picture_cases(op, codes, base)


def _thousandlandmark_cases() -> list[Case]:
    op = DENSE
    every = (("return_landmark", "all"),)
    found = [
        Case(op, "happy", "return_landmark=all", expect_success(), every),
        Case(
            op,
            "return-landmark-ALL",
            "return_landmark=ALL: any letter case",
            expect_success(),
            (("return_landmark", "ALL"),),
        ),
        *(
            Case(
                op,
                f"return-landmark-{group}",
                f"return_landmark={group}",
                expect_success(),
                (("return_landmark", group),),
            )
            for group in landmark_groups()
        ),
        Case(
            op,
            "return-landmark-mouse",
            "return_landmark=mouse: the Chinese table's spelling of mouth (D-FPP-05)",
            expect_success(),
            (("return_landmark", "mouse"),),
        ),
        Case(
            op,
            "return-landmark-several-groups",
            "return_landmark=left_eye,nose,face",
            expect_success(),
            (("return_landmark", "left_eye,nose,face"),),
        ),
        Case(
            op,
            "face-token",
            "a face_token issued by detect for the portrait",
            expect_success(),
            every,
            source="token",
            calls=2,
        ),
        Case(
            op,
            "several-faces",
            "three faces: only the largest is returned",
            expect_success(1, 1),
            every,
            image=GROUP,
            mock_faces=3,
        ),
        Case(
            op,
            "missing-return-landmark",
            "no return_landmark",
            expect_error("MISSING_ARGUMENTS"),
        ),
        Case(
            op,
            "bad-return-landmark",
            "return_landmark=ears, not a group",
            expect_error("BAD_ARGUMENTS"),
            (("return_landmark", "ears"),),
        ),
        Case(
            op,
            "invalid-face-token",
            "a face_token the service never issued",
            expect_error("INVALID_FACE_TOKEN"),
            (*every, ("face_token", "0" * 32)),
            image=None,
        ),
    ]
    return found + _common_cases(op)


def _detect_cases() -> list[Case]:
    op = DETECT
    attributes = _detect_data()["attributes"]["request_values"]
    permission = frozenset({"INSUFFICIENT_PERMISSION"})
    found = [
        Case(op, "happy", "a portrait with the default options", expect_success()),
        *(
            Case(
                op,
                f"return-landmark-{value}",
                f"return_landmark={value}",
                expect_success(),
                (("return_landmark", value),),
            )
            for value in ("0", "1", "2")
        ),
        *(
            Case(
                op,
                f"return-attributes-{name}",
                f"return_attributes={name}",
                expect_success(),
                (("return_attributes", name),),
            )
            for name in ("none", *attributes)
        ),
        Case(
            op,
            "return-attributes-all",
            "every attribute at once, with 106 landmarks",
            expect_success(),
            (("return_landmark", "2"), ("return_attributes", ",".join(attributes))),
        ),
        Case(
            op,
            "beauty-score-range",
            "beauty with beauty_score_min=10 and beauty_score_max=90",
            expect_success(),
            (
                ("return_attributes", "beauty"),
                ("beauty_score_min", "10"),
                ("beauty_score_max", "90"),
            ),
        ),
        Case(
            op,
            "several-faces",
            "three faces with 83 landmarks: every face",
            expect_success(2, None),
            (("return_landmark", "1"),),
            image=GROUP,
            mock_faces=3,
        ),
        Case(
            op,
            "calculate-all",
            "calculate_all=1 (Standard keys; a Free key gets INSUFFICIENT_PERMISSION)",
            Expect("either", permission, faces=(2, None)),
            (("return_landmark", "1"), ("calculate_all", "1")),
            image=GROUP,
            mock_faces=3,
        ),
        Case(
            op,
            "face-rectangle",
            "face_rectangle=70,80,100,100 (Standard keys; a Free key gets INSUFFICIENT_PERMISSION)",
            Expect("either", permission, faces=(0, 1)),
            (("face_rectangle", "70,80,100,100"),),
        ),
        Case(
            op,
            "bad-return-landmark",
            "return_landmark=3",
            expect_error("BAD_ARGUMENTS"),
            (("return_landmark", "3"),),
        ),
        Case(
            op,
            "bad-return-attributes",
            "return_attributes=nose, not an attribute",
            expect_error("BAD_ARGUMENTS"),
            (("return_attributes", "nose"),),
        ),
    ]
    return found + _common_cases(op)


# --- the vendor's documents --------------------------------------------------------------------


class FacePlusPlusDocuments(Vendor):
    """Face++'s documents; :class:`~face_contracts.vendors.facepp.FacePlusPlus` adds the
    service's handling of a call."""

    error_code_at = ERROR_CODE_AT
    renderers: ClassVar[Mapping[str, Renderer]] = {
        DENSE: render_thousandlandmark,
        DETECT: render_detect,
    }
    readers: ClassVar[Mapping[str, Reader]] = {DENSE: _read_thousandlandmark, DETECT: _read_detect}

    def error_code(self, operation: str, document: Any) -> str | None:
        return error_code(document)

    def fresh_value(self, name: str, chooser: Chooser, index: int) -> Any:
        if name == "request_id":  # '<unix seconds>,<uuid>' as in every doc example
            text = uuid(chooser)
            return f"{chooser.integer(1_500_000_000, 1_800_000_000)},{text}"
        if name == "time_used":
            return chooser.integer(40, 900)
        if name == "image_id":
            return chooser.token(HEX, 22)
        if name == "face_token":  # 32 lower-case hex digits, distinct within one answer
            return face_token(chooser, index)
        msg = f"Face++ issues no per-call value {name!r}"
        raise KeyError(msg)

    def richest_request(
        self, operation: str, picture: Mapping[str, str], image_url: str
    ) -> dict[str, Any]:
        # Every group of Dense Landmarks; the 106 points of Detect.
        return {
            "image_file": dict(picture),
            "return_landmark": "all" if operation == DENSE else "2",
        }

    def request_options(self, operation: str, chooser: Chooser) -> dict[str, Any]:
        if operation == DENSE:
            if chooser.choice((True, False)):
                return {"return_landmark": chooser.choice(("all", "All", "ALL"))}
            return {"return_landmark": comma_subset(chooser, landmark_groups())}
        options: dict[str, Any] = {}
        if chooser.choice((True, False)):
            values = flat_at(operation, "request", ("body", "return_landmark"))["enum"]
            options["return_landmark"] = chooser.choice(values)
        if chooser.choice((True, False)):
            options["return_attributes"] = (
                "none"
                if chooser.choice((True, False))
                else comma_subset(chooser, _detect_data()["attributes"]["request_values"])
            )
        if chooser.choice((True, False)):
            options["calculate_all"] = chooser.choice(("0", "1"))
        return options

    def face_count(self, operation: str, document: Any) -> int | None:
        try:
            if operation == DENSE:
                return 1 if document["face"] else 0
            return len(document["faces"])
        except (KeyError, TypeError):
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
        if kind != "response":
            return []
        breaks = _thousandlandmark_breaks if operation == DENSE else _detect_breaks
        return breaks(valid, request, chooser)

    def contract_cases(self, operation: str) -> list[Case]:
        return _thousandlandmark_cases() if operation == DENSE else _detect_cases()
