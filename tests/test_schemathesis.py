"""A peer's fuzzer: Schemathesis, positive and negative, against the served OpenAPI document
and the running server. Bounded to fit CI; the checks left out are listed, with their
reasons, in tests/schemathesis/schemathesis.toml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .test_server import serving

HERE = Path(__file__).with_name("schemathesis")


def test_schemathesis_finds_nothing(tmp_path: Path) -> None:
    binary = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or shutil.which(
        "schemathesis"
    )
    if binary is None:
        pytest.fail("schemathesis is not installed (it is in the test extras)")
    with serving() as (url, _):
        result = subprocess.run(
            [
                binary,
                "--config-file",
                str(HERE / "schemathesis.toml"),
                "run",
                f"{url}/__admin/openapi.json",
                "--url",
                url,
                "-H",
                "ailabapi-api-key: schemathesis-key",
                "-H",
                "Authorization: Bearer schemathesis-token",
                "--mode",
                "all",
                "--max-examples",
                "15",
                "--seed",
                "20261121",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
            cwd=tmp_path,  # whatever Schemathesis writes lands here, not in the repository
            env={**os.environ, "SCHEMATHESIS_HOOKS": "hooks", "PYTHONPATH": str(HERE)},
        )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "generated" in result.stdout
