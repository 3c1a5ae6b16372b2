"""The HTTP side of ``face-contracts serve``: uvicorn with httptools, plus the limits a server
facing arbitrary clients needs and uvicorn does not have.

uvicorn's httptools protocol is the fastest HTTP/1.1 stack for an ASGI app in Python, but
it reads request heads without a bound (httptools joins header pieces by concatenation: a
64 MB header costs seconds of CPU), has no time limit on reading a head, keeps any number
of connections, cannot close a connection without answering, and ignores a second signal
while it shuts down. uvicorn's h11 protocol bounds head size but costs about 40% of the
throughput (benchmarks/README.md). So this module keeps httptools and adds, per connection:

- the request head (request line and headers) is fed to the parser in slices up to the
  byte budget ``max_header_bytes``, so no head beyond it is ever buffered: 431;
- more than ``max_headers`` header fields: 431;
- a head must arrive within ``header_timeout`` of the connection opening (or of its first
  byte, on a kept-alive connection): 408, or a silent close if nothing was sent;
- at most ``max_connections`` per process: the longest-idle connection is closed to make
  room; when none is idle the newcomer's requests get 503 (``Connection: close``);
- the ``face_contracts.drop`` ASGI extension, which closes the connection with nothing sent;

and a :class:`Server` whose stop is bounded: in-flight requests get ``grace`` seconds, then
their connections are closed and the app told to stop waiting; a second signal exits at once.
The body deadline, the engine's thread pool and its deadline live in the app
(:class:`face_contracts.server.MockApp`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
from typing import TYPE_CHECKING, Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors.multiprocess import Multiprocess, Process

from face_contracts.server import DROP_EXTENSION
from face_contracts.settings import ServerSettings

if TYPE_CHECKING:
    from types import FrameType

    from uvicorn.server import ServerState

__all__ = [
    "BACKLOG",
    "FD_RESERVE",
    "LINGER",
    "LimitedHttpToolsProtocol",
    "Server",
    "ServerConfig",
    "Supervisor",
    "listening_socket",
    "open_files_allowance",
    "return_large_buffers",
]

BACKLOG = 2048
"""Connections the listening socket queues before the server accepts them."""

LINGER = 2.0
"""Seconds a refused connection keeps reading (and dropping) what the client still sends, so
that the refusal reaches it (see :meth:`LimitedHttpToolsProtocol._refuse`)."""

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)

FD_RESERVE = 128
"""File descriptors kept back from connections: the interpreter, the event loop, the thread
pool's image-URL fetches, logs."""

_log = logging.getLogger("uvicorn.error")


class ServerConfig(uvicorn.Config):
    """uvicorn's configuration plus :class:`ServerSettings` (picklable: it travels to the
    worker processes)."""

    def __init__(self, app: Any, settings: ServerSettings, **options: Any) -> None:
        super().__init__(
            app,
            http=LimitedHttpToolsProtocol,
            # uvloop where the dependency is installed (not on Windows), asyncio elsewhere.
            loop="uvloop" if sys.platform != "win32" else "asyncio",
            ws="none",
            lifespan="on",
            proxy_headers=False,  # the app sees the peer as it is; nothing proxies a mock
            timeout_keep_alive=settings.keep_alive_timeout,  # type: ignore[arg-type]
            timeout_graceful_shutdown=settings.grace,  # type: ignore[arg-type]
            **options,
        )
        self.server_settings = settings


class _TooManyHeaders(Exception):  # noqa: N818 - raised inside the parser's callback to stop it
    pass


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounded heads, a head deadline, a connection limit
    and the drop extension (see the module's docstring)."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits: ServerSettings = getattr(config, "server_settings", None) or ServerSettings()
        self._reading_head = True  # until the current request's headers are complete
        self._head_bytes = 0
        self._head_started = False  # a byte of the current request has arrived
        self._header_count = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._idle_since: float | None = None  # open with no request in progress
        self._refused = False

    # --- connections ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._idle_since = self.loop.time()
        self._arm_head_timer()
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def _make_room(self) -> None:
        idle = [
            other
            for other in self.connections
            if isinstance(other, LimitedHttpToolsProtocol)
            and other is not self
            and other._idle_since is not None
            and not other.transport.is_closing()
        ]
        if idle:
            min(idle, key=lambda other: other._idle_since or 0.0).transport.close()
        else:
            # Every connection is busy: this one's requests get uvicorn's 503 and a close.
            self.limit_concurrency = 0

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        self._idle_since = None
        super().connection_lost(exc)

    # --- reading the head -------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._unset_keepalive_if_required()
        view = memoryview(data)
        while view:
            if not self._reading_head:
                self._feed(view)
                return
            room = self.limits.max_header_bytes - self._head_bytes
            if room <= 0:
                self._refuse(431, b"Request Header Fields Too Large")
                return
            piece, view = view[:room], view[room:]
            self._head_bytes += len(piece)
            if not self._feed(piece):
                return
        if self._reading_head and self._head_bytes >= self.limits.max_header_bytes:
            self._refuse(431, b"Request Header Fields Too Large")

    def _feed(self, data: memoryview) -> bool:
        """Feed the parser as uvicorn does; False once the connection is answered and closed."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()  # no WebSocket here; the request is answered
        except httptools.HttpParserError as error:
            if isinstance(error.__context__, _TooManyHeaders):
                self._refuse(431, b"Request Header Fields Too Large")
            else:
                self._refuse(400, b"Invalid HTTP request received.")
            return False
        return not self._refused

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_started = True
        self._idle_since = None
        self._header_count = 0
        self._arm_head_timer()
        self.scope["extensions"] = {DROP_EXTENSION: {"close": self._drop}}

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.limits.max_headers:
            raise _TooManyHeaders
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head = True
        self._head_bytes = 0
        self._head_started = False

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline and not self._head_started:
            self._idle_since = self.loop.time()

    # --- timers and answers of our own -----------------------------------------------------

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(
                self.limits.header_timeout, self._head_timed_out
            )

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._head_started and self._reading_head:
            self._refuse(408, b"Request Timeout")
        elif self._reading_head:  # connected, sent nothing: closed as an idle connection
            self.transport.close()

    def _refuse(self, status: int, reason: bytes) -> None:
        """Answer ``status`` with ``reason`` as plain text and close: the request was not read
        (uvicorn's own refusals, 400 for a malformed request, look the same). The close
        lingers: closing a socket with unread data resets the connection, and a client still
        sending would lose the answer; so the sending side is shut, what still arrives is
        read and dropped, and the socket closes when the client does or after
        :data:`LINGER` seconds."""
        self._refused = True
        self._cancel_head_timer()
        if self.transport.is_closing():
            return
        if status != 408:
            _log.info("%s refused: %s", self._peer(), reason.decode())
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status, reason, len(reason), reason)
        )
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self.transport.resume_reading()
        self._head_timer = self.loop.call_later(LINGER, self.transport.close)

    def _drop(self) -> None:
        """Close the connection with nothing sent: no status line, no error logged."""
        if self.cycle is not None:
            self.cycle.disconnected = True  # uvicorn then neither answers nor complains
            self.cycle.message_event.set()
        self._refused = True
        self.transport.close()

    def _peer(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else "a client"


class Server(uvicorn.Server):
    """uvicorn's server with a bounded stop: in-flight requests get ``grace`` seconds after
    the first SIGTERM or SIGINT, then their connections are closed and the app abandons
    them; a second signal exits at once (status 128 + the signal's number).

    ``listening``: the line printed once the socket serves (None: print nothing, as in a
    worker process). ``interrupts``: whether SIGINT stops it (workers leave SIGINT, which a
    terminal sends to the whole process group, to the supervisor). ``owns_process``: the
    process exits when the server has stopped, even with engine work still running in
    threads (not for a server run inside another program, such as a test). ``name``: what
    the stop messages call it (``mock``, ``proxy``)."""

    def __init__(
        self,
        config: ServerConfig,
        *,
        listening: str | None = None,
        interrupts: bool = True,
        owns_process: bool = False,
        name: str = "mock",
    ) -> None:
        super().__init__(config)
        self.listening = listening
        self.interrupts = interrupts
        self.owns_process = owns_process
        self.name = name

    @property
    def settings(self) -> ServerSettings:
        settings: ServerSettings = getattr(self.config, "server_settings", ServerSettings())
        return settings

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        del frame
        if sig == signal.SIGINT and not self.interrupts:
            return
        if self.should_exit:
            _exit_now(sig, self.name)
        self.should_exit = True  # the main loop notices within 0.1 s and calls shutdown()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.listening is not None and not self.should_exit:
            print(self.listening, flush=True)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        grace = self.settings.grace
        if self.listening is not None:
            busy = len(self.server_state.tasks)
            print(
                f"face-contracts {self.name} stopping: {busy} request{'s' * (busy != 1)} in "
                f"flight, up to {grace:g} s to finish (signal again to stop at once)",
                file=sys.stderr,
                flush=True,
            )
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # idle ones close now, busy ones after their answer
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self.server_state.tasks and loop.time() < deadline:
            await asyncio.sleep(0.05)
        if self.server_state.tasks:
            # Grace is over: close what is left, then let the app stop waiting (a request
            # whose connection is gone ends without an answer and without an error).
            for connection in list(self.server_state.connections):
                transport = getattr(connection, "transport", None)
                if transport is not None:
                    transport.abort()
            abandon = getattr(self.config.loaded_app, "abandon", None)
            if abandon is not None:
                await asyncio.sleep(0)  # let connection_lost mark the requests disconnected
                abandon()
            await asyncio.wait(set(self.server_state.tasks), timeout=1.0)
            for task in list(self.server_state.tasks):
                task.cancel()
        for server in self.servers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), timeout=1.0)
        await self.lifespan.shutdown()

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        if self.owns_process:
            return_large_buffers()
        super().run(sockets)
        if self.listening is not None:
            print(f"face-contracts {self.name} stopped", file=sys.stderr, flush=True)
        busy: int = getattr(self.config.loaded_app, "engine_busy", 0)
        if self.owns_process and busy:
            # Engine work past the grace period (say, an image URL that never answers) would
            # hold the interpreter's exit until it ends: everything is answered or closed.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)


class _WorkerProcess(Process):
    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = Server(
                self.config,  # type: ignore[arg-type]
                interrupts=False,
                owns_process=True,
            )
        return self._server


class Supervisor(Multiprocess):
    """uvicorn's worker supervisor with our :class:`Server` in each worker and a second
    signal that ends everything at once."""

    def __init__(self, config: ServerConfig, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        del frame
        if self.should_exit.is_set() or self.signal_queue:
            for process in self.processes:
                process.kill()
            _exit_now(sig)
        self.signal_queue.append(sig)

    def init_processes(self) -> None:
        for _ in range(self.processes_num):
            process = _WorkerProcess(self.config, self.sockets)
            process.start()
            self.processes.append(process)


def _exit_now(sig: int, name: str = "mock") -> None:
    # os.write: a signal handler must not print through Python's buffered streams, which
    # the interrupted code may be in the middle of using.
    os.write(2, f"face-contracts {name}: second signal, stopped at once\n".encode())
    os._exit(128 + sig)


def return_large_buffers() -> None:
    """Let this process's memory shrink back after large requests (glibc only).

    glibc serves large allocations with their own memory mappings, unmapped when freed,
    but raises that threshold after each such free (up to 32 MiB): after one 20 MiB upload,
    the next uploads' bodies and pictures come from the heap, whose freed memory stays in
    the process (in one heap per thread of the pool). A fixed 1 MiB threshold keeps every
    large buffer mapped, so RSS follows what is in use (benchmarks/README.md, soak)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library this interpreter runs on
    except (OSError, AttributeError):  # not glibc (musl has no such knob)
        return
    mallopt(M_MMAP_THRESHOLD, 1 << 20)


def open_files_allowance(wanted: int) -> int:
    """How many connections the open-files limit allows, after raising the soft limit
    toward the hard one so that ``wanted`` connections and :data:`FD_RESERVE` fit."""
    try:
        import resource  # deferred: a Unix module; Windows has no such limit to raise
    except ImportError:
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - FD_RESERVE))


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` (0: a free port) and listening, for ``serve`` and
    ``proxy`` alike; a port outside 0..65535, in use or not bindable is a ValueError whose
    message says which."""
    if not 0 <= port <= 65535:
        msg = f"--port must be 0 to 65535, not {port}"
        raise ValueError(msg)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        reason = (
            "is already in use" if error.errno in (98, 48) else f"cannot be bound: {error.strerror}"
        )
        msg = f"port {port} on {host} {reason}"
        raise ValueError(msg) from None
    sock.listen(BACKLOG)
    return sock
