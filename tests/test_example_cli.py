"""`face-contracts example`: reproducible JSON lines, valid or labelled invalid."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest

from face_contracts import operations, validate


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The command, run in this process (fast); same exit code and output as the console script."""
    import contextlib
    import io

    from face_contracts.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["example", *args])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def test_the_same_seed_prints_the_same_lines_in_another_process() -> None:
    args = ["facepp.thousandlandmark", "response", "--count", "2", "--seed", "11"]
    other = subprocess.run(
        [sys.executable, "-m", "face_contracts", "example", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    assert other.stdout == run(*args).stdout


@pytest.mark.parametrize("operation", [op.id for op in operations()])
def test_valid_lines_validate_and_repeat_with_the_seed(operation: str) -> None:
    for kind in ("request", "response", "error"):
        first = run(operation, kind, "--count", "3", "--seed", "7")
        assert first.returncode == 0, first.stderr
        lines = first.stdout.splitlines()
        assert len(lines) == 3
        for line in lines:
            assert validate(operation, kind, orjson.loads(line)).valid, line[:200]
        assert run(operation, kind, "--count", "3", "--seed", "7").stdout == first.stdout


@pytest.mark.parametrize("operation", [op.id for op in operations()])
def test_invalid_lines_fail_for_their_label(operation: str) -> None:
    for kind in ("request", "response", "error"):
        result = run(operation, kind, "--invalid", "--count", "3", "--seed", "3")
        assert result.returncode == 0, result.stderr
        for line in result.stdout.splitlines():
            case = orjson.loads(line)
            report = validate(
                operation,
                kind,
                case["document"],
                request=case.get("request"),
                status=case.get("status"),
            )
            expected = {(item["rule"], item["pointer"]) for item in case["expected"]}
            assert report.rules() == expected, case["description"]
            assert (case["rule"], case["pointer"]) in expected


def test_different_seeds_give_different_lines() -> None:
    one = run("facepp.detect", "response", "--count", "2", "--seed", "1").stdout
    two = run("facepp.detect", "response", "--count", "2", "--seed", "2").stdout
    assert one != two


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("facepp.nope", "response"), "unknown operation"),
        (("facepp.detect", "answer"), "unknown kind"),
        (("facepp.detect", "response", "--count", "0"), "--count must be at least 1"),
    ],
)
def test_usage_errors_are_one_line(args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
