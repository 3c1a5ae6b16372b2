"""``validate``: one verdict for a document, from its schema and the invariants.

The compiled ``jsonschema_rs`` validator answers "valid?" on the hot path. Only when it
says no does the reference ``jsonschema`` validator run, to name every failure with its
JSON pointer and keyword. Invariants (rules JSON Schema cannot express) always run and
report in the same form.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import orjson

from face_contracts._invariants import Context, applicable_rules, run_invariants
from face_contracts.contracts import contracts
from face_contracts.errors import ContractViolationError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from jsonschema import ValidationError

__all__ = ["Failure", "Report", "pointer", "validate"]


@dataclass(frozen=True, slots=True)
class Failure:
    """One broken rule.

    ``pointer`` is the RFC 6901 JSON pointer of the offending value ("" is the whole
    document; for a missing key, the pointer of where that key should be). ``rule`` is the
    JSON Schema keyword (``required``, ``additionalProperties``, ``type``...) or the name of
    an invariant (``face_num.matches_face_list``...). ``schema_path`` locates the rule in
    its schema file, for schema failures.
    """

    pointer: str
    rule: str
    message: str
    schema_path: str = ""

    def __str__(self) -> str:
        return f"{self.pointer or '(document)'}: {self.message} [{self.rule}]"


@dataclass(frozen=True, slots=True)
class Report:
    """The verdict on one document: valid when it has no failures."""

    operation: str
    kind: str
    failures: tuple[Failure, ...]
    variant: str | None = None

    @property
    def valid(self) -> bool:
        """True when no rule is broken."""
        return not self.failures

    def __bool__(self) -> bool:
        return self.valid

    def rules(self) -> set[tuple[str, str]]:
        """The ``(rule, pointer)`` pairs that failed."""
        return {(failure.rule, failure.pointer) for failure in self.failures}

    def raise_for_failures(self) -> None:
        """Raise :class:`ContractViolationError` if the document is invalid."""
        if self.failures:
            raise ContractViolationError(self)

    def __str__(self) -> str:
        name = self.operation + (
            f" {self.kind}" if not self.variant else f" {self.kind}:{self.variant}"
        )
        if not self.failures:
            return f"{name}: valid"
        lines = [f"{name}: invalid ({len(self.failures)} failure{'s' * (len(self.failures) != 1)})"]
        lines.extend(f"  {failure}" for failure in self.failures)
        return "\n".join(lines)


def pointer(parts: Sequence[str | int]) -> str:
    """Build an RFC 6901 JSON pointer from path parts."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def validate(
    operation: str,
    kind: str,
    document: object,
    *,
    variant: str | None = None,
    request: Mapping[str, Any] | None = None,
    status: int | None = None,
    base_dir: str | Path | None = None,
) -> Report:
    """Check ``document`` against the contract of ``operation`` and ``kind``.

    ``document`` is a parsed JSON value, or the raw body as ``bytes``/``str`` (parsed here;
    a body that is not JSON is checked as text where the operation documents a
    plain-text answer, and otherwise fails the ``json`` rule). ``kind`` is ``request``,
    ``response`` or ``error``; ``variant`` picks a documented alternative shape.

    Optional context enables the rules that need it: ``request`` (the request document
    that produced a response: groups asked, face_field gating, max_face_num), ``status``
    (the HTTP status the document came with) and ``base_dir`` (where relative image
    ``path`` entries of a request document resolve; default: the working directory).
    """
    loaded = contracts()
    op = loaded.operation(operation)
    schema_id = op.schema_id(kind, variant)
    compiled = loaded.compiled(schema_id)

    context = Context(op, request, status, Path(base_dir) if base_dir is not None else None)
    rules = applicable_rules(op.id, kind, context)
    if isinstance(document, bytes | bytearray | memoryview | str):
        raw = document.encode() if isinstance(document, str) else bytes(document)
        if compiled.decoder is not None and _decodes(compiled.decoder, raw):
            # Valid under the schema, read straight from bytes; parse again only if a
            # rule needs to look at the document.
            if not rules:
                return Report(op.id, kind, (), variant)
            return Report(
                op.id, kind, tuple(run_invariants(rules, orjson.loads(raw), context)), variant
            )
        try:
            instance: Any = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            if not op.accepts_text(kind):
                return Report(
                    op.id, kind, (Failure("", "json", f"not valid JSON: {error}"),), variant
                )
            instance = raw.decode("utf-8", errors="replace")
    else:
        instance = document  # a parsed JSON value, as documented

    if compiled.fast.is_valid(instance):
        schema_failures: list[Failure] = []
    else:
        schema_failures = list(_schema_failures(compiled.reference.iter_errors(instance)))
    return Report(
        op.id, kind, tuple(schema_failures + run_invariants(rules, instance, context)), variant
    )


def _decodes(decoder: msgspec.json.Decoder[Any], raw: bytes) -> bool:
    try:
        decoder.decode(raw)
    except msgspec.DecodeError:  # ValidationError is a DecodeError
        return False
    return True


def _schema_path(error: ValidationError) -> str:
    return "#/" + "/".join(str(part) for part in error.absolute_schema_path)


def _schema_failures(errors: Iterator[ValidationError]) -> Iterator[Failure]:
    for error in sorted(errors, key=lambda e: (list(map(str, e.absolute_path)), str(e.validator))):
        yield from _explain(error)


def _explain(error: ValidationError) -> Iterator[Failure]:
    """Turn one jsonschema error into failures that point at the offending key."""
    where = list(error.absolute_path)
    rule = str(error.validator)
    if rule == "required":
        missing = ast.literal_eval(error.message.removesuffix(" is a required property"))
        yield Failure(
            pointer([*where, missing]),
            rule,
            f"required key {missing!r} is missing",
            _schema_path(error),
        )
    elif rule == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        known = schema.get("properties", {})
        patterns = schema.get("patternProperties", {})

        for key in error.instance:
            if key in known or any(re.search(p, key) for p in patterns):
                continue
            yield Failure(
                pointer([*where, key]),
                rule,
                f"key {key!r} is not allowed here",
                _schema_path(error),
            )
    elif rule in {"anyOf", "oneOf"} and error.context:
        yield from _explain_alternatives(error)
    else:
        yield Failure(pointer(where), rule, error.message, _schema_path(error))


def _explain_alternatives(error: ValidationError) -> Iterator[Failure]:
    """Report the branch the instance was meant for, or say which keys would satisfy it."""
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    subschemas = error.validator_value if isinstance(error.validator_value, list) else []
    if subschemas and all(set(branch) == {"required"} for branch in subschemas):
        options = [" + ".join(branch["required"]) for branch in subschemas]
        if error.validator == "oneOf" and len(branches) < len(subschemas):
            message = f"exactly one of {', '.join(options)} is allowed"
        else:
            message = f"one of {', '.join(options)} is required"
        yield Failure(
            pointer(list(error.absolute_path)), str(error.validator), message, _schema_path(error)
        )
        return
    root = list(error.absolute_path)
    # A branch whose own "type" check failed at this very spot was not meant for this value.
    fitting = [
        errors
        for errors in branches.values()
        if not any(list(e.absolute_path) == root and e.validator == "type" for e in errors)
    ]
    if len(fitting) == 1 or (fitting and len(branches) == len(subschemas)):
        best = min(fitting, key=len)
        for sub in sorted(best, key=lambda e: list(map(str, e.absolute_path))):
            yield from _explain(sub)
        return
    yield Failure(pointer(root), str(error.validator), error.message, _schema_path(error))
