"""The schemas are data with their own tests: meta-schema, ids, references, provenance."""

from __future__ import annotations

from typing import Any
from urllib.parse import urldefrag

import jsonschema
import orjson
import pytest

from face_contracts.contracts import KINDS, contracts

from .conftest import ROOT

SCHEMAS = contracts().schemas


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


@pytest.mark.parametrize("schema_id", sorted(SCHEMAS))
def test_schema_is_valid_under_its_meta_schema(schema_id: str) -> None:
    schema = SCHEMAS[schema_id]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("schema_id", sorted(SCHEMAS))
def test_schema_states_its_title_and_sources(schema_id: str) -> None:
    schema = SCHEMAS[schema_id]
    assert schema["title"] == schema["title"].lower() or schema["title"][0].islower()
    assert schema["x-sources"], f"{schema_id} names no source"


@pytest.mark.parametrize("schema_id", sorted(SCHEMAS))
def test_every_reference_resolves(schema_id: str) -> None:
    resolver = contracts().registry.resolver(base_uri=schema_id)
    for ref in _refs(SCHEMAS[schema_id]):
        target = ref if not ref.startswith("#") else schema_id + ref
        resolved = resolver.lookup(target)
        assert resolved.contents is not None, ref
        uri, _ = urldefrag(target)
        assert uri in SCHEMAS, f"{ref} leaves the shipped schemas"


def test_ids_are_unique_and_match_file_names() -> None:
    files = contracts().schema_files
    assert len(files) == len(set(files.values()))
    for schema_id, path in files.items():
        relative = path.relative_to(ROOT / "schemas").with_suffix("")
        vendor, stem = relative.parts[0], relative.parts[-1]
        if stem == "common":
            expected = (
                "urn:face-contracts:common"
                if len(relative.parts) == 1
                else f"urn:face-contracts:{vendor}:common"
            )
        else:
            operation, kind, *variant = stem.split(".")
            expected = f"urn:face-contracts:{vendor}.{operation}:{kind}" + "".join(
                f":{v}" for v in variant
            )
        assert schema_id == expected, path


def test_operations_manifest_is_valid_and_complete() -> None:
    meta = orjson.loads((ROOT / "schemas" / "_meta" / "operations.schema.json").read_bytes())
    manifest = orjson.loads((ROOT / "schemas" / "operations.json").read_bytes())
    jsonschema.Draft202012Validator(meta).validate(manifest)
    ids = [op["id"] for op in manifest["operations"]]
    assert ids == [
        "ailab.face_key_points",
        "ailab.face_analyzer_advanced",
        "acedata.face_analyze",
        "facepp.thousandlandmark",
        "facepp.detect",
    ]
    for op in contracts().operations.values():
        for kind in KINDS:
            assert op.schema_id(kind) in SCHEMAS
        for varied, variants in op.variants.items():
            for variant in variants:
                assert op.schema_id(varied, variant) in SCHEMAS


def test_every_image_operation_has_mock_limits() -> None:
    for op in contracts().operations.values():
        data = contracts().mock_data[op.id]
        assert data["operation"] == op.id
        assert data["x-sources"]
        for entry in data["errors"]:
            assert entry["source"], entry


def test_every_invariant_is_documented() -> None:
    from face_contracts._invariants import RULES

    catalogue = (ROOT / "docs" / "invariants.md").read_text(encoding="utf-8")
    names = {name for rules in RULES.values() for name, _, _ in rules} - {"image"}
    names |= {
        f"image.{part}"
        for part in ("readable", "max_bytes", "decodable", "format", "min_pixels", "max_pixels")
    }
    for name in sorted(names):
        assert f"| `{name}` |" in catalogue, f"{name} is not in docs/invariants.md"
