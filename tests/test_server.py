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
            transport = httpx.ASGITransport(app=self.app)
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
    # nth counts the calls the rule matches from when it is added: 2 is the next-but-one.
    fault = client.post(
        "/__admin/faults", json={"operation": "facepp.detect", "status": 503, "nth": 2}
    )
    assert detect(client).status_code == 200
    assert detect(client).status_code == 503
    assert [f["id"] for f in client.get("/__admin/faults").json()] == [fault.json()["id"]]
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
    assert [entry["status"] for entry in journal] == [200, 500, 200, 200, 503]
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
        ("POST", "/__admin/config", {"colour": "red"}, 400, "unknown key(s) 'colour'; known:"),
        ("POST", "/__admin/faults", {"status": 404}, 400, "404 is not null or an integer >= 500"),
        ("POST", "/__admin/faces", {"faces": "many"}, 400, "faces: 'many' is not null or"),
        ("PUT", "/__admin/images", None, 400, "name the image URL"),
    ],
)
def test_admin_mistakes_get_a_clear_answer(
    client: AsgiClient, method: str, path: str, body: object, status: int, needle: str
) -> None:
    answer = client.request(method, path, content=orjson.dumps(body) if body is not None else b"")
    assert answer.status_code == status
    assert needle in answer.json()["error"]


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer wrong", 401),
        ("s3cret", 401),  # a bare token is not the Bearer scheme
        ("Basic s3cret", 401),
        ("Bearers3cret", 401),
        ("Bearer s3cret", 200),
        ("bearer s3cret", 200),  # the scheme is case-insensitive (RFC 9110)
    ],
)
def test_admin_token_needs_the_bearer_scheme(authorization: str | None, status: int) -> None:
    http = AsgiClient(MockApp(FaceMock(), admin_token="s3cret"))
    headers = {} if authorization is None else {"authorization": authorization}
    answer = http.get("/__admin/health", headers=headers)
    assert answer.status_code == status
    if status == 401:
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert "s3cret" not in answer.text


def test_admin_token_from_a_file_or_the_environment(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("file-token\n")
    with serving("--admin-token-file", str(token_file), admin_token="file-token") as (url, _):
        assert httpx.get(f"{url}/__admin/config").status_code == 401
        with_token = httpx.get(
            f"{url}/__admin/config", headers={"authorization": "Bearer file-token"}
        )
        assert with_token.status_code == 200
    with serving(env={"FACE_CONTRACTS_ADMIN_TOKEN": "env-token"}, admin_token="env-token") as (
        url,
        _,
    ):
        assert httpx.get(f"{url}/__admin/config").status_code == 401
        answer = httpx.get(f"{url}/__admin/config", headers={"authorization": "Bearer env-token"})
        assert answer.status_code == 200


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
def serving(
    *args: str, env: dict[str, str] | None = None, admin_token: str | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``face-contracts serve`` on a free port, until the block ends (then SIGINT). Ready
    once its first line says where it listens: the socket accepts connections then."""
    import os

    port = free_port()
    command = [*CLI, "serve", "--port", str(port), *args]
    url = f"http://127.0.0.1:{port}"
    environment = {**os.environ, **(env or {})}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()  # blocks until printed, or EOF on exit
            if not line.startswith(f"face-contracts mock listening on {url} "):
                process.kill()
                raise AssertionError(line + (process.stderr.read() if process.stderr else ""))
            headers = {} if admin_token is None else {"authorization": f"Bearer {admin_token}"}
            # Printed once listening: the very first request must be answered.
            health = httpx.get(f"{url}/__admin/health", headers=headers, timeout=20)
            assert health.status_code == 200, health.text
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
        assert process.stderr is not None
        log = process.stderr.read()
        assert "Traceback" not in log
        assert log.strip().splitlines()[-1] == "face-contracts mock stopped"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "/nonexistent/mock.toml"], "cannot read"),
        (["--host", "0.0.0.0"], "give --admin-token"),
        (["--workers", "0"], "--workers must be a whole number of at least 1"),
        (["--workers", "two"], "--workers must be a whole number of at least 1"),
        (["--port", "70000"], "--port must be a whole number from 0 to 65535"),
        (["--port", "-1"], "--port must be a whole number from 0 to 65535"),
        (["--port", "http"], "--port must be a whole number from 0 to 65535"),
        (["--grace", "-1"], "--grace: -1.0 is less than the minimum of 0"),
        (["--grace", "soon"], "--grace: 'soon' is not of type 'number'"),
        (["--admin-token-file", "/nonexistent/token"], "cannot read"),
        (["--admin-token", "a b"], "one token, without spaces"),
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
    """The curl lines of every marked block of the README, in order (Admin API, Scenario
    control), run against one server."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [
        part.split("<!-- curl-examples:end -->", 1)[0]
        for part in text.split("<!-- curl-examples:start -->")[1:]
    ]
    return [
        line.removeprefix("$ ")
        for block in blocks
        for line in block.splitlines()
        if line.startswith("$ curl ")
    ]


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


def test_the_printed_address_answers_at_once_with_workers() -> None:
    # The line comes once the socket listens: with worker processes too, whose server starts
    # later (a request made at once waits in the socket's backlog, it is not refused).
    with serving("--workers", "2") as (url, process):
        assert httpx.get(f"{url}/__admin/health").json()["status"] == "ok"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
