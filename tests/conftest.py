"""Shared helpers for the project's tests."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "documents"


@contextlib.contextmanager
def serving_in_thread(
    server: Any, sock: socket.socket, *, scheme: str = "http", wait: float = 30.0
) -> Iterator[str]:
    """A uvicorn ``Server`` (ours or uvicorn's own) run in a thread of this process on the
    listening ``sock``; yields its URL once it has started, then stops it and closes the
    socket."""
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + wait
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield f"{scheme}://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=wait)
        sock.close()


def fixture_entries() -> list[tuple[str, dict[str, Any]]]:
    """Every labelled fixture: (operation id, index entry)."""
    entries: list[tuple[str, dict[str, Any]]] = []
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


# --- a real Redis server, for the shared-state tests -------------------------------------

REDIS_MISSING = (
    "redis-server is not installed: the shared-state tests need it "
    "(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis); "
    ".ci/run installs it"
)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """``redis-server`` on a free loopback port, without persistence, in a temporary folder;
    stopped (and started again on the same port) at will."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import time

        import redis

        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        try:
            for _ in range(200):
                if self.process.poll() is not None:
                    msg = f"redis-server exited with {self.process.returncode} on port {self.port}"
                    raise RuntimeError(msg)
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    time.sleep(0.05)
            msg = f"redis-server did not answer on port {self.port}"
            raise RuntimeError(msg)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


def redis_binary() -> str:
    """The redis-server binary; without it the test is skipped, or fails when $CI is set
    (CI installs it: the shared-state tests must run there)."""
    import os
    import shutil

    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(f"{REDIS_MISSING} (CI is set: these tests must not be skipped)")
        pytest.skip(REDIS_MISSING)
    return binary


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the session (tests keep apart by key prefix)."""
    server = RedisServer(redis_binary(), tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server for one test, which may stop and start it."""
    server = RedisServer(redis_binary(), tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def _detector_loaded_first() -> None:
    """The face detector (MediaPipe, numpy) loaded before any test: pytester's in-process
    runs drop the modules a run imported, and numpy cannot be imported twice in one process,
    so it must not be a pytester run (whose plugin preloads the detector) that imports it."""
    from face_contracts import faces

    faces.preload()
