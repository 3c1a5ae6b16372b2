"""Drifted answers: the vendor's real success answer to a call, broken in one named way.

The same mutations that make the labelled invalid documents of
:func:`face_contracts.strategies.invalid_documents` (a renamed key, a missing one, a value
of the wrong type, a broken invariant...) are applied to the answer the mock would give,
with the stub's seed choosing among the candidates: the same seed, the same drift. A stub's
``at`` (a JSON pointer) keeps the candidates that touch that place or a place below it,
the place itself first.

Each schema-level mutation is tried on a skeleton of the answer (the path to its site and
the value there, its children opaque to copying), not on a copy of the whole answer: a
dense Face++ answer has about 3,000 sites and 30,000 candidates, and copying 35 KB for each
would take minutes.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from face_contracts._invariants import Context, applicable_rules, run_invariants
from face_contracts.contracts import contracts
from face_contracts.generation._invalid import mutations_of
from face_contracts.generation._mutations import Invalid, Site, mutations_at, sites
from face_contracts.generation._scene import RandomChooser
from face_contracts.generation._schema import schema_of
from face_contracts.vendors import Answer, Refusal

if TYPE_CHECKING:
    from collections.abc import Iterable

    from face_contracts.mock._engine import Call
    from face_contracts.settings import StubbedResponse

__all__ = ["Drift", "drift_candidates", "drifted_answer", "drifted_document"]

_CHOICES = 3  # replacement variants tried per value (see mutations_at)
_SPECIAL_SEEDS = 8  # choosers tried for the operation's own breaks when `at` narrows them
_NAMED = 12  # pointers a refusal names, nearest first


@dataclass(frozen=True, slots=True)
class Drift:
    """One way to break an answer: the mutation's label, rule, pointer, description and the
    failures validate reports (``case``), and how to apply it: the value to put at ``path``
    of the answer."""

    case: Invalid
    path: tuple[str | int, ...]
    value: Any

    def apply(self, document: Any) -> Any:
        """The answer with this drift applied (a copy)."""
        if not self.path:
            return _opened(self.value)
        mutated = copy.deepcopy(document)
        target = mutated
        for part in self.path[:-1]:
            target = target[part]
        target[self.path[-1]] = _opened(self.value)
        return mutated


class _Opaque:
    """A value the mutations move around but never look into: copied as itself."""

    __slots__ = ("inner",)

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __deepcopy__(self, memo: dict[int, Any]) -> _Opaque:
        return self


class _Level(dict[Any, Any]):
    """An object whose children are opaque: copied one level deep, at C speed."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _Level:
        return _Level(self)


class _Items(list[Any]):
    """An array whose items are opaque: copied one level deep, at C speed."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _Items:
        return _Items(self)


def _closed(value: Any) -> Any:
    """``value`` with its children opaque (mutations at a site read only its own level)."""
    if isinstance(value, dict):
        return _Level((key, _Opaque(child)) for key, child in value.items())
    if isinstance(value, list):
        return _Items(_Opaque(child) for child in value)
    return value


def _opened(value: Any) -> Any:
    """A plain copy of a mutated value, its opaque children put back."""
    if isinstance(value, _Opaque):
        return copy.deepcopy(value.inner)
    if isinstance(value, dict):
        return {key: _opened(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_opened(child) for child in value]
    return value


def _within(where: str, at: str | None) -> bool:
    return at is None or at in ("", "/") or where == at or where.startswith(at + "/")


def _related(site: Site, at: str | None) -> bool:
    """Whether mutations at ``site`` can touch ``at`` or below: the site is ``at``, one of
    its ancestors (a key of it renamed or removed) or below it."""
    if at is None or at in ("", "/"):
        return True
    where = site.pointer
    return _within(where, at) or where == "" or at.startswith(where + "/")


def _skeleton(path: tuple[str | int, ...], value: Any) -> Any:
    """A minimal document holding ``value`` at ``path`` (dicts keyed by the path's parts,
    list indices included: mutations only read and write along the path)."""
    document: Any = value
    for part in reversed(path):
        document = {part: document}
    return document


def _at(document: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


_SPECIAL_LABELS = frozenset({"misplaced_key", "broken_invariant"})
"""Labels only the operation's own breaks make (the schema-level mutations never do)."""


class _Finder:
    """The drifts of one answer, found site by site: a site's candidates are computed only
    when asked for, so that choosing one drift costs a few sites, not the whole answer."""

    def __init__(
        self, operation: str, document: Any, request: Any, seed: int, at: str | None
    ) -> None:
        self.operation = operation
        self.document = document
        self.request = request
        self.seed = seed
        self.at = None if at in ("", "/") else at
        schema, base = schema_of(operation, "response")
        self.sites = [site for site in sites(document, schema, base) if _related(site, self.at)]

    def special(self, label: str | None = None) -> list[Drift]:
        """The operation's own breaks (several choosers when ``at`` narrows them)."""
        found: dict[tuple[str, str, str], Drift] = {}
        for number in range(_SPECIAL_SEEDS if self.at is not None else 1):
            chooser = RandomChooser(f"{self.seed}:{number}" if number else self.seed)
            cases = mutations_of(
                self.operation, "response", self.document, self.request, None, chooser
            )
            for case in cases:
                if self._kept(case, label) and case.document != self.document:
                    found.setdefault(_key(case), Drift(case, (), case.document))
        return list(found.values())

    def at_site(self, site: Site, label: str | None = None) -> list[Drift]:
        """The schema-level breaks at one site."""
        value = _closed(_at(self.document, site.path))
        skeleton = _skeleton(site.path, value)
        found: dict[tuple[str, str, str], Drift] = {}
        for choice in range(_CHOICES):
            for case in mutations_at(skeleton, site, choice):
                mutated = _at(case.document, site.path)
                if self._kept(case, label) and mutated != value:
                    found.setdefault(_key(case), Drift(case, site.path, mutated))
        return list(found.values())

    def everything(self, label: str | None = None) -> list[Drift]:
        found = self.special(label) if label is None or label in _SPECIAL_LABELS else []
        if label is None or label not in _SPECIAL_LABELS:
            for site in self.sites:
                found.extend(self.at_site(site, label))
        return found

    def _kept(self, case: Invalid, label: str | None) -> bool:
        return (label is None or case.label == label) and _within(case.pointer, self.at)


def _key(case: Invalid) -> tuple[str, str, str]:
    return case.label, case.pointer, case.description


def drift_candidates(
    operation: str,
    document: Any,
    request: Any,
    seed: int,
    *,
    label: str | None = None,
    at: str | None = None,
) -> list[Drift]:
    """Every one-rule break of a success answer (of ``label``, touching ``at`` or below, if
    given): the operation's special ones (broken invariants, keys moved between groups) and
    the schema-level ones at every value. Drifts that leave the answer unchanged are left
    out (a case that breaks a rule by changing the request is not a drift of the answer)."""
    return _Finder(operation, document, request, seed, at).everything(label)


def _exact(operation: str, drift: Drift, document: Any, request: Any) -> bool:
    """A mutation must not also trip an invariant it does not name (removing a face, say,
    also breaks a face count): such a drift would break two rules, not one."""
    context = Context(contracts().operation(operation), drift.case.request or request, None, None)
    failures = run_invariants(applicable_rules(operation, "response", context), document, context)
    return {(failure.rule, failure.pointer) for failure in failures} <= drift.case.expected


def drifted_document(
    operation: str, document: Any, request: Any, label: str, seed: int, at: str | None = None
) -> tuple[Any, Drift] | str:
    """The answer broken by one ``label`` drift, chosen by ``seed``, and the drift; or, when
    there is none, a message naming what is possible. With ``at``, a drift of the place
    itself is preferred to one below it (``misnamed_key`` at a key renames that key)."""
    finder = _Finder(operation, document, request, seed, at)
    chooser = random.Random(seed)  # noqa: S311 - a reproducible choice, not secrecy
    groups: Iterable[list[Drift]]
    if finder.at is not None or label in _SPECIAL_LABELS:
        pool = finder.everything(label)
        exact = [drift for drift in pool if drift.case.pointer == finder.at]
        groups = [exact, [drift for drift in pool if drift.case.pointer != finder.at]]
    else:  # one site after another, in an order the seed draws: the first that works wins
        order = list(finder.sites)
        chooser.shuffle(order)
        groups = (finder.at_site(site, label) for site in order)
    for group in groups:
        chooser.shuffle(group)
        for drift in group:
            mutated = drift.apply(document)
            if _exact(operation, drift, mutated, request):
                return mutated, drift
    return _impossible(finder, label)


def _impossible(finder: _Finder, label: str) -> str:
    operation, at = finder.operation, finder.at
    everything = _Finder(operation, finder.document, finder.request, finder.seed, None)
    drifts = everything.everything()
    labels = sorted({drift.case.label for drift in drifts})
    if at is None:
        return (
            f"face-contracts: no {label!r} drift exists for this answer of {operation}; "
            f"labels that do: {', '.join(labels)}\n"
        )
    here = sorted({d.case.label for d in drifts if _within(d.case.pointer, at)})
    places = sorted(
        {d.case.pointer for d in drifts if d.case.label == label},
        key=lambda where: (-_shared(where, at), where),
    )
    lines = [f"face-contracts: no {label!r} drift at {at!r} in this answer of {operation}."]
    if here:
        lines.append(f"Labels possible at {at}: {', '.join(here)}.")
    else:
        lines.append(f"Nothing in this answer is at or below {at}.")
    if places:
        shown = ", ".join(places[:_NAMED])
        more = f" (and {len(places) - _NAMED} more)" if len(places) > _NAMED else ""
        lines.append(f"Pointers where {label} is possible, nearest first: {shown}{more}.")
    else:
        lines.append(
            f"No {label} drift exists for this answer; labels that do: {', '.join(labels)}."
        )
    return "\n".join(lines) + "\n"


def _shared(where: str, at: str) -> int:
    """How many leading pointer segments two pointers share."""
    count = 0
    for left, right in zip(where.split("/")[1:], at.split("/")[1:], strict=False):
        if left != right:
            break
        count += 1
    return count


def drifted_answer(call: Call, stub: StubbedResponse) -> tuple[Answer, str]:
    """The answer for a drift stub and the journal's note on what was broken."""
    assert call.vendor is not None
    label = stub.invalid or ""
    try:
        real = call.vendor.handle(call)
    except Refusal as refusal:
        return refusal.answer, f"drift {label} not applied: the vendor refuses this request"
    if real.status != 200:
        return real, f"drift {label} not applied: the vendor answers {real.status}"
    document = orjson.loads(real.body if isinstance(real.body, bytes) else orjson.dumps(real.body))
    request = {"headers": dict(call.request.headers), "body": call.fields}
    result = drifted_document(call.op, document, request, label, stub.seed, stub.at)
    if isinstance(result, str):
        where = f" at {stub.at}" if stub.at else ""
        return Answer(500, "text/plain", result), f"drift {label}{where} impossible for this answer"
    mutated, drift = result
    case = drift.case
    note = f"drift {label}: {case.rule} at {case.pointer or '/'} ({case.description})"
    return Answer(real.status, real.content_type, mutated, dict(real.headers)), note
