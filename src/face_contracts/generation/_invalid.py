"""Invalid documents that need more than a schema keyword: bad images, missing image
sources, broken invariants, keys moved between groups, wrong statuses.

Each builder knows the rule it breaks and the exact failures that follow; image limits,
error statuses and per-face list lengths come from ``mocks/`` like everything else.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from face_contracts.contracts import contracts
from face_contracts.generation._mutations import Invalid
from face_contracts.generation._scene import Chooser, DrawChooser
from face_contracts.images import encode_image, pad_image, truncate_image

__all__ = ["mutations_of", "special_mutations"]

Builder = Callable[[str, Any, Any, "int | None", Chooser], list[Invalid]]


def special_mutations(
    operation: str, kind: str, valid: Any, request: Any, status: int | None, draw: st.DrawFn
) -> list[Invalid]:
    """The special ways to break this operation's document, or [] to use the generic ones.

    About half the draws use them when some exist, so both kinds appear."""
    found = mutations_of(operation, kind, valid, request, status, DrawChooser(draw))
    if not found or not draw(st.booleans()):
        return []
    return found


def mutations_of(
    operation: str, kind: str, valid: Any, request: Any, status: int | None, chooser: Chooser
) -> list[Invalid]:
    """Every special way to break this document, with the values the chooser picks (drawn
    by Hypothesis in tests, seeded in the mock's drifted answers)."""
    builders: dict[str, Builder] = {
        "request": _image_mutations,
        "response": _response_mutations,
        "error": _status_mutations,
    }
    return builders[kind](operation, valid, request, status, chooser)


# --- requests -------------------------------------------------------------------------------


def _image_field(operation: str, body: dict[str, Any]) -> str | None:
    limits = contracts().mock_data[operation].get("image")
    if limits is None:
        return None
    for field in limits["sources"]:
        if field in body:
            return None if field == "face_token" or field.endswith("_url") else field
    return None


def _with_image(document: Any, field: str, data: bytes) -> Any:
    mutated = copy.deepcopy(document)
    encoded = base64.b64encode(data).decode()
    if isinstance(mutated["body"][field], dict):
        mutated["body"][field]["base64"] = encoded
    else:
        mutated["body"][field] = encoded
    return mutated


def _image_mutations(
    operation: str, valid: Any, request: Any, status: int | None, chooser: Chooser
) -> list[Invalid]:
    del request, status
    limits = contracts().mock_data[operation].get("image")
    if limits is None:
        return []
    body = valid["body"]
    found = _missing_source(operation, valid, limits["sources"])
    field = _image_field(operation, body)
    if field is None:
        return found
    where = f"/body/{field}"
    accepted = limits["formats"]
    base = accepted[0]

    def case(label: str, rule: str, data: bytes, description: str) -> Invalid:
        return Invalid(
            _with_image(valid, field, data),
            label,
            rule,
            where,
            frozenset({(rule, where)}),
            description,
        )

    wrong = next(f for f in ("GIF", "TIFF", "WEBP", "BMP", "PNG") if f not in accepted)
    found.append(
        case(
            "bad_image",
            "image.format",
            encode_image(wrong, 120, 120, seed=1),
            f"the image is a {wrong}",
        )
    )
    picture = encode_image(base, 160, 160, seed=chooser.integer(0, 255))
    found.append(
        case("bad_image", "image.decodable", truncate_image(picture), "the image file is truncated")
    )
    found.append(
        case("bad_image", "image.decodable", b"\x00\x01\x02", "the bytes are not an image")
    )
    minimum, maximum = limits["min_pixels"], limits["max_pixels"]
    small_w = minimum["width"] - (0 if not minimum["inclusive"] else 1)
    if small_w >= 1:
        data = encode_image(base, small_w, max(small_w, minimum["height"] + 1), seed=2)
        found.append(case("bad_image", "image.min_pixels", data, f"the image is {small_w} px wide"))
    wide = max(maximum["width"], maximum["height"]) + (1 if maximum["inclusive"] else 0)
    tall = max(minimum["height"] + 1, 48)
    found.append(
        case(
            "bad_image",
            "image.max_pixels",
            encode_image(base, wide, tall, seed=3),
            f"the image is {wide} px wide",
        )
    )
    if limits["max_bytes"] <= 8 * 1024 * 1024:  # larger limits cost more memory than they teach
        data = pad_image(encode_image(base, 160, 160, seed=4), limits["max_bytes"] + 4096)
        found.append(case("bad_image", "image.max_bytes", data, f"the image is {len(data)} bytes"))
    return found


def _missing_source(operation: str, valid: Any, sources: list[str]) -> list[Invalid]:
    body = valid["body"]
    mutated = copy.deepcopy(valid)
    for field in sources:
        mutated["body"].pop(field, None)
    if len(sources) == 1:
        where = f"/body/{sources[0]}"
        expected = {("required", where)}
        rule = "required"
    else:
        where, rule = "/body", "anyOf"
        expected = {(rule, where)}
    if not any(field in body for field in sources):
        return []
    return [
        Invalid(
            mutated,
            "missing_image_source",
            rule,
            where,
            frozenset(expected),
            "no image source is sent",
        )
    ]


# --- responses ------------------------------------------------------------------------------


def _response_mutations(
    operation: str, valid: Any, request: Any, status: int | None, chooser: Chooser
) -> list[Invalid]:
    del status
    builder = {
        "facepp.thousandlandmark": _thousandlandmark,
        "facepp.detect": _detect,
        "ailab.face_key_points": _key_points,
        "ailab.face_analyzer_advanced": _advanced,
        "acedata.face_analyze": _acedata,
    }[operation]
    return builder(valid, request, chooser)


def _invariant(
    document: Any, rule: str, where: str, description: str, request: Any = None
) -> Invalid:
    return Invalid(
        document,
        "broken_invariant",
        rule,
        where,
        frozenset({(rule, where)}),
        description,
        request=request,
    )


def _thousandlandmark(valid: Any, request: Any, chooser: Chooser) -> list[Invalid]:
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
            _invariant(
                mutated,
                "landmark.groups_match_request",
                f"/face/landmark/{dropped}",
                f"asked-for group {dropped} is missing",
                request,
            )
        )
    return found


def _detect(valid: Any, request: Any, chooser: Chooser) -> list[Invalid]:
    del request, chooser
    found = []
    mutated = copy.deepcopy(valid)
    mutated["face_num"] = len(valid["faces"]) + 1
    found.append(
        _invariant(
            mutated, "face_num.matches_faces", "/face_num", "face_num is one more than the faces"
        )
    )
    if len(valid["faces"]) >= 2:
        mutated = copy.deepcopy(valid)
        mutated["faces"][1]["face_token"] = mutated["faces"][0]["face_token"]
        found.append(
            _invariant(
                mutated, "face_token.unique", "/faces/1/face_token", "two faces share a face_token"
            )
        )
    return found


def _key_points(valid: Any, request: Any, chooser: Chooser) -> list[Invalid]:
    from face_contracts._invariants.ailab import FACE_FIELDS, face_fields_asked, max_faces_asked

    del chooser
    found = []
    faces = valid["result"]["face_list"]
    mutated = copy.deepcopy(valid)
    mutated["result"]["face_num"] = len(faces) + 1 if len(faces) < 10 else len(faces) - 1
    found.append(
        _invariant(
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
            _invariant(
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
            _invariant(
                valid,
                "max_face_num.limits_face_list",
                "/result/face_list",
                "more faces than max_face_num",
                narrowed,
            )
        )
    return found


def _advanced(valid: Any, request: Any, chooser: Chooser) -> list[Invalid]:
    from face_contracts._invariants.ailab import PER_FACE

    del request
    data = valid["data"]
    found = []
    if data["face_count"] >= 1:
        name = chooser.choice(sorted(PER_FACE))
        mutated = copy.deepcopy(valid)
        mutated["data"][name].pop()
        found.append(
            _invariant(
                mutated, "face_count.matches_lists", f"/data/{name}", f"{name} is one value short"
            )
        )
        mutated = copy.deepcopy(valid)
        mutated["data"]["pose_list"][0] = 120.0
        found.append(
            _invariant(mutated, "pose_list.ranges", "/data/pose_list/0", "yaw is 120 degrees")
        )
        mutated = copy.deepcopy(valid)
        mutated["data"]["pupils"][2] = -1.0
        found.append(
            _invariant(mutated, "pupils.radius", "/data/pupils/2", "a pupil radius is negative")
        )
    return found


def _acedata(valid: Any, request: Any, chooser: Chooser) -> list[Invalid]:
    del chooser
    found = []
    asked = request["body"].get("face_model_version", "3.0")
    other = next(v for v in ("2.0", "3.0") if v != asked)
    mutated = copy.deepcopy(valid)
    mutated["face_model_version"] = other
    found.append(
        _invariant(
            mutated,
            "face_model_version.matches_request",
            "/face_model_version",
            f"{other} answers a request for {asked}",
            request,
        )
    )
    if len(valid["face_shape_set"]) >= 2:
        largest = copy.deepcopy(request)
        largest["body"]["mode"] = 1
        found.append(
            _invariant(
                valid,
                "face_shape_set.mode_largest",
                "/face_shape_set",
                "several faces answer mode 1",
                largest,
            )
        )
    return found


# --- errors ---------------------------------------------------------------------------------


def _status_mutations(
    operation: str, valid: Any, request: Any, status: int | None, chooser: Chooser
) -> list[Invalid]:
    del request, chooser
    if status is None:
        return []
    documented = {
        s
        for entry in contracts().mock_data[operation]["errors"]
        for s in entry.get("statuses", [entry["status"]])
    }
    wrong = next(s for s in (418, 451, 599, 507) if s not in documented)
    vendor = operation.split(".", 1)[0]
    if vendor == "facepp":
        where = "" if isinstance(valid, str) else "/error_message"
        expected = {("error.status", where)}
    elif vendor == "acedata":
        where = "/error/code"
        expected = {("error.status", where)}
    else:
        where = "/error_detail/code"
        expected = {("error.status", where), ("error_code.matches_http_status", "/error_code")}
    found = [
        Invalid(
            valid,
            "wrong_status",
            "error.status",
            where,
            frozenset(expected),
            f"the error comes with HTTP {wrong}",
            status=wrong,
        )
    ]
    if vendor == "ailab" and "status_code" in valid["error_detail"]:
        mutated = copy.deepcopy(valid)
        mutated["error_detail"]["status_code"] = 500 if valid["error_code"] != 500 else 502
        found.append(
            Invalid(
                mutated,
                "broken_invariant",
                "error_code.matches_status_code",
                "/error_detail/status_code",
                frozenset({("error_code.matches_status_code", "/error_detail/status_code")}),
                "status_code disagrees with error_code",
            )
        )
    return found
