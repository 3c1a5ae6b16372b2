"""Shared helpers for the project's tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "documents"


def fixture_entries() -> list[tuple[str, dict[str, Any]]]:
    """Every labelled fixture: (operation id, index entry)."""
    entries = []
    for index in sorted(FIXTURES.glob("*/index.json")):
        operation = index.parent.name
        entries.extend((operation, entry) for entry in orjson.loads(index.read_bytes())["fixtures"])
    return entries


def load_fixture(operation: str, relative: str) -> object:
    """A fixture document: parsed JSON, or the raw bytes of a .txt body."""
    raw = (FIXTURES / operation / relative).read_bytes()
    return raw if relative.endswith(".txt") else orjson.loads(raw)


def png_bomb(side: int, filler: int = 1000) -> bytes:
    """A PNG whose header declares ``side`` x ``side`` pixels around a tiny compressed body:
    a decompression bomb that must be refused without decoding."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * filler))
        + chunk(b"IEND", b"")
    )
