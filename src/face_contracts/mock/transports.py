"""The mock engine behind two transports: respx (in-process, for httpx clients) and
pytest-httpserver (a real local socket, for any client).

Both only translate HTTP: the engine (:meth:`FaceMock.handle`) decides every answer, and the
transport honours what it asks of the wire: wait ``delay`` seconds before answering, ``drop``
the connection without an answer, then call ``complete()`` (which releases Face++
concurrency slots).

>>> import httpx
>>> from face_contracts.mock import FaceMock
>>> from face_contracts.mock.transports import respx_router
>>> mock = FaceMock()
>>> with respx_router(mock):
...     answer = httpx.post("https://api-us.faceplusplus.com/facepp/v3/detect", data={})
>>> answer.status_code, answer.json()["error_message"]
(400, 'MISSING_ARGUMENTS: api_key')

>>> from face_contracts.mock.transports import serve
>>> with serve() as server:
...     answer = httpx.post(server.url + "/facepp/v3/detect", data={"api_key": "k"})
>>> answer.json()["error_message"]
'MISSING_ARGUMENTS: api_secret'
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import re
import socket
import time
import traceback
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import respx
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from face_contracts.contracts import operations
from face_contracts.mock import FaceMock, HttpRequest, HttpResponse, JournalEntry

if TYPE_CHECKING:
    import ssl
    from collections.abc import Callable, Coroutine, Iterable, Iterator
    from types import TracebackType
    from typing import Self

    from face_contracts.settings import Settings


__all__ = [
    "LOOPBACK_HOSTS",
    "VENDOR_HOSTS",
    "FaceMockRouter",
    "MockServer",
    "RoutedFaceMock",
    "ServedFaceMock",
    "journal_report",
    "respx_router",
    "serve",
    "serve_httpserver",
    "unmatched_report",
]

VENDOR_HOSTS: tuple[str, ...] = tuple(dict.fromkeys(h for op in operations() for h in op.hosts))
"""Every host the vendors document for the five operations (``schemas/operations.json``)."""

LOOPBACK_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")
"""Hosts a :class:`FaceMockRouter` lets through to the network by default: the socket mock
and the picture servers the engine itself fetches ``image_url`` pictures from live here."""

_DISCONNECTED = "Server disconnected without sending a response."

# Set while respx resolves a request for an async client, so that the one side effect knows
# whether it may return a coroutine (respx awaits those only on its async path).
_ASYNC_CLIENT: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "face_contracts_async_client", default=False
)


# --- respx: in-process, for httpx ---------------------------------------------------------


def _from_httpx(request: httpx.Request, body: bytes) -> HttpRequest:
    return HttpRequest(
        method=request.method,
        path=request.url.path,
        # httpx lower-cases header names; a repeated header comes joined with ", ".
        headers=dict(request.headers.items()),
        body=body,
        query=request.url.query.decode("ascii", errors="replace"),
        host=request.headers.get("host", ""),
    )


def _to_httpx(response: HttpResponse, request: httpx.Request) -> httpx.Response:
    # The raw form of what ``httpx.Response(headers=..., content=...)`` builds, at a tenth of
    # its cost (measured: 2.5 against 20 µs for a 35 KB answer).
    headers = [
        (b"content-type", response.content_type.encode("latin-1")),
        (b"content-length", str(len(response.body)).encode("ascii")),
        *((k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()),
    ]
    return httpx.Response(
        response.status, headers=headers, stream=httpx.ByteStream(response.body), request=request
    )


class FaceMockRouter(respx.MockRouter):
    """A respx router that answers every request to its hosts (any scheme, port, path and
    method) with ``mock``; loopback hosts pass through to the network unless told otherwise.

    Use it as respx routers are used: ``with router:``, ``router.start()``/``stop()``, or as
    a decorator. Sync and async httpx clients both work: a delay is ``time.sleep`` for the
    first and an async sleep (anyio: asyncio or trio) for the second."""

    def __init__(
        self,
        mock: FaceMock,
        *,
        hosts: Iterable[str] = VENDOR_HOSTS,
        assert_all_mocked: bool = True,
        pass_loopback: bool = True,
    ) -> None:
        # Routes serve whole hosts, so one test rarely calls them all: never assert that.
        super().__init__(assert_all_called=False, assert_all_mocked=assert_all_mocked)
        self.mock = mock
        self.hosts: list[str] = []

        # A plain function: respx inspects the side effect's signature on every call, and
        # a function's is cheaper to read than a bound method's.
        def side_effect(
            request: httpx.Request,
        ) -> httpx.Response | Coroutine[Any, Any, httpx.Response]:
            return self._answer(request)

        self._side_effect = side_effect
        for host in hosts:
            self.add_host(host)
        if pass_loopback:
            for host in LOOPBACK_HOSTS:
                if host in self.hosts:
                    continue
                self.route(host=host, name=f"face-contracts pass {host}").pass_through()

    def add_host(self, host: str) -> None:
        """Answer requests to ``host`` (a host name, without scheme or port) with the mock
        too; a host already served is left as it is."""
        host = host.lower()
        if host in self.hosts:
            return
        self.hosts.append(host)
        # A loopback host asked for by name is mocked, no longer passed through.
        if f"face-contracts pass {host}" in self.routes:
            self.pop(f"face-contracts pass {host}")
        self.route(host=host, name=f"face-contracts {host}").mock(side_effect=self._side_effect)

    def handler(self, request: httpx.Request) -> httpx.Response:
        """respx's entry point for sync clients (an unknown host says how to add it)."""
        try:
            return super().handler(request)
        except respx.models.AllMockedAssertionError:
            raise respx.models.AllMockedAssertionError(self._unknown_host(request)) from None

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        """respx's entry point for async clients (marks the request as async, see above)."""
        token = _ASYNC_CLIENT.set(True)
        try:
            return await super().async_handler(request)
        except respx.models.AllMockedAssertionError:
            raise respx.models.AllMockedAssertionError(self._unknown_host(request)) from None
        finally:
            _ASYNC_CLIENT.reset(token)

    def _unknown_host(self, request: httpx.Request) -> str:
        host = request.url.host
        return (
            f"RESPX: {request!r} not mocked! face-contracts answers only the hosts it was "
            f"given ({', '.join(self.hosts)}), and {host} is not one of them. To serve it: "
            f"face_mock_respx.add_host({host!r}) in the test, "
            f"@pytest.mark.face_mock(hosts=[{host!r}]) on it, or the ini key face_mock_hosts "
            f"(one host per line) for every test; outside pytest, "
            f"respx_router(mock, hosts=[..., {host!r}]) or router.add_host({host!r})."
        )

    def _answer(
        self, request: httpx.Request
    ) -> httpx.Response | Coroutine[Any, Any, httpx.Response]:
        if _ASYNC_CLIENT.get():
            return self._answer_async(request)
        response = self.mock.handle(_from_httpx(request, request.read()))
        try:
            if response.delay > 0:
                time.sleep(response.delay)
            return self._finish(response, request)
        finally:
            response.complete()

    async def _answer_async(self, request: httpx.Request) -> httpx.Response:
        # Requests the engine itself sends while answering (it fetches loopback image URLs
        # with a sync client) are sync requests, even inside an async client's call.
        _ASYNC_CLIENT.set(False)
        response = self.mock.handle(_from_httpx(request, await request.aread()))
        try:
            if response.delay > 0:
                await anyio.sleep(response.delay)
            return self._finish(response, request)
        finally:
            response.complete()

    @staticmethod
    def _finish(response: HttpResponse, request: httpx.Request) -> httpx.Response:
        if response.drop:
            # What httpx raises when a server closes the connection before answering.
            raise httpx.RemoteProtocolError(_DISCONNECTED, request=request)
        return _to_httpx(response, request)


def respx_router(
    mock: FaceMock,
    *,
    hosts: Iterable[str] = VENDOR_HOSTS,
    assert_all_mocked: bool = True,
    pass_loopback: bool = True,
) -> FaceMockRouter:
    """A respx router that answers httpx requests to ``hosts`` (default: every vendor host)
    with ``mock``, so unchanged client code talks to the mock. Other hosts get respx's own
    treatment: with ``assert_all_mocked`` an unmocked request raises respx's
    ``AllMockedAssertionError``. Loopback hosts (:data:`LOOPBACK_HOSTS`) pass through to the
    network when ``pass_loopback``, so local servers (the socket mock, picture servers the
    engine fetches ``image_url`` pictures from) keep working inside the router."""
    return FaceMockRouter(
        mock, hosts=hosts, assert_all_mocked=assert_all_mocked, pass_loopback=pass_loopback
    )


class RoutedFaceMock(FaceMock):
    """A :class:`FaceMock` with the respx router that serves it (``router``, not started);
    the ``face_mock_respx`` fixture's object."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        hosts: Iterable[str] = VENDOR_HOSTS,
        assert_all_mocked: bool = True,
        pass_loopback: bool = True,
        **changes: Any,
    ) -> None:
        super().__init__(settings, **changes)
        self.router = FaceMockRouter(
            self, hosts=hosts, assert_all_mocked=assert_all_mocked, pass_loopback=pass_loopback
        )

    def add_host(self, host: str) -> None:
        """Serve ``host`` too (a client configured with a custom domain or a proxy host)."""
        self.router.add_host(host)

    def __repr__(self) -> str:
        hosts = ", ".join(self.router.hosts)
        return f"<RoutedFaceMock at {hosts}: {len(self.journal)} call(s)>"


# --- pytest-httpserver: a real socket -----------------------------------------------------


def _from_werkzeug(request: Request) -> HttpRequest:
    return HttpRequest(
        method=request.method,
        path=request.path,
        headers={name.lower(): value for name, value in request.headers.items()},
        body=request.get_data(),
        query=request.query_string.decode("latin-1"),
        host=request.host,
    )


def _drop(request: Request) -> None:
    """Close the client's connection without an answer. werkzeug's development server hands
    the socket over in the environ; once it is shut down, writing the answer fails with a
    broken pipe, which werkzeug treats as a client that went away: nothing is sent and the
    connection is closed, so the client sees a disconnection, not an HTTP answer."""
    connection = request.environ.get("werkzeug.socket")
    if not isinstance(connection, socket.socket):
        msg = "face-contracts: this server does not expose its sockets; cannot drop a connection"
        raise RuntimeError(msg)
    with contextlib.suppress(OSError):  # the client may have gone already
        connection.shutdown(socket.SHUT_RDWR)


def _handler(current: Callable[[], FaceMock]) -> Callable[[Request], Response]:
    def respond(request: Request) -> Response:
        answer = current().handle(_from_werkzeug(request))
        try:
            if answer.delay > 0:
                time.sleep(answer.delay)
            if answer.drop:
                _drop(request)
                answer.complete()
                # Never sent, the socket is shut; 444 is nginx's "closed without a
                # response", which is what werkzeug's request log will show.
                return Response(b"", status=444)
            response = Response(answer.body, status=answer.status, headers=answer.headers or None)
            response.headers["Content-Type"] = answer.content_type
        except BaseException:
            answer.complete()
            raise
        # Released once werkzeug has written the body and closes the response.
        response.call_on_close(answer.complete)
        return response

    return respond


def serve_httpserver(mock: FaceMock, server: HTTPServer) -> None:
    """Answer every request ``server`` receives (any path, method, query) with ``mock``.

    ``server`` is a pytest-httpserver :class:`HTTPServer`, for instance the ``httpserver``
    fixture (which drops its handlers between tests: call this in each test). The handler is
    catch-all, so pytest-httpserver never answers "no handler"; an exception inside it is
    kept in ``server.handler_errors``. Concurrent clients need ``HTTPServer(threaded=True)``."""
    server.expect_request(re.compile(".*")).respond_with_handler(_handler(lambda: mock))


class MockServer:
    """The mock on a real local socket: a threaded pytest-httpserver :class:`HTTPServer` whose
    one catch-all handler hands every request to ``mock``, the :class:`FaceMock` currently
    served (assign another one to swap it). ``url`` is the base URL
    (``http://127.0.0.1:PORT``): point a client there instead of the vendor's host."""

    def __init__(
        self,
        mock: FaceMock | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.mock: FaceMock = mock if mock is not None else FaceMock()
        self.httpserver = HTTPServer(host, port, ssl_context, threaded=True)
        self.httpserver.expect_request(re.compile(".*")).respond_with_handler(
            _handler(lambda: self.mock)
        )

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        return self.httpserver.url_for("/").rstrip("/")

    def url_for(self, path: str) -> str:
        """The URL of ``path`` on this server."""
        return self.httpserver.url_for(path)

    def start(self) -> None:
        """Start serving in a background thread (a free port if ``port`` was 0)."""
        self.httpserver.start()

    def stop(self) -> None:
        """Stop serving."""
        if self.httpserver.is_running():
            self.httpserver.stop()

    def is_running(self) -> bool:
        """Whether the server is serving."""
        return self.httpserver.is_running()

    def clear(self) -> None:
        """Forget pytest-httpserver's request log and the errors raised in the server
        threads; the mock's own journal is untouched (see :meth:`FaceMock.reset`)."""
        self.httpserver.clear_log()
        self.httpserver.clear_handler_errors()
        self.httpserver.clear_assertions()

    def errors(self) -> list[BaseException]:
        """Exceptions raised while answering (a bug in the mock, never a vendor error)."""
        return list(self.httpserver.handler_errors)

    def check(self) -> None:
        """Raise ``AssertionError`` describing any exception raised while answering."""
        errors = self.errors()
        if errors:
            details = "\n".join(
                "".join(traceback.format_exception(error)).rstrip() for error in errors
            )
            msg = f"face-contracts: the mock server failed while answering:\n{details}"
            raise AssertionError(msg)

    def __enter__(self) -> Self:
        if not self.is_running():
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"<MockServer {self.url if self.is_running() else ''} {state}>"


@contextlib.contextmanager
def serve(
    mock: FaceMock | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[MockServer]:
    """Serve ``mock`` (a fresh :class:`FaceMock` if None) on ``host``:``port`` (0: a free
    port) for the duration of the block; no pytest needed."""
    server = MockServer(mock, host=host, port=port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class ServedFaceMock(FaceMock):
    """A :class:`FaceMock` to be served on a socket by ``server`` (which serves whichever
    mock is assigned to its ``mock``); ``url`` is the base URL. The ``face_mock`` fixture's
    object."""

    def __init__(
        self, server: MockServer, settings: Settings | None = None, **changes: Any
    ) -> None:
        super().__init__(settings, **changes)
        self.server = server

    @property
    def url(self) -> str:
        """The base URL of the server (``http://127.0.0.1:PORT``), without a trailing slash."""
        return self.server.url

    def url_for(self, path: str) -> str:
        """The URL of ``path`` on the server."""
        return self.server.url_for(path)

    def __repr__(self) -> str:
        return f"<ServedFaceMock at {self.url}: {len(self.journal)} call(s)>"


# --- what a test did not mean to send -----------------------------------------------------


def unmatched_report(journal: Iterable[JournalEntry]) -> str | None:
    """A message naming each request that reached no operation (a wrong path or method),
    with its near misses and the operations served; None when every request had one."""
    unmatched = [entry for entry in journal if entry.operation is None]
    if not unmatched:
        return None
    ops = operations()
    served = {op.path: op for op in ops}
    lines = [
        f"face-contracts: {len(unmatched)} request(s) reached no operation of the mock "
        "(it answered them as the vendor answers an unknown API):"
    ]
    for entry in unmatched:
        lines.append(f"  {entry.method} {entry.path} -> {entry.status}")
        near = [
            f"{op.method} {op.path} ({op.id}): same path, method {op.method}"
            for op in ops
            if op.path == entry.path.rstrip("/") and op.method != entry.method.upper()
        ]
        near += [
            f"{served[path].method} {path} ({served[path].id}): similar path"
            for path in difflib.get_close_matches(entry.path, list(served), n=2, cutoff=0.6)
            if path != entry.path.rstrip("/")
        ]
        lines.extend(f"    near miss: {text}" for text in near)
    lines.append("The mock serves:")
    width = max(len(op.path) for op in ops)
    lines.extend(f"  {op.method} {op.path:<{width}}  {op.id}" for op in ops)
    return "\n".join(lines)


def journal_report(journal: Iterable[JournalEntry], *, limit: int = 20) -> str:
    """The calls a mock answered, one line each (the last ``limit``), and for each refused
    call to an operation what its request schema expected, so that a failing test shows what
    its client sent."""
    entries = list(journal)
    if not entries:
        return "face-contracts: the mock received no request."
    shown = entries[-limit:]
    lines = [f"face-contracts: the mock answered {len(entries)} request(s):"]
    if len(shown) < len(entries):
        lines.append(f"  ... {len(entries) - len(shown)} earlier request(s) not shown")
    for entry in shown:
        lines.append(f"  {entry.summary()}")
        verdict = entry.verdict if entry.status >= 400 else None
        if verdict is not None and not verdict.valid:
            lines.extend(
                f"    request contract: {failure.pointer or '/'}: {failure.message} "
                f"[{failure.rule}]"
                for failure in verdict.failures[:5]
            )
    return "\n".join(lines)
