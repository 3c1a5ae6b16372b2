"""The documented requests the live suite sends, and what the documentation says comes back.

Each :class:`Case` is data: an operation, the options sent, the picture (a file of
``fixtures/images/``), how it is sent, which credentials, and the expected outcome. Option
values come from the contract itself (the face_field items, landmark groups, attributes and
model versions in ``schemas/`` and ``mocks/``), so a contract change changes the suite.

Expected error codes are the catalogue codes (``mocks/<vendor>/<operation>.json``) that the
documentation gives for that mistake; ``inferred`` marks expectations the vendor does not
document (what a missing AILabTools key answers, what Ace Data answers for a picture
without a face): a different answer there is reported as a drift warning, not a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from face_contracts._invariants.ailab import FACE_FIELDS
from face_contracts._invariants.facepp import LANDMARK_GROUPS
from face_contracts.contracts import contracts

__all__ = ["CASES", "Case", "Expect", "cases", "face_count"]

Outcome = Literal["success", "error", "either"]
Source = Literal["file", "base64", "url", "token"]
Auth = Literal["valid", "wrong", "missing", "missing_secret"]

FACE = "astronaut.png"  # one face: NASA portrait of Eileen Collins (public domain)
GROUP = "group.jpg"  # three faces: the same portrait three times, in three sizes
NO_FACE = "uniform.png"  # one flat colour


@dataclass(frozen=True)
class Expect:
    """What the documentation says the answer is.

    ``outcome``: ``success`` (HTTP 200, a success body), ``error`` (an error envelope) or
    ``either``. ``codes``: the catalogue codes an error may carry (empty: any documented
    one). ``faces``: on success, the least and most faces (None: no upper bound).
    ``inferred``: the documentation is silent, this is an inference (misses are warnings).
    """

    outcome: Outcome
    codes: frozenset[str] = frozenset()
    faces: tuple[int, int | None] | None = None
    inferred: bool = False


@dataclass(frozen=True)
class Case:
    """One documented request and its expected answer.

    ``fields``: options, as form fields (AILabTools, Face++) or JSON members (Ace Data).
    ``image``: a picture of ``fixtures/images/`` (None: the request carries none).
    ``source``: how the picture travels: a multipart ``file``, a ``base64`` form field, an
    image ``url`` (the vendor downloads it), or a Face++ face_``token`` from a detect call
    on it. ``oversize``: the picture is padded one byte past the vendor's byte limit.
    ``mock_faces``: how many faces the local mock is told to see (the admin API), so a
    scene a real vendor reads from the photograph is the same on the mock. ``auth``: the
    credentials sent. ``calls``: HTTP calls the case makes (for the call budget).
    """

    operation: str
    name: str
    description: str
    expect: Expect
    fields: tuple[tuple[str, Any], ...] = ()
    image: str | None = FACE
    source: Source = "file"
    oversize: bool = False
    mock_faces: int | None = None
    auth: Auth = "valid"
    calls: int = 1

    @property
    def id(self) -> str:
        """``operation/name``: the test id and the report's name for the case."""
        return f"{self.operation}/{self.name}"

    @property
    def vendor(self) -> str:
        """``ailab``, ``acedata`` or ``facepp``."""
        return self.operation.split(".", 1)[0]


def _success(low: int = 1, high: int | None = 1, *, inferred: bool = False) -> Expect:
    return Expect("success", faces=(low, high), inferred=inferred)


def _error(*codes: str, inferred: bool = False) -> Expect:
    return Expect("error", frozenset(codes), inferred=inferred)


def _image_limits(operation: str) -> dict[str, Any]:
    limits: dict[str, Any] = contracts().mock_data[operation].get("image", {})
    return limits


def _below_minimum(operation: str, side: int) -> bool:
    """Whether a ``side`` x ``side`` picture is under the documented minimum."""
    minimum = _image_limits(operation).get("min_pixels")
    if not minimum:
        return False
    width, inclusive = int(minimum["width"]), bool(minimum.get("inclusive", True))
    return side < width if inclusive else side <= width


def _picture_cases(operation: str, codes: dict[str, Expect]) -> list[Case]:
    """The picture mistakes a client can make, for an operation that takes a file."""
    described = {
        "unsupported-format-gif": ("wrong-format.gif", False, "a GIF, which is not accepted"),
        "truncated-jpeg": ("truncated.jpg", False, "a JPEG cut short: the pixels do not decode"),
        "tiny-20x20": ("tiny.png", False, "20x20 pixels, under the documented minimum"),
        "huge-5000x5000": ("huge.png", False, "5000x5000 pixels, over the documented maximum"),
        "over-byte-limit": (FACE, True, "one byte over the documented byte limit"),
    }
    found = []
    for name, (image, oversize, text) in described.items():
        if name not in codes:
            continue
        found.append(
            Case(
                operation,
                name,
                f"the picture is {text}",
                codes[name],
                image=image,
                oversize=oversize,
            )
        )
    return found


def _auth_cases(operation: str, wrong: Expect, missing: Expect | None = None) -> list[Case]:
    """A credential that does not exist, none at all, and (Face++) a key without its secret."""
    found = [
        Case(operation, "wrong-credential", "credentials that do not exist", wrong, auth="wrong"),
        Case(
            operation,
            "missing-credential",
            "no credentials at all",
            missing or wrong,
            auth="missing",
        ),
    ]
    if operation.startswith("facepp."):
        found.append(
            Case(
                operation,
                "missing-api-secret",
                "api_key without api_secret",
                _error("MISSING_ARGUMENTS"),
                auth="missing_secret",
            )
        )
    return found


def _ailab_key_points() -> list[Case]:
    op = "ailab.face_key_points"
    bad_parameter = _error(
        "ERROR_PARAMETERS", "UNSUPPORTED_PARAMETER_VALUES", "ERROR_INVALID_PARAMETER"
    )
    found = [
        Case(op, "happy", "a portrait with the default options", _success()),
        *(
            Case(
                op, f"face-field-{item}", f"face_field={item}", _success(), (("face_field", item),)
            )
            for item in FACE_FIELDS
        ),
        Case(
            op,
            "face-field-all",
            "every face_field item at once",
            _success(),
            (("face_field", ",".join(FACE_FIELDS)),),
        ),
        Case(
            op,
            "several-faces-max-face-num-10",
            "three faces, max_face_num=10: every face, at most ten",
            _success(2, 10),
            (("max_face_num", "10"), ("face_field", "landmark4")),
            image=GROUP,
            mock_faces=3,
        ),
        Case(
            op,
            "several-faces-default-max",
            "three faces, max_face_num left at its default 1: only the largest",
            _success(1, 1),
            image=GROUP,
            mock_faces=3,
        ),
        Case(
            op,
            "no-face",
            "a picture without a face",
            _error("ERROR_NO_FACE_IN_FILE"),
            image=NO_FACE,
        ),
        *_auth_cases(
            op, _error("ERROR_APPLICATIONS_NOT_EXISTS", "ERROR_USER_NOT_EXISTS", inferred=True)
        ),
        Case(op, "missing-image", "no image part", _error("MISSING_PARAMETERS"), image=None),
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
    codes = {
        "unsupported-format-gif": _error("UNSUPPORTED_FILE_TYPES"),
        "truncated-jpeg": _error("FILE_DECODING_FAILURE"),
        "huge-5000x5000": _error("FILE_RESOLUTION_EXCEEDS_LIMITS", "ERROR_HIGH_RESOLUTION"),
        "over-byte-limit": _error("FILE_SIZE_EXCEEDS_LIMIT", "ERROR_REQUEST_BODY_TOO_LARGE"),
    }
    if _below_minimum(op, 20):
        codes["tiny-20x20"] = _error("ERROR_LOW_RESOLUTION")
    return found + _picture_cases(op, codes)


def _ailab_advanced() -> list[Case]:
    op = "ailab.face_analyzer_advanced"
    found = [
        Case(op, "happy", "a portrait", _success()),
        Case(
            op,
            "several-faces",
            "three faces: every one analysed",
            _success(2, None),
            image=GROUP,
            mock_faces=3,
        ),
        Case(
            op,
            "no-face",
            "a picture without a face: no face, or a no-face error",
            Expect(
                "either",
                frozenset(
                    {
                        "ERROR_NO_FACE_IN_FILE",
                        "ERROR_FACE_NOT_FOUND",
                        "ERROR_NO_RECOGNITION_TARGET_DETECTED",
                    }
                ),
                faces=(0, 0),
                inferred=True,
            ),
            image=NO_FACE,
        ),
        *_auth_cases(
            op, _error("ERROR_APPLICATIONS_NOT_EXISTS", "ERROR_USER_NOT_EXISTS", inferred=True)
        ),
        Case(op, "missing-image", "no image part", _error("MISSING_PARAMETERS"), image=None),
    ]
    codes = {
        "unsupported-format-gif": _error("UNSUPPORTED_FILE_TYPES"),
        "truncated-jpeg": _error("FILE_DECODING_FAILURE"),
        "huge-5000x5000": _error("FILE_RESOLUTION_EXCEEDS_LIMITS", "ERROR_HIGH_RESOLUTION"),
        "over-byte-limit": _error("FILE_SIZE_EXCEEDS_LIMIT", "ERROR_REQUEST_BODY_TOO_LARGE"),
    }
    if _below_minimum(op, 20):
        codes["tiny-20x20"] = _error("ERROR_LOW_RESOLUTION")
    return found + _picture_cases(op, codes)


def _acedata() -> list[Case]:
    op = "acedata.face_analyze"
    data = contracts().mock_data[op]
    bad_request = _error("bad_request")
    return [
        Case(op, "happy", "a portrait URL with the default options", _success(), source="url"),
        *(
            Case(
                op, f"mode-{mode}", f"mode={mode}", _success(), (("mode", int(mode)),), source="url"
            )
            for mode in data["modes"]
            if mode.isdigit()
        ),
        *(
            Case(
                op,
                f"face-model-version-{version}",
                f"face_model_version={version}",
                # Only the recommended version is documented by Ace Data itself (D-ACE-09).
                _success(inferred=version != data["face_model_versions"]["recommended"]),
                (("face_model_version", version),),
                source="url",
            )
            for version in data["face_model_versions"]["accepted"]
        ),
        *(
            Case(
                op,
                f"need-rotate-detection-{value}",
                f"need_rotate_detection={value}",
                _success(),
                (("need_rotate_detection", value),),
                source="url",
            )
            for value in (0, 1)
        ),
        Case(
            op,
            "several-faces-mode-0",
            "three faces, mode 0: every face",
            _success(2, None),
            (("mode", 0),),
            image=GROUP,
            source="url",
            mock_faces=3,
        ),
        Case(
            op,
            "several-faces-mode-1",
            "three faces, mode 1: only the largest",
            _success(1, 1),
            (("mode", 1),),
            image=GROUP,
            source="url",
            mock_faces=3,
        ),
        Case(
            op,
            "no-face",
            "a picture without a face",
            _error(data["no_face"]["code"], inferred=bool(data["no_face"].get("inferred"))),
            image=NO_FACE,
            source="url",
        ),
        Case(
            op,
            "wrong-credential",
            "a token that does not exist",
            _error("invalid_token", "token_mismatched"),
            source="url",
            auth="wrong",
        ),
        Case(
            op,
            "missing-credential",
            "no authorization header",
            _error("no_token"),
            source="url",
            auth="missing",
        ),
        Case(op, "missing-image", "no image_url", bad_request, image=None, source="url"),
        Case(op, "bad-mode", "mode=2, not 0 or 1", bad_request, (("mode", 2),), source="url"),
        Case(
            op,
            "bad-face-model-version",
            "face_model_version=9.0, not a documented version",
            bad_request,
            (("face_model_version", "9.0"),),
            source="url",
        ),
        Case(
            op,
            "unsupported-format-gif",
            "the URL serves a GIF",
            _error(data["image_url_target"]["failure"]["code"], inferred=True),
            image="wrong-format.gif",
            source="url",
        ),
    ]


def _facepp_common(op: str) -> list[Case]:
    base: tuple[tuple[str, Any], ...] = (
        (("return_landmark", "all"),) if op.endswith("thousandlandmark") else ()
    )
    bad_image = _error("IMAGE_ERROR_UNSUPPORTED_FORMAT")
    found = [
        *_auth_cases(op, _error("AUTHENTICATION_ERROR"), _error("MISSING_ARGUMENTS")),
        Case(
            op,
            "missing-image",
            "no image_file, image_base64 or image_url",
            _error("MISSING_ARGUMENTS"),
            base,
            image=None,
        ),
        Case(
            op,
            "image-base64",
            "the picture as image_base64 in a urlencoded form",
            _success(),
            base,
            source="base64",
        ),
        Case(op, "image-url", "the picture as an image_url", _success(), base, source="url"),
        Case(op, "no-face", "a picture without a face", _success(0, 0), base, image=NO_FACE),
    ]
    codes = {
        "unsupported-format-gif": bad_image,
        "truncated-jpeg": bad_image,
        "tiny-20x20": _error("INVALID_IMAGE_SIZE"),
        "huge-5000x5000": _error("INVALID_IMAGE_SIZE"),
        "over-byte-limit": _error("Request Entity Too Large"),
    }
    picture_cases = _picture_cases(op, codes)
    return found + [
        Case(c.operation, c.name, c.description, c.expect, base, c.image, oversize=c.oversize)
        for c in picture_cases
    ]


def _facepp_thousandlandmark() -> list[Case]:
    op = "facepp.thousandlandmark"
    found = [
        Case(op, "happy", "return_landmark=all", _success(), (("return_landmark", "all"),)),
        Case(
            op,
            "return-landmark-ALL",
            "return_landmark=ALL: any letter case",
            _success(),
            (("return_landmark", "ALL"),),
        ),
        *(
            Case(
                op,
                f"return-landmark-{group}",
                f"return_landmark={group}",
                _success(),
                (("return_landmark", group),),
            )
            for group in LANDMARK_GROUPS
        ),
        Case(
            op,
            "return-landmark-mouse",
            "return_landmark=mouse: the Chinese table's spelling of mouth (D-FPP-05)",
            _success(),
            (("return_landmark", "mouse"),),
        ),
        Case(
            op,
            "return-landmark-several-groups",
            "return_landmark=left_eye,nose,face",
            _success(),
            (("return_landmark", "left_eye,nose,face"),),
        ),
        Case(
            op,
            "face-token",
            "a face_token issued by detect for the portrait",
            _success(),
            (("return_landmark", "all"),),
            source="token",
            calls=2,
        ),
        Case(
            op,
            "several-faces",
            "three faces: only the largest is returned",
            _success(1, 1),
            (("return_landmark", "all"),),
            image=GROUP,
            mock_faces=3,
        ),
        Case(op, "missing-return-landmark", "no return_landmark", _error("MISSING_ARGUMENTS")),
        Case(
            op,
            "bad-return-landmark",
            "return_landmark=ears, not a group",
            _error("BAD_ARGUMENTS"),
            (("return_landmark", "ears"),),
        ),
        Case(
            op,
            "invalid-face-token",
            "a face_token the service never issued",
            _error("INVALID_FACE_TOKEN"),
            (("return_landmark", "all"), ("face_token", "0" * 32)),
            image=None,
        ),
    ]
    return found + _facepp_common(op)


def _facepp_detect() -> list[Case]:
    op = "facepp.detect"
    attributes = contracts().mock_data[op]["attributes"]["request_values"]
    permission = frozenset({"INSUFFICIENT_PERMISSION"})
    found = [
        Case(op, "happy", "a portrait with the default options", _success()),
        *(
            Case(
                op,
                f"return-landmark-{value}",
                f"return_landmark={value}",
                _success(),
                (("return_landmark", value),),
            )
            for value in ("0", "1", "2")
        ),
        *(
            Case(
                op,
                f"return-attributes-{name}",
                f"return_attributes={name}",
                _success(),
                (("return_attributes", name),),
            )
            for name in ("none", *attributes)
        ),
        Case(
            op,
            "return-attributes-all",
            "every attribute at once, with 106 landmarks",
            _success(),
            (("return_landmark", "2"), ("return_attributes", ",".join(attributes))),
        ),
        Case(
            op,
            "beauty-score-range",
            "beauty with beauty_score_min=10 and beauty_score_max=90",
            _success(),
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
            _success(2, None),
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
            _error("BAD_ARGUMENTS"),
            (("return_landmark", "3"),),
        ),
        Case(
            op,
            "bad-return-attributes",
            "return_attributes=nose, not an attribute",
            _error("BAD_ARGUMENTS"),
            (("return_attributes", "nose"),),
        ),
    ]
    return found + _facepp_common(op)


@cache
def cases() -> tuple[Case, ...]:
    """Every case, in the order of ``schemas/operations.json``."""
    built = {
        "ailab.face_key_points": _ailab_key_points,
        "ailab.face_analyzer_advanced": _ailab_advanced,
        "acedata.face_analyze": _acedata,
        "facepp.thousandlandmark": _facepp_thousandlandmark,
        "facepp.detect": _facepp_detect,
    }
    found: list[Case] = []
    for operation in contracts().operations:
        found.extend(built[operation]())
    ids = [case.id for case in found]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        msg = f"duplicate contract cases: {', '.join(duplicates)}"
        raise ValueError(msg)
    return tuple(found)


CASES = cases()


def face_count(operation: str, body: Any) -> int | None:
    """How many faces a success body reports (None when it cannot be read)."""
    try:
        if operation == "ailab.face_key_points":
            return len(body["result"]["face_list"])
        if operation == "ailab.face_analyzer_advanced":
            if "face_detail_infos" in body:  # the documented alternative shape (D-AIL-02)
                return len(body["face_detail_infos"])
            return int(body["data"]["face_count"])
        if operation == "acedata.face_analyze":
            return len(body["face_shape_set"])
        if operation == "facepp.thousandlandmark":
            return 1 if body["face"] else 0
        if operation == "facepp.detect":
            return len(body["faces"])
    except (KeyError, TypeError, ValueError):
        return None
    return None
