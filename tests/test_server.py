"""The standalone server: vendor routes, the admin API, the serve command, the README's curl
examples."""

from __future__ import annotations

import contextlib
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from face_contracts import validate
from face_contracts.mock import FaceMock
from face_contracts.server import MockApp

from .conftest import ROOT

PICTURE = (ROOT / "mocks" / "images" / "default-face.jpg").read_bytes()
CLI = [sys.executable, "-m", "face_contracts"]


class AsgiClient:
    """A synchronous face on httpx's ASGI transport (which only speaks async)."""

    def __init__(self, app: MockApp) -> None:
        self.app = app

    def request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        import asyncio

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url="http://mock") as http:
                return await http.request(method, path, **kwargs)  # type: ignore[arg-type]

        return asyncio.run(send())

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: object) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: object) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: object) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def client() -> AsgiClient:
    return AsgiClient(MockApp(FaceMock()))


def detect(http: AsgiClient, **fields: str) -> httpx.Response:
    data = {"api_key": "k", "api_secret": "s", **fields}
    return http.post(
        "/facepp/v3/detect", data=data, files={"image_file": ("f.jpg", PICTURE, "image/jpeg")}
    )


def test_vendor_routes_answer_as_the_engine_does(client: AsgiClient) -> None:
    answer = detect(client, return_landmark="2")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert validate("facepp.detect", "response", answer.content).valid
    missing = client.post("/face/analyze", json={"image_url": "https://x.example/a.jpg"})
    assert (missing.status_code, missing.json()["error"]["code"]) == (400, "no_token")


def test_admin_routes(client: AsgiClient) -> None:
    health = client.get("/__admin/health").json()
    assert health["status"] == "ok"
    assert len(health["operations"]) == 5
    assert client.post("/__admin/faces", json={"faces": 2}).status_code == 200
    assert detect(client).json()["face_num"] == 2
    forced = client.post(
        "/__admin/errors", json={"code": "INTERNAL_ERROR", "operation": "facepp.detect", "times": 1}
    )
    assert forced.status_code == 200
    assert detect(client).status_code == 500
    assert detect(client).status_code == 200
    client.post("/__admin/faults", json={"operation": "facepp.detect", "status": 503, "nth": 4})
    assert detect(client).status_code == 503
    registered = client.put(
        "/__admin/images", params={"url": "https://cdn.example.com/me.jpg"}, content=PICTURE
    )
    assert registered.json() == {
        "registered": "https://cdn.example.com/me.jpg",
        "bytes": len(PICTURE),
    }
    config = client.post("/__admin/config", json={"credits": 3, "strict_urls": True}).json()
    assert (config["credits"], config["strict_urls"]) == (3, True)
    assert config["images"]["https://cdn.example.com/me.jpg"]["bytes"] == len(PICTURE)
    journal = client.get("/__admin/requests").json()
    assert [entry["status"] for entry in journal] == [200, 500, 200, 503]
    assert journal[0]["fields"]["api_key"] == "<redacted>"
    assert journal[0]["request_valid"] is True
    assert client.delete("/__admin/requests").json() == {"cleared": True}
    assert client.get("/__admin/requests").json() == []
    assert client.post("/__admin/reset").json() == {"reset": True}
    assert client.get("/__admin/config").json()["credits"] is None
    assert detect(client).json()["face_num"] == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "needle"),
    [
        ("GET", "/__admin/nothing", None, 404, "no admin route"),
        ("POST", "/__admin/errors", {"code": "NOT_A_CODE"}, 400, "not a documented error"),
        ("POST", "/__admin/config", {"colour": "red"}, 400, "unknown setting"),
        ("POST", "/__admin/faults", {"status": 404}, 400, "5xx"),
        ("POST", "/__admin/faces", {"faces": "many"}, 400, "faces must be"),
        ("PUT", "/__admin/images", None, 400, "name the image URL"),
    ],
)
def test_admin_mistakes_get_a_clear_answer(
    client: AsgiClient, method: str, path: str, body: object, status: int, needle: str
) -> None:
    answer = client.request(method, path, content=orjson.dumps(body) if body is not None else b"")
    assert answer.status_code == status
    assert needle in answer.json()["error"]


def test_admin_token_is_required_when_set() -> None:
    http = AsgiClient(MockApp(FaceMock(), admin_token="s3cret"))
    if True:
        assert http.get("/__admin/health").status_code == 401
        assert (
            http.get("/__admin/health", headers={"authorization": "Bearer wrong"}).status_code
            == 401
        )
        assert (
            http.get("/__admin/health", headers={"authorization": "Bearer s3cret"}).status_code
            == 200
        )


def test_oversized_bodies_are_refused_unread(client: AsgiClient) -> None:
    big = b"x" * (2 * 1024 * 1024 + 1)
    answer = client.post(
        "/facepp/v1/face/thousandlandmark",
        content=big,
        headers={"content-type": "application/octet-stream"},
    )
    assert (answer.status_code, answer.text) == (413, "Request Entity Too Large")
    assert answer.headers["content-type"] == "text/plain"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    command = [*CLI, "serve", "--port", str(port), *args]
    url = f"http://127.0.0.1:{port}"
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    httpx.get(f"{url}/__admin/health", timeout=1)
                    break
                except httpx.TransportError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise AssertionError(
                            process.stderr.read() if process.stderr else ""
                        ) from None
                    time.sleep(0.05)
            yield url, process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=15)


def test_serve_prints_where_it_listens_and_stops_cleanly() -> None:
    with serving() as (url, process):
        assert httpx.get(f"{url}/__admin/health").json()["status"] == "ok"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert process.stdout is not None
        first_line = process.stdout.readline()
        assert first_line.startswith(f"face-contracts mock listening on {url} (5 operations")
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "/nonexistent/mock.toml"], "cannot read"),
        (["--host", "0.0.0.0"], "give --admin-token"),
        (["--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_serve_refuses_bad_settings_in_one_line(args: list[str], message: str) -> None:
    result = subprocess.run(
        [*CLI, "serve", "--port", str(free_port()), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_reports_a_taken_port_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*CLI, "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"face-contracts: error: port {port} on 127.0.0.1 is already in use"
    )


def test_serve_reads_a_toml_config(tmp_path: Path) -> None:
    (tmp_path / "face.jpg").write_bytes(PICTURE)
    config = tmp_path / "mock.toml"
    config.write_text(
        'faces = 2\nstrict_urls = true\n[credentials]\nfacepp = ["k:s"]\n'
        '[images]\n"https://cdn.example.com/face.jpg" = "face.jpg"\n'
        '[[errors]]\ncode = "INTERNAL_ERROR"\noperation = "facepp.detect"\nnth = 2\n'
    )
    with serving("--config", str(config)) as (url, _):
        data = {"api_key": "k", "api_secret": "s", "image_url": "https://cdn.example.com/face.jpg"}
        first = httpx.post(f"{url}/facepp/v3/detect", data=data)
        assert (first.status_code, first.json()["face_num"]) == (200, 2)
        assert httpx.post(f"{url}/facepp/v3/detect", data=data).status_code == 500
        wrong = httpx.post(f"{url}/facepp/v3/detect", data={**data, "api_secret": "x"})
        assert wrong.status_code == 401


def test_config_images_cannot_escape_the_config_directory(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text('[images]\n"https://x.example/a.jpg" = "../../etc/passwd"\n')
    result = subprocess.run(
        [*CLI, "serve", "--port", str(free_port()), "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 2
    assert "is outside" in result.stderr


def readme_curl_examples() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- curl-examples:start -->", 1)[1].split("<!-- curl-examples:end -->", 1)[
        0
    ]
    return [line.removeprefix("$ ") for line in block.splitlines() if line.startswith("$ curl ")]


def test_readme_curl_examples_work() -> None:
    import shutil

    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    examples = readme_curl_examples()
    assert len(examples) >= 10
    marker = b"\nHTTP-STATUS:"
    with serving() as (url, _):
        for example in examples:
            command = shlex.split(example.replace("http://127.0.0.1:8080", url))
            result = subprocess.run(
                [*command, "--max-time", "20", "-w", marker.decode() + "%{http_code}"],
                capture_output=True,
                check=False,
                cwd=ROOT,
                timeout=30,
            )
            assert result.returncode == 0, f"{example}\n{result.stderr[:300]!r}"
            body, status = result.stdout.rsplit(marker, 1)
            assert re.match(rb"\s*[\[{]", body), example
            if "/__admin/" in example:
                assert status == b"200", f"{example}: {body[:300]!r}"
            else:  # a vendor call may show the error forced above, never a server fault
                assert int(status) < 500, f"{example}: {body[:300]!r}"


def test_an_engine_failure_becomes_the_vendors_internal_error() -> None:
    class Broken(FaceMock):
        def handle(self, request: object) -> object:  # type: ignore[override]
            raise RuntimeError("a bug")

    http = AsgiClient(MockApp(Broken()))
    answer = http.post("/facepp/v3/detect", data={"api_key": "k"})
    assert (answer.status_code, answer.json()["error_message"]) == (500, "INTERNAL_ERROR")
    assert validate("facepp.detect", "error", answer.content, status=500).valid
    ace = http.post("/face/analyze", json={})
    assert (ace.status_code, ace.json()["error"]["code"]) == (500, "api_error")
