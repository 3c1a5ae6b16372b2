"""A corpus of places a credential can travel in a request, and every place the mock shows a
request again: none of them may show the credential."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
import pytest

from face_contracts.mock import FaceMock, HttpRequest
from face_contracts.mock._http import multipart_body, parse_body
from face_contracts.mock.transports import journal_report
from face_contracts.recordings import request_summary
from face_contracts.redaction import MASK, Redactor
from face_contracts.server import MockApp

from .test_server import AsgiClient

PICTURE = (Path(__file__).parents[1] / "mocks" / "images" / "default-face.jpg").read_bytes()


def secret(place: str) -> str:
    return f"sEcReT-{place}-7f3a9c"


def _facepp_form(extra: dict[str, str]) -> HttpRequest:
    fields = {"api_key": secret("api-key"), "api_secret": secret("api-secret"), **extra}
    body, content_type = multipart_body(fields, {"image_file": ("me.jpg", PICTURE, "image/jpeg")})
    return HttpRequest("POST", "/facepp/v3/detect", {"content-type": content_type}, body)


def corpus() -> list[HttpRequest]:
    """Requests carrying secrets in every placement the redaction knows."""
    signed = (
        "https://cdn.example.com/me.jpg?X-Amz-Signature={}&X-Amz-Credential={}&sig={}"
        "&token={}&expires=1"
    ).format(*(secret(p) for p in ("amz-sig", "amz-cred", "sig", "url-token")))
    basic = base64.b64encode(f"user:{secret('basic')}".encode()).decode()
    json_body = {
        "image_url": f"https://user:{secret('userinfo')}@cdn.example.com/me.jpg",
        "api_key": secret("json-api-key"),
        "auth": {"client_secret": secret("json-client-secret"), "password": secret("json-pw")},
    }
    return [
        _facepp_form({"client_secret": secret("form-client-secret"), "token": secret("form-tok")}),
        _facepp_form({"image_url": signed}),
        HttpRequest(
            "POST",
            "/face/analyze",
            {
                "content-type": "application/json",
                "authorization": f"Bearer {secret('bearer')}",
                "x-api-key": secret("x-api-key"),
                "cookie": f"session={secret('cookie')}",
                "proxy-authorization": f"Basic {basic}",
            },
            orjson.dumps(json_body),
            query=f"token={secret('query-token')}&sig={secret('query-sig')}&page=2",
        ),
        HttpRequest(
            "POST",
            "/face/analyze",
            {
                "content-type": "application/json",
                "Authorization": f"Token {secret('token-scheme')}",
            },
            orjson.dumps({"image_url": signed}),
        ),
        HttpRequest(
            "POST",
            "/api/portrait/analysis/face-key-points",
            {"ailabapi-api-key": secret("ailab-key"), "content-type": "multipart/form-data; b=x"},
            b"",
        ),
    ]


SECRETS = [
    secret(p)
    for p in (
        "api-key",
        "api-secret",
        "form-client-secret",
        "form-tok",
        "amz-sig",
        "amz-cred",
        "sig",
        "url-token",
        "basic",
        "userinfo",
        "json-api-key",
        "json-client-secret",
        "json-pw",
        "bearer",
        "x-api-key",
        "cookie",
        "query-token",
        "query-sig",
        "token-scheme",
        "ailab-key",
        "forced-credential",
        "configured-ailab",
    )
]


def _shown(text: str) -> list[str]:
    return [value for value in SECRETS if value in text]


@pytest.fixture
def mock() -> FaceMock:
    mock = FaceMock(credentials={"ailab": [secret("configured-ailab")]})
    mock.force_error(
        "INTERNAL_ERROR", operation="facepp.detect", credential=secret("forced-credential")
    )
    return mock


def test_the_journal_and_the_plugin_report_never_show_a_secret(mock: FaceMock) -> None:
    for request in corpus():
        mock.handle(request)
    journal = mock.journal
    assert len(journal) == len(corpus())
    dumped = orjson.dumps([entry.to_json(with_payload=False) for entry in journal]).decode()
    assert _shown(dumped) == []
    assert _shown(journal_report(journal)) == []
    assert _shown("\n".join(entry.summary() for entry in journal)) == []
    assert _shown(orjson.dumps(mock.settings.to_json()).decode()) == []
    # What is masked keeps its shape: the auth scheme and the URL's host stay readable.
    acedata = journal[2]
    assert acedata.headers["authorization"] == f"Bearer {MASK}"
    assert acedata.fields["image_url"] == f"https://user:{MASK}@cdn.example.com/me.jpg"
    assert journal[3].headers["Authorization"] == f"Token {MASK}"
    assert "page=2" in acedata.query


def test_the_admin_views_never_show_a_secret(mock: FaceMock) -> None:
    client = AsgiClient(MockApp(mock))
    for request in corpus():
        client.request(
            request.method,
            request.path + (f"?{request.query}" if request.query else ""),
            headers=dict(request.headers),
            content=request.body,
        )
    for route in ("/__admin/requests", "/__admin/config", "/__admin/errors"):
        answer = client.get(route)
        assert answer.status_code == 200
        assert _shown(answer.text) == [], route


def test_recordings_never_keep_a_secret() -> None:
    redactor = Redactor()
    for request in corpus():
        try:
            parsed = parse_body(request.headers.get("content-type", ""), request.body)
        except ValueError:
            continue
        summary = request_summary("acedata.face_analyze", request, parsed, "valid", redactor)
        assert _shown(orjson.dumps(summary).decode()) == []


def test_free_text_and_log_lines_lose_every_secret() -> None:
    redactor = Redactor()
    for request in corpus():
        json_body = (
            request.body.decode()
            if request.headers.get("content-type") == "application/json"
            else ""
        )
        line = (
            f"{request.method} {request.path}?{request.query} {dict(request.headers)!r} {json_body}"
        )
        assert _shown(redactor.text(line)) == [], line
