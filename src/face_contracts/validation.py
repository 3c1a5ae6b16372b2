"""``validate``: one verdict for a document, from its schema and the invariants.

One judge decides validity: the schema's compiled ``jsonschema_rs`` validator, on the
document parsed by ``orjson``. When it says no, its errors (instance path, keyword and the
keyword's own data: the missing key, the unexpected keys, the failing branches) become
failures that point at the offending key. Raw bytes first meet a msgspec decoder compiled
from the schema (:mod:`face_contracts._msgspec_compiler`), which reads and checks them in
one pass and accepts only documents the judge accepts: when it accepts, the judge need not
be asked; otherwise the judge decides. Invariants (rules JSON Schema cannot express) always
run and report in the same form.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs
import msgspec
import orjson

import face_contracts.vendors  # noqa: F401 - each vendor's documents register its invariants
from face_contracts._invariants import Context, applicable_rules, run_invariants
from face_contracts._report import ContractViolationError, Failure, Report, pointer
from face_contracts.contracts import contracts

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

__all__ = ["ContractViolationError", "Failure", "Report", "pointer", "validate"]

_Kind = jsonschema_rs.ValidationErrorKind
_QUOTE_LIMIT = 120  # characters of a quoted array or object kept in a message


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
    ``{"headers": ..., "body": ...}`` that produced a response: groups asked, face_field
    gating, max_face_num; anything else raises
    :class:`~face_contracts.errors.NotARequestDocumentError`),
    ``status`` (the HTTP status the document came with) and ``base_dir`` (where relative
    image ``path`` entries of a request document resolve; default: the working directory).
    """
    loaded = contracts()
    op = loaded.operation(operation)
    schema_id = op.schema_id(kind, variant)
    context = Context(op, request, status, Path(base_dir) if base_dir is not None else None)
    rules = applicable_rules(op.id, kind, context)

    instance: Any = document  # a parsed JSON value, as documented
    if isinstance(document, bytes | bytearray | memoryview | str):
        # A lone surrogate in a str cannot be UTF-8: kept as bytes that both parsers refuse.
        raw = document.encode("utf-8", "surrogatepass") if isinstance(document, str) else document
        decoder = loaded.decoder(schema_id)
        if decoder is not None and _proves_valid(decoder, raw):
            if not rules:
                return Report(op.id, kind, (), variant)
            # Parsed again only for the rules (orjson accepts all msgspec does).
            return Report(
                op.id, kind, tuple(run_invariants(rules, orjson.loads(raw), context)), variant
            )
        try:
            instance = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            if not op.accepts_text(kind):
                return Report(
                    op.id, kind, (Failure("", "json", f"not valid JSON: {error}"),), variant
                )
            instance = bytes(raw).decode("utf-8", errors="replace")

    # One pass: on a valid document iter_errors costs what is_valid does.
    schema_failures = _schema_failures(loaded.validator(schema_id).iter_errors(instance))
    return Report(
        op.id, kind, tuple(schema_failures + run_invariants(rules, instance, context)), variant
    )


def _proves_valid(decoder: msgspec.json.Decoder[Any], raw: bytes | bytearray | memoryview) -> bool:
    try:
        decoder.decode(raw)
    except msgspec.DecodeError:  # ValidationError is a DecodeError
        return False
    return True


def _schema_failures(errors: Iterable[jsonschema_rs.ValidationError]) -> list[Failure]:
    ordered = sorted(errors, key=lambda e: ([str(part) for part in e.instance_path], _rule(e)))
    return [failure for error in ordered for failure in _explain(error)]


def _rule(error: jsonschema_rs.ValidationError) -> str:
    """The keyword that failed. ``dependentRequired`` reports as a missing key (kind
    ``required``); its schema path names the keyword."""
    if error.schema_path and error.schema_path[-1] == "dependentRequired":
        return "dependentRequired"
    return error.kind.name


def _location(error: jsonschema_rs.ValidationError) -> str:
    """Where the failing keyword is written: its schema's ``$id``, ``#`` and pointer."""
    schema_id = (error.absolute_keyword_location or "").partition("#")[0]
    return f"{schema_id}#{pointer(error.schema_path)}"


def _message(error: jsonschema_rs.ValidationError) -> str:
    """The validator's message, with a long value it quotes in full (a picture's base64, a
    list of 200 points) summarised by its size."""
    instance = error.instance
    if isinstance(instance, str | list | dict):
        try:
            quoted = orjson.dumps(instance).decode()
        except orjson.JSONEncodeError:  # an integer beyond 64 bits: keep the message whole
            return error.message
        if len(quoted) > _QUOTE_LIMIT and error.message.startswith(quoted):
            if isinstance(instance, str):
                size = f"a string of {len(instance)} characters"
            elif isinstance(instance, list):
                size = f"an array of {len(instance)} items"
            else:
                size = f"an object with {len(instance)} keys"
            return size + error.message[len(quoted) :]
    return error.message


def _keyword_value(error: jsonschema_rs.ValidationError) -> Any:
    """The value of the failing keyword in its schema, found through the registry."""
    return contracts().registry.resolver().lookup(_location(error)).contents


def _explain(error: jsonschema_rs.ValidationError) -> Iterator[Failure]:
    """Turn one validator error into failures that point at the offending key."""
    where = list(error.instance_path)
    rule, kind = _rule(error), error.kind
    if isinstance(kind, _Kind.Required) and rule == "required":
        yield Failure(
            pointer([*where, kind.property]),
            rule,
            f"required key {kind.property!r} is missing",
            _location(error),
        )
    elif isinstance(kind, _Kind.Required):  # dependentRequired: reported on the object
        present = error.instance if isinstance(error.instance, dict) else {}
        triggers = [
            name
            for name, needs in _keyword_value(error).items()
            if name in present and kind.property in needs
        ]
        because = f" when {' or '.join(map(repr, triggers))} is present" if triggers else ""
        yield Failure(
            pointer(where), rule, f"key {kind.property!r} is required{because}", _location(error)
        )
    elif isinstance(kind, _Kind.AdditionalProperties):
        for key in kind.unexpected:
            yield Failure(
                pointer([*where, key]), rule, f"key {key!r} is not allowed here", _location(error)
            )
    elif isinstance(kind, _Kind.PropertyNames):
        name = kind.error.instance
        yield Failure(
            pointer([*where, str(name)]),
            rule,
            f"key {name!r} is not an allowed name: {kind.error.message}",
            _location(error),
        )
    elif isinstance(kind, _Kind.AnyOf | _Kind.OneOfNotValid | _Kind.OneOfMultipleValid):
        yield from _explain_alternatives(error, kind.context)
    else:
        yield Failure(pointer(where), rule, _message(error), _location(error))


def _explain_alternatives(
    error: jsonschema_rs.ValidationError, branches: list[list[jsonschema_rs.ValidationError]]
) -> Iterator[Failure]:
    """Report the branch the instance was meant for, or say which keys would satisfy it."""
    rule, root = _rule(error), list(error.instance_path)
    subschemas = _keyword_value(error)
    if all(isinstance(branch, dict) and set(branch) == {"required"} for branch in subschemas):
        options = ", ".join(" + ".join(branch["required"]) for branch in subschemas)
        if isinstance(error.kind, _Kind.OneOfMultipleValid):
            message = f"exactly one of {options} is allowed"
        else:
            message = f"one of {options} is required"
        yield Failure(pointer(root), rule, message, _location(error))
        return
    # A branch whose own "type" check failed at this very spot was not meant for this value.
    fitting = [
        errors
        for errors in branches
        if errors
        and not any(list(e.instance_path) == root and e.kind.name == "type" for e in errors)
    ]
    if fitting and not isinstance(error.kind, _Kind.OneOfMultipleValid):
        closest: list[jsonschema_rs.ValidationError] = min(fitting, key=len)
        yield from _schema_failures(closest)
        return
    yield Failure(pointer(root), rule, _message(error), _location(error))
