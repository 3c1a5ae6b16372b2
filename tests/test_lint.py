"""Static checks run with the suite, so the one test command covers them: ruff and mypy."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_is_clean() -> None:
    result = _run(
        "ruff",
        "check",
        "src",
        "tests",
        "benchmarks",
        "scripts",
        "contract_tests",
        "examples",
        "conftest.py",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = _run(
        "ruff",
        "format",
        "--check",
        "src",
        "tests",
        "benchmarks",
        "scripts",
        "examples",
        "conftest.py",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean_on_src_and_tests() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
