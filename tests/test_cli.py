"""The command line: listing, verdict lines, exit codes, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "face_contracts", *args], capture_output=True, text=True, check=False
    )


def test_operations_lists_id_method_and_path() -> None:
    result = run("operations")
    assert result.returncode == 0
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows == [
        ["ailab.face_key_points", "POST", "/api/portrait/analysis/face-key-points"],
        ["ailab.face_analyzer_advanced", "POST", "/api/portrait/analysis/face-analyzer-advanced"],
        ["acedata.face_analyze", "POST", "/face/analyze"],
        ["facepp.thousandlandmark", "POST", "/facepp/v1/face/thousandlandmark"],
        ["facepp.detect", "POST", "/facepp/v3/detect"],
    ]


def test_validate_prints_a_verdict_per_file_then_failures(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_bytes(orjson.dumps({"request_id": "1,a", "time_used": 2, "face": {}}))
    bad = tmp_path / "bad.json"
    bad.write_bytes(orjson.dumps({"request_id": "1,a", "face": {}}))
    result = run("validate", "facepp.thousandlandmark", "response", str(good), str(bad))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{good}: valid",
        f"{bad}: invalid (1 failure)",
        "  /time_used: required key 'time_used' is missing [required]",
    ]
    assert run("validate", "facepp.thousandlandmark", "response", str(good)).returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("validate", "facepp.nope", "response", "{good}"), "unknown operation 'facepp.nope'"),
        (("validate", "facepp.thousandlandmark", "reply", "{good}"), "unknown kind 'reply'"),
        (("validate", "facepp.thousandlandmark", "response", "{missing}"), "cannot read"),
        (("validate", "facepp.thousandlandmark", "response", "{text}"), "not JSON"),
        (("validate", "facepp.thousandlandmark"), "the following arguments are required"),
        (("frobnicate",), "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_one_line_and_no_traceback(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    good = tmp_path / "good.json"
    good.write_text("{}")
    text = tmp_path / "body.txt"
    text.write_text("Request Entity Too Large")
    paths = {"good": str(good), "missing": str(tmp_path / "missing.json"), "text": str(text)}
    result = run(*(arg.format(**paths) for arg in args))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_plain_text_body_is_accepted_where_documented(tmp_path: Path) -> None:
    body = tmp_path / "413.txt"
    body.write_text("Request Entity Too Large")
    result = run("validate", "facepp.thousandlandmark", "error", str(body), "--status", "413")
    assert result.returncode == 0, result.stdout
    assert result.stdout == f"{body}: valid\n"
