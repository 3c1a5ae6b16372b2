"""Ace Data Cloud documents: what Facial Feature Localization answers (the renderer), the
rules a schema cannot state (invariants), the special ways to break an answer, the
documented request options, how an answer is read for drawing, and the live suite's cases.

Names, counts and defaults come from ``schemas/acedata/`` and ``mocks/acedata/``; sources
of the rules are in docs/invariants.md. :class:`AceDataCloudDocuments` is the documents
half of the vendor; :mod:`.acedata` adds how the service handles a call.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, ClassVar

from face_contracts._invariants._registry import at, invariant
from face_contracts.contract_suite._case import (
    GROUP,
    NO_FACE,
    Case,
    expect_error,
    expect_success,
)
from face_contracts.contracts import contracts
from face_contracts.generation._fit import placement
from face_contracts.generation._mutations import Invalid, broken_invariant
from face_contracts.generation._render import flat_at, jitter, place, template, uuid
from face_contracts.vendors._base import (
    FaceMarks,
    Group,
    Reader,
    Renderer,
    Vendor,
    documented_status,
    xy,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from face_contracts._invariants._registry import Context
    from face_contracts.generation._scene import Chooser, Scene

__all__ = ["ANALYZE", "AceDataCloudDocuments", "requested"]

ANALYZE = "acedata.face_analyze"
ERROR_CODE_AT = "/error/code"
OPTIONS = ("mode", "face_model_version", "need_rotate_detection")
_LARGEST_FACE_MODE = 1


def error_code(document: Any) -> str | None:
    """The catalogue code of an error answer: ``error.code``."""
    code = at(document, "error", "code")
    return code if isinstance(code, str) and code else None


def requested(context: Context, field: str) -> Any:
    """The value of a request body field, or its documented default when it is absent.

    Defaults come from mocks/acedata/face_analyze.json ([acedata-face-analyze] §Basic
    Usage). Returns None when no request was given.
    """
    if context.request is None:
        return None
    body = context.request_body
    if field in body:
        return body[field]
    return contracts().mock_data[context.operation.id]["defaults"].get(field)


# --- the answer ------------------------------------------------------------------------------


def render_face_analyze(
    scene: Scene, request: Mapping[str, Any] | None, chooser: Chooser
) -> dict[str, Any]:
    """Facial Feature Localization's answer: the 90 points of every face (mode 1: the
    largest only), with the model version asked."""
    face_schema = flat_at(ANALYZE, "response", ("face_shape_set", "[]"))
    most = flat_at(ANALYZE, "response", ("face_shape_set",)).get("maxItems", len(scene.faces))
    body = request["body"] if request is not None else {}
    version = body.get("face_model_version", "3.0")
    faces = scene.faces[: 1 if body.get("mode") == 1 else most]
    noise = jitter(chooser)
    points = template(ANALYZE)
    shapes = []
    for face in faces:
        shape: dict[str, Any] = {}
        for group in face_schema["properties"]:
            count = flat_at(ANALYZE, "response", ("face_shape_set", "[]", group))["minItems"]
            layout = points[group]
            where = placement(face, ANALYZE, group)
            shape[group] = []
            for index in range(count):
                x, y = place(face, layout[index], noise, where)
                shape[group].append({"x": int(x), "y": int(y)})
        shapes.append(shape)
    return {
        "image_width": scene.width,
        "image_height": scene.height,
        "face_model_version": version,
        "face_shape_set": shapes,
    }


# --- invariants ------------------------------------------------------------------------------

invariant("error.status", (ANALYZE, "error"), needs=("status",))(
    documented_status(error_code, ERROR_CODE_AT)
)


@invariant("face_shape_set.mode_largest", (ANALYZE, "response"), needs=("request",))
def largest_face_only(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """With mode 1 only the face with the largest area is returned: one face at most.

    [acedata-face-analyze] §Basic Usage: 'mode: 0 is to detect all faces present, 1 is to detect the
    largest face area'.
    """
    mode = requested(context, "mode")
    if isinstance(mode, bool) or mode != _LARGEST_FACE_MODE:
        return
    faces = at(document, "face_shape_set")
    if isinstance(faces, list) and len(faces) > 1:
        yield (
            "/face_shape_set",
            f"mode 1 asks for the largest face only, but {len(faces)} faces were returned",
        )


@invariant("face_model_version.matches_request", (ANALYZE, "response"), needs=("request",))
def model_version_matches_request(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """The model version reported is the one requested, "3.0" when the request names none.

    [acedata-face-analyze] §Basic Usage: the request's face_model_version is 'the algorithm
    model version used for facial recognition service, the default is 3.0'; the response's
    is 'the algorithm model version used for face recognition'.
    """
    if context.request is None:
        return
    explicit = "face_model_version" in context.request_body
    asked = requested(context, "face_model_version")
    used = at(document, "face_model_version")
    if isinstance(asked, str) and isinstance(used, str) and used != asked:
        how = "requested" if explicit else "the default"
        yield "/face_model_version", f"model version {used!r} was used, but {asked!r} is {how}"


# --- special invalid answers -------------------------------------------------------------------


def _breaks(valid: Any, request: Any) -> list[Invalid]:
    found = []
    asked = request["body"].get("face_model_version", "3.0")
    other = next(v for v in ("2.0", "3.0") if v != asked)
    mutated = copy.deepcopy(valid)
    mutated["face_model_version"] = other
    found.append(
        broken_invariant(
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
            broken_invariant(
                valid,
                "face_shape_set.mode_largest",
                "/face_shape_set",
                "several faces answer mode 1",
                largest,
            )
        )
    return found


# --- reading an answer for drawing --------------------------------------------------------------


def _read_face_analyze(document: Mapping[str, Any]) -> tuple[str, list[FaceMarks]]:
    # Ace Data gives no face box: only the nine groups of each face.
    faces = [
        FaceMarks(
            None, tuple(Group(name, tuple(map(xy, points))) for name, points in shape.items())
        )
        for shape in document["face_shape_set"]
    ]
    return "90 points", faces


# --- the live suite's cases ---------------------------------------------------------------------


def _cases() -> list[Case]:
    op = ANALYZE
    data = contracts().mock_data[op]
    bad_request = expect_error("bad_request")
    return [
        Case(
            op, "happy", "a portrait URL with the default options", expect_success(), source="url"
        ),
        *(
            Case(
                op,
                f"mode-{mode}",
                f"mode={mode}",
                expect_success(),
                (("mode", int(mode)),),
                source="url",
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
                expect_success(inferred=version != data["face_model_versions"]["recommended"]),
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
                expect_success(),
                (("need_rotate_detection", value),),
                source="url",
            )
            for value in (0, 1)
        ),
        Case(
            op,
            "several-faces-mode-0",
            "three faces, mode 0: every face",
            expect_success(2, None),
            (("mode", 0),),
            image=GROUP,
            source="url",
            mock_faces=3,
        ),
        Case(
            op,
            "several-faces-mode-1",
            "three faces, mode 1: only the largest",
            expect_success(1, 1),
            (("mode", 1),),
            image=GROUP,
            source="url",
            mock_faces=3,
        ),
        Case(
            op,
            "no-face",
            "a picture without a face",
            expect_error(data["no_face"]["code"], inferred=bool(data["no_face"].get("inferred"))),
            image=NO_FACE,
            source="url",
        ),
        Case(
            op,
            "wrong-credential",
            "a token that does not exist",
            expect_error("invalid_token", "token_mismatched"),
            source="url",
            auth="wrong",
        ),
        Case(
            op,
            "missing-credential",
            "no authorization header",
            expect_error("no_token"),
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
            expect_error(data["image_url_target"]["failure"]["code"], inferred=True),
            image="wrong-format.gif",
            source="url",
        ),
    ]


# --- the vendor's documents --------------------------------------------------------------------


class AceDataCloudDocuments(Vendor):
    """Ace Data Cloud's documents; :class:`~face_contracts.vendors.acedata.AceDataCloud`
    adds the service's handling of a call."""

    error_code_at = ERROR_CODE_AT
    renderers: ClassVar[Mapping[str, Renderer]] = {ANALYZE: render_face_analyze}
    readers: ClassVar[Mapping[str, Reader]] = {ANALYZE: _read_face_analyze}

    def error_code(self, operation: str, document: Any) -> str | None:
        return error_code(document)

    def fresh_value(self, name: str, chooser: Chooser, index: int) -> Any:
        if name == "trace_id":
            return uuid(chooser)
        msg = f"Ace Data Cloud issues no per-call value {name!r}"
        raise KeyError(msg)

    def picture_field(self, operation: str, source: str) -> str | None:
        # The picture travels by URL only: the service downloads it.
        return "image_url" if source == "url" else None

    def richest_request(
        self, operation: str, picture: Mapping[str, str], image_url: str
    ) -> dict[str, Any]:
        return {"image_url": image_url}  # mode 0 (the default): every face

    def request_options(self, operation: str, chooser: Chooser) -> dict[str, Any]:
        options: dict[str, Any] = {}
        for name in OPTIONS:
            if chooser.choice((True, False)):
                options[name] = chooser.choice(
                    flat_at(operation, "request", ("body", name))["enum"]
                )
        return options

    def min_faces(self, operation: str) -> int:
        return int(flat_at(operation, "response", ("face_shape_set",)).get("minItems", 0))

    def face_count(self, operation: str, document: Any) -> int | None:
        try:
            return len(document["face_shape_set"])
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
        return _breaks(valid, request) if kind == "response" else []

    def contract_cases(self, operation: str) -> list[Case]:
        return _cases()
