"""The validation proxy's client to its targets: HTTP/1.1 on asyncio, one keep-alive pool per
target, answers parsed by httptools (llhttp).

Why not httpx: a proxy needs none of a client's work (cookies, redirects, URL objects, header
models, anyio's cancel scopes around every read and write), and on the Face++ dense workload
httpx's pool cost the proxy about 2 ms a call, twice what the proxy may add
(benchmarks/README.md). Here a request is one ``writelines`` (its head with the first part of
its body), the answer's bytes go to the parser as they come, and the parser's pieces (the
status, the headers, the body as it arrives) wait in the connection until the forwarding task
takes them: nothing is copied beyond what the parser hands over.

What a connection promises: an answer is complete when the parser says so (Content-Length,
chunked, or the connection's end for an answer without either); a connection goes back to
the pool only after a complete answer that keeps it alive, with the whole request sent, and
only if it idled less than :data:`IDLE_LIFETIME`; bytes arriving when no answer is expected
close it. TLS targets are verified (the ``ssl`` module's default context: the system's
certificate authorities, or ``SSL_CERT_FILE``).
"""

from __future__ import annotations

import asyncio
import errno
import select
import socket
import ssl
from typing import TYPE_CHECKING, Literal, cast
from urllib.parse import urlsplit

import httptools

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["IDLE_LIFETIME", "Origin", "UpstreamConnection", "UpstreamError", "UpstreamPool"]

IDLE_LIFETIME = 4.0
"""Seconds a kept-alive connection to a target may idle and still be reused: under the 5 s
after which common servers (uvicorn, gunicorn) close idle connections, so that a request is
seldom written into a connection the target is closing."""

HIGH_WATER = 1 << 20
"""Answer bytes a connection holds before it stops reading from the target (a slow client
slows the target down instead of filling the proxy's memory)."""

Failure = Literal[
    "connect", "tls", "connect_timeout", "pool_timeout", "write_timeout", "read_timeout", "broken"
]


class UpstreamError(Exception):
    """A target failed the exchange; ``kind`` says how (``connect``, ``tls``,
    ``connect_timeout``, ``pool_timeout``, ``write_timeout``, ``read_timeout``, ``broken``)."""

    def __init__(self, kind: Failure, reason: str) -> None:
        super().__init__(reason)
        self.kind: Failure = kind
        self.reason = reason


class Origin:
    """One target: where to connect, the Host header and path prefix to send, its idle
    connections (most recently used last)."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.target = target
        self.tls = parts.scheme == "https"
        default = 443 if self.tls else 80
        self.host = parts.hostname or ""
        self.port = parts.port or default
        name = self.host if self.host.isascii() else self.host.encode("idna").decode()
        shown = f"[{name}]" if ":" in name else name
        netloc = shown if self.port == default else f"{shown}:{self.port}"
        self.host_header = netloc.encode()
        self.base_path = parts.path.rstrip("/").encode()
        self.idle: list[UpstreamConnection] = []


class UpstreamConnection(asyncio.Protocol):
    """One connection to a target, carrying one exchange at a time. The forwarding task
    writes the request (:meth:`write`, :meth:`drain`), waits for the answer's head
    (:meth:`head`), then takes the body as it comes (:meth:`take`, :meth:`wait`)."""

    def __init__(self, origin: Origin, loop: asyncio.AbstractEventLoop) -> None:
        self.origin = origin
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.lost = False
        self.active = False  # an answer is expected
        self.idle_since = 0.0
        self._waiter: asyncio.Future[bool] | None = None
        self._writable = True
        self._paused = False
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.head_done = False
        self.done = False
        self.error: BaseException | None = None
        self.received = 0
        self._head_only = False
        self._framed = False
        self._interim = False
        self._keep_alive = False
        self._fd = -1

    def start(self, *, head_only: bool) -> None:
        """Expect a new answer (``head_only``: to a HEAD request, whose answer has no body
        whatever its headers say)."""
        self.active = True
        self.status = 0
        self.headers = []
        self.chunks = []
        self.buffered = 0
        self.head_done = self.done = False
        self.error = None
        self.received = 0
        self._head_only = head_only
        self._framed = self._interim = self._keep_alive = False

    # --- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)
        sock = transport.get_extra_info("socket")
        self._fd = sock.fileno() if sock is not None else -1

    def data_received(self, data: bytes) -> None:
        if not self.active or self.done:
            # Bytes no request asked for: this connection cannot be trusted with another.
            self.close()
            return
        self.received += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.error = UpstreamError("broken", "the target switched protocols (101)")
            self.close()
        except httptools.HttpParserError as error:
            cause = error.__context__
            self.error = cause if isinstance(cause, UpstreamError) else error
            self.close()
        self._wake()

    def eof_received(self) -> bool | None:
        self._ended()
        return None  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if exc is not None and self.active and not self.done and self.error is None:
            self.error = exc
        self._ended()

    def pause_writing(self) -> None:
        self._writable = False

    def resume_writing(self) -> None:
        self._writable = True
        self._wake()

    # --- httptools callbacks ------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            self._interim = True  # 100 Continue, 103 Early Hints: the answer is still to come
            self.headers = []
            return
        if not 200 <= status <= 599:
            raise UpstreamError("broken", f"the target answered with status {status}")
        self.status = status
        self.head_done = True
        for name, _ in self.headers:
            lowered = name.lower()
            if lowered in (b"content-length", b"transfer-encoding"):
                self._framed = True
        if self._head_only:
            # The parser would wait for the body the headers announce; a HEAD answer has
            # none, so it ends here and the connection is not reused (the parser is mid-way).
            self.done = True
            self.lost = True

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        # Asked now: once the message is over, the parser has forgotten its headers.
        self._keep_alive = self.parser.should_keep_alive()
        self.done = True

    # --- for the forwarding task --------------------------------------------------------------

    def reusable(self, now: float) -> bool:
        """Whether the pool may hand this idle connection out again: open, not idle for too
        long, and with nothing to read (an idle connection becomes readable when the target
        closes it, which the event loop may not have reported yet)."""
        return (
            not self.lost
            and self.transport is not None
            and not self.transport.is_closing()
            and now - self.idle_since < IDLE_LIFETIME
            and not _readable(self._fd)
        )

    def keeps_alive(self) -> bool:
        """Whether the answer just completed leaves the connection fit for another request."""
        return (
            self.done
            and self.error is None
            and not self.lost
            and not self._head_only
            and self._keep_alive
        )

    def write(self, pieces: Sequence[bytes]) -> None:
        """Send bytes of the request (the connection buffers what the socket does not take)."""
        if self.transport is None or self.transport.is_closing():
            raise UpstreamError("broken", self._loss())
        self.transport.writelines(pieces)

    async def drain(self, timeout: float) -> None:
        """Wait until the target has taken what was written (flow control)."""
        while not self._writable:
            if self.lost or self.error is not None:
                raise UpstreamError("broken", self._loss())
            if self.head_done:
                return  # it answers already: the rest of the request does not matter to it
            if not await self._wait(timeout):
                raise UpstreamError("write_timeout", "the request was not taken in time")

    async def head(self, timeout: float) -> None:
        """Wait for the answer's status and headers."""
        deadline = self.loop.time() + timeout
        while not self.head_done:
            if self.error is not None or self.lost:
                raise UpstreamError("broken", self._loss())
            left = deadline - self.loop.time()
            if left <= 0 or not await self._wait(left):
                raise UpstreamError("read_timeout", "no answer in time")

    def take(self) -> list[bytes]:
        """The body bytes received since the last call (the list may be empty)."""
        chunks = self.chunks
        if chunks:
            self.chunks = []
            self.buffered = 0
            if self._paused and self.transport is not None:
                self._paused = False
                self.transport.resume_reading()
        return chunks

    async def more(self, timeout: float) -> None:
        """Wait for more of the body or its end; raises :class:`UpstreamError` when the
        target breaks off or falls silent for ``timeout`` seconds."""
        if self.chunks or self.done:
            return
        if self.error is not None or self.lost:
            raise UpstreamError("broken", self._loss())
        if not await self._wait(timeout):
            raise UpstreamError("read_timeout", f"silent for {timeout:g} s")
        if not self.chunks and not self.done and (self.error is not None or self.lost):
            raise UpstreamError("broken", self._loss())

    def close(self) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.abort()

    # --- internals ------------------------------------------------------------------------------

    def _ended(self) -> None:
        """The target closed its side: that ends an answer framed by the connection's end."""
        if self.active and self.head_done and not self._framed and self.error is None:
            self.done = True
        self.lost = True
        self._wake()

    def _loss(self) -> str:
        error = self.error
        if error is None:
            return f"the connection closed after {self.received} bytes of the answer"
        if isinstance(error, UpstreamError):
            return error.reason
        return f"{type(error).__name__}: {error}".rstrip(": ")

    async def _wait(self, timeout: float) -> bool:
        """Wait for the next event on this connection; False when ``timeout`` passed first."""
        waiter: asyncio.Future[bool] = self.loop.create_future()
        self._waiter = waiter
        timer = self.loop.call_later(timeout, _settle, waiter, False)
        try:
            return await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            _settle(waiter, True)


def _settle(waiter: asyncio.Future[bool], event: bool) -> None:
    if not waiter.done():
        waiter.set_result(event)


class UpstreamPool:
    """Connections to every target: at most ``limit`` in use at once (others wait, up to
    ``timeout`` seconds, for one to be released), idle ones kept per target for reuse."""

    def __init__(self, *, limit: int, connect_timeout: float, timeout: float) -> None:
        self.limit = limit
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self._origins: dict[str, Origin] = {}
        self._slots: asyncio.Semaphore | None = None
        self._tls: ssl.SSLContext | None = None
        self._busy: set[UpstreamConnection] = set()

    def origin(self, target: str) -> Origin:
        found = self._origins.get(target)
        if found is None:
            found = self._origins[target] = Origin(target)
        return found

    async def acquire(self, origin: Origin) -> tuple[UpstreamConnection, bool]:
        """A connection to ``origin`` and whether it was reused (kept alive from before)."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        if self._slots.locked():
            try:
                await asyncio.wait_for(self._slots.acquire(), self.timeout)
            except TimeoutError:
                raise UpstreamError("pool_timeout", "no free connection in time") from None
        else:
            await self._slots.acquire()  # free: returns without waiting
        loop = asyncio.get_running_loop()
        now = loop.time()
        idle = origin.idle
        while idle:
            connection = idle.pop()
            if connection.reusable(now):
                self._busy.add(connection)
                return connection, True
            connection.close()
        try:
            connection = await self._connect(origin, loop)
        except BaseException:
            self._slots.release()
            raise
        self._busy.add(connection)
        return connection, False

    def release(self, connection: UpstreamConnection, *, keep: bool) -> None:
        """Give a connection back: kept for reuse when ``keep`` and its answer allows it,
        otherwise closed."""
        assert self._slots is not None
        self._slots.release()
        self._busy.discard(connection)
        connection.active = False
        if keep and connection.keeps_alive():
            connection.idle_since = connection.loop.time()
            idle = connection.origin.idle
            if len(idle) >= self.limit:
                idle.pop(0).close()
            idle.append(connection)
        else:
            connection.close()

    def abort_busy(self) -> None:
        """Cut every connection in use: the exchanges waiting on them end now (with
        :class:`UpstreamError`)."""
        for connection in list(self._busy):
            connection.abort()

    def close(self) -> None:
        """Close every idle connection."""
        for origin in self._origins.values():
            for connection in origin.idle:
                connection.close()
            origin.idle.clear()

    async def _connect(self, origin: Origin, loop: asyncio.AbstractEventLoop) -> UpstreamConnection:
        context = self._tls_context() if origin.tls else None
        try:
            _, protocol = await asyncio.wait_for(
                loop.create_connection(
                    lambda: UpstreamConnection(origin, loop),
                    origin.host,
                    origin.port,
                    ssl=context,
                    server_hostname=origin.host if context is not None else None,
                ),
                self.connect_timeout,
            )
        except TimeoutError:
            raise UpstreamError(
                "connect_timeout", "the connection was not accepted in time"
            ) from None
        except ssl.SSLError as error:
            raise UpstreamError("tls", _reason(error)) from None
        except OSError as error:
            refused = (
                isinstance(error, ConnectionRefusedError | socket.gaierror)
                or error.errno in _UNREACHABLE
            )
            kind: Failure = "tls" if origin.tls and not refused else "connect"
            raise UpstreamError(kind, _reason(error)) from None
        return protocol

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            # Verified as any client verifies: the system's authorities (or SSL_CERT_FILE),
            # the host name checked.
            self._tls = ssl.create_default_context()
        return self._tls


def _readable(fd: int) -> bool:
    """Whether a socket has bytes or an end of stream waiting (without waiting for them)."""
    if fd < 0:
        return False
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])  # Windows: no poll()


_UNREACHABLE = {
    errno.ECONNREFUSED,
    errno.EHOSTUNREACH,
    errno.ENETUNREACH,
    errno.EADDRNOTAVAIL,
    errno.ETIMEDOUT,
}


def _reason(error: BaseException) -> str:
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        return f"certificate verify failed: {error.verify_message}"
    if isinstance(error, ssl.SSLError) and error.reason:
        return error.reason.lower().replace("_", " ")
    return str(error) or type(error).__name__
