"""The transports only translate HTTP: respx (sync and async httpx) and the local socket
(httpx and requests) answer exactly what the engine answers, and honour its faults."""

from __future__ import annotations

import asyncio
import base64
import doctest
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import requests
import respx
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from face_contracts import operations
from face_contracts.images import encode_image
from face_contracts.mock import FaceMock, HttpRequest, HttpResponse, encode_request, transports
from face_contracts.mock.transports import (
    LOOPBACK_HOSTS,
    VENDOR_HOSTS,
    MockServer,
    RoutedFaceMock,
    journal_report,
    respx_router,
    serve,
    serve_httpserver,
    unmatched_report,
)
from face_contracts.strategies import documents, invalid_documents

if TYPE_CHECKING:
    from collections.abc import Iterator

OPERATIONS = [op.id for op in operations()]
PICTURE = encode_image("JPEG", 640, 480, seed=5, faces=((200, 100, 220, 250),))
DETECT = "/facepp/v3/detect"
FACEPP_FORM = {"api_key": "key", "api_secret": "secret"}
FACEPP_FILES = {"image_file": ("face.jpg", PICTURE, "image/jpeg")}
# Headers the client sets itself for the URL and body it sends.
_CLIENT_HEADERS = frozenset({"host", "content-length"})


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with serve() as running:
        yield running


@pytest.fixture
def mock(server: MockServer) -> FaceMock:
    """A fresh mock, served on the module's server."""
    server.mock = FaceMock()
    server.clear()
    return server.mock


# --- sending one request through each transport -------------------------------------------


def _outgoing(request: HttpRequest) -> dict[str, Any]:
    headers = {k: v for k, v in request.headers.items() if k not in _CLIENT_HEADERS}
    return {"method": request.method, "headers": headers, "content": request.body}


def _answer(response: httpx.Response | requests.Response) -> tuple[int, str, bytes]:
    return response.status_code, response.headers["content-type"], response.content


def via_respx_sync(mock: FaceMock, request: HttpRequest, host: str) -> tuple[int, str, bytes]:
    with respx_router(mock), httpx.Client() as client:
        response = client.request(url=f"https://{host}{request.path}", **_outgoing(request))
    return _answer(response)


def via_respx_async(mock: FaceMock, request: HttpRequest, host: str) -> tuple[int, str, bytes]:
    async def send() -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.request(url=f"http://{host}{request.path}", **_outgoing(request))

    with respx_router(mock):
        return _answer(asyncio.run(send()))


def via_socket_httpx(server: MockServer, request: HttpRequest) -> tuple[int, str, bytes]:
    return _answer(httpx.request(url=server.url + request.path, **_outgoing(request)))


def via_socket_requests(server: MockServer, request: HttpRequest) -> tuple[int, str, bytes]:
    sent = _outgoing(request)
    response = requests.request(
        sent["method"], server.url + request.path, headers=sent["headers"], data=sent["content"]
    )
    return _answer(response)


def every_transport(server: MockServer, operation: str, request: HttpRequest) -> None:
    """Each transport, on a fresh mock, answers what a fresh mock's ``handle`` answers."""
    direct = FaceMock().handle(request)
    expected = (direct.status, direct.content_type, direct.body)
    host = next(op for op in operations() if op.id == operation).hosts[-1]
    assert via_respx_sync(FaceMock(), request, host) == expected
    assert via_respx_async(FaceMock(), request, host) == expected
    server.mock = FaceMock()
    assert via_socket_httpx(server, request) == expected
    server.mock = FaceMock()
    assert via_socket_requests(server, request) == expected
    assert server.errors() == []


@pytest.mark.parametrize("operation", OPERATIONS)
@settings(max_examples=6)  # each example is four round trips; tests/test_mock_engine.py goes wide
@given(data=st.data())
def test_every_transport_answers_what_the_engine_answers(
    server: MockServer, operation: str, data: st.DataObject
) -> None:
    document = data.draw(documents(operation, "request"), label="request")
    every_transport(server, operation, encode_request(operation, document))


@pytest.mark.parametrize("operation", OPERATIONS)
@settings(max_examples=6)  # each example is four round trips; tests/test_mock_engine.py goes wide
@given(data=st.data())
def test_every_transport_answers_invalid_requests_as_the_engine_does(
    server: MockServer, operation: str, data: st.DataObject
) -> None:
    case = data.draw(invalid_documents(operation, "request"), label="invalid request")
    every_transport(server, operation, encode_request(operation, case.document))


class Recording(FaceMock):
    """A mock that keeps the requests the transport handed it."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[HttpRequest] = []

    def handle(self, request: HttpRequest, **options: Any) -> HttpResponse:
        self.seen.append(request)
        return super().handle(request, **options)


def test_both_transports_hand_the_engine_the_same_request(server: MockServer) -> None:
    headers = {"X-Trace": "abc", "ailabapi-api-key": "key"}
    content = b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b--\r\n"
    headers["Content-Type"] = "multipart/form-data; boundary=b"
    in_process = Recording()
    with respx_router(in_process):
        httpx.post(
            "https://www.ailabapi.com/api/portrait/analysis/face-key-points?x=1&y=%20",
            headers=headers,
            content=content,
        )
    on_socket = Recording()
    server.mock = on_socket
    httpx.post(
        server.url + "/api/portrait/analysis/face-key-points?x=1&y=%20",
        headers=headers,
        content=content,
    )
    (first,), (second,) = in_process.seen, on_socket.seen
    for request in (first, second):
        assert request.method == "POST"
        assert request.path == "/api/portrait/analysis/face-key-points"
        assert request.query == "x=1&y=%20"
        assert request.body == content
        assert request.headers["x-trace"] == "abc"
        assert request.headers["content-type"] == "multipart/form-data; boundary=b"
        assert all(name == name.lower() for name in request.headers)
    assert first.host == "www.ailabapi.com"
    assert second.host == server.url.removeprefix("http://")


# --- faults -------------------------------------------------------------------------------


def _detect_with_respx(client: httpx.Client) -> httpx.Response:
    return client.post(
        f"https://api-cn.faceplusplus.com{DETECT}", data=FACEPP_FORM, files=FACEPP_FILES
    )


def test_a_delayed_answer_is_still_the_answer(server: MockServer, mock: FaceMock) -> None:
    mock.add_fault(delay=0.05)
    with respx_router(mock), httpx.Client() as client:
        delayed = _detect_with_respx(client)
    prompt = FaceMock()
    with respx_router(prompt), httpx.Client() as client:
        expected = _detect_with_respx(client)
    # The first call of each mock: the same sequence number, so the same ids too.
    assert (delayed.status_code, delayed.content) == (200, expected.content)
    on_socket = requests.post(server.url + DETECT, data=FACEPP_FORM, files=FACEPP_FILES)
    assert on_socket.status_code == 200
    assert _without_ids(on_socket.json()) == _without_ids(expected.json())


def _without_ids(answer: dict[str, Any]) -> dict[str, Any]:
    """A Face++ detect answer without the values issued afresh for every call."""
    kept = {k: v for k, v in answer.items() if k not in ("request_id", "time_used", "image_id")}
    kept["faces"] = [{k: v for k, v in f.items() if k != "face_token"} for f in answer["faces"]]
    return kept


def test_a_dropped_connection_is_a_transport_error_with_respx(mock: FaceMock) -> None:
    mock.configure(concurrency=1)
    mock.add_fault(drop=True, times=2)
    with respx_router(mock), httpx.Client() as client:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            _detect_with_respx(client)

        async def send() -> httpx.Response:
            async with httpx.AsyncClient() as client:
                return await client.post(
                    f"https://api-us.faceplusplus.com{DETECT}", data=FACEPP_FORM, files=FACEPP_FILES
                )

        with pytest.raises(httpx.RemoteProtocolError):
            asyncio.run(send())
        # The dropped calls released their concurrency slot.
        assert _detect_with_respx(client).status_code == 200
    assert [entry.status for entry in mock.journal] == [0, 0, 200]


def test_a_dropped_connection_is_a_transport_error_on_the_socket(
    server: MockServer, mock: FaceMock
) -> None:
    mock.configure(concurrency=1)
    mock.add_fault(drop=True, times=2)
    with pytest.raises(httpx.TransportError):
        httpx.post(server.url + DETECT, data=FACEPP_FORM, files=FACEPP_FILES)
    with pytest.raises(requests.ConnectionError):
        requests.post(server.url + DETECT, data=FACEPP_FORM, files=FACEPP_FILES)
    # The server lives on, and the dropped calls released their concurrency slot.
    answer = httpx.post(server.url + DETECT, data=FACEPP_FORM, files=FACEPP_FILES)
    assert answer.status_code == 200
    assert server.errors() == []


def test_a_5xx_fault_is_a_bare_answer(server: MockServer, mock: FaceMock) -> None:
    mock.add_fault(status=503)
    with respx_router(mock):
        in_process = httpx.post(f"https://api-cn.faceplusplus.com{DETECT}", data=FACEPP_FORM)
    on_socket = httpx.post(server.url + DETECT, data=FACEPP_FORM)
    for answer in (in_process, on_socket):
        assert answer.status_code == 503
        assert answer.headers["content-type"].startswith("text/plain")


def _while_one_is_in_flight(mock: FaceMock, send: Any) -> list[int]:
    """Start a call (the mock delays its answer), wait until the mock has taken it, then make
    a second one with the same key while the first still holds its slot."""
    statuses: list[int] = []
    first = threading.Thread(target=lambda: statuses.append(send()))
    first.start()
    waited = 0
    while len(mock.journal) == 0 and waited < 3000:  # taken in milliseconds; 30 s at most
        time.sleep(0.01)
        waited += 1
    statuses.append(send())
    first.join()
    return sorted(statuses)


def _refusal(mock: FaceMock) -> list[str]:
    return [entry.response["error_message"] for entry in mock.journal if entry.status == 403]


def test_face_plus_plus_concurrency_limit_holds_across_parallel_calls(
    server: MockServer, mock: FaceMock
) -> None:
    # The first call's answer waits a second, holding its slot: the second finds it taken.
    mock.configure(concurrency=1)
    mock.add_fault(delay=1.0, times=1)

    def on_socket() -> int:
        return httpx.post(server.url + DETECT, data=FACEPP_FORM, files=FACEPP_FILES).status_code

    assert _while_one_is_in_flight(mock, on_socket) == [200, 403]
    assert _refusal(mock) == ["CONCURRENCY_LIMIT_EXCEEDED"]

    mock.reset()
    mock.configure(concurrency=1)
    mock.add_fault(delay=1.0, times=1)
    with respx_router(mock), httpx.Client() as client:
        in_process = _while_one_is_in_flight(mock, lambda: _detect_with_respx(client).status_code)
        assert in_process == [200, 403]

        # One event loop: the first call sleeps without blocking it, the second is answered.
        mock.add_fault(delay=0.5, times=1)

        async def both() -> list[int]:
            async with httpx.AsyncClient() as client:
                answers = await asyncio.gather(
                    *(
                        client.post(
                            f"https://api-us.faceplusplus.com{DETECT}",
                            data=FACEPP_FORM,
                            files=FACEPP_FILES,
                        )
                        for _ in range(2)
                    )
                )
            return sorted(answer.status_code for answer in answers)

        assert asyncio.run(both()) == [200, 403]
    assert _refusal(mock) == ["CONCURRENCY_LIMIT_EXCEEDED"] * 2


def test_an_answer_completed_after_a_reset_leaves_the_new_counters_alone() -> None:
    # The socket transport completes an answer once it is written, which can be after the
    # client has its answer and the test has reset the mock.
    part = {"content_type": "image/jpeg", "base64": base64.b64encode(PICTURE).decode()}
    request = encode_request("facepp.detect", {"body": {**FACEPP_FORM, "image_file": part}})
    mock = FaceMock()
    mock.configure(concurrency=1)
    late = mock.handle(request)
    mock.reset()
    mock.configure(concurrency=1)
    assert mock.handle(request).status == 200  # holds the one slot
    late.complete()
    assert mock.handle(request).json()["error_message"] == "CONCURRENCY_LIMIT_EXCEEDED"


# --- routing ------------------------------------------------------------------------------


def test_vendor_hosts_come_from_the_operations() -> None:
    assert set(VENDOR_HOSTS) == {host for op in operations() for host in op.hosts}
    assert set(VENDOR_HOSTS) >= {
        "www.ailabapi.com",
        "api.acedata.cloud",
        "api-cn.faceplusplus.com",
        "api-us.faceplusplus.com",
    }


def test_other_hosts_are_respx_s_business_until_added() -> None:
    mock = RoutedFaceMock()
    with mock.router:
        with pytest.raises(respx.models.AllMockedAssertionError):
            httpx.post(f"https://faces.internal.example{DETECT}", data=FACEPP_FORM)
        mock.add_host("faces.internal.example")
        answer = httpx.post(f"http://faces.internal.example:8080{DETECT}", data={"api_key": "k"})
    assert answer.json()["error_message"] == "MISSING_ARGUMENTS: api_secret"
    assert [entry.path for entry in mock.journal] == [DETECT]


def test_unmocked_hosts_can_get_respx_s_empty_answer() -> None:
    with respx_router(FaceMock(), assert_all_mocked=False):
        answer = httpx.get("https://elsewhere.example/")
    assert (answer.status_code, answer.content) == (200, b"")


def test_loopback_passes_through_unless_mocked_by_name(server: MockServer, mock: FaceMock) -> None:
    in_process = FaceMock()
    with respx_router(in_process) as router:  # a FaceMockRouter (respx types it MockRouter)
        assert httpx.post(server.url + DETECT, data={}).status_code == 400
        assert len(mock.journal) == 1
        assert len(in_process.journal) == 0
        router.add_host("localhost")  # type: ignore[attr-defined]
        answer = httpx.post(f"http://localhost:1{DETECT}", data={})
    assert answer.status_code == 400
    assert len(in_process.journal) == 1
    assert set(LOOPBACK_HOSTS) >= {"127.0.0.1", "localhost"}


def test_requests_the_engine_sends_while_answering_an_async_client_are_sync() -> None:
    # The engine fetches a loopback image URL with a sync client; here that URL is mocked
    # too, so the fetch reaches the router while an async call is being answered.
    mock = FaceMock()

    async def analyse() -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.post(
                "https://api.acedata.cloud/face/analyze",
                headers={"authorization": "Bearer t"},
                json={"image_url": "http://localhost/face.jpg"},
            )

    with respx_router(mock) as router:
        router.add_host("localhost")  # type: ignore[attr-defined]
        answer = asyncio.run(analyse())
    assert answer.status_code == 500  # the picture URL answered 404: the vendor's fetch failure
    assert [(entry.method, entry.path) for entry in mock.journal] == [
        ("GET", "/face.jpg"),
        ("POST", "/face/analyze"),
    ]


def test_a_user_s_pytest_httpserver_can_serve_the_mock() -> None:
    mock = FaceMock()
    with HTTPServer(threaded=True) as user_server:
        serve_httpserver(mock, user_server)
        answer = requests.post(user_server.url_for(DETECT), data=FACEPP_FORM, files=FACEPP_FILES)
        missing = requests.get(user_server.url_for("/nowhere"))
        user_server.check()  # pytest-httpserver saw no failure of its own
    assert answer.status_code == 200
    assert missing.status_code == 404
    assert [entry.operation for entry in mock.journal] == ["facepp.detect", None]


# --- diagnostics --------------------------------------------------------------------------


class Broken(FaceMock):
    def handle(self, request: HttpRequest, **options: Any) -> HttpResponse:
        msg = "engine bug"
        raise RuntimeError(msg)


def test_an_error_inside_the_server_is_kept_for_the_test(server: MockServer) -> None:
    server.mock = Broken()
    server.clear()
    assert httpx.post(server.url + DETECT).status_code == 500
    assert [str(error) for error in server.errors()] == ["engine bug"]
    with pytest.raises(AssertionError, match=r"(?s)failed while answering:.*engine bug"):
        server.check()
    server.clear()
    server.check()


def test_unmatched_requests_are_reported_with_near_misses(
    server: MockServer, mock: FaceMock
) -> None:
    httpx.post(server.url + "/facepp/v3/detect", data=FACEPP_FORM)
    assert unmatched_report(mock.journal) is None
    httpx.get(server.url + "/facepp/v3/detect")
    httpx.post(server.url + "/facepp/v3/detecd")
    httpx.post(server.url + "/upload")
    report = unmatched_report(mock.journal)
    assert report is not None
    assert "3 request(s) reached no operation" in report
    assert (
        "  GET /facepp/v3/detect -> 404\n"
        "    near miss: POST /facepp/v3/detect (facepp.detect): same path, method POST"
    ) in report
    assert (
        "  POST /facepp/v3/detecd -> 404\n"
        "    near miss: POST /facepp/v3/detect (facepp.detect): similar path"
    ) in report
    assert "  POST /upload -> 404\nThe mock serves:" in report  # no near miss
    for op in operations():
        assert f"{op.method} {op.path}" in report.split("The mock serves:")[1]


def test_journal_report_shows_what_the_contract_expected(mock: FaceMock) -> None:
    assert journal_report(mock.journal) == "face-contracts: the mock received no request."
    with respx_router(mock):
        httpx.post(f"https://api-us.faceplusplus.com{DETECT}", data={"api_key": "k"})
    report = journal_report(mock.journal)
    assert "POST /facepp/v3/detect [facepp.detect] (api_key='<redacted>') -> 400" in report
    assert "request contract: /body/api_secret:" in report
    assert "[required]" in report
    for _ in range(3):
        mock.handle(encode_request("facepp.detect", {"body": {}}))
    assert "... 2 earlier request(s) not shown" in journal_report(mock.journal, limit=2)


def test_the_module_examples_run() -> None:
    result = doctest.testmod(transports)
    assert result.attempted >= 2
    assert result.failed == 0
