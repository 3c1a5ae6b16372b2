"""The validation proxy: real traffic forwarded unchanged, judged, recorded, replayable.

Upstreams are started here on loopback: the mock itself, a drifted vendor (the mock's answers
with one required key renamed per operation, served by a small ASGI app), an echo server
that reports what reached it, a slow one and a closed port."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import gzip
import hashlib
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest

from face_contracts.cli import main
from face_contracts.contract_suite.targets import ServerThread
from face_contracts.proxy import ProxyOptions, ProxyServer, TargetError, parse_targets
from face_contracts.recordings import RecordingError, load_recording, load_recordings
from face_contracts.server import MockApp
from face_contracts.settings import ServerSettings

from .conftest import ROOT, serving_in_thread
from .test_server_limits import WAIT, Background, read_to_end, silent_listener, status_of

pytest_plugins = ["pytester"]

PICTURE = (ROOT / "mocks" / "images" / "default-face.jpg").read_bytes()
IMAGE_URL = "https://images.face-contracts.invalid/face.jpg"
CLI = [sys.executable, "-m", "face_contracts"]
OPERATIONS = (
    "ailab.face_key_points",
    "ailab.face_analyzer_advanced",
    "acedata.face_analyze",
    "facepp.thousandlandmark",
    "facepp.detect",
)
PATHS = {
    "ailab.face_key_points": "/api/portrait/analysis/face-key-points",
    "ailab.face_analyzer_advanced": "/api/portrait/analysis/face-analyzer-advanced",
    "acedata.face_analyze": "/face/analyze",
    "facepp.thousandlandmark": "/facepp/v1/face/thousandlandmark",
    "facepp.detect": "/facepp/v3/detect",
}
# The drift the drifted vendor introduces: a required key of each success answer renamed.
RENAMED = {
    "ailab.face_key_points": ("request_id", "requestId"),
    "ailab.face_analyzer_advanced": ("request_id", "requestId"),
    "acedata.face_analyze": ("image_width", "imageWidth"),
    "facepp.thousandlandmark": ("time_used", "timeUsed"),
    "facepp.detect": ("time_used", "timeUsed"),
}
KEYS: dict[str, Any] = {
    "ailab": "proxy-test-ailab-key-5c1d9e",
    "acedata": "proxy-test-acedata-token-8b2f4a",
    "facepp": ("proxy-test-facepp-key-3e7a10", "proxy-test-facepp-secret-9d4c22"),
}


def _request(operation: str, *, extra_fields: dict[str, str] | None = None) -> httpx.Request:
    """A valid request of ``operation`` with the test credentials (URL on a dummy host)."""
    url = f"http://upstream.invalid{PATHS[operation]}"
    fields = dict(extra_fields or {})
    if operation.startswith("facepp."):
        key, secret = KEYS["facepp"]
        data = {"api_key": key, "api_secret": secret, **fields}
        data.setdefault("return_landmark", "all" if operation.endswith("landmark") else "1")
        files = {"image_file": ("face.jpg", PICTURE, "image/jpeg")}
        return httpx.Request("POST", url, data=data, files=files)
    if operation.startswith("ailab."):
        files = {"image": ("face.jpg", PICTURE, "image/jpeg")}
        headers = {"ailabapi-api-key": str(KEYS["ailab"])}
        return httpx.Request("POST", url, data=fields, files=files, headers=headers)
    body: dict[str, Any] = {"image_url": IMAGE_URL, **fields}
    headers = {"authorization": f"Bearer {KEYS['acedata']}", "accept": "application/json"}
    return httpx.Request("POST", url, json=body, headers=headers)


def _send(client: httpx.Client, base: str, request: httpx.Request) -> httpx.Response:
    """``request`` sent to ``base`` instead of its own host, body and headers as built."""
    url = base + request.url.raw_path.decode()
    headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
    return client.request(request.method, url, headers=headers, content=request.read())


# --- upstreams ------------------------------------------------------------------------------


async def _read(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(
    send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers or []})
    await send({"type": "http.response.body", "body": body})


class DriftedVendor:
    """Answers the five operations as the mock does, but with one required key renamed
    (and, with ``echo``, the caller's credential echoed in an extra member and a cookie
    set): a vendor whose answers drifted. ``sent`` keeps every body it sent, by path."""

    def __init__(self, mock_url: str, *, echo: bool = False, gzip_answers: bool = False) -> None:
        self.mock_url = mock_url
        self.echo = echo
        self.gzip_answers = gzip_answers
        self.sent: dict[str, list[bytes]] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await _read(receive)
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in (b"host",)]
        async with httpx.AsyncClient(trust_env=False, timeout=60) as client:
            answer = await client.request(
                scope["method"], self.mock_url + scope["path"], headers=headers, content=body
            )
        operation = next(op for op, path in PATHS.items() if path == scope["path"])
        document = answer.json()
        if answer.status_code == 200:
            old, new = RENAMED[operation]
            document = {(new if key == old else key): value for key, value in document.items()}
            if self.echo:
                # The caller's bare credential, without the name or scheme that would give
                # it away: only the values the request carried can mask it.
                sent = dict(scope["headers"])
                credential = sent.get(b"ailabapi-api-key") or sent.get(b"authorization", b"")
                document["echo"] = credential.decode().split()[-1]
        data = orjson.dumps(document)
        out = [(b"content-type", b"application/json"), (b"x-vendor-trace", b"trace-42")]
        if self.echo:
            out.append((b"set-cookie", b"session=proxy-test-set-cookie-61fe0a; HttpOnly"))
        if self.gzip_answers:
            data = gzip.compress(data, mtime=0)
            out.append((b"content-encoding", b"gzip"))
        self.sent.setdefault(scope["path"], []).append(data)
        await _respond(send, answer.status_code, data, out)


class EchoServer:
    """Reports what reached it (method, raw path, query, headers, body digest) and answers
    in chunks without a Content-Length, with headers of its own."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await _read(receive)
        self.seen.append(
            {
                "method": scope["method"],
                "raw_path": scope["raw_path"],
                "query": scope["query_string"],
                "headers": [(k.decode(), v.decode()) for k, v in scope["headers"]],
                "body": body,
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 207,
                "headers": [
                    (b"content-type", b"application/octet-stream"),
                    (b"x-vendor-trace", b"abc"),
                    (b"x-vendor-trace", b"def"),
                ],
            }
        )
        for part in (b"\x00\x01binary", b" \xff\xfe middle ", hashlib.sha256(body).digest()):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class SlowServer:
    """Answers only once ``release`` is set (or after 10 s)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await _read(receive)
        for _ in range(500):
            if self.release.is_set():
                break
            await asyncio.sleep(0.02)
        await _respond(send, 200, b"{}", [(b"content-type", b"application/json")])


@pytest.fixture(scope="module")
def mock_server() -> Iterator[ServerThread]:
    with ServerThread(MockApp()) as server:
        httpx.put(
            f"{server.url}/__admin/images?url={quote(IMAGE_URL, safe='')}",
            content=PICTURE,
            trust_env=False,
            timeout=60,
        ).raise_for_status()
        yield server


@pytest.fixture
def drifted(mock_server: ServerThread) -> Iterator[tuple[DriftedVendor, str]]:
    vendor = DriftedVendor(mock_server.url)
    with ServerThread(vendor) as server:
        yield vendor, server.url


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=60) as http:
        yield http


def _proxy(target: str | dict[str, str], judging: str = "threads", **options: Any) -> ProxyServer:
    given = [target] if isinstance(target, str) else [f"{k}={v}" for k, v in target.items()]
    return ProxyServer(ProxyOptions(parse_targets(given), port=0, **options), judging=judging)  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- targets --------------------------------------------------------------------------------


def test_a_bare_target_serves_every_vendor_and_a_vendor_target_wins() -> None:
    assert parse_targets(["http://127.0.0.1:9/"]) == dict.fromkeys(
        ("ailab", "acedata", "facepp"), "http://127.0.0.1:9"
    )
    assert parse_targets(["facepp=https://staging.example/base/", "http://127.0.0.1:9"]) == {
        "ailab": "http://127.0.0.1:9",
        "acedata": "http://127.0.0.1:9",
        "facepp": "https://staging.example/base",
    }
    assert parse_targets(["ailab=http://[::1]:8000"]) == {"ailab": "http://[::1]:8000"}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([], "give --target URL"),
        (["nobody=http://x"], "unknown vendor 'nobody'; known: ailab, acedata, facepp"),
        (["ailab=http://a", "ailab=http://b"], "--target ailab= is given twice"),
        (["http://a", "http://b"], "only one --target may omit the vendor"),
        (["ftp://a"], "give an http:// or https:// URL with a host"),
        (["http://a?x=1"], "no query or fragment"),
        (["http://a:99999"], "not a URL"),
    ],
)
def test_unusable_targets_are_refused_with_a_reason(values: list[str], message: str) -> None:
    with pytest.raises(TargetError, match=re.escape(message)):
        parse_targets(values)


def test_a_password_in_a_target_is_refused_without_being_shown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["proxy", "--target", "facepp=https://user:hunter2-pw-71@staging.example"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no user or password in the target URL" in err
    assert "hunter2-pw-71" not in err
    assert "Traceback" not in err


def test_exposing_the_admin_api_needs_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["proxy", "--target", "http://127.0.0.1:9", "--host", "0.0.0.0"])
    assert code == 2
    assert "give --admin-token" in capsys.readouterr().err


# --- forwarding -----------------------------------------------------------------------------


def test_requests_and_answers_pass_byte_for_byte(client: httpx.Client) -> None:
    echo = EchoServer()
    with ServerThread(echo) as upstream, _proxy(upstream.url) as proxy:
        body = b'--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n\xc3\xa9\r\n--b--\r\n'
        headers = {
            "content-type": "multipart/form-data; boundary=b",
            "x-client-header": "Kept As Sent",
            "connection": "keep-alive, x-hop",
            "x-hop": "named by Connection: removed",
            "keep-alive": "timeout=5",
            "te": "trailers",
            "proxy-authorization": "Basic cHJveHk6cHc=",
        }
        path = "/facepp/v3/detect?b=2&a=%2F%20x&a=1"
        with client.stream("POST", proxy.url + path, headers=headers, content=body) as answer:
            raw = b"".join(answer.iter_raw())
            status, got = answer.status_code, answer.headers
        direct = client.post(upstream.url + path, headers=headers, content=body)

    assert status == 207
    assert raw == direct.content  # including the digest of the body the upstream received
    assert got.get_list("x-vendor-trace") == ["abc", "def"]
    assert got["content-type"] == "application/octet-stream"

    def shown(headers: httpx.Headers) -> list[tuple[str, str]]:
        return [(k, v) for k, v in headers.multi_items() if k != "date"]

    assert shown(got) == shown(direct.headers)  # the upstream's headers, and only them
    through, _ = echo.seen
    assert through["method"] == "POST"
    assert through["raw_path"] == b"/facepp/v3/detect"
    assert through["query"] == b"b=2&a=%2F%20x&a=1"
    assert through["body"] == body
    sent = dict(through["headers"])
    assert sent["x-client-header"] == "Kept As Sent"
    assert sent["content-type"] == "multipart/form-data; boundary=b"
    assert sent["host"] == upstream.url.removeprefix("http://")
    for hop in ("x-hop", "keep-alive", "te", "proxy-authorization"):
        assert hop not in sent


def test_a_chunked_upload_is_streamed_and_a_request_without_body_stays_without(
    client: httpx.Client,
) -> None:
    echo = EchoServer()

    def parts() -> Iterator[bytes]:
        yield b"first "
        yield b"second"

    with ServerThread(echo) as upstream, _proxy(upstream.url) as proxy:
        client.post(proxy.url + "/face/analyze", content=parts())
        client.get(proxy.url + "/face/other-path")
    chunked, bodiless = echo.seen
    assert chunked["body"] == b"first second"
    assert bodiless["method"] == "GET"
    assert bodiless["body"] == b""
    names = {name for name, _ in bodiless["headers"]}
    assert "transfer-encoding" not in names
    assert "content-length" not in names


def test_paths_of_no_vendor_and_vendors_without_target_are_the_proxy_s_plain_answers(
    client: httpx.Client,
) -> None:
    with _proxy({"facepp": "http://127.0.0.1:9"}) as proxy:
        unknown = client.post(proxy.url + "/v1/chat/completions", content=b"{}")
        untargeted = client.post(proxy.url + PATHS["ailab.face_key_points"], content=b"x")
        journal = client.get(proxy.url + "/__admin/requests").json()
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("text/plain")
    assert "POST /v1/chat/completions is no path of ailab, acedata, facepp" in unknown.text
    assert untargeted.status_code == 502
    assert "no --target for ailab" in untargeted.text
    assert [entry["status"] for entry in journal] == [404, 502]
    assert all(entry["error"] and not entry["judged"] for entry in journal)


class RawTarget:
    """A target on a raw socket whose answers the test writes byte by byte: each request
    (head and Content-Length body) gets ``answer(head)``'s bytes; the connection then closes
    when ``answer`` says so. ``connections`` counts the connections the proxy opened."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.connections = 0
        self.heads: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> RawTarget:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        with sock:
            buffered = b""
            while True:
                while b"\r\n\r\n" not in buffered:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    buffered += chunk
                head, _, buffered = buffered.partition(b"\r\n\r\n")
                length = re.search(rb"(?im)^content-length: *(\d+)", head)
                needed = int(length.group(1)) if length else 0
                while len(buffered) < needed:
                    buffered += sock.recv(65536)
                buffered = buffered[needed:]
                self.heads.append(head)
                data, close = self.answer(head)
                for piece in data if isinstance(data, list) else [data]:
                    sock.sendall(piece)
                    time.sleep(0.01)  # separate reads for the proxy
                if close:
                    return


def _raw_answer(text: bytes, *, close: bool = False) -> Any:
    return lambda head: (text, close)


@pytest.mark.parametrize(
    ("answer", "status", "body", "method"),
    [
        # Content-Length, in two pieces
        (
            [
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello",
                b" world",
            ],
            200,
            b"hello world",
            "POST",
        ),
        # chunked, with a trailer the client does not see
        (
            [
                b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
                b"6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
            ],
            201,
            b"hello world",
            "POST",
        ),
        # neither: the body ends when the target closes the connection
        (
            [b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello", b" world"],
            200,
            b"hello world",
            "POST",
        ),
        # an interim 100 Continue before the answer
        (
            [
                b"HTTP/1.1 100 Continue\r\n\r\n",
                b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok",
            ],
            202,
            b"ok",
            "POST",
        ),
        (b"HTTP/1.1 204 No Content\r\nX-Vendor: v\r\n\r\n", 204, b"", "POST"),
        # HEAD: the headers announce a body that never comes
        (b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", 200, b"", "HEAD"),
    ],
    ids=["content-length", "chunked", "until-close", "interim-100", "no-content", "head"],
)
def test_answers_of_every_framing_reach_the_client_whole(
    client: httpx.Client, answer: Any, status: int, body: bytes, method: str
) -> None:
    sent = answer if isinstance(answer, bytes) else b"".join(answer)
    # Only an answer framed by nothing ends with the connection (204 has no body at all).
    until_close = status != 204 and b"Content-Length" not in sent and b"chunked" not in sent
    with RawTarget(lambda head: (answer, until_close)) as target, _proxy(target.url) as proxy:
        for _ in range(2):  # the second on a kept-alive connection, or a new one
            got = client.request(method, proxy.url + "/face/other", content=b"{}")
            assert got.status_code == status
            assert got.content == body
        journal = client.get(proxy.url + "/__admin/requests").json()
    assert [entry["status"] for entry in journal] == [status, status]
    assert all(entry["error"] is None for entry in journal)
    if status == 204:
        assert got.headers["x-vendor"] == "v"


def test_kept_alive_connections_are_reused_unless_the_target_closes_them(
    client: httpx.Client,
) -> None:
    kept = _raw_answer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    with RawTarget(kept) as target, _proxy(target.url) as proxy:
        for _ in range(3):
            assert client.post(proxy.url + "/face/other", content=b"x").content == b"ok"
    assert target.connections == 1
    closing = _raw_answer(
        b"HTTP/1.1 200 OK\r\nConnection: close, X-Hop\r\nX-Hop: h\r\nContent-Length: 2\r\n\r\nok",
        close=True,
    )
    with RawTarget(closing) as target, _proxy(target.url) as proxy:
        for _ in range(3):
            answer = client.post(proxy.url + "/face/other", content=b"x")
            assert answer.content == b"ok"
            assert "x-hop" not in answer.headers  # named by the target's Connection header
    assert target.connections == 3
    assert all(head.lower().count(b"\r\nhost: ") == 1 for head in target.heads)


def test_an_answer_cut_midway_cuts_the_client_s_connection(client: httpx.Client) -> None:
    cut = _raw_answer(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this", close=True)
    with RawTarget(cut) as target, _proxy(target.url) as proxy:
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(proxy.url + "/face/other", content=b"x")
        (entry,) = client.get(proxy.url + "/__admin/requests").json()
    assert entry["status"] == 200
    assert f"{target.url} cut its answer to POST /face/other after 9 bytes" in entry["error"]


def test_an_answer_that_is_not_http_is_a_502(client: httpx.Client) -> None:
    not_http = _raw_answer(b"SSH-2.0-OpenSSH\r\n\r\n", close=True)
    with RawTarget(not_http) as target, _proxy(target.url) as proxy:
        answer = client.post(proxy.url + "/face/other", content=b"x")
    assert answer.status_code == 502
    assert answer.text.startswith(f"face-contracts proxy: {target.url} broke off the exchange")
    assert answer.headers["x-face-contracts-proxy"] == "error"


class LargeAnswers:
    """Reads the whole body, answers its SHA-256 followed by ``size`` bytes, in pieces."""

    def __init__(self, size: int) -> None:
        self.size = size

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        digest = hashlib.sha256()
        while True:
            message = await receive()
            digest.update(message.get("body", b""))
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": digest.digest(), "more_body": True})
        piece = bytes(range(256)) * 4096  # 1 MiB
        for _ in range(self.size // len(piece)):
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def test_large_bodies_stream_both_ways(client: httpx.Client) -> None:
    upload = hashlib.sha256(b"seed").digest() * (12 << 15)  # 12 MiB

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(upload), 1 << 20):
            yield upload[start : start + (1 << 20)]

    with ServerThread(LargeAnswers(40 << 20)) as upstream, _proxy(upstream.url) as proxy:
        with client.stream("POST", proxy.url + "/face/other", content=pieces()) as answer:
            received = hashlib.sha256()
            first = b""
            for chunk in answer.iter_raw():
                if len(first) < 32:
                    first += chunk[: 32 - len(first)]
                received.update(chunk)
            size = answer.num_bytes_downloaded
        (entry,) = client.get(proxy.url + "/__admin/requests").json()
    assert first == hashlib.sha256(upload).digest()  # the target got the upload whole
    assert size == 32 + (40 << 20)
    assert entry["not_judged"] == "not one of the five operations"
    assert entry["error"] is None


# --- upstream failures ----------------------------------------------------------------------


def test_a_closed_port_is_a_502_naming_the_target(client: httpx.Client) -> None:
    target = f"http://127.0.0.1:{_free_port()}"
    with _proxy(target) as proxy:
        answer = _send(client, proxy.url, _request("facepp.detect"))
        journal = client.get(proxy.url + "/__admin/requests").json()
    assert answer.status_code == 502
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["x-face-contracts-proxy"] == "error"
    assert answer.text.startswith(f"face-contracts proxy: cannot connect to {target}")
    assert "POST /facepp/v3/detect" in answer.text
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(answer.content)  # never dressed as a vendor's error
    (entry,) = journal
    assert entry["status"] == 502
    assert entry["error"].startswith("face-contracts proxy: cannot connect")


def test_a_target_too_slow_is_a_504_naming_it(client: httpx.Client) -> None:
    slow = SlowServer()
    with (
        ServerThread(slow) as upstream,
        _proxy(upstream.url, upstream_timeout=0.3) as proxy,
    ):
        answer = _send(client, proxy.url, _request("acedata.face_analyze"))
        slow.release.set()
    assert answer.status_code == 504
    assert answer.text.startswith(f"face-contracts proxy: {upstream.url} took longer than 0.3 s")


def test_a_tls_failure_is_a_502_that_says_tls(client: httpx.Client) -> None:
    with ServerThread(EchoServer()) as upstream:  # plain HTTP where TLS is expected
        target = upstream.url.replace("http://", "https://")
        with _proxy(target) as proxy:
            answer = _send(client, proxy.url, _request("facepp.detect"))
    assert answer.status_code == 502
    assert answer.text.startswith(f"face-contracts proxy: TLS with {target} failed")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, made by the openssl command
    (Debian's ca-certificates brings it), and its key."""
    openssl = shutil.which("openssl")
    if openssl is None:
        message = (
            "the openssl command is not installed: the TLS tests need it to make a certificate"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=face-contracts test target",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextlib.contextmanager
def tls_target(app: Any, certificate: tuple[Path, Path]) -> Iterator[str]:
    """``app`` served over TLS on a loopback port; yields its https:// URL."""
    import uvicorn

    sock = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        ssl_certfile=str(certificate[0]),
        ssl_keyfile=str(certificate[1]),
    )
    with serving_in_thread(uvicorn.Server(config), sock, scheme="https") as url:
        yield url


def test_a_tls_target_is_verified_and_used_when_trusted(
    certificate: tuple[Path, Path], client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    echo = EchoServer()
    with tls_target(echo, certificate) as target:
        with _proxy(target) as proxy:
            untrusted = client.post(proxy.url + "/face/analyze", content=b"{}")
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # the way to trust a private CA
        with _proxy(target) as proxy:
            trusted = client.post(proxy.url + "/face/analyze", content=b"{}")
            again = client.post(proxy.url + "/face/analyze", content=b"[]")
    assert untrusted.status_code == 502
    assert untrusted.text.startswith(f"face-contracts proxy: TLS with {target} failed")
    assert "certificate verify failed" in untrusted.text
    assert trusted.status_code == again.status_code == 207
    assert [seen["body"] for seen in echo.seen] == [b"{}", b"[]"]
    assert dict(echo.seen[0]["headers"])["host"] == target.removeprefix("https://")


def test_a_body_that_does_not_arrive_in_time_is_a_408() -> None:
    echo = EchoServer()
    slow_body = ServerSettings(body_timeout=0.3)
    with ServerThread(echo) as upstream, _proxy(upstream.url, server=slow_body) as proxy:
        host, port = proxy.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                b"POST /facepp/v3/detect HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n\r\napi_key=1"
            )
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"did not arrive within 0.3 s" in answer
    # The target never got a whole request: its connection was cut (or never used).
    assert all(len(seen["body"]) < 100 for seen in echo.seen)


# --- judging --------------------------------------------------------------------------------


def test_the_mock_s_answers_pass_the_contract_and_are_journaled_judged(
    mock_server: ServerThread, client: httpx.Client
) -> None:
    with _proxy(mock_server.url) as proxy:
        for operation in OPERATIONS:
            answer = _send(client, proxy.url, _request(operation))
            assert answer.status_code == 200, answer.text
        refused = _send(client, proxy.url, _request("facepp.detect", extra_fields={"api_key": ""}))
        journal = client.get(proxy.url + "/__admin/requests").json()
        drift = client.get(proxy.url + "/__admin/drift").json()
    assert refused.status_code == 400
    assert [entry["operation"] for entry in journal] == [*OPERATIONS, "facepp.detect"]
    for entry in journal:
        assert entry["judged"], entry
        assert entry["drifts"] == [], entry["drifts"]
        assert entry["response"] is not None
    assert all(entry["request_valid"] for entry in journal[:-1])
    assert journal[-1]["request_valid"] is False  # an empty api_key breaks the request contract
    assert journal[-1]["request"]["credentials"] == "missing"
    assert drift["summary"]["drifted_answers"] == 0
    assert drift["summary"]["exchanges"] == 6
    assert drift["summary"]["invalid_requests"] == 1


def test_the_client_does_not_wait_for_judging(
    mock_server: ServerThread, client: httpx.Client
) -> None:
    release = threading.Event()
    with _proxy(mock_server.url) as proxy:
        judged = proxy.app._judge._judged

        def held(exchange: Any) -> Any:
            release.wait(30)
            return judged(exchange)

        proxy.app._judge._judged = held  # type: ignore[method-assign]
        answer = _send(client, proxy.url, _request("facepp.detect"))
        assert answer.status_code == 200  # answered while its judging cannot finish
        assert not release.is_set()
        release.set()
        (entry,) = client.get(proxy.url + "/__admin/requests").json()
    assert entry["judged"]


def test_requests_wait_while_judging_is_too_far_behind(
    monkeypatch: pytest.MonkeyPatch, client: httpx.Client
) -> None:
    import face_contracts.proxy

    monkeypatch.setattr(face_contracts.proxy, "JUDGING_BACKLOG", 2)
    release = threading.Event()
    echo = EchoServer()
    with (
        ServerThread(echo) as upstream,
        _proxy(upstream.url) as proxy,
        concurrent.futures.ThreadPoolExecutor(1) as background,
    ):
        judged = proxy.app._judge._judged

        def held(exchange: Any) -> Any:
            release.wait(30)
            return judged(exchange)

        proxy.app._judge._judged = held  # type: ignore[method-assign]
        for _ in range(2):
            assert client.post(proxy.url + "/face/analyze", content=b"{}").status_code == 207
        third = background.submit(client.post, proxy.url + "/face/analyze", content=b"{}")
        for _ in range(1000):
            if proxy.app.waiting_for_judging:
                break
            time.sleep(0.01)
        assert proxy.app.waiting_for_judging == 1
        assert len(echo.seen) == 2  # held back, not forwarded
        release.set()
        assert third.result(30).status_code == 207
        journal = client.get(proxy.url + "/__admin/requests").json()
    assert len(echo.seen) == 3
    assert len(journal) == 3


def test_judging_goes_on_in_threads_when_the_judging_process_dies(
    mock_server: ServerThread, client: httpx.Client
) -> None:
    with _proxy(mock_server.url, "process") as proxy:
        assert _send(client, proxy.url, _request("facepp.detect")).status_code == 200
        proxy.app.settle()
        executor = proxy.app._executor
        assert isinstance(executor, concurrent.futures.ProcessPoolExecutor)
        for process in list(executor._processes.values()):
            process.kill()
            process.join(10)
        for _ in range(3):
            assert _send(client, proxy.url, _request("facepp.detect")).status_code == 200
        journal = client.get(proxy.url + "/__admin/requests").json()
        assert proxy.app._judging == "threads"
    first, *after, last = journal
    assert first["judged"]  # in the judging process
    assert all(entry["judged"] or "judging failed" in entry["not_judged"] for entry in after)
    assert last["judged"]  # in a thread, once the process was found dead
    assert last["drifts"] == []


def test_a_gzip_answer_reaches_the_client_compressed_and_is_judged_decompressed(
    mock_server: ServerThread, client: httpx.Client
) -> None:
    vendor = DriftedVendor(mock_server.url, gzip_answers=True)
    with ServerThread(vendor) as upstream, _proxy(upstream.url) as proxy:
        request = _request("facepp.detect")
        with client.stream(
            "POST",
            proxy.url + PATHS["facepp.detect"],
            headers={k: v for k, v in request.headers.items() if k != "host"},
            content=request.read(),
        ) as answer:
            raw = b"".join(answer.iter_raw())
        (entry,) = client.get(proxy.url + "/__admin/requests").json()
    assert raw == vendor.sent[PATHS["facepp.detect"]][0]
    assert raw[:2] == b"\x1f\x8b"
    assert {(d["rule"], d["pointer"]) for d in entry["drifts"]} >= {("required", "/time_used")}


# --- done when: a drifted vendor ------------------------------------------------------------


def test_a_drifted_vendor_is_passed_through_named_reported_recorded_and_replayed(
    drifted: tuple[DriftedVendor, str], tmp_path: Path, client: httpx.Client
) -> None:
    vendor, upstream = drifted
    report, junit, recordings = tmp_path / "drift.json", tmp_path / "junit.xml", tmp_path / "rec"
    with _proxy(upstream, drift_report=report, junitxml=junit, record=recordings) as proxy:
        for _ in range(2):
            for operation in OPERATIONS:
                answer = _send(client, proxy.url, _request(operation))
                assert answer.status_code == 200, answer.text
                assert answer.content == vendor.sent[PATHS[operation]][-1]  # unchanged
        tally = client.get(proxy.url + "/__admin/drift").json()
        flushed = client.post(proxy.url + "/__admin/drift/flush").json()
        journal = client.get(proxy.url + "/__admin/requests").json()

    assert flushed["written"] == [str(report), str(junit)]
    assert tally["summary"]["drifted_answers"] == 10
    for operation, (old, new) in RENAMED.items():
        drifts = tally["operations"][operation]["drifts"]
        missing = [d for d in drifts if (d["rule"], d["pointer"]) == ("required", f"/{old}")]
        assert len(missing) == 1, drifts  # identical drifts are counted, not repeated
        (named,) = missing
        assert named["count"] == 2
        assert named["operation"] == operation
        assert named["fails"] is True
        assert named["got"] == "(missing)"
        assert old in named["expected"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", named["first_seen"])
        # The renamed key's value differs per answer: still one drift, counted twice.
        (unknown,) = [d for d in drifts if d["pointer"] == f"/{new}"]
        assert (unknown["severity"], unknown["count"]) == ("warning", 2)
    written = orjson.loads(report.read_bytes())
    assert written["format"] == "face-contracts proxy drift report 1"
    assert written["operations"] == tally["operations"]
    xml = junit.read_text()
    assert xml.count("<testcase") == 10
    assert 'failures="5"' in xml
    assert all(entry["drifted"] for entry in journal)

    files = sorted(recordings.glob("*/*.json"))
    assert [path.parent.name for path in files] == sorted(OPERATIONS)  # one per request
    for path in files:
        text = path.read_text()
        for secret in (KEYS["ailab"], KEYS["acedata"], *KEYS["facepp"]):
            assert secret not in text
        recording = load_recording(path)
        assert recording.drifted
        assert any(d["pointer"] == f"/{RENAMED[recording.operation][0]}" for d in recording.drift)
        sent = orjson.loads(vendor.sent[PATHS[recording.operation]][0])
        assert recording.body == sent
    assert all(r.drifted for r in load_recordings(recordings))
    with pytest.raises(RecordingError, match="breaks the contract"):
        load_recordings(recordings, allow_drift=False)


@pytest.mark.parametrize("how", ["settings file", "flags"])
def test_serve_replays_the_drifted_recordings(
    drifted: tuple[DriftedVendor, str], tmp_path: Path, client: httpx.Client, how: str
) -> None:
    vendor, upstream = drifted
    recordings = tmp_path / "rec"
    with _proxy(upstream, record=recordings) as proxy:
        for operation in OPERATIONS:
            _send(client, proxy.url, _request(operation))
    if how == "flags":
        arguments = ["--recordings", str(recordings), "--replay-drift"]
    else:
        settings = tmp_path / "replay.toml"
        settings.write_text('recordings = "rec"\nreplay_drift = true\n')
        arguments = ["--config", str(settings)]
    with _cli(["serve", "--port", "0", *arguments]) as command:
        for operation in OPERATIONS:
            replayed = _send(client, command.url, _request(operation))
            assert replayed.status_code == 200
            assert replayed.json() == orjson.loads(vendor.sent[PATHS[operation]][0])
        journal = client.get(command.url + "/__admin/requests").json()
    assert command.returncode == 0
    assert len(journal) == len(OPERATIONS)
    assert all("drifted recording" in orjson.dumps(entry).decode() for entry in journal)


# --- secrets --------------------------------------------------------------------------------

SECRETS = {
    "authorization_token": "proxy-sec-authorization-token-a1",
    "ailab_key": "proxy-sec-ailab-upper-key-b2",
    "x_api_key": "proxy-sec-x-api-key-c3",
    "cookie": "proxy-sec-cookie-d4",
    "proxy_password": "proxy-sec-proxy-basic-pw-e5",
    "basic_password": "proxy-sec-basic-pw-f6",
    "custom_signature": "proxy-sec-custom-signature-g7",
    "facepp_key": "proxy-sec-facepp-key-h8",
    "facepp_secret": "proxy-sec-facepp-secret-i9",
    "form_client_secret": "proxy-sec-form-client-secret-j0",
    "form_token": "proxy-sec-form-token-k1",
    "form_password": "proxy-sec-form-password-l2",
    "acedata_token": "proxy-sec-acedata-bearer-m3",
    "url_password": "proxy-sec-url-userinfo-pw-n4",
    "amz_signature": "proxy-sec-x-amz-signature-o5",
    "amz_credential": "proxy-sec-x-amz-credential-p6",
    "url_sig": "proxy-sec-url-sig-q7",
    "url_token": "proxy-sec-url-token-r8",
    "json_client_secret": "proxy-sec-json-client-secret-s9",
    "json_nested_token": "proxy-sec-json-nested-access-token-t0",
    "query_key": "proxy-sec-query-api-key-u1",
    "query_token": "proxy-sec-query-token-v2",
    "query_sig": "proxy-sec-query-sig-w3",
    "query_amz": "proxy-sec-query-amz-signature-x4",
}


def _secret_requests() -> list[tuple[str, httpx.Request]]:
    """Requests carrying every secret of :data:`SECRETS`, each in its own placement."""
    s = SECRETS
    basic = base64.b64encode(f"user:{s['basic_password']}".encode()).decode()
    proxy_basic = base64.b64encode(f"proxy:{s['proxy_password']}".encode()).decode()
    query = (
        f"?api_key={s['query_key']}&token={s['query_token']}&sig={s['query_sig']}"
        f"&X-Amz-Signature={s['query_amz']}&return=1"
    )
    signed = (
        f"https://user:{s['url_password']}@images.example.com/face.jpg?X-Amz-Signature="
        f"{s['amz_signature']}&X-Amz-Credential={s['amz_credential']}&sig={s['url_sig']}"
        f"&token={s['url_token']}"
    )
    facepp = httpx.Request(
        "POST",
        f"http://x{PATHS['facepp.detect']}{query}",
        data={
            "api_key": s["facepp_key"],
            "api_secret": s["facepp_secret"],
            "client_secret": s["form_client_secret"],
            "token": s["form_token"],
            "password": s["form_password"],
            "return_landmark": "1",
        },
        files={"image_file": ("face.jpg", PICTURE, "image/jpeg")},
        headers={
            "Authorization": f"Token {s['authorization_token']}",
            "Cookie": f"session={s['cookie']}",
            "Proxy-Authorization": f"Basic {proxy_basic}",
            "X-Custom-Signature": s["custom_signature"],
        },
    )
    ailab = httpx.Request(
        "POST",
        f"http://x{PATHS['ailab.face_key_points']}",
        files={"image": ("face.jpg", PICTURE, "image/jpeg")},
        headers={
            "AILABAPI-API-KEY": s["ailab_key"],
            "X-Api-Key": s["x_api_key"],
            "Authorization": f"Basic {basic}",
        },
    )
    acedata = httpx.Request(
        "POST",
        f"http://x{PATHS['acedata.face_analyze']}",
        json={
            "image_url": signed,
            "client_secret": s["json_client_secret"],
            "meta": {"access_token": s["json_nested_token"]},
        },
        headers={"authorization": f"bearer {s['acedata_token']}"},
    )
    return [
        ("facepp.detect", facepp),
        ("ailab.face_key_points", ailab),
        ("acedata.face_analyze", acedata),
    ]


class _Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured_logs() -> Iterator[_Captured]:
    handler = _Captured()
    loggers = [logging.getLogger(n) for n in ("uvicorn.error", "uvicorn.access", "face_contracts")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


@pytest.mark.parametrize("judging", ["threads", "process"])
def test_secrets_are_never_stored(
    mock_server: ServerThread,
    tmp_path: Path,
    client: httpx.Client,
    captured_logs: _Captured,
    judging: str,
) -> None:
    vendor = DriftedVendor(mock_server.url, echo=True)
    report, junit, recordings = tmp_path / "drift.json", tmp_path / "junit.xml", tmp_path / "rec"
    with (
        ServerThread(vendor) as upstream,
        _proxy(
            upstream.url,
            judging,
            drift_report=report,
            junitxml=junit,
            record=recordings,
            access_log=True,
        ) as proxy,
    ):
        for operation, request in _secret_requests():
            answer = _send(client, proxy.url, request)
            assert answer.content == vendor.sent[PATHS[operation]][-1]  # the client's own
        refused = f"http://127.0.0.1:{_free_port()}"
        with _proxy(refused, access_log=True) as failing:
            for _, request in _secret_requests():
                _send(client, failing.url, request)
            failed = client.get(failing.url + "/__admin/requests").text
        stored = {
            "journal": client.get(proxy.url + "/__admin/requests").text,
            "failed journal": failed,
            "drift": client.get(proxy.url + "/__admin/drift").text,
        }
    stored["report"] = report.read_text()
    stored["junit"] = junit.read_text()
    for path in sorted(recordings.glob("*/*.json")):
        stored[f"recording {path.name}"] = path.read_text()
    stored["logs"] = "\n".join(captured_logs.lines)
    assert len(stored) == 9  # three recordings
    assert "proxy-test-set-cookie-61fe0a" not in stored["journal"]
    leaks = {
        (where, name)
        for where, text in stored.items()
        for name, secret in SECRETS.items()
        if secret in text or quote(secret) in text
    }
    assert leaks == set()
    assert "echo" in stored["drift"]  # the echoed credential is named as a drift, masked


# --- admin ----------------------------------------------------------------------------------


def test_the_admin_api_wants_its_bearer_token_and_resets(
    mock_server: ServerThread, client: httpx.Client
) -> None:
    token = "proxy-admin-token-7c9e51"
    with _proxy(mock_server.url, admin_token=token) as proxy:
        assert client.get(proxy.url + "/__admin/health").status_code == 401
        bare = {"authorization": token}
        assert client.get(proxy.url + "/__admin/health", headers=bare).status_code == 401
        auth = {"authorization": f"Bearer {token}"}
        health = client.get(proxy.url + "/__admin/health", headers=auth).json()
        assert health["mode"] == "proxy"
        assert health["targets"]["facepp"] == mock_server.url
        _send(client, proxy.url, _request("facepp.detect"))
        assert len(client.get(proxy.url + "/__admin/requests", headers=auth).json()) == 1
        flush = client.post(proxy.url + "/__admin/drift/flush", headers=auth)
        assert flush.status_code == 400
        assert "--drift-report" in flush.json()["error"]
        assert client.post(proxy.url + "/__admin/reset", headers=auth).json() == {"reset": True}
        assert client.get(proxy.url + "/__admin/requests", headers=auth).json() == []
        tally = client.get(proxy.url + "/__admin/drift", headers=auth).json()
        assert tally["summary"]["exchanges"] == 0
        missing = client.get(proxy.url + "/__admin/nothing", headers=auth)
        assert missing.status_code == 404
        assert "GET /__admin/drift" in missing.json()["routes"]


def test_one_recording_per_distinct_request(
    mock_server: ServerThread, tmp_path: Path, client: httpx.Client
) -> None:
    recordings = tmp_path / "rec"
    with _proxy(mock_server.url, record=recordings) as proxy:
        for landmark in ("1", "1", "2"):
            _send(
                client,
                proxy.url,
                _request("facepp.detect", extra_fields={"return_landmark": landmark}),
            )
        journal = client.get(proxy.url + "/__admin/requests").json()
    files = sorted(recordings.glob("*/*.json"))
    assert len(files) == 2
    assert [bool(entry["recorded"]) for entry in journal] == [True, False, True]
    for path in files:
        recording = load_recording(path)
        assert not recording.drifted
        assert recording.drift == ()
        assert "drift" not in orjson.loads(path.read_bytes())  # the format is unchanged


def test_the_earliest_exchange_is_recorded_when_a_later_one_is_judged_first(
    mock_server: ServerThread, tmp_path: Path, client: httpx.Client
) -> None:
    recordings = tmp_path / "rec"
    second_recorded = threading.Event()
    with _proxy(mock_server.url, record=recordings) as proxy:
        record = proxy.app._judge._record

        def in_reverse(exchange: Any, *arguments: Any) -> Any:
            if exchange.seq == 1:  # the first exchange is recorded after the second
                assert second_recorded.wait(30)
                return record(exchange, *arguments)
            try:
                return record(exchange, *arguments)
            finally:
                second_recorded.set()

        proxy.app._judge._record = in_reverse  # type: ignore[method-assign,assignment]
        answers = [
            _send(client, proxy.url, _request("facepp.detect")).json()["request_id"]
            for _ in range(2)
        ]
        journal = client.get(proxy.url + "/__admin/requests").json()
    (path,) = recordings.glob("*/*.json")
    assert load_recording(path).body["request_id"] == answers[0]
    assert [entry["id"] for entry in journal] == [1, 2]
    assert [bool(entry["recorded"]) for entry in journal] == [True, False]


# --- the command ----------------------------------------------------------------------------


class _Command:
    """A ``face-contracts`` process started by :func:`_cli`: its URL while it runs, its exit
    status and standard error once stopped."""

    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url
        self.returncode: int | None = None
        self.stderr = ""


@contextlib.contextmanager
def _cli(arguments: list[str]) -> Iterator[_Command]:
    """Run the command until the block ends, then stop it with SIGTERM."""
    with subprocess.Popen(
        [*CLI, *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        line = process.stdout.readline()
        found = re.search(r"listening on (http://[^ ,]+)", line)
        if not found:
            process.kill()
            pytest.fail(f"the command did not start: {line}{process.stderr.read()}")
        command = _Command(process, found.group(1))
        try:
            yield command
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                _, command.stderr = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                _, command.stderr = process.communicate()
            command.returncode = process.returncode


@pytest.mark.parametrize("strict", [False, True])
def test_the_command_reports_on_shutdown_and_strict_drift_sets_the_exit_status(
    drifted: tuple[DriftedVendor, str], tmp_path: Path, client: httpx.Client, strict: bool
) -> None:
    _, upstream = drifted
    report = tmp_path / "drift.json"
    arguments = ["proxy", "--target", upstream, "--port", "0", "--drift-report", str(report)]
    with _cli(arguments + (["--strict-drift"] if strict else [])) as command:
        assert _send(client, command.url, _request("acedata.face_analyze")).status_code == 200
    assert command.returncode == (1 if strict else 0)
    assert "1 exchange(s), 1 answer(s) judged, 1 drifted" in command.stderr
    assert "Traceback" not in command.stderr
    written = orjson.loads(report.read_bytes())
    assert written["strict"] is strict
    (drift,) = [
        d
        for d in written["operations"]["acedata.face_analyze"]["drifts"]
        if d["pointer"] == "/imageWidth"
    ]
    assert drift["fails"] is strict  # an unknown extra field fails only when strict


# --- the server in front: serve's stack and limits --------------------------------------------


def test_too_many_header_fields_get_431_from_the_proxy() -> None:
    with _proxy("http://127.0.0.1:9") as proxy:
        port = int(proxy.url.rsplit(":", 1)[1])
        for count, status in ((90, 200), (101, 431)):
            fields = b"".join(b"X-Field-%d: v\r\n" % index for index in range(count))
            with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
                sock.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n" + fields)
                sock.sendall(b"Connection: close\r\n\r\n")
                assert status_of(read_to_end(sock)) == status


def test_an_idle_connection_is_closed_after_the_keep_alive_timeout() -> None:
    settings = ServerSettings(keep_alive_timeout=0.5)
    with _proxy("http://127.0.0.1:9", server=settings) as proxy:
        port = int(proxy.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
            sock.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = read_to_end(sock)  # answered, then closed once idle
    assert status_of(answer) == 200
    assert answer.endswith(b"}")


def test_a_stop_signal_ends_an_open_request_after_the_grace_period(tmp_path: Path) -> None:
    # The target accepts and never answers; the proxy would wait 60 s for it (the upstream
    # timeout): it stops after its 0.5 s grace instead, and still writes its reports.
    settings = tmp_path / "proxy.toml"
    settings.write_text("[server]\ngrace = 0.5\n")
    report, junit = tmp_path / "drift.json", tmp_path / "drift.xml"
    with silent_listener() as target:
        url = f"http://127.0.0.1:{target.getsockname()[1]}"
        arguments = ["proxy", "--target", url, "--port", "0", "--config", str(settings)]
        arguments += ["--drift-report", str(report), "--junitxml", str(junit)]
        target.settimeout(WAIT)
        with _cli(arguments) as command:
            waiting = Background("POST", command.url + "/face/analyze", content=b"{}")
            held, _ = target.accept()  # the proxy has forwarded the request: it is in flight
            with held:
                command.process.send_signal(signal.SIGTERM)
                assert command.process.wait(timeout=WAIT) == 0
        assert waiting.cut()
    assert "face-contracts proxy stopping: 1 request in flight, up to 0.5 s" in command.stderr
    assert "face-contracts proxy stopped" in command.stderr
    assert "Traceback" not in command.stderr
    assert orjson.loads(report.read_bytes())["format"] == "face-contracts proxy drift report 1"
    assert junit.read_text().startswith("<?xml")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[server]\nmax_headers = 2\n", "[server] max_headers: 2 is less than the minimum of 8"),
        ("[server]\nstate = 'redis://x'\n", "[server] state: a setting of the mock's engine"),
        ("faces = 2\n", "faces: not a proxy setting; the proxy reads only the [server] table"),
        ("[server\n", "not valid TOML"),
    ],
)
def test_the_proxy_s_settings_file_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, message: str
) -> None:
    settings = tmp_path / "proxy.toml"
    settings.write_text(table)
    code = main(["proxy", "--target", "http://127.0.0.1:9", "--config", str(settings)])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err, err
    assert "Traceback" not in err


def readme_proxy_examples() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("<!-- proxy-examples:start -->", 1)[1]
    block = block.split("<!-- proxy-examples:end -->", 1)[0]
    return [line.removeprefix("$ ") for line in block.splitlines() if line.startswith("$ curl ")]


def test_the_readme_proxy_examples_work(mock_server: ServerThread, tmp_path: Path) -> None:
    import shlex

    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    examples = readme_proxy_examples()
    assert len(examples) == 4
    marker = "\nHTTP-STATUS:"
    with _proxy(mock_server.url, drift_report=tmp_path / "drift.json") as proxy:
        for example in examples:
            command = shlex.split(example.replace("http://127.0.0.1:8081", proxy.url))
            result = subprocess.run(
                [*command, "--max-time", "20", "-w", marker + "%{http_code}"],
                capture_output=True,
                text=True,
                check=False,
                cwd=ROOT,
                timeout=30,
            )
            assert result.returncode == 0, f"{example}\n{result.stderr[:300]}"
            body, status = result.stdout.rsplit(marker, 1)
            assert status == "200", f"{example}: {body[:300]}"
            assert re.match(r"\s*[\[{]", body), example
    assert orjson.loads((tmp_path / "drift.json").read_bytes())["summary"]["exchanges"] == 1


# --- the pytest fixture ---------------------------------------------------------------------

FIXTURE_TESTS = """
import httpx

def _detect(url):
    return httpx.post(
        url + "/facepp/v3/detect",
        data={"api_key": "k-1234", "api_secret": "s-1234", "return_landmark": "1"},
        files={"image_file": ("face.jpg", PICTURE, "image/jpeg")},
        trust_env=False,
        timeout=60,
    )

def _analyze(url):
    return httpx.post(
        url + "/face/analyze",
        json={"image_url": IMAGE_URL},
        headers={"authorization": "Bearer t-1234", "accept": "application/json"},
        trust_env=False,
        timeout=60,
    )

def test_clean(face_proxy):
    assert _analyze(face_proxy.url).status_code == 200
    assert len(face_proxy.exchanges()) == 1
    assert face_proxy.drifts() == []

def test_drifted(face_proxy):
    assert _detect(face_proxy.url).status_code == 200

def test_inspected(face_proxy):
    face_proxy.fail_on_drift = False
    assert _detect(face_proxy.url).status_code == 200
    assert {d["pointer"] for d in face_proxy.drifts() if d["fails"]} == {"/time_used"}
"""


def test_the_face_proxy_fixture_fails_a_test_whose_traffic_drifted(
    pytester: pytest.Pytester, drifted: tuple[DriftedVendor, str], mock_server: ServerThread
) -> None:
    _, upstream = drifted
    pytester.makeconftest(
        f"""
import pytest
from face_contracts.proxy import ProxyOptions, parse_targets

@pytest.fixture(scope="session")
def face_proxy_options():
    return ProxyOptions(parse_targets(["{mock_server.url}", "facepp={upstream}"]), port=0)
"""
    )
    pytester.makepyfile(
        test_traffic=f"PICTURE = {PICTURE!r}\nIMAGE_URL = {IMAGE_URL!r}\n" + FIXTURE_TESTS
    )
    result = pytester.runpytest_inprocess(
        "-p", "face_contracts._proxy_fixture", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_drifted*",
            "*face-contracts proxy: the traffic drifted from the contract:*",
            # "[required]" written with fnmatch's "?": brackets are a character class there
            "*facepp.detect answer: at /time_used ?required?: required key 'time_used' is "
            "missing; got (missing)",
        ]
    )


def test_the_face_proxy_fixture_needs_a_target(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_nothing="def test_it(face_proxy):\n    pass\n")
    result = pytester.runpytest_inprocess(
        "-p", "face_contracts._proxy_fixture", "-p", "no:cacheprovider"
    )
    result.stdout.fnmatch_lines(["*set FACE_CONTRACTS_PROXY_TARGET*"])
