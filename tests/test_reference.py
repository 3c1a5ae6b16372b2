"""docs/reference.md names everything a user can name, and its examples run."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from face_contracts.server import _ADMIN_ROUTES

from .conftest import ROOT

REFERENCE = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")


def _source(path: str) -> str:
    return (ROOT / "src" / "face_contracts" / path).read_text(encoding="utf-8")


def test_every_option_and_ini_key_is_listed() -> None:
    plugins = _source("pytest_plugin.py") + _source("contract_suite/plugin.py")
    options = set(re.findall(r'addoption\(\s*"(--[a-z-]+)"', plugins))
    inis = set(re.findall(r'addini\(\s*"([a-z_]+)"', plugins))
    assert options >= {"--face-mock-host", "--face-mock-port", "--live", "--call-budget"}
    assert inis >= {"face_mock_host", "face_mock_hosts"}
    for name in sorted(options | inis):
        assert f"`{name}" in REFERENCE, name


def test_every_fixture_and_marker_argument_is_listed() -> None:
    plugins = _source("pytest_plugin.py") + _source("contract_suite/plugin.py")
    fixtures = set(re.findall(r"@pytest\.fixture(?:\([^)]*\))?\ndef ([a-z_]+)\(", plugins))
    assert {"face_mock", "face_mock_respx", "face_mock_server"} <= fixtures
    for name in sorted(fixtures):
        assert f"| `{name}` |" in REFERENCE, name
    from face_contracts.pytest_plugin import _FIXTURE_SETTINGS
    from face_contracts.settings import SETTING_NAMES

    # The marker takes every setting (a key of the settings file) and its own arguments.
    arguments = [*SETTING_NAMES, *_FIXTURE_SETTINGS]
    assert len(arguments) >= 10, arguments
    for name in arguments:
        assert f"| `{name}` |" in REFERENCE, name


def test_every_mock_method_rule_route_and_query_parameter_is_listed() -> None:
    from face_contracts.mock import FaceMock, RuleHandle
    from face_contracts.mock.transports import RoutedFaceMock, ServedFaceMock
    from face_contracts.server import RULE_KINDS

    for cls in (FaceMock, RoutedFaceMock, ServedFaceMock, RuleHandle):
        for name in dir(cls):
            if not name.startswith("_") and name not in {"mock", "id", "base_settings"}:
                assert f"`{name}" in REFERENCE or f".{name}" in REFERENCE, (cls.__name__, name)
    for kind in RULE_KINDS:
        assert f"`DELETE /__admin/{kind}/{{id}}`" in REFERENCE, kind
    for parameter in ("operation", "status", "since", "limit"):
        assert f"`{parameter}=`" in REFERENCE, parameter


def test_every_environment_variable_is_listed() -> None:
    used = set()
    for path in (ROOT / "src").rglob("*.py"):
        used |= set(re.findall(r"FACE_CONTRACTS_[A-Z_]+[A-Z]", path.read_text(encoding="utf-8")))
    used |= {"FACE_CONTRACTS_HYPOTHESIS_PROFILE"}
    for name in sorted(used):
        assert f"| `{name}` |" in REFERENCE, name


def test_every_cli_command_and_admin_route_is_listed() -> None:
    from face_contracts.cli import _build_parser

    parser = _build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands is not None
    for name in commands:
        assert f"`face-contracts {name}" in REFERENCE, name
    for method, path in _ADMIN_ROUTES:
        assert f"`{method} /__admin/{path}`" in REFERENCE, (method, path)


EXAMPLES = [
    line.removeprefix("$ ")
    for line in REFERENCE.splitlines()
    if line.startswith("$ face-contracts ")
]


@pytest.mark.parametrize("example", EXAMPLES)
def test_cli_examples_run(example: str) -> None:
    arguments = shlex.split(example)[1:]
    result = subprocess.run(
        [sys.executable, "-m", "face_contracts", *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout or "--out" in arguments
