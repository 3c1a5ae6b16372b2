"""Invariants: the documented rules JSON Schema cannot express.

Each rule is a small function registered for an (operation, kind) with a dotted name; it
yields ``(pointer, message)`` for every violation, or ``(pointer, message, name)`` where one
function checks several named rules. Rules read documents defensively: a
document that is structurally wrong is the schema's to report, so a rule skips what it
cannot read instead of failing twice. The catalogue of rules, with their sources, is
docs/invariants.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from face_contracts.contracts import Operation
    from face_contracts.validation import Failure

__all__ = ["Context", "invariant", "registered", "run_invariants"]


@dataclass(frozen=True, slots=True)
class Context:
    """What a rule may look at besides the document."""

    operation: Operation
    request: Mapping[str, Any] | None
    status: int | None
    base_dir: Path | None


Violation = tuple[str, str] | tuple[str, str, str]
Rule = Callable[[Any, "Context"], Iterable[Violation]]
_RULES: dict[tuple[str, str], list[tuple[str, Rule]]] = {}


def invariant(name: str, *targets: tuple[str, str]) -> Callable[[Rule], Rule]:
    """Register a rule called ``name`` for each ``(operation, kind)`` in ``targets``."""

    def register(rule: Rule) -> Rule:
        for target in targets:
            _RULES.setdefault(target, []).append((name, rule))
        return rule

    return register


def registered(operation: str, kind: str) -> tuple[str, ...]:
    """Names of the rules that apply to one operation and kind."""
    _load_rules()
    return tuple(name for name, _ in _RULES.get((operation, kind), ()))


def run_invariants(
    operation: Operation,
    kind: str,
    document: Any,
    *,
    request: Mapping[str, Any] | None,
    status: int | None,
    base_dir: Path | None,
) -> list[Failure]:
    """Every violation of every rule registered for this operation and kind."""
    from face_contracts.validation import Failure

    _load_rules()
    context = Context(operation, request, status, base_dir)
    failures: list[Failure] = []
    for name, rule in _RULES.get((operation.id, kind), ()):
        for violation in _guarded(rule, document, context):
            rule_name = violation[2] if len(violation) == 3 else name  # noqa: PLR2004 - (pointer, message, name)
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
    global _loaded  # noqa: PLW0603 - the rule modules register themselves once, on first use
    if not _loaded:
        from face_contracts._invariants import acedata, ailab, facepp, requests  # noqa: F401

        _loaded = True
