"""Invariants: the documented rules JSON Schema cannot express.

Each rule is a small function registered for an (operation, kind) with a dotted name; it
yields ``(pointer, message)`` for every violation, or ``(pointer, message, name)`` where one
function checks several named rules. Rules read documents defensively (through
:func:`~face_contracts._invariants._registry.at`): a document that is structurally wrong is
the schema's to report, so a rule skips what it cannot read instead of failing twice. A rule
that raises anyway is a bug, and the error surfaces with the rule's name. The catalogue of
rules, with their sources, is docs/invariants.md.

The picture rules of requests are here (:mod:`.requests`); each vendor's own rules live in
its documents module (``vendors/<vendor>_documents.py``) and are registered when
:mod:`face_contracts.vendors` is imported, as :mod:`face_contracts.validation` does.
"""

from __future__ import annotations

from typing import Any

# The picture rules register on import.
from face_contracts._invariants import requests  # noqa: F401
from face_contracts._invariants._registry import RULES, Context, Rule, invariant
from face_contracts._report import Failure

__all__ = ["RULES", "Context", "applicable_rules", "invariant", "run_invariants"]


def applicable_rules(operation: str, kind: str, context: Context) -> list[tuple[str, Rule]]:
    """The rules for this operation and kind, then those for every operation's documents
    of the kind (registered for ``("*", kind)``), whose needed context is present."""
    present = {name for name in ("request", "status") if getattr(context, name) is not None}
    registered = [*RULES.get((operation, kind), ()), *RULES.get(("*", kind), ())]
    return [(name, rule) for name, rule, needs in registered if needs <= present]


def run_invariants(rules: list[tuple[str, Rule]], document: Any, context: Context) -> list[Failure]:
    """Every violation of the given rules."""
    failures: list[Failure] = []
    for name, rule in rules:
        try:
            violations = list(rule(document, context))
        except Exception as error:
            error.add_note(f"face-contracts: raised by the invariant {name!r} of {rule.__module__}")
            raise
        for violation in violations:
            rule_name = violation[2] if len(violation) == 3 else name
            failures.append(Failure(violation[0], rule_name, violation[1]))
    return failures
