"""Compile a JSON Schema into msgspec types: decoding and validating raw bytes in one pass.

This is a *positive filter* for the hot path: a document that the compiled type decodes is
valid under the schema, so its verdict needs nothing else. The translation is exact or
stricter, never looser (an integer written as ``1.0`` is rejected here although JSON Schema
accepts it), so whenever the compiled type rejects a document the real validators decide.
Schemas that use a keyword with no exact msgspec equivalent are not compiled at all.
"""

from __future__ import annotations

import keyword
from itertools import count
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ANNOTATIONS", "NotCompilableError", "compile_decoder"]

# Keywords that only annotate: they never change a verdict.
ANNOTATIONS = frozenset(
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
_names = count()


class NotCompilableError(ValueError):
    """The schema uses something msgspec cannot check exactly."""


def compile_decoder(
    schema: dict[str, Any], resolve: Callable[[str], dict[str, Any]]
) -> msgspec.json.Decoder[Any]:
    """A decoder for ``schema``; ``resolve`` maps an absolute ``$ref`` to its subschema."""
    compiler = _Compiler(schema, resolve)
    return msgspec.json.Decoder(compiler.type_of(schema, schema.get("$id", "")))


class _Compiler:
    def __init__(self, root: dict[str, Any], resolve: Callable[[str], dict[str, Any]]) -> None:
        self.root = root
        self.resolve = resolve
        self.by_ref: dict[str, Any] = {}

    def type_of(self, node: Any, base: str) -> Any:
        if node is True:
            return Any
        if not isinstance(node, dict) or node is False:
            raise NotCompilableError("false schema")
        keys = set(node) - ANNOTATIONS - {k for k in node if k.startswith("x-")}
        if "$ref" in keys:
            if keys != {"$ref"}:
                raise NotCompilableError("$ref beside other keywords")
            return self._ref(node["$ref"], base)
        if "enum" in keys or "const" in keys:
            values = node["enum"] if "enum" in node else [node["const"]]
            if keys - {"enum", "const", "type"} or not values:
                raise NotCompilableError("enum with other keywords")
            if (
                all(isinstance(v, str) for v in values)
                or all(type(v) is int for v in values)
                or all(type(v) is bool for v in values)
            ):
                return Literal[tuple(values)]
            raise NotCompilableError("enum of mixed or non-scalar values")
        kind = node.get("type")
        if kind == "object":
            return self._object(node, keys, base)
        if kind == "array":
            self._only(keys, {"type", "items", "minItems", "maxItems"})
            items: Any = self.type_of(node.get("items", True), base)
            return self._meta(
                list[items], min_length=node.get("minItems"), max_length=node.get("maxItems")
            )
        if kind == "string":
            self._only(keys, {"type", "minLength", "maxLength", "pattern"})
            return self._meta(
                str,
                min_length=node.get("minLength"),
                max_length=node.get("maxLength"),
                pattern=node.get("pattern"),
            )
        if kind == "integer":
            self._only(keys, {"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
            return self._bounds(int, node)
        if kind == "number":
            self._only(keys, {"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
            return self._bounds(float, node)
        if kind == "boolean":
            self._only(keys, {"type"})
            return bool
        raise NotCompilableError(f"type {kind!r}")

    @staticmethod
    def _only(keys: set[str], allowed: set[str]) -> None:
        if keys - allowed:
            raise NotCompilableError(f"keywords {sorted(keys - allowed)}")

    @staticmethod
    def _meta(base_type: Any, **constraints: Any) -> Any:
        given = {k: v for k, v in constraints.items() if v is not None}
        return Annotated[base_type, msgspec.Meta(**given)] if given else base_type

    def _bounds(self, base_type: type, node: dict[str, Any]) -> Any:
        return self._meta(
            base_type,
            ge=node.get("minimum"),
            le=node.get("maximum"),
            gt=node.get("exclusiveMinimum"),
            lt=node.get("exclusiveMaximum"),
        )

    def _ref(self, ref: str, base: str) -> Any:
        target = base.split("#", 1)[0] + ref if ref.startswith("#") else ref
        if target not in self.by_ref:
            self.by_ref[target] = None  # a recursive reference cannot be compiled
            subschema = self.resolve(target)
            self.by_ref[target] = self.type_of(subschema, target.split("#", 1)[0])
        if self.by_ref[target] is None:
            raise NotCompilableError("recursive $ref")
        return self.by_ref[target]

    def _object(self, node: dict[str, Any], keys: set[str], base: str) -> Any:
        self._only(
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
