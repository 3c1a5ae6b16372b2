"""The one place that knows where the shipped data lives.

Installed from a wheel, ``schemas/`` and ``mocks/`` sit inside the package (hatch
force-include). In a source checkout or an editable install they sit at the top of the
repository, two levels above this file.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

import orjson

__all__ = ["data_dir", "load_json"]


@cache
def data_dir(name: str) -> Path:
    """Return the directory of the shipped data set ``name`` (``schemas`` or ``mocks``)."""
    packaged = Path(str(files("face_contracts"))) / name
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[2] / name
    if checkout.is_dir():
        return checkout
    msg = f"face-contracts: data directory {name!r} is missing from the installation"
    raise FileNotFoundError(msg)


def load_json(path: Path) -> object:
    """Read one JSON file."""
    return orjson.loads(path.read_bytes())
