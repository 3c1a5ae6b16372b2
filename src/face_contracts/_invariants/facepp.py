"""Face++ rules a schema cannot state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from face_contracts._invariants import invariant
from face_contracts.contracts import contracts

if TYPE_CHECKING:
    from collections.abc import Iterator

    from face_contracts._invariants import Context

__all__ = ["LANDMARK_GROUPS", "error_code", "groups_asked"]

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
    message: str = document["error_message"]
    return message.split(":", 1)[0]


@invariant("landmark.groups_match_request", ("facepp.thousandlandmark", "response"))
def groups_match_request(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """The groups returned are exactly the groups return_landmark asked for."""
    if context.request is None or not document["face"]:
        return
    asked = groups_asked(context.request["body"]["return_landmark"])
    returned = set(document["face"]["landmark"])
    for group in sorted(asked - returned):
        yield f"/face/landmark/{group}", f"group {group!r} was asked for by return_landmark but is missing"
    for group in sorted(returned - asked):
        yield f"/face/landmark/{group}", f"group {group!r} was returned but return_landmark did not ask for it"


@invariant("error.status", ("facepp.thousandlandmark", "error"), ("facepp.detect", "error"))
def status_matches_message(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """The HTTP status is the one documented for the error message."""
    if context.status is None:
        return
    code = error_code(document)
    statuses = {
        entry["status"]
        for entry in contracts().mock_data[context.operation.id]["errors"]
        if entry["code"] == code
    }
    if statuses and context.status not in statuses:
        where = "" if isinstance(document, str) else "/error_message"
        documented = " or ".join(str(s) for s in sorted(statuses))
        yield where, f"{code} is documented with HTTP {documented}, not {context.status}"
