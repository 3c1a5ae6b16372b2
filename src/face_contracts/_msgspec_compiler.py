"""Compile a JSON Schema into a msgspec decoder that proves a document valid from its bytes.

A *positive filter* for the hot path: when the compiled decoder accepts a document's bytes,
the schema's validator (``jsonschema_rs``, the one judge) accepts the document, so its
verdict needs nothing else. When the decoder refuses, the judge decides and explains. Every
construct is translated exactly or more strictly, never more loosely:

- an integer written ``1.0`` or ``1e2`` is refused (JSON Schema accepts it);
- a duplicated key must be valid each time it appears (the judge sees only the last);
- a ``pattern`` is compiled only in the syntax whose meaning Python's ``re`` (which msgspec
  uses) and the judge share: literals, classes with ranges, groups, alternation, quantifiers,
  ``^`` first and ``$`` last, where ``$`` becomes ``\\Z`` (Python's ``$`` also matches
  before a final newline, JSON Schema's does not);
- numeric bounds are compiled only below 2**53, where integers and floats compare alike.

A schema that uses anything else is not compiled (:class:`NotCompilableError`); its
documents go to the judge. ``tests/test_fast_path.py`` checks the decoders against the
judge on generated valid and invalid documents.
"""

from __future__ import annotations

import keyword
import re
from itertools import count
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["NotCompilableError", "compile_decoder", "python_pattern"]

# Keywords that only annotate: they never change a verdict.
_ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "title",
        "description",
        "examples",
        "default",
        "contentMediaType",
        "deprecated",
        "readOnly",
        "writeOnly",
    }
)
_BOUND_LIMIT = 2**53  # below it every integer is exactly a float
_names = count()


class NotCompilableError(ValueError):
    """The schema uses something msgspec cannot check exactly."""


def compile_decoder(
    schema: dict[str, Any], resolve: Callable[[str, str], Any]
) -> msgspec.json.Decoder[Any]:
    """A decoder for ``schema``; ``resolve(ref, base)`` is the subschema a ``$ref`` names."""
    compiler = _Compiler(resolve)
    target = compiler.type_of(schema, schema.get("$id", ""))
    try:
        return msgspec.json.Decoder(target)
    except (TypeError, ValueError) as error:  # a constraint msgspec refuses for that type
        raise NotCompilableError(str(error)) from None


# --- patterns ------------------------------------------------------------------------------

_ESCAPABLE = frozenset("\\^$.|?*+()[]{}/-")
_CONTROL_ESCAPES = frozenset("tnrfv")
_QUANTIFIER = re.compile(r"\{[0-9]+(?:,[0-9]*)?\}")


def python_pattern(pattern: str) -> str:
    """``pattern`` for Python's ``re.search`` with the meaning JSON Schema gives it, or
    :class:`NotCompilableError` when it uses syntax outside the shared subset."""
    out: list[str] = []
    i, end = 0, len(pattern)
    quantified = False  # the previous token was a quantifier
    while i < end:
        char = pattern[i]
        if char == "\\":
            out.append(_escape(pattern, i))
            i, quantified = i + 2, False
        elif char == "[":
            close = _class_end(pattern, i)
            out.append(pattern[i : close + 1])
            i, quantified = close + 1, False
        elif char == "^":
            if i != 0:
                raise NotCompilableError("'^' after the start of a pattern")
            out.append(char)
            i += 1
        elif char == "$":
            if i != end - 1:
                raise NotCompilableError("'$' before the end of a pattern")
            out.append(r"\Z")
            i += 1
        elif char == "(":
            if pattern.startswith("(?", i) and not pattern.startswith("(?:", i):
                raise NotCompilableError("a group other than (...) and (?:...)")
            out.append("(?:" if pattern.startswith("(?:", i) else "(")
            i, quantified = i + (3 if pattern.startswith("(?:", i) else 1), False
        elif char in "*+?{":
            quantifier = _QUANTIFIER.match(pattern, i) if char == "{" else None
            if char == "{" and quantifier is None:
                raise NotCompilableError("'{' that is not a quantifier")
            if quantified and char != "?":  # possessive (Python only) or doubled
                raise NotCompilableError("a quantifier after a quantifier")
            token = quantifier.group() if quantifier is not None else char
            out.append(token)
            i, quantified = i + len(token), not quantified
        elif char in "}]":
            raise NotCompilableError(f"unbalanced {char!r}")
        else:  # a literal, '.', '|' or ')'
            out.append(char)
            i, quantified = i + 1, False
    return "".join(out)


def _escape(pattern: str, i: int) -> str:
    if i + 1 >= len(pattern):
        raise NotCompilableError("a pattern ending in '\\'")
    escaped = pattern[i + 1]
    if escaped not in _ESCAPABLE and escaped not in _CONTROL_ESCAPES:
        # \d, \w, \s, \b, \p{..}, \u...., backreferences: each engine reads them its own way
        raise NotCompilableError(f"the escape \\{escaped}")
    return pattern[i : i + 2]


def _class_end(pattern: str, start: int) -> int:
    """The index of the ``]`` closing the class opened at ``start``."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if pattern.startswith("]", i):
        raise NotCompilableError("a class starting with ']'")  # empty in ECMA-262
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            _escape(pattern, i)
            i += 2
            continue
        if char == "]":
            return i
        if char == "[" or (char in "&-~|" and pattern.startswith(char * 2, i)):
            # nested classes and set operations exist in one engine only
            raise NotCompilableError("a nested class or a class set operation")
        i += 1
    raise NotCompilableError("an unclosed class")


# --- schemas -------------------------------------------------------------------------------


class _Compiler:
    def __init__(self, resolve: Callable[[str, str], Any]) -> None:
        self.resolve = resolve
        self.by_ref: dict[str, Any] = {}

    def type_of(self, node: Any, base: str) -> Any:
        if node is True:
            return Any
        if not isinstance(node, dict):
            raise NotCompilableError("false schema")
        keys = set(node) - _ANNOTATIONS - {k for k in node if k.startswith("x-")}
        if "$ref" in keys:
            if keys != {"$ref"}:
                raise NotCompilableError("$ref beside other keywords")
            return self._ref(node["$ref"], base)
        if "enum" in keys or "const" in keys:
            return self._enum(node, keys)
        kind = node.get("type")
        if kind == "object":
            return self._object(node, keys, base)
        if kind == "array":
            _only(keys, {"type", "items", "minItems", "maxItems"})
            items: Any = self.type_of(node.get("items", True), base)
            return _meta(
                list[items], min_length=node.get("minItems"), max_length=node.get("maxItems")
            )
        if kind == "string":
            _only(keys, {"type", "minLength", "maxLength", "pattern"})
            pattern = node.get("pattern")
            return _meta(
                str,
                min_length=node.get("minLength"),
                max_length=node.get("maxLength"),
                pattern=python_pattern(pattern) if pattern is not None else None,
            )
        if kind in ("integer", "number"):
            _only(keys, {"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
            return _bounds(int if kind == "integer" else float, node)
        if kind == "boolean":
            _only(keys, {"type"})
            return bool
        raise NotCompilableError(f"type {kind!r}")

    @staticmethod
    def _enum(node: dict[str, Any], keys: set[str]) -> Any:
        if keys - {"enum", "const", "type"} or {"enum", "const"} <= keys:
            raise NotCompilableError("enum or const with other keywords")
        values = node["enum"] if "enum" in node else [node["const"]]
        kinds = {
            "string": all(isinstance(v, str) for v in values),
            "integer": all(type(v) is int for v in values),
            "boolean": all(type(v) is bool for v in values),
        }
        matching = [kind for kind, holds in kinds.items() if holds]
        if not values or not matching or node.get("type", matching[0]) != matching[0]:
            raise NotCompilableError("enum of mixed or non-scalar values, or of another type")
        return Literal[tuple(values)]

    def _ref(self, ref: str, base: str) -> Any:
        target = base.split("#", 1)[0] + ref if ref.startswith("#") else ref
        if target not in self.by_ref:
            self.by_ref[target] = None  # a recursive reference cannot be compiled
            subschema = self.resolve(ref, base)
            self.by_ref[target] = self.type_of(subschema, target.split("#", 1)[0])
        if self.by_ref[target] is None:
            raise NotCompilableError("recursive $ref")
        return self.by_ref[target]

    def _object(self, node: dict[str, Any], keys: set[str], base: str) -> Any:
        _only(
            keys,
            {
                "type",
                "properties",
                "required",
                "additionalProperties",
                "dependentRequired",
                "minProperties",
                "maxProperties",
            },
        )
        properties: dict[str, Any] = node.get("properties", {})
        extra = node.get("additionalProperties", True)
        if not properties:
            if keys - {"type", "additionalProperties"}:
                raise NotCompilableError("property counts on a map")
            return dict[str, self.type_of(extra, base)]  # type: ignore[misc]
        if extra not in (True, False):
            raise NotCompilableError("additionalProperties schema beside properties")
        if extra is not False and "maxProperties" in node:
            raise NotCompilableError("maxProperties on an open object counts keys a struct drops")
        required = set(node.get("required", ()))
        if required - set(properties) or any(
            not name.isidentifier() or keyword.iskeyword(name) for name in properties
        ):
            raise NotCompilableError("required key without a property, or a key that is not a name")
        fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
        for name, subschema in properties.items():
            field_type = self.type_of(subschema, base)
            if name in required:
                fields.append((name, field_type))
            else:
                fields.append((name, field_type | msgspec.UnsetType, msgspec.UNSET))
        fields.sort(key=lambda field: len(field) == 3)
        checks = _presence_checks(node)
        return msgspec.defstruct(
            f"Compiled{next(_names)}",
            fields,
            forbid_unknown_fields=extra is False,
            namespace={"__post_init__": checks} if checks else None,
        )


def _only(keys: set[str], allowed: set[str]) -> None:
    if keys - allowed:
        raise NotCompilableError(f"keywords {sorted(keys - allowed)}")


def _meta(base_type: Any, **constraints: Any) -> Any:
    given = {k: v for k, v in constraints.items() if v is not None}
    return Annotated[base_type, msgspec.Meta(**given)] if given else base_type


def _bounds(base_type: type, node: dict[str, Any]) -> Any:
    bounds = {
        "ge": node.get("minimum"),
        "le": node.get("maximum"),
        "gt": node.get("exclusiveMinimum"),
        "lt": node.get("exclusiveMaximum"),
    }
    for name, bound in bounds.items():
        if bound is None:
            continue
        if not isinstance(bound, int | float) or isinstance(bound, bool):
            raise NotCompilableError("a bound that is not a number")
        if not abs(bound) < _BOUND_LIMIT:
            raise NotCompilableError("a bound where integers and floats compare differently")
        if base_type is int:
            if bound != int(bound):
                raise NotCompilableError("a fractional bound on an integer")
            bounds[name] = int(bound)
        else:
            bounds[name] = float(bound)
    return _meta(base_type, **bounds)


def _presence_checks(node: dict[str, Any]) -> Callable[[Any], None] | None:
    """dependentRequired and property counts, checked on the decoded struct."""
    dependent: dict[str, list[str]] = node.get("dependentRequired", {})
    minimum, maximum = node.get("minProperties"), node.get("maxProperties")
    if not dependent and minimum is None and maximum is None:
        return None
    names = tuple(node["properties"])

    def check(self: Any) -> None:
        present = {name for name in names if getattr(self, name) is not msgspec.UNSET}
        for name, needs in dependent.items():
            if name in present and not present.issuperset(needs):
                raise ValueError(f"{name} needs {needs}")
        if minimum is not None and len(present) < minimum:
            raise ValueError("too few properties")
        if maximum is not None and len(present) > maximum:
            raise ValueError("too many properties")

    return check
