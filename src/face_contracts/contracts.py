"""The contract, loaded once: operations, schemas and mock data from the shipped files.

``schemas/`` is read into one :mod:`referencing` registry (where ``$ref`` is resolved for
readers of the schemas: generation, renderers, OpenAPI, the msgspec decoders) and one
``jsonschema_rs`` registry (the compiled validators, the only judge of validity). Both see
the same files, so a schema change reaches every consumer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, cast

import jsonschema_rs
import referencing
from referencing.jsonschema import DRAFT202012

from face_contracts._msgspec_compiler import NotCompilableError, compile_decoder
from face_contracts._resources import data_dir, load_json
from face_contracts.errors import UnknownKindError, UnknownOperationError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    import msgspec

__all__ = ["KINDS", "Contracts", "Kind", "Operation", "contracts", "operations"]

Kind = Literal["request", "response", "error"]
KINDS: tuple[Kind, ...] = ("request", "response", "error")


@dataclass(frozen=True)
class Operation:
    """One vendor operation, as listed in ``schemas/operations.json``."""

    id: str
    vendor: str
    title: str
    method: str
    path: str
    hosts: tuple[str, ...]
    request_content_types: tuple[str, ...]
    auth: Mapping[str, Any]
    schemas: Mapping[str, str]
    variants: Mapping[str, Mapping[str, str]]
    answers: Mapping[str, Mapping[str, str]]
    sources: tuple[str, ...]

    def schema_id(self, kind: str, variant: str | None = None) -> str:
        """The ``$id`` of the schema for ``kind`` (and ``variant``, if one is named)."""
        if kind not in self.schemas:
            raise UnknownKindError(kind, tuple(self.schemas))
        if variant is None:
            return self.schemas[kind]
        variants = self.variants.get(kind, {})
        if variant not in variants:
            raise UnknownKindError(f"{kind}:{variant}", tuple(f"{kind}:{v}" for v in variants))
        return variants[variant]

    def accepts_text(self, kind: str) -> bool:
        """Whether some documented answer of this kind is plain text rather than JSON."""
        return any(
            answer["kind"] == kind and answer["content_type"].startswith("text/")
            for answer in self.answers.values()
        )


@dataclass
class Contracts:
    """Everything loaded from ``schemas/`` and ``mocks/``.

    ``registry`` holds every schema by ``$id`` for resolving references
    (``registry.resolver(base_uri=...).lookup(ref)``).
    """

    schemas: dict[str, dict[str, Any]]
    schema_files: dict[str, Path]
    operations: dict[str, Operation]
    mock_data: dict[str, dict[str, Any]]
    registry: referencing.Registry[Any] = field(repr=False)
    _validator_registry: jsonschema_rs.Registry = field(repr=False)
    _validators: dict[str, jsonschema_rs.Validator] = field(default_factory=dict, repr=False)
    _decoders: dict[str, msgspec.json.Decoder[Any] | None] = field(default_factory=dict, repr=False)

    def operation(self, operation_id: str) -> Operation:
        """The operation with this id, or :class:`UnknownOperationError`."""
        try:
            return self.operations[operation_id]
        except KeyError:
            raise UnknownOperationError(operation_id, tuple(self.operations)) from None

    def validator(self, schema_id: str) -> jsonschema_rs.Validator:
        """The compiled validator of one schema (``jsonschema_rs``), built on first use."""
        validator = self._validators.get(schema_id)
        if validator is None:
            validator = jsonschema_rs.validator_for(
                self.schemas[schema_id], registry=self._validator_registry
            )
            self._validators[schema_id] = validator
        return validator

    def decoder(self, schema_id: str) -> msgspec.json.Decoder[Any] | None:
        """A msgspec decoder that accepts only documents :meth:`validator` accepts, reading
        raw bytes in one pass; None for a schema it cannot check exactly."""
        if schema_id not in self._decoders:
            try:
                decoder: msgspec.json.Decoder[Any] | None = compile_decoder(
                    self.schemas[schema_id],
                    lambda ref, base: self.registry.resolver(base_uri=base).lookup(ref).contents,
                )
            except NotCompilableError:
                decoder = None
            self._decoders[schema_id] = decoder
        return self._decoders[schema_id]

    def validator_at(self, ref: str) -> jsonschema_rs.Validator:
        """The compiled validator of the subschema a ``$ref`` names (``<$id>#/pointer``)."""
        validator = self._validators.get(ref)
        if validator is None:
            validator = jsonschema_rs.validator_for(
                {"$ref": ref}, registry=self._validator_registry
            )
            self._validators[ref] = validator
        return validator


def _load() -> Contracts:
    root = data_dir("schemas")
    schemas: dict[str, dict[str, Any]] = {}
    schema_files: dict[str, Path] = {}
    for path in sorted(root.rglob("*.json")):
        if path.name == "operations.json" or "_meta" in path.parts:
            continue
        schema = cast("dict[str, Any]", load_json(path))
        schema_id = schema["$id"]
        if schema_id in schemas:
            msg = (
                f"face-contracts: $id {schema_id!r} is used by {schema_files[schema_id]} and {path}"
            )
            raise ValueError(msg)
        schemas[schema_id] = schema
        schema_files[schema_id] = path
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(
        (schema_id, DRAFT202012.create_resource(schema)) for schema_id, schema in schemas.items()
    )
    manifest = cast("dict[str, Any]", load_json(root / "operations.json"))
    operations = {
        raw["id"]: Operation(
            id=raw["id"],
            vendor=raw["vendor"],
            title=raw["title"],
            method=raw["method"],
            path=raw["path"],
            hosts=tuple(raw["hosts"]),
            request_content_types=tuple(raw["request_content_types"]),
            auth=raw["auth"],
            schemas=raw["schemas"],
            variants=raw["variants"],
            answers=raw["answers"],
            sources=tuple(raw["sources"]),
        )
        for raw in manifest["operations"]
    }
    mocks_root = data_dir("mocks")
    mock_data: dict[str, dict[str, Any]] = {}
    for operation in operations.values():
        path = mocks_root / operation.vendor / f"{operation.id.split('.', 1)[1]}.json"
        if path.is_file():
            mock_data[operation.id] = cast("dict[str, Any]", load_json(path))
    return Contracts(
        schemas=schemas,
        schema_files=schema_files,
        operations=operations,
        mock_data=mock_data,
        registry=registry.crawl(),
        _validator_registry=jsonschema_rs.Registry(list(schemas.items())),
    )


@cache
def contracts() -> Contracts:
    """The contract set, loaded on first use and shared afterwards."""
    return _load()


def operations() -> tuple[Operation, ...]:
    """Every modelled operation, in the order of ``schemas/operations.json``."""
    return tuple(contracts().operations.values())
