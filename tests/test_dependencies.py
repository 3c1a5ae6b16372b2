"""Dependencies are declared exactly: every third-party module ``src/`` imports is a declared
runtime dependency, and every declared runtime dependency is imported (or named below with
the reason it is needed without an import)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib

from .conftest import ROOT

# Distribution name -> the top-level modules it provides, where they differ.
MODULES = {
    "pillow": {"PIL"},
    "python-multipart": {"python_multipart"},
    "jsonschema-rs": {"jsonschema_rs"},
    "pytest-httpserver": {"pytest_httpserver"},
    "pytest": {"pytest", "_pytest"},
}
# Declared and needed, though no module of ours imports them by name.
NOT_IMPORTED = {
    "uvloop": "uvicorn's event loop, chosen by name in the server configuration",
}


def _declared() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {}
    for requirement in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement)
        assert name is not None
        names[name.group(0).lower().replace("_", "-")] = requirement
    return names


def _imported() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "src" / "face_contracts").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names} - {"face_contracts"}


def _modules(distribution: str) -> set[str]:
    return MODULES.get(distribution, {distribution.replace("-", "_")})


def test_every_imported_module_is_a_declared_dependency() -> None:
    provided = {module for name in _declared() for module in _modules(name)}
    assert sorted(_imported() - provided) == []


def test_every_declared_dependency_is_imported_or_says_why_not() -> None:
    imported = _imported()
    unused = [
        name for name in _declared() if not (_modules(name) & imported) and name not in NOT_IMPORTED
    ]
    assert unused == []
    assert set(NOT_IMPORTED) <= set(_declared())


def test_no_extra_is_left_unused() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get(
        "optional-dependencies", {}
    )
    assert set(extras) == {"test"}
