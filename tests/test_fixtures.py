"""Every labelled fixture is classified as labelled, by the API, both validators and the CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import jsonschema
import orjson
import pytest

from face_contracts import validate
from face_contracts.contracts import contracts

from .conftest import FIXTURES, ROOT, fixture_entries, load_fixture

ENTRIES = fixture_entries()
IDS = [f"{operation}/{entry['file']}" for operation, entry in ENTRIES]


def _check(operation: str, entry: dict[str, Any]) -> set[tuple[str, str]]:
    request = None
    if "request" in entry:
        request = orjson.loads((FIXTURES / operation / entry["request"]).read_bytes())
    report = validate(
        operation,
        entry["kind"],
        load_fixture(operation, entry["file"]),
        variant=entry.get("variant"),
        request=request,
        status=entry.get("status"),
        base_dir=FIXTURES / operation / entry["kind"],
    )
    return report.rules()


@pytest.mark.parametrize(("operation", "entry"), ENTRIES, ids=IDS)
def test_fixture_is_classified_as_labelled(operation: str, entry: dict[str, Any]) -> None:
    expected = {(item["rule"], item["pointer"]) for item in entry.get("expect", [])}
    assert _check(operation, entry) == expected


@pytest.mark.parametrize(("operation", "entry"), ENTRIES, ids=IDS)
def test_compiled_and_reference_validators_agree(operation: str, entry: dict[str, Any]) -> None:
    schema_id = contracts().operation(operation).schema_id(entry["kind"], entry.get("variant"))
    raw = (FIXTURES / operation / entry["file"]).read_bytes()
    document = raw.decode() if entry["file"].endswith(".txt") else orjson.loads(raw)
    reference = jsonschema.Draft202012Validator(
        contracts().schemas[schema_id], registry=contracts().registry
    )
    assert contracts().validator(schema_id).is_valid(document) == reference.is_valid(document)


def test_indexes_are_well_formed_and_cover_every_file() -> None:
    meta = orjson.loads((ROOT / "schemas" / "_meta" / "fixture-index.schema.json").read_bytes())
    operations = set(contracts().operations)
    assert {path.name for path in FIXTURES.iterdir() if path.is_dir()} == operations
    for operation in sorted(operations):
        index = orjson.loads((FIXTURES / operation / "index.json").read_bytes())
        jsonschema.Draft202012Validator(meta).validate(index)
        listed = [entry["file"] for entry in index["fixtures"]]
        assert len(listed) == len(set(listed)), f"{operation}: a file is listed twice"
        on_disk = {
            str(path.relative_to(FIXTURES / operation))
            for path in (FIXTURES / operation).rglob("*")
            if path.is_file() and path.name != "index.json"
        }
        assert set(listed) == on_disk, operation
        for entry in index["fixtures"]:
            assert entry["file"].startswith(entry["kind"] + "/")


def test_every_operation_and_kind_has_valid_and_invalid_fixtures() -> None:
    seen = {(operation, entry["kind"], entry["verdict"]) for operation, entry in ENTRIES}
    for operation in contracts().operations:
        for kind in ("request", "response", "error"):
            for verdict in ("valid", "invalid"):
                assert (operation, kind, verdict) in seen, (operation, kind, verdict)


REGISTER = ROOT / "docs" / "discrepancies"


def _register_entries() -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for page in sorted(REGISTER.glob("*.md")):
        current = None
        for line in page.read_text(encoding="utf-8").splitlines():
            heading = re.match(r"^## (D-(?:AIL|ACE|FPP)-\d{2}): ", line)
            if heading:
                current = heading.group(1)
                assert current not in entries, f"{current} is defined twice"
                entries[current] = []
            elif current and line.startswith("- **Fixtures:**"):
                entries[current].extend(re.findall(r"`([^`]+)`", line))
    return entries


def test_register_and_fixtures_name_each_other() -> None:
    entries = _register_entries()
    assert entries, "the discrepancy register is empty"
    labelled: dict[str, set[str]] = {}
    for operation, entry in ENTRIES:
        if "discrepancy" in entry:
            labelled.setdefault(entry["discrepancy"], set()).add(f"{operation}/{entry['file']}")
    for identifier, fixtures in entries.items():
        assert fixtures, f"{identifier} names no fixture"
        for fixture in fixtures:
            assert fixture in labelled.get(identifier, set()), (
                f"{identifier}: {fixture} is not labelled with it"
            )
    assert set(labelled) <= set(entries), "a fixture names a discrepancy the register lacks"


def _cli_groups() -> dict[tuple[str, str, str, str, str], list[dict[str, Any]]]:
    groups: dict[tuple[str, str, str, str, str], list[dict[str, Any]]] = {}
    for operation, entry in ENTRIES:
        key = (
            operation,
            entry["kind"],
            entry.get("variant", ""),
            entry.get("request", ""),
            str(entry.get("status", "")),
        )
        groups.setdefault(key, []).append(entry)
    return groups


CLI_GROUPS = _cli_groups()


@pytest.mark.parametrize(
    "group", sorted(CLI_GROUPS), ids=["-".join(filter(None, key)) for key in sorted(CLI_GROUPS)]
)
def test_cli_classifies_every_fixture_as_labelled(group: tuple[str, str, str, str, str]) -> None:
    operation, kind, variant, request, status = group
    entries = CLI_GROUPS[group]
    paths = [FIXTURES / operation / entry["file"] for entry in entries]
    options = []
    if variant:
        options += ["--variant", variant]
    if request:
        options += ["--request", str(FIXTURES / operation / request)]
    if status:
        options += ["--status", status]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "face_contracts",
            "validate",
            operation,
            kind,
            *map(str, paths),
            *options,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stderr == ""
    verdicts = {
        line.split(": ", 1)[0]: line.split(": ", 1)[1].split(" ", 1)[0]
        for line in result.stdout.splitlines()
        if not line.startswith("  ")
    }
    assert verdicts == {
        str(path): entry["verdict"] for path, entry in zip(paths, entries, strict=True)
    }
    all_valid = all(entry["verdict"] == "valid" for entry in entries)
    assert result.returncode == (0 if all_valid else 1)
