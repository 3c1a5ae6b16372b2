"""Reading the JSON Schemas in ``schemas/``: the schema of an operation's document, and
``flatten``, which folds ``$ref`` and ``allOf`` into one node so that the renderers and the
mutation engine can read key names, counts and bounds.

References are resolved through the :mod:`referencing` registry of :func:`contracts`, the
one that holds every schema by ``$id``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from face_contracts.contracts import contracts

__all__ = ["flatten", "property_schema", "resolve", "schema_of"]

# Keywords that only annotate: they never change what is valid.
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


def schema_of(operation: str, kind: str, variant: str | None = None) -> tuple[dict[str, Any], str]:
    """The schema of one operation and kind, with its base URI."""
    schema_id = contracts().operation(operation).schema_id(kind, variant)
    return contracts().schemas[schema_id], schema_id


@cache  # the schemas never change once loaded; flatten resolves the same refs many times
def resolve(ref: str, base: str) -> tuple[Any, str]:
    """The subschema a ``$ref`` names, and the base URI references inside it resolve against.

    ``base`` is the ``$id`` of the schema the reference is written in; the references in
    ``schemas/`` are fragments (``#/$defs/...``) or absolute ``urn:`` URIs with a fragment.
    """
    contents = contracts().registry.resolver(base_uri=base).lookup(ref).contents
    document_uri = base.partition("#")[0] if ref.startswith("#") else ref.partition("#")[0]
    return contents, document_uri


def flatten(node: Any, base: str) -> dict[str, Any]:
    """``node`` with ``$ref`` and ``allOf`` folded in, annotations dropped.

    ``properties`` of the parts are merged (a ``true`` placeholder yields to a real
    subschema, which is kept with its own base under the key ``"$base"`` of a wrapper),
    ``required`` is the union, everything else is taken from whichever part states it.
    """
    if node is True:
        return {}
    parts: list[tuple[dict[str, Any], str]] = []
    own = {k: v for k, v in node.items() if k not in _ANNOTATIONS and not k.startswith("x-")}
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
