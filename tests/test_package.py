"""The distribution: schemas/ and mocks/ ship inside the wheel, with the typing marker and
the list of sources their provenance notes cite."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from .conftest import ROOT


def test_wheel_ships_code_schemas_and_mock_data(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("face_contracts-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("schemas", "mocks"):
        shipped = {
            f"face_contracts/{folder}/{path.relative_to(ROOT / folder).as_posix()}"
            for path in (ROOT / folder).rglob("*")
            if path.is_file()
        }
        assert shipped, folder
        assert shipped <= names, shipped - names
    assert "face_contracts/py.typed" in names
    # x-sources ids resolve in an installed package too: the list they cite ships with them.
    shipped_sources = zipfile.ZipFile(wheel).read("face_contracts/sources.md").decode()
    assert shipped_sources == (ROOT / "docs" / "sources.md").read_text(encoding="utf-8")
    assert "face_contracts/__init__.py" in names
    entry_points = next(name for name in names if name.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "face-contracts = face_contracts.cli:main" in text
    assert not any(name.startswith(("tests/", "fixtures/", "benchmarks/")) for name in names)
