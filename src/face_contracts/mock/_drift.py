"""Drifted answers: the vendor's real success answer to a call, broken in one named way.

The same mutations that make the labelled invalid documents of
:func:`face_contracts.strategies.invalid_documents` (a renamed key, a missing one, a value
of the wrong type, a broken invariant...) are applied to the answer the mock would give,
with the stub's seed choosing among the candidates: the same seed, the same drift.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from face_contracts.generation._invalid import mutations_of
from face_contracts.generation._mutations import Invalid, mutations_at, sites
from face_contracts.generation._scene import RandomChooser
from face_contracts.generation._schema import schema_of
from face_contracts.settings import DRIFT_LABELS
from face_contracts.vendors import Answer, Refusal

if TYPE_CHECKING:
    from face_contracts.mock._engine import Call
    from face_contracts.settings import StubbedResponse

__all__ = ["drift_candidates", "drifted_answer"]

_CHOICES = 3  # replacement variants tried per value (see mutations_at)


def drift_candidates(operation: str, document: Any, request: Any, seed: int) -> list[Invalid]:
    """Every one-rule break of a success answer: the operation's special ones (broken
    invariants, keys moved between groups) and the schema-level ones at every value."""
    found = mutations_of(operation, "response", document, request, None, RandomChooser(seed))
    schema, base = schema_of(operation, "response")
    for site in sites(document, schema, base):
        for choice in range(_CHOICES):
            found.extend(mutations_at(document, site, choice))
    return found


def drifted_answer(call: Call, stub: StubbedResponse) -> tuple[Answer, str]:
    """The answer for a drift stub and the journal's note on what was broken."""
    assert call.vendor is not None
    label = stub.invalid or ""
    try:
        real = call.vendor.handle(call)
    except Refusal as refusal:
        return refusal.answer, f"drift {label} not applied: the vendor refuses this request"
    document = orjson.loads(real.body if isinstance(real.body, bytes) else orjson.dumps(real.body))
    request = {"headers": dict(call.request.headers), "body": call.fields}
    # A case that breaks a rule by changing the request (max_face_num, mode) leaves the
    # answer as it is: not a drift of the answer.
    candidates = [
        case
        for case in drift_candidates(call.op, document, request, stub.seed)
        if case.label == label and case.document != document
    ]
    if not candidates:
        possible = sorted(
            {case.label for case in drift_candidates(call.op, document, request, stub.seed)}
            & set(DRIFT_LABELS)
        )
        message = (
            f"face-contracts: no {label!r} drift exists for this answer of {call.op}; "
            f"labels that do: {', '.join(possible)}\n"
        )
        return Answer(500, "text/plain", message), f"drift {label} impossible for this answer"
    chosen = candidates[stub.seed % len(candidates)]
    note = f"drift {label}: {chosen.rule} at {chosen.pointer or '/'} ({chosen.description})"
    return Answer(real.status, real.content_type, chosen.document, dict(real.headers)), note
