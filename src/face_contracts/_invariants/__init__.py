"""Invariants: the documented rules JSON Schema cannot express.

Each rule is a small function registered for an (operation, kind) with a dotted name; it
yields ``(pointer, message)`` for every violation, or ``(pointer, message, name)`` where one
function checks several named rules. Rules read documents defensively: a
document that is structurally wrong is the schema's to report, so a rule skips what it
cannot read instead of failing twice. The catalogue of rules, with their sources, is
docs/invariants.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from face_contracts.contracts import Operation
    from face_contracts.validation import Failure

__all__ = ["Context", "applicable_rules", "invariant", "run_invariants"]


@dataclass(frozen=True, slots=True)
class Context:
    """What a rule may look at besides the document."""

    operation: Operation
    request: Mapping[str, Any] | None
    status: int | None
    base_dir: Path | None


Violation = tuple[str, str] | tuple[str, str, str]
Rule = Callable[[Any, "Context"], Iterable[Violation]]
_Registered = tuple[str, Rule, frozenset[str]]
_RULES: dict[tuple[str, str], list[_Registered]] = {}


def invariant(
    name: str, *targets: tuple[str, str], needs: tuple[str, ...] = ()
) -> Callable[[Rule], Rule]:
    """Register a rule called ``name`` for each ``(operation, kind)`` in ``targets``.

    ``needs`` names the context the rule cannot work without (``request``, ``status``):
    without it the rule is not run at all, and the document need not even be parsed.
    """

    def register(rule: Rule) -> Rule:
        for target in targets:
            _RULES.setdefault(target, []).append((name, rule, frozenset(needs)))
        return rule

    return register


def applicable_rules(operation: str, kind: str, context: Context) -> list[tuple[str, Rule]]:
    """The rules for this operation and kind whose needed context is present."""
    _load_rules()
    present = {name for name in ("request", "status") if getattr(context, name) is not None}
    return [
        (name, rule) for name, rule, needs in _RULES.get((operation, kind), ()) if needs <= present
    ]


def run_invariants(rules: list[tuple[str, Rule]], document: Any, context: Context) -> list[Failure]:
    """Every violation of the given rules."""
    from face_contracts.validation import Failure

    failures: list[Failure] = []
    for name, rule in rules:
        for violation in _guarded(rule, document, context):
            rule_name = violation[2] if len(violation) == 3 else name
            failures.append(Failure(violation[0], rule_name, violation[1]))
    return failures


def _guarded(rule: Rule, document: Any, context: Context) -> Iterator[Violation]:
    # A rule meets documents the schema already rejected; what it cannot read there is
    # the schema's failure to report, not a second one.
    try:
        yield from list(rule(document, context))
    except (KeyError, TypeError, AttributeError, IndexError, ValueError):
        return


_loaded = False


def _load_rules() -> None:
    global _loaded
    if not _loaded:
        from face_contracts._invariants import acedata, ailab, facepp, requests  # noqa: F401

        _loaded = True
