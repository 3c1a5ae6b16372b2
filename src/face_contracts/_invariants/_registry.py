"""The registry of invariants and what a rule may look at: :class:`Context` and :func:`at`.

A leaf of the invariants package: the rule modules import it, and the package imports them,
so no module imports one that imports it back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from face_contracts.errors import NotARequestDocumentError

if TYPE_CHECKING:
    from pathlib import Path

    from face_contracts.contracts import Operation

__all__ = ["RULES", "Context", "Rule", "Violation", "at", "invariant"]

_REQUEST_KEYS = frozenset({"headers", "body"})
_EXPECTED = "a request document {'headers': {...}, 'body': {...}}, as validate() reads requests"


@dataclass(frozen=True, slots=True)
class Context:
    """What a rule may look at besides the document.

    ``request`` is checked here, once: a value that is not a request document would
    otherwise turn every rule that reads it off without a word.
    """

    operation: Operation
    request: Mapping[str, Any] | None
    status: int | None
    base_dir: Path | None

    def __post_init__(self) -> None:
        request: object = self.request
        if request is None:
            return
        if not isinstance(request, Mapping):
            msg = f"request= must be {_EXPECTED}; got {type(request).__name__}"
            raise NotARequestDocumentError(msg)
        unknown = sorted(str(key) for key in request if key not in _REQUEST_KEYS)
        if unknown or "body" not in request:
            keys = ", ".join(repr(str(key)) for key in request) or "none"
            hint = " (a bare body? pass request={'body': body})" if unknown else ""
            msg = f"request= must be {_EXPECTED}; got a mapping with keys {keys}{hint}"
            raise NotARequestDocumentError(msg)
        for part in ("headers", "body"):
            if part in request and not isinstance(request[part], Mapping):
                kind = type(request[part]).__name__
                msg = f"request= must be {_EXPECTED}; its {part!r} is a {kind}, not a mapping"
                raise NotARequestDocumentError(msg)

    @property
    def request_body(self) -> Mapping[str, Any]:
        """The body of the request document (empty without a request)."""
        if self.request is None:
            return {}
        body: Mapping[str, Any] = self.request["body"]
        return body


Violation = tuple[str, str] | tuple[str, str, str]
Rule = Callable[[Any, "Context"], Iterable[Violation]]
RULES: dict[tuple[str, str], list[tuple[str, Rule, frozenset[str]]]] = {}


def invariant(
    name: str, *targets: tuple[str, str], needs: tuple[str, ...] = ()
) -> Callable[[Rule], Rule]:
    """Register a rule called ``name`` for each ``(operation, kind)`` in ``targets``
    (``("*", kind)``: for every operation's documents of that kind).

    ``needs`` names the context the rule cannot work without (``request``, ``status``):
    without it the rule is not run at all, and the document need not even be parsed.
    """

    def register(rule: Rule) -> Rule:
        for target in targets:
            RULES.setdefault(target, []).append((name, rule, frozenset(needs)))
        return rule

    return register


def at(document: Any, *path: str | int) -> Any:
    """The value at ``path`` (object keys and array indexes), or None where the document
    has no such value or a value of another type on the way.

    Rules meet documents the schema rejects; a part they cannot read is the schema's to
    report, so they read through this and skip what is not there.
    """
    value = document
    for part in path:
        if isinstance(part, str):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        else:
            if not isinstance(value, list) or not -len(value) <= part < len(value):
                return None
            value = value[part]
    return value
