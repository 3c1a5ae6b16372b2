"""Two replicas of ``face-contracts serve --workers 2`` on one Redis behave as one mock:
exact credits and forced errors, face_tokens issued by one resolving on the other, one
journal, admin changes reaching every process; Redis lost, then back."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import httpx
import pytest

from face_contracts.images import encode_image

from .conftest import RedisServer, _free_port, redis_binary

if TYPE_CHECKING:
    from collections.abc import Iterator

CLI = [sys.executable, "-m", "face_contracts"]
PICTURE = encode_image("JPEG", 640, 480, seed=3, faces=((200, 100, 220, 250),))
FACEPP = {"api_key": "k", "api_secret": "s"}


@contextlib.contextmanager
def replica(
    *args: str, env: dict[str, str] | None = None, stderr: IO[str] | int = subprocess.PIPE
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``face-contracts serve`` on a free port until the block ends (then SIGTERM)."""
    import os

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [*CLI, "serve", "--port", str(port), *args]
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={**os.environ, **(env or {})},
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line.startswith(f"face-contracts mock listening on {url} "):
                process.kill()
                raise AssertionError(line + (process.stderr.read() if process.stderr else ""))
            yield url, process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)


class Replicas:
    def __init__(self, redis: RedisServer, urls: list[str], logs: list[Path]) -> None:
        self.redis = redis
        self.urls = urls
        self.logs = logs  # each replica's stderr
        self.http = httpx.Client(timeout=30)

    def admin(self, replica: int, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"{self.urls[replica]}/__admin/{path}", **kwargs)

    def detect(self, replica: int) -> httpx.Response:
        return self.http.post(
            f"{self.urls[replica]}/facepp/v3/detect",
            data=FACEPP,
            files={"image_file": ("face.jpg", PICTURE, "image/jpeg")},
        )

    def key_points(self, replica: int) -> httpx.Response:
        return self.http.post(
            f"{self.urls[replica]}/api/portrait/analysis/face-key-points",
            headers={"ailabapi-api-key": "key"},
            files={"image": ("face.jpg", PICTURE, "image/jpeg")},
        )

    def dense(self, replica: int, token: str) -> httpx.Response:
        return self.http.post(
            f"{self.urls[replica]}/facepp/v1/face/thousandlandmark",
            data={**FACEPP, "face_token": token, "return_landmark": "all"},
        )

    def spread(self, calls: int, what: str) -> list[httpx.Response]:
        """``calls`` calls, alternating replicas, 8 at a time (each replica's two workers
        take them as the kernel hands them out)."""
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(lambda i: getattr(self, what)(i % 2), range(calls)))


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    directory = tmp_path_factory.mktemp("replicas")
    redis = RedisServer(redis_binary(), directory)
    redis.start()
    config = directory / "mock.toml"
    config.write_text("credits = 11\n[server]\ngrace = 1\n")
    logs = [directory / "a.log", directory / "b.log"]
    try:
        with (
            logs[0].open("w") as log_a,
            logs[1].open("w") as log_b,
            replica(
                "--workers", "2", "--config", str(config), "--state", redis.url, stderr=log_a
            ) as (a, _),
            replica(
                "--workers",
                "2",
                "--config",
                str(config),
                env={"FACE_CONTRACTS_STATE": redis.url},
                stderr=log_b,
            ) as (b, _),
        ):
            group = Replicas(redis, [a, b], logs)
            yield group
            group.http.close()
    finally:
        redis.stop()


def test_credits_and_forced_errors_are_exact_across_replicas(replicas: Replicas) -> None:
    # Face key points cost 2 credits: 5 of the 11 credits' worth of calls pass.
    assert Counter(r.status_code for r in replicas.spread(24, "key_points")) == {200: 5, 429: 19}
    forced = replicas.admin(
        0,
        "POST",
        "errors",
        json={"code": "INTERNAL_ERROR", "operation": "facepp.detect", "times": 3},
    )
    assert forced.status_code == 200, forced.text
    answers = replicas.spread(24, "detect")
    assert Counter(r.status_code for r in answers) == {200: 21, 500: 3}
    assert {r.json()["error_message"] for r in answers if r.status_code == 500} == {
        "INTERNAL_ERROR"
    }


def test_face_tokens_resolve_on_the_other_replica(replicas: Replicas) -> None:
    for issuer in (0, 1, 0, 1):
        detected = replicas.detect(issuer)
        assert detected.status_code == 200, detected.text
        token = detected.json()["faces"][0]["face_token"]
        dense = replicas.dense(1 - issuer, token)
        assert dense.status_code == 200, dense.text


def test_one_journal_names_every_process(replicas: Replicas) -> None:
    # Its own calls: under pytest-xdist the module's other tests may run on another worker.
    assert {r.status_code for r in replicas.spread(4, "detect")} == {200}
    journals = [replicas.admin(n, "GET", "requests").json() for n in (0, 1)]
    assert journals[0] == journals[1]
    processes = {entry["process"] for entry in journals[0]}
    assert len(processes) >= 2  # two replicas at least (each of their workers names itself)
    assert len(journals[0]) == len({entry["sequence"] for entry in journals[0]})


def test_reset_and_config_reach_every_process(replicas: Replicas) -> None:
    changed = replicas.admin(1, "POST", "config", json={"faces": 2})
    assert changed.status_code == 200, changed.text
    assert {len(r.json()["faces"]) for r in replicas.spread(8, "detect")} == {2}
    assert replicas.admin(0, "POST", "reset").json() == {"reset": True}
    assert replicas.admin(1, "GET", "requests").json() == []
    assert {len(r.json()["faces"]) for r in replicas.spread(8, "detect")} == {1}
    assert Counter(r.status_code for r in replicas.spread(8, "key_points")) == {200: 5, 429: 3}
    image = encode_image("PNG", 320, 240, seed=4, faces=((60, 40, 120, 150),))
    put = replicas.admin(
        0, "PUT", "images", params={"url": "https://cdn.example.com/p.png"}, content=image
    )
    assert put.status_code == 200, put.text
    shown = replicas.admin(1, "GET", "config").json()
    assert "https://cdn.example.com/p.png" in shown["images"]


def test_redis_lost_then_back(replicas: Replicas) -> None:
    replicas.redis.stop()
    lost = replicas.spread(4, "detect")
    assert {(r.status_code, r.json()["error_message"]) for r in lost} == {(500, "INTERNAL_ERROR")}
    admin = replicas.admin(1, "POST", "config", json={"faces": 3})
    assert admin.status_code == 503
    assert "shared state unavailable" in admin.json()["error"]
    replicas.redis.start()
    assert {r.status_code for r in replicas.spread(8, "detect")} == {200}
    logs = "".join(log.read_text() for log in replicas.logs)
    assert "face-contracts: shared state unavailable: Redis at redis://127.0.0.1:" in logs
    assert "Traceback" not in logs
    assert len(replicas.admin(0, "GET", "requests").json()) == 8


def test_unreachable_redis_stops_the_start_in_one_line() -> None:
    result = subprocess.run(
        [
            *CLI,
            "serve",
            "--port",
            str(_free_port()),
            "--state",
            f"redis://127.0.0.1:{_free_port()}/0",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "face-contracts: error: the shared state is unreachable: Redis at redis://127.0.0.1:"
    )


def test_workers_without_state_say_so(tmp_path: Path) -> None:
    with replica("--workers", "2") as (_, process):
        assert process.stderr is not None
        line = process.stderr.readline()
    assert line.startswith("face-contracts: 2 workers, each with its own state")
    assert "--state redis://host:port/db shares it" in line
