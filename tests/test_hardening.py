"""Malformed input: every operation answers the vendor's documented error, the server stays
up, nothing is read past the vendor's limit."""

from __future__ import annotations

import base64
import socket
import time
from typing import Any

import pytest

from face_contracts import operations, validate
from face_contracts.images import encode_image, truncate_image
from face_contracts.mock import FaceMock, HttpRequest

from .conftest import png_bomb
from .test_server import serving

PATHS = {op.id: op.path for op in operations()}
PICTURE = encode_image("JPEG", 320, 240, seed=5, faces=((90, 40, 140, 160),))
AUTH = {"ailabapi-api-key": "k", "authorization": "Bearer t"}


def multipart(parts: list[tuple[bytes, bytes]], boundary: bytes = b"b0undary") -> bytes:
    body = b""
    for headers, content in parts:
        body += b"--" + boundary + b"\r\n" + headers + b"\r\n\r\n" + content + b"\r\n"
    return body + b"--" + boundary + b"--\r\n"


def field(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    return b'Content-Disposition: form-data; name="' + name + b'"', value


def image_part(name: bytes, data: bytes) -> tuple[bytes, bytes]:
    return (
        b'Content-Disposition: form-data; name="'
        + name
        + b'"; filename="x.jpg"\r\nContent-Type: image/jpeg',
        data,
    )


FACEPP_OK = [field(b"api_key", b"k"), field(b"api_secret", b"s"), field(b"return_landmark", b"all")]


def answer(
    operation: str, content_type: str | None, body: bytes, method: str = "POST"
) -> tuple[int, Any]:
    headers = dict(AUTH)
    if content_type is not None:
        headers["content-type"] = content_type
    response = FaceMock().handle(HttpRequest(method, PATHS[operation], headers, body))
    kind = "response" if response.status == 200 else "error"
    document = (
        response.body.decode() if response.content_type.startswith("text/") else response.json()
    )
    report = validate(operation, kind, document, status=response.status)
    assert report.valid, str(report)
    return response.status, document


MP = "multipart/form-data; boundary=b0undary"
CORPUS = [
    (
        "facepp.thousandlandmark",
        "multipart/form-data",
        multipart([*FACEPP_OK, image_part(b"image_file", PICTURE)]),
        400,
        "no boundary",
    ),
    (
        "facepp.thousandlandmark",
        MP,
        multipart([*FACEPP_OK, image_part(b"image_file", PICTURE)])[:-40],
        400,
        "truncated part",
    ),
    (
        "facepp.thousandlandmark",
        MP,
        multipart(
            [*FACEPP_OK, field(b"return_landmark", b"bogus"), image_part(b"image_file", PICTURE)]
        ),
        200,
        "duplicate field: the first wins",
    ),
    (
        "facepp.thousandlandmark",
        MP,
        multipart(
            [
                field(b"api_key", b"k"),
                field(b"api_secret", b"s"),
                field(b"return_landmark", b"all" * 300_000),
                image_part(b"image_file", PICTURE),
            ]
        ),
        400,
        "huge field",
    ),
    (
        "facepp.detect",
        MP,
        multipart(
            [
                field(b"api_key", b"k"),
                field(b"api_secret", b"s"),
                field(b"\xff\xfename", b"x"),
                image_part(b"image_file", PICTURE),
            ]
        ),
        200,
        "non-UTF-8 field name is ignored",
    ),
    (
        "facepp.detect",
        MP,
        multipart(
            [
                field(b"api_key", b"k"),
                field(b"api_secret", b"s"),
                field(b"return_landmark", b"\xff\xfe"),
            ]
        ),
        400,
        "non-UTF-8 value",
    ),
    ("facepp.detect", None, b"api_key=k&api_secret=s", 400, "no content type"),
    ("facepp.detect", "text/plain", b"hello", 400, "wrong content type"),
    ("facepp.detect", "application/x-www-form-urlencoded", b"", 400, "empty body"),
    (
        "facepp.detect",
        "application/x-www-form-urlencoded",
        b"api_key=k&api_secret=s&image_base64=%%%%",
        400,
        "base64 garbage",
    ),
    (
        "facepp.detect",
        MP,
        multipart(
            [
                field(b"api_key", b"k"),
                field(b"api_secret", b"s"),
                image_part(b"image_file", truncate_image(PICTURE)),
            ]
        ),
        400,
        "truncated image",
    ),
    (
        "facepp.detect",
        MP,
        multipart(
            [
                field(b"api_key", b"k"),
                field(b"api_secret", b"s"),
                image_part(b"image_file", b"GIF89a" + b"\x00" * 100),
            ]
        ),
        400,
        "corrupt image",
    ),
    (
        "ailab.face_key_points",
        MP,
        b"--b0undary\r\nnot a header line\r\n\r\n",
        400,
        "broken part headers",
    ),
    ("ailab.face_key_points", MP, b"", 400, "empty multipart"),
    (
        "ailab.face_key_points",
        "application/json",
        b'{"image": "x"}',
        400,
        "JSON where multipart is documented",
    ),
    (
        "ailab.face_analyzer_advanced",
        MP,
        multipart([image_part(b"image", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)]),
        422,
        "corrupt PNG",
    ),
    ("acedata.face_analyze", "application/json", b"{not json", 400, "invalid JSON"),
    ("acedata.face_analyze", "application/json", b"[1, 2]", 400, "JSON that is not an object"),
    ("acedata.face_analyze", "application/json", b"", 400, "empty body"),
    (
        "acedata.face_analyze",
        "application/json",
        b'{"image_url": 7}',
        400,
        "image_url of the wrong type",
    ),
    (
        "acedata.face_analyze",
        "application/x-www-form-urlencoded",
        b"image_url=https://x.example/a.jpg",
        400,
        "form where JSON is documented",
    ),
]


@pytest.mark.parametrize(
    ("operation", "content_type", "body", "status", "case"), CORPUS, ids=[c[-1] for c in CORPUS]
)
def test_malformed_bodies_get_the_vendors_answer(
    operation: str, content_type: str | None, body: bytes, status: int, case: str
) -> None:
    got, _ = answer(operation, content_type, body)
    assert got == status, case


@pytest.mark.parametrize("operation", list(PATHS))
def test_wrong_methods_and_unknown_paths(operation: str) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = FaceMock().handle(HttpRequest(method, PATHS[operation], AUTH, b""))
        assert response.status == 404
    unknown = FaceMock().handle(HttpRequest("POST", PATHS[operation] + "/../etc/passwd", AUTH, b""))
    assert unknown.status == 404


def test_decompression_bomb_in_every_image_operation() -> None:
    bomb = png_bomb(60_000, 4096)  # declares 60000 x 60000 pixels
    for operation, name in (
        ("facepp.detect", b"image_file"),
        ("ailab.face_key_points", b"image"),
        ("ailab.face_analyzer_advanced", b"image"),
    ):
        parts = [image_part(name, bomb)]
        if operation.startswith("facepp"):
            parts = [field(b"api_key", b"k"), field(b"api_secret", b"s"), *parts]
        status, _ = answer(operation, MP, multipart(parts))
        assert 400 <= status < 500, operation


def _raw(url: str, payload: bytes, *, read: bool = True) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(payload)
        if not read:
            return b""
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks)


def test_server_refuses_oversized_bodies_unread_and_stays_up() -> None:
    with serving() as (url, _):
        # Declares 50 MB but sends only the head: the answer comes before the body.
        head = (
            b"POST /facepp/v1/face/thousandlandmark HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 50000000\r\n\r\n--b\r\n"
        )
        reply = _raw(url, head)
        assert reply.startswith(b"HTTP/1.1 413")
        assert reply.endswith(b"Request Entity Too Large")
        reply = _raw(
            url,
            head.replace(
                b"/facepp/v1/face/thousandlandmark", b"/api/portrait/analysis/face-key-points"
            ),
        )
        assert reply.startswith(b"HTTP/1.1 413")
        assert b"FILE_SIZE_EXCEEDS_LIMIT" in reply
        import httpx

        assert httpx.get(f"{url}/__admin/health").status_code == 200


def test_a_slow_client_does_not_block_others() -> None:
    import httpx

    with serving() as (url, _):
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as slow:
            slow.sendall(b"POST /face/analyze HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            # The slow client has sent one byte of its body; others are served meanwhile.
            body = {"image_url": "https://cdn.example.com/a.jpg"}
            for _ in range(3):
                answered = httpx.post(
                    f"{url}/face/analyze", json=body, headers={"authorization": "Bearer t"}
                )
                assert answered.status_code == 200
            time.sleep(0.1)
        assert httpx.get(f"{url}/__admin/health").status_code == 200


def test_garbage_on_the_socket_does_not_take_the_server_down() -> None:
    import httpx

    with serving() as (url, _):
        for payload in (
            b"\x00\x01\x02\x03" * 100,
            b"GET / HTTP/9.9\r\n\r\n",
            b"POST /facepp/v3/detect HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        ):
            _raw(url, payload)
        assert httpx.get(f"{url}/__admin/health").status_code == 200
        data = {
            "api_key": "k",
            "api_secret": "s",
            "image_base64": base64.b64encode(PICTURE).decode(),
        }
        assert httpx.post(f"{url}/facepp/v3/detect", data=data).status_code == 200
