"""The standalone server under hostile use (issue 12): it never freezes, never hangs on to a
client or a connection past its limits, drops connections for real and stops promptly.

Each test states what would have happened before: health unanswered while one request
waited for an image URL or a huge multipart body, unbounded heads, slow clients and idle
connections held forever, 1,100 idle connections locking health out, a "drop" answering
200, SIGTERM ignored while a request was open. No test measures a duration: they wait for
the server to act (with generous timeouts that only bound a hang) and check what it did.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from face_contracts import validate
from face_contracts.contracts import contracts
from face_contracts.mock import Deferred, FaceMock
from face_contracts.mock._engine import body_limit
from face_contracts.server import MockApp
from face_contracts.settings import ServerSettings
from face_contracts.state_redis import RedisState

from .conftest import serving_in_thread

if TYPE_CHECKING:
    from face_contracts.state import State

    from .conftest import RedisServer

CLI = [sys.executable, "-m", "face_contracts"]
ANALYZE = "/face/analyze"  # Ace Data: a JSON body naming an image URL
ACE_HEADERS = {"authorization": "Bearer token", "content-type": "application/json"}
DENSE = "/facepp/v1/face/thousandlandmark"  # Face++: a multipart upload
FACE = Path(__file__).resolve().parents[1] / "fixtures" / "images" / "astronaut.png"
WAIT = 30.0  # seconds: bounds a hang; never what a test measures


# --- helpers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    url: str
    port: int
    process: subprocess.Popen[str]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        return self.process.wait(timeout=WAIT)

    def log(self) -> str:
        assert self.process.poll() is not None, "read the log once the server has stopped"
        assert self.process.stderr is not None
        return self.process.stderr.read()


@contextlib.contextmanager
def served(
    *args: str, server: str = "", files_limit: int | None = None, mock: str = ""
) -> Iterator[Served]:
    """``face-contracts serve`` in a subprocess, with ``server`` as its ``[server]`` table
    and ``mock`` as the rest of its settings file, optionally under an open-files limit."""
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        command = [*CLI, "serve", "--port", str(port), *args]
        if server or mock:
            settings = Path(directory) / "mock.toml"
            settings.write_text(f"{mock}\n[server]\n{server}\n")
            command += ["--config", str(settings)]
        if files_limit is not None:
            command = ["sh", "-c", f'ulimit -n {files_limit} && exec "$@"', "sh", *command]
        with subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as process:
            try:
                assert process.stdout is not None
                line = process.stdout.readline()
                if "listening on" not in line:
                    process.kill()
                    stderr = process.stderr.read() if process.stderr else ""
                    raise AssertionError(f"the server did not start: {line}{stderr}")
                yield Served(f"http://127.0.0.1:{port}", port, process)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=WAIT)


@contextlib.contextmanager
def in_thread(app: MockApp) -> Iterator[str]:
    """The real server (our protocol on uvicorn, ``app.settings``) in a thread of this
    process, for tests that need a hand inside the engine."""
    from face_contracts._transport import Server, ServerConfig

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = Server(ServerConfig(app, app.settings, log_config=None, log_level="warning"))
    with serving_in_thread(server, sock, wait=WAIT) as url:
        yield url


def read_to_end(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(WAIT)
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1])


def health(url: str) -> int:
    return httpx.get(f"{url}/__admin/health", timeout=WAIT).status_code


class Background:
    """An HTTP request running in a thread: ``pending`` until it has an answer or failed."""

    def __init__(self, method: str, url: str, **kwargs: Any) -> None:
        self.answer: httpx.Response | None = None
        self.error: Exception | None = None
        self._thread = threading.Thread(target=self._run, args=(method, url), kwargs=kwargs)
        self._thread.start()

    def _run(self, method: str, url: str, **kwargs: Any) -> None:
        try:
            self.answer = httpx.request(method, url, timeout=120, **kwargs)
        except httpx.HTTPError as error:
            self.error = error

    @property
    def pending(self) -> bool:
        return self._thread.is_alive()

    def cut(self) -> bool:
        """Whether the request ended without an answer (its connection was closed)."""
        self._thread.join(timeout=120)
        return self.answer is None and isinstance(self.error, httpx.TransportError)

    def result(self) -> httpx.Response:
        self._thread.join(timeout=120)
        assert not self._thread.is_alive()
        assert self.answer is not None, self.error
        return self.answer


@contextlib.contextmanager
def silent_listener() -> Iterator[socket.socket]:
    """A loopback port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener


class GatedMock(FaceMock):
    """A mock whose engine work, once answered, waits for the test to let it go."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.threads: list[int] = []

    def handle(self, request: Any, **options: Any) -> Any:
        if options.get("on_loop"):  # gated work belongs to the engine's threads
            raise Deferred(self.state.begin_call(), "gated")
        self.threads.append(threading.get_ident())
        self.entered.set()
        answer = super().handle(request, **options)
        self.release.wait(WAIT * 2)
        return answer


# --- 1. nothing blocks the event loop ------------------------------------------------------


def test_health_answers_while_an_image_url_hangs() -> None:
    # Before: the engine fetched the URL on the event loop; health waited for the fetch's
    # timeout and was answered only after the slow request.
    with served() as server, silent_listener() as listener:
        image = f"http://127.0.0.1:{listener.getsockname()[1]}/face.jpg"
        slow = Background(
            "POST", server.url + ANALYZE, headers=ACE_HEADERS, json={"image_url": image}
        )
        listener.settimeout(WAIT)
        fetching, _ = listener.accept()  # the engine is now waiting for the picture
        with fetching:
            assert health(server.url) == 200
            assert slow.pending
        answer = slow.result()  # the fetch failed when the connection closed
        assert validate("acedata.face_analyze", "error", answer.content, status=answer.status_code)
        assert server.stop() == 0
        assert "Traceback" not in server.log()


def _dense_call(url: str, picture: bytes) -> httpx.Response:
    return httpx.post(
        url + DENSE,
        data={"api_key": "key", "api_secret": "secret", "return_landmark": "all"},
        files={"image_file": ("face.png", picture, "image/png")},
        timeout=WAIT,
    )


class GatedAceData(FaceMock):
    """A mock whose Ace Data calls, in the engine's threads, wait for the test."""

    def __init__(self, state: State | None = None) -> None:
        super().__init__(state=state)
        self.entered = threading.Event()
        self.release = threading.Event()

    def handle(self, request: Any, **options: Any) -> Any:
        if request.path == ANALYZE and not options.get("on_loop"):
            self.entered.set()
            self.release.wait(WAIT * 2)
        return super().handle(request, **options)


@pytest.fixture(params=["memory", "redis"])
def state(request: pytest.FixtureRequest) -> Iterator[State | None]:
    """The mock's state: its own (None), or a fresh one on Redis."""
    if request.param == "memory":
        yield None
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    shared = RedisState(server.url, prefix=f"test:{secrets.token_hex(6)}")
    yield shared
    shared.close()


def test_a_call_the_caches_answer_does_not_wait_for_busy_engine_threads(
    state: State | None,
) -> None:
    # Before: every call queued for the engine's threads. Now a call whose picture was
    # analysed and whose answer was rendered before is answered on the event loop while
    # the only engine thread is busy, with its own ids; a new picture still goes to it.
    # With Redis, the loop awaits the call's round trips instead of waiting for them.
    picture = FACE.read_bytes()
    mock = GatedAceData(state)
    with in_thread(MockApp(mock, settings=ServerSettings(engine_threads=1))) as url:
        first = _dense_call(url, picture)  # a new picture: analysed in the thread
        assert first.status_code == 200, first.text
        slow = Background(
            "POST", url + ANALYZE, headers=ACE_HEADERS, json={"image_url": "http://x/a.jpg"}
        )
        try:
            assert mock.entered.wait(WAIT)  # the only engine thread is now held
            again = _dense_call(url, picture)
            assert slow.pending
        finally:
            mock.release.set()
        assert slow.result().status_code == 200
    assert again.status_code == 200
    assert again.json()["face"] == first.json()["face"]
    assert again.json()["request_id"] != first.json()["request_id"]
    journal = mock.journal
    # In the order answered (the held call, number 2, last); each before its answer left.
    assert [entry.sequence for entry in journal] == [1, 3, 2]
    assert journal[1].response == again.json()


def test_a_call_waiting_on_a_stalled_redis_ends_at_the_request_deadline(
    own_redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    # Redis stops answering (paused, not gone): a call the event loop awaits for it ends at
    # the request deadline (0.5 s here), well before the state's own 5 s socket timeout.
    state = RedisState(own_redis_server.url + "?socket_timeout=5", prefix="test:stalled")
    mock = FaceMock(state=state)
    picture = FACE.read_bytes()
    caplog.set_level(logging.WARNING, "face_contracts")
    with in_thread(MockApp(mock, settings=ServerSettings(request_deadline=0.5))) as url:
        assert _dense_call(url, picture).status_code == 200  # analysed, rendered, numbered
        assert _dense_call(url, picture).status_code == 200  # answered on the loop
        assert own_redis_server.process is not None
        own_redis_server.process.send_signal(signal.SIGSTOP)
        try:
            stalled = _dense_call(url, picture)
        finally:
            own_redis_server.process.send_signal(signal.SIGCONT)
        assert stalled.status_code == 500
        assert "): no answer within the request deadline" in caplog.text
        assert _dense_call(url, picture).status_code == 200  # Redis is back
    state.close()


def test_calls_answered_on_the_loop_or_in_threads_keep_the_ids_of_the_call_order(
    state: State | None,
) -> None:
    # A call sent to the threads after the loop tried it keeps its number, so the server
    # gives the same ids as the in-process mock for the same calls in the same order, on
    # either state.
    from face_contracts.mock import HttpRequest

    pictures = [FACE.read_bytes(), (FACE.parent / "group.jpg").read_bytes()]
    order = [0, 0, 1, 0, 1, 1]
    served_ids, in_process_ids = [], []
    with in_thread(MockApp(FaceMock(state=state))) as url:
        for index in order:
            answer = _dense_call(url, pictures[index])
            assert answer.status_code == 200, answer.text
            served_ids.append(answer.json()["request_id"])
    in_process = FaceMock()
    for index in order:
        sent = httpx.Request(
            "POST",
            "http://mock" + DENSE,
            data={"api_key": "key", "api_secret": "secret", "return_landmark": "all"},
            files={"image_file": ("face.png", pictures[index], "image/png")},
        )
        body = sent.read()
        request = HttpRequest("POST", DENSE, dict(sent.headers), body, "")
        in_process_ids.append(orjson.loads(in_process.handle(request).body)["request_id"])
    assert served_ids == in_process_ids
    assert len(set(served_ids)) == len(order)


def test_a_400000_part_body_is_parsed_off_the_event_loop() -> None:
    # Before: the whole engine ran on the loop; 400,000 parts froze it for seconds.
    mock = GatedMock()
    boundary = b"b"
    part = b"--" + boundary + b'\r\nContent-Disposition: form-data; name="f"\r\n\r\nx\r\n'
    body = part * 400_000 + b"--" + boundary + b"--\r\n"
    operation = contracts().operation("ailab.face_analyzer_advanced")
    assert len(body) <= body_limit(operation.id)  # read and parsed, not refused unread
    with in_thread(MockApp(mock)) as url:
        big = Background(
            "POST",
            url + operation.path,
            content=body,
            headers={
                "content-type": f"multipart/form-data; boundary={boundary.decode()}",
                "ailabapi-api-key": "key",
            },
        )
        try:
            assert mock.entered.wait(WAIT)
            assert health(url) == 200
            assert big.pending
        finally:
            mock.release.set()
        answer = big.result()
    assert threading.main_thread().ident not in mock.threads
    assert validate(operation.id, "error", answer.content, status=answer.status_code)


def test_engine_work_past_the_deadline_gets_the_vendors_internal_error() -> None:
    mock = GatedMock()
    with in_thread(MockApp(mock, settings=ServerSettings(request_deadline=0.2))) as url:
        try:
            answer = httpx.post(
                url + ANALYZE,
                headers=ACE_HEADERS,
                json={"image_url": "https://cdn.example.com/a.jpg"},
                timeout=WAIT,
            )
            # Answered while the engine still holds its thread.
            assert not mock.release.is_set()
            assert (answer.status_code, answer.json()["error"]["code"]) == (500, "api_error")
            assert validate("acedata.face_analyze", "error", answer.content, status=500)
            assert health(url) == 200
        finally:
            mock.release.set()


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_memory_stays_bounded_after_large_uploads() -> None:
    # Before: the journal kept 256 requests with their bodies: 40 uploads of 20 MiB took the
    # server from 52 to 872 MB. Now file bytes are kept within the journal's byte budget
    # (GET /__admin/config: journal_bytes); on top of it the server may hold a few copies of
    # the upload in flight (socket buffer, body, parsed parts, decoded picture).
    from face_contracts.images import encode_image

    operation = contracts().operation("ailab.face_analyzer_advanced")
    upload = 20 * 1024 * 1024 - 65536  # the vendor's limit is 20 MiB (mocks/ailab/*.json)
    with served() as server:
        budget = httpx.get(f"{server.url}/__admin/config", timeout=WAIT).json()["journal_bytes"]
        warm = encode_image("JPEG", 640, 480, seed=99, faces=((200, 100, 200, 240),))
        files = {"image": ("face.jpg", warm, "image/jpeg")}
        headers = {"ailabapi-api-key": "key"}
        first = httpx.post(server.url + operation.path, files=files, headers=headers, timeout=WAIT)
        assert first.status_code == 200
        before = rss_bytes(server.process.pid)
        for seed in range(8):  # 160 MiB in all, more than budget plus slack
            picture = encode_image(
                "JPEG", 2000, 1500, seed=seed, faces=((700, 400, 500, 600),), byte_size=upload
            )
            files = {"image": ("face.jpg", picture, "image/jpeg")}
            answer = httpx.post(
                server.url + operation.path, files=files, headers=headers, timeout=WAIT
            )
            assert answer.status_code == 200, answer.text
        growth = rss_bytes(server.process.pid) - before
        assert growth <= budget + 6 * upload, f"RSS grew by {growth >> 20} MiB"
        journal = httpx.get(f"{server.url}/__admin/requests", timeout=WAIT).json()
        assert len(journal) == 9  # every request is still listed, files as size and digest
        assert server.stop() == 0


# --- 2. limits a server is expected to have ------------------------------------------------


def test_a_head_over_the_byte_limit_gets_431_without_waiting_for_the_rest() -> None:
    # Before: heads were read without bound (a 64 MB header cost seconds of CPU), so a head
    # that had not ended yet was waited for.
    with served(server="max_header_bytes = 8192") as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
            sock.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536)
            answer = read_to_end(sock)  # the head has not ended: only the limit can answer
        assert status_of(answer) == 431
        assert b"connection: close" in answer.lower()
        assert answer.endswith(b"Request Header Fields Too Large")
        assert health(server.url) == 200


@pytest.mark.parametrize(("count", "status"), [(90, 200), (101, 431)])
def test_too_many_header_fields_get_431(count: int, status: int) -> None:
    with served() as server:
        fields = b"".join(b"X-Field-%d: v\r\n" % index for index in range(count))
        with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
            sock.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n" + fields)
            sock.sendall(b"Connection: close\r\n\r\n")
            assert status_of(read_to_end(sock)) == status


def test_slow_and_idle_clients_are_timed_out() -> None:
    # Before: a head or a body that never finished, or a connection that never sent a byte,
    # held its connection forever.
    limits = "header_timeout = 0.5\nbody_timeout = 0.5\nkeep_alive_timeout = 0.5"
    with served(server=limits) as server:
        address = ("127.0.0.1", server.port)
        with socket.create_connection(address, timeout=WAIT) as slowloris:
            slowloris.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            assert status_of(read_to_end(slowloris)) == 408
        with socket.create_connection(address, timeout=WAIT) as slow_body:
            slow_body.sendall(
                b"POST /face/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer t\r\nContent-Length: 100\r\n\r\n{"
            )
            answer = read_to_end(slow_body)
            assert status_of(answer) == 408
            assert b"the body did not arrive within 0.5 s" in answer
        with socket.create_connection(address, timeout=WAIT) as silent:
            assert read_to_end(silent) == b""  # closed, nothing said
        with socket.create_connection(address, timeout=WAIT) as kept_alive:
            kept_alive.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = read_to_end(kept_alive)  # answered, then closed once idle
            assert status_of(answer) == 200
            assert answer.endswith(b"}")
        assert health(server.url) == 200
        assert server.stop() == 0
        assert "Traceback" not in server.log()


def test_idle_connections_beyond_the_open_files_limit_do_not_lock_health_out() -> None:
    # Before: 1,100 idle connections against a 1,024-file limit: accept() failed for good
    # and health checks timed out. Now the connection limit stays under the open-files
    # limit and the longest-idle connection makes room for a new one.
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 1100 + 200
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    idle_count = min(1100, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 200)
    server_files = min(1024, idle_count - 76)
    idle: list[socket.socket] = []
    try:
        with served(files_limit=server_files) as server:
            for _ in range(idle_count):
                idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=WAIT))
            assert health(server.url) == 200
            assert health(server.url) == 200
            assert server.stop() == 0
            log = server.log()
            assert "Traceback" not in log
            assert "open-files limit leaves room for" in log
    finally:
        for sock in idle:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_when_every_connection_is_busy_a_new_one_gets_503() -> None:
    with served(server="max_connections = 4") as server:
        busy = []
        try:
            for _ in range(4):
                sock = socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)
                sock.sendall(
                    b"POST /face/analyze HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 9\r\n\r\n"
                )
                # "100 Continue": the app is reading this request's body, so the connection
                # is busy (never closed to make room).
                assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue")
                busy.append(sock)
            answer = httpx.get(f"{server.url}/__admin/health", timeout=WAIT)
            assert answer.status_code == 503
            assert answer.headers["connection"] == "close"
        finally:
            for sock in busy:
                sock.close()
        deadline = time.monotonic() + WAIT
        while health(server.url) != 200:  # once the server has seen them go
            assert time.monotonic() < deadline
            time.sleep(0.05)


# --- 3. prompt, clean stop ----------------------------------------------------------------


def fault_delay(url: str, seconds: float) -> Background:
    """A vendor request held inside a fault's delay (the journal shows it has been
    answered by the engine, so it is waiting out the delay); the fault answers 503."""
    fault = {"delay": seconds, "status": 503}
    httpx.post(f"{url}/__admin/faults", json=fault, timeout=WAIT).raise_for_status()
    request = Background(
        "POST",
        url + ANALYZE,
        headers=ACE_HEADERS,
        json={"image_url": "https://cdn.example.com/a.jpg"},
    )
    deadline = time.monotonic() + WAIT
    while not httpx.get(f"{url}/__admin/requests", timeout=WAIT).json():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return request


def half_sent_upload(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    sock.sendall(
        b"POST /face/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000\r\n\r\n" + b" " * 1000
    )
    return sock


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_ends_open_requests_after_the_grace_period(sig: int) -> None:
    # Before: a half-sent upload or a request in a 60 s fault delay kept the server alive.
    with served("--grace", "0.5") as server:
        delayed = fault_delay(server.url, 600)
        with half_sent_upload(server.port) as upload:
            assert server.stop(sig) == 0
            assert read_to_end(upload) == b""  # closed, no answer to half a request
        assert delayed.cut()
        log = server.log()
        assert "Traceback" not in log
        assert "in flight, up to 0.5 s to finish" in log
        assert log.strip().endswith("face-contracts mock stopped")


def test_in_flight_requests_finish_within_the_grace_period() -> None:
    with served("--grace", "20") as server:
        delayed = fault_delay(server.url, 0.5)
        assert server.stop() == 0
        answer = delayed.result()  # answered, not cut
        assert answer.status_code == 503


def test_a_second_signal_stops_at_once() -> None:
    # Before: a second SIGTERM did nothing while the first waited for open requests.
    with served("--grace", "300") as server:
        delayed = fault_delay(server.url, 600)
        server.process.send_signal(signal.SIGTERM)
        assert server.process.stderr is not None
        for line in server.process.stderr:  # other lines may come first (model loading)
            if "stopping" in line:
                break
        assert server.stop(signal.SIGTERM) == 128 + signal.SIGTERM
        assert "second signal, stopped at once" in server.log()
        assert delayed.cut()


def test_workers_stop_within_the_grace_period() -> None:
    with served("--workers", "2", "--grace", "0.5") as server:
        assert health(server.url) == 200
        with half_sent_upload(server.port):
            assert server.stop() == 0
        assert "Traceback" not in server.log()


# --- 4. drop means drop ------------------------------------------------------------------


def vendor_request_bytes() -> bytes:
    body = orjson.dumps({"image_url": "https://cdn.example.com/a.jpg"})
    return (
        b"POST /face/analyze HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )


def test_a_drop_fault_closes_the_connection_with_nothing_sent() -> None:
    # Before: the server sent "200 OK", content-length 1, cut the body, logged a traceback.
    with served() as server:
        fault = httpx.post(f"{server.url}/__admin/faults", json={"drop": True, "times": 1})
        fault.raise_for_status()
        with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as sock:
            sock.sendall(vendor_request_bytes())
            assert read_to_end(sock) == b""
        assert health(server.url) == 200
        journal = httpx.get(f"{server.url}/__admin/requests", timeout=WAIT).json()
        assert [entry["operation"] for entry in journal] == ["acedata.face_analyze"]
        assert server.stop() == 0
        log = server.log()
        assert "Traceback" not in log
        assert "Exception" not in log


def test_a_drop_fault_on_pytest_httpserver_sends_nothing() -> None:
    from face_contracts.mock.transports import serve

    mock = FaceMock()
    mock.add_fault(drop=True, times=1)
    with serve(mock) as server:
        port = urlsplit(server.url).port
        assert port is not None
        with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
            sock.sendall(vendor_request_bytes())
            assert read_to_end(sock) == b""
        after = httpx.post(server.url_for(ANALYZE), headers=ACE_HEADERS, json={}, timeout=WAIT)
        assert validate("acedata.face_analyze", "error", after.content, status=after.status_code)
        server.check()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("grace = -1", "[server] grace: -1 is less than the minimum of 0"),
        ("header_timeout = nan", "[server] header_timeout: nan is not a finite number"),
        ("body_timeout = inf", "[server] body_timeout: inf is not a finite number"),
        ("max_connections = 0", "[server] max_connections: 0 is less than the minimum of 1"),
        ("max_connections = 'many'", "[server] max_connections: 'many' is not of type 'integer'"),
        ("engine_threads = 1.5", "[server] engine_threads: 1.5 is not of type 'integer'"),
        ("colour = 'red'", "[server]: unknown key(s) 'colour'; known: body_timeout"),
    ],
)
def test_server_settings_are_checked(tmp_path: Path, table: str, message: str) -> None:
    from face_contracts.server import read_settings_file

    settings = tmp_path / "mock.toml"
    settings.write_text(f"[server]\n{table}\n")
    with pytest.raises(ValueError, match="server") as refused:
        read_settings_file(settings)
    assert str(refused.value).startswith(f"{settings}: {message}")


def test_serve_refuses_a_bad_server_setting_in_one_line(tmp_path: Path) -> None:
    settings = tmp_path / "mock.toml"
    settings.write_text("[server]\nrequest_deadline = 0\n")
    result = subprocess.run(
        [*CLI, "serve", "--port", str(free_port()), "--config", str(settings)],
        capture_output=True,
        text=True,
        check=False,
        timeout=WAIT,
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"face-contracts: error: {settings}: [server] request_deadline: 0 is less than or equal "
        "to the minimum of 0\n"
    )
