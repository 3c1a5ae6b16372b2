"""Hypothesis strategies compiled from the JSON Schemas in ``schemas/``.

The compiler covers the keywords the shipped schemas use and raises
:class:`UnsupportedSchemaError` for any other, so a schema change either changes what is
generated or fails loudly; it never silently generates something the schema rejects.
``flatten`` folds ``$ref`` and ``allOf`` into one node, which the renderers and the
mutation engine also use to read key names, counts and bounds.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from hypothesis import strategies as st

from face_contracts._msgspec_compiler import ANNOTATIONS
from face_contracts.contracts import contracts

__all__ = ["UnsupportedSchemaError", "flatten", "from_schema", "resolve", "schema_of"]


class UnsupportedSchemaError(ValueError):
    """The schema uses a keyword the generator does not implement."""


def schema_of(operation: str, kind: str, variant: str | None = None) -> tuple[dict[str, Any], str]:
    """The schema of one operation and kind, with its base URI."""
    schema_id = contracts().operation(operation).schema_id(kind, variant)
    return contracts().schemas[schema_id], schema_id


def resolve(ref: str, base: str) -> tuple[Any, str]:
    """The subschema a ``$ref`` names, and the base URI references inside it resolve against."""
    target = base.split("#", 1)[0] + ref if ref.startswith("#") else ref
    document_uri, _, fragment = target.partition("#")
    node: Any = contracts().schemas[document_uri]
    for part in filter(None, fragment.split("/")):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node, document_uri


def flatten(node: Any, base: str) -> dict[str, Any]:
    """``node`` with ``$ref`` and ``allOf`` folded in, annotations dropped.

    ``properties`` of the parts are merged (a ``true`` placeholder yields to a real
    subschema, which is kept with its own base under the key ``"$base"`` of a wrapper),
    ``required`` is the union, everything else is taken from whichever part states it.
    """
    if node is True:
        return {}
    parts: list[tuple[dict[str, Any], str]] = []
    own = {k: v for k, v in node.items() if k not in ANNOTATIONS and not k.startswith("x-")}
    if "$ref" in own:
        target, target_base = resolve(own.pop("$ref"), base)
        parts.append((flatten(target, target_base), target_base))
    for part in own.pop("allOf", ()):
        parts.append((flatten(part, base), base))
    merged: dict[str, Any] = {}
    for flat, _ in [*parts, (_anchor(own, base), base)]:
        for key, value in flat.items():
            if key == "properties":
                properties = merged.setdefault("properties", {})
                for name, subschema in value.items():
                    if name not in properties or properties[name] == {
                        "$base": None,
                        "schema": True,
                    }:
                        properties[name] = subschema
            elif key == "required":
                merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
            else:
                merged[key] = value
    return merged


def _anchor(node: dict[str, Any], base: str) -> dict[str, Any]:
    """Wrap each property subschema with the base URI its references resolve against."""
    if "properties" not in node:
        return node
    return {
        **node,
        "properties": {
            name: sub
            if isinstance(sub, dict) and "$base" in sub
            else {"$base": base, "schema": sub}
            for name, sub in node["properties"].items()
        },
    }


def property_schema(flat: dict[str, Any], name: str) -> tuple[Any, str]:
    """The subschema and base of one property of a flattened object node."""
    wrapped = flat["properties"][name]
    return wrapped["schema"], wrapped["$base"]


@cache
def _cached(schema_id: str) -> st.SearchStrategy[Any]:
    return from_schema(contracts().schemas[schema_id], schema_id)


def from_schema(node: Any, base: str) -> st.SearchStrategy[Any]:
    """A strategy of values valid under ``node`` (a subschema read with base URI ``base``)."""
    if node is True or node == {}:
        return st.just(None)
    flat = flatten(node, base)
    keys = set(flat)
    if "const" in flat:
        return st.just(flat["const"])
    if "enum" in flat:
        return st.sampled_from(flat["enum"])
    if "oneOf" in flat or "anyOf" in flat:
        return _alternatives(flat, base)
    unsupported = keys & {
        "if",
        "then",
        "else",
        "not",
        "patternProperties",
        "prefixItems",
        "contains",
        "uniqueItems",
        "multipleOf",
        "format",
    }
    if unsupported:
        raise UnsupportedSchemaError(f"generation does not implement {sorted(unsupported)}")
    kind = flat.get("type")
    if kind == "object" or "properties" in flat:
        return _object(flat)
    if kind == "array":
        items = from_schema(flat.get("items", True), base)
        return st.lists(
            items,
            min_size=flat.get("minItems", 0),
            max_size=flat.get("maxItems", max(flat.get("minItems", 0), 5)),
        )
    if kind == "string":
        return _string(flat)
    if kind == "integer":
        low = flat.get(
            "minimum",
            flat.get("exclusiveMinimum", -(2**31) - 1) + 1
            if "exclusiveMinimum" in flat
            else -(2**31),
        )
        high = flat.get(
            "maximum", flat["exclusiveMaximum"] - 1 if "exclusiveMaximum" in flat else 2**31
        )
        return st.integers(min_value=math.ceil(low), max_value=math.floor(high))
    if kind == "number":
        return st.floats(
            min_value=flat.get("minimum", flat.get("exclusiveMinimum", -1e6)),
            max_value=flat.get("maximum", flat.get("exclusiveMaximum", 1e6)),
            exclude_min="exclusiveMinimum" in flat,
            exclude_max="exclusiveMaximum" in flat,
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "boolean":
        return st.booleans()
    raise UnsupportedSchemaError(f"generation does not implement type {kind!r}")


def _string(flat: dict[str, Any]) -> st.SearchStrategy[str]:
    low, high = flat.get("minLength", 0), flat.get("maxLength")
    if "pattern" in flat:
        strategy = st.from_regex(flat["pattern"], fullmatch=True)
        if low or high is not None:
            strategy = strategy.filter(
                lambda s: low <= len(s) <= (high if high is not None else len(s))
            )
        return strategy
    return st.text(
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
        min_size=low,
        max_size=high if high is not None else max(low, 24),
    )


def _object(flat: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Any] = flat.get("properties", {})
    required = [name for name in flat.get("required", []) if name in properties]
    optional = [name for name in properties if name not in required]
    dependent: dict[str, list[str]] = flat.get("dependentRequired", {})
    minimum = flat.get("minProperties", 0)
    maximum = flat.get("maxProperties", len(properties))
    value_strategies = {name: from_schema(*property_schema(flat, name)) for name in properties}

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        chosen = list(required)
        for name in optional:
            if draw(st.booleans()):
                chosen.append(name)
        changed = True
        while changed:  # close the choice under dependentRequired
            changed = False
            for name, needs in dependent.items():
                if name in chosen:
                    for need in needs:
                        if need not in chosen:
                            chosen.append(need)
                            changed = True
        missing = [name for name in optional if name not in chosen]
        while len(chosen) < minimum and missing:
            chosen.append(missing.pop(0))
        chosen = chosen[: max(maximum, len(required))]
        return {name: draw(value_strategies[name]) for name in properties if name in chosen}

    return build()


def _alternatives(flat: dict[str, Any], base: str) -> st.SearchStrategy[Any]:
    keyword = "oneOf" if "oneOf" in flat else "anyOf"
    branches: list[Any] = flat[keyword]
    rest = {k: v for k, v in flat.items() if k != keyword}
    if all(isinstance(b, dict) and set(b) == {"required"} for b in branches):
        # "one of these keys": pick a branch, make its keys required; for oneOf, drop the
        # keys of the other branches so exactly one holds.
        options = []
        for branch in branches:
            others = {
                k for other in branches if other is not branch for k in other["required"]
            } - set(branch["required"])
            node = dict(rest)
            node["required"] = list(dict.fromkeys([*rest.get("required", []), *branch["required"]]))
            if keyword == "oneOf":
                node["properties"] = {
                    k: v for k, v in rest.get("properties", {}).items() if k not in others
                }
            options.append(_object(node))
        return st.one_of(options)
    if rest:
        raise UnsupportedSchemaError(f"{keyword} beside other keywords")
    return st.one_of([from_schema(branch, base) for branch in branches])
