"""Ace Data Cloud rules a schema cannot state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from face_contracts._invariants._registry import at, invariant
from face_contracts.contracts import contracts

if TYPE_CHECKING:
    from collections.abc import Iterator

    from face_contracts._invariants._registry import Context

__all__ = ["requested"]

_OPERATION = "acedata.face_analyze"
_LARGEST_FACE_MODE = 1


def requested(context: Context, field: str) -> Any:
    """The value of a request body field, or its documented default when it is absent.

    Defaults come from mocks/acedata/face_analyze.json (seed 003 §Basic Usage). Returns None
    when no request was given.
    """
    if context.request is None:
        return None
    body = context.request_body
    if field in body:
        return body[field]
    return contracts().mock_data[context.operation.id]["defaults"].get(field)


@invariant("error.status", (_OPERATION, "error"), needs=("status",))
def status_matches_code(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """The HTTP status is one documented for error.code."""
    if context.status is None:
        return
    code = at(document, "error", "code")
    statuses = {
        status
        for entry in contracts().mock_data[context.operation.id]["errors"]
        if entry["code"] == code
        for status in entry["statuses"]
    }
    if statuses and context.status not in statuses:
        documented = " or ".join(str(s) for s in sorted(statuses))
        yield "/error/code", f"{code} is documented with HTTP {documented}, not {context.status}"


@invariant("face_shape_set.mode_largest", (_OPERATION, "response"), needs=("request",))
def largest_face_only(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """With mode 1 only the face with the largest area is returned: one face at most.

    Seed 003 §Basic Usage: 'mode: 0 is to detect all faces present, 1 is to detect the
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


@invariant("face_model_version.matches_request", (_OPERATION, "response"), needs=("request",))
def model_version_matches_request(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """The model version reported is the one requested, "3.0" when the request names none.

    Seed 003 §Basic Usage: the request's face_model_version is 'the algorithm model version
    used for facial recognition service, the default is 3.0'; the response's is 'the
    algorithm model version used for face recognition'.
    """
    if context.request is None:
        return
    explicit = "face_model_version" in context.request_body
    asked = requested(context, "face_model_version")
    used = at(document, "face_model_version")
    if isinstance(asked, str) and isinstance(used, str) and used != asked:
        how = "requested" if explicit else "the default"
        yield "/face_model_version", f"model version {used!r} was used, but {asked!r} is {how}"
