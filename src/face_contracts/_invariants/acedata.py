"""Ace Data Cloud rules a schema cannot state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from face_contracts._invariants import invariant
from face_contracts.contracts import contracts

if TYPE_CHECKING:
    from collections.abc import Iterator

    from face_contracts._invariants import Context

__all__: list[str] = []


@invariant("error.status", ("acedata.face_analyze", "error"))
def status_matches_code(document: Any, context: Context) -> Iterator[tuple[str, str]]:
    """The HTTP status is one documented for error.code."""
    if context.status is None:
        return
    code = document["error"]["code"]
    statuses = {
        status
        for entry in contracts().mock_data[context.operation.id]["errors"]
        if entry["code"] == code
        for status in entry["statuses"]
    }
    if statuses and context.status not in statuses:
        documented = " or ".join(str(s) for s in sorted(statuses))
        yield "/error/code", f"{code} is documented with HTTP {documented}, not {context.status}"
