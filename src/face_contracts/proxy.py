"""``face-contracts proxy``: real traffic forwarded unchanged, judged, recorded, replayable.

Point a client at the proxy instead of the vendor (or a staging server). Every request is
forwarded to its vendor's target as it came (method, path, query, headers without the
hop-by-hop ones, body, all streamed) and the client receives the target's status, headers
and body byte for byte. Once the answer has been sent, the exchange is judged off the event
loop (in worker threads, or for the command in a process of its own), so the client waits
for nothing but the forwarding: the request against the request
contract, the answer against the response or error contract with the request as context
(the live suite's :func:`~face_contracts.contract_suite.judge.judge`). Verdicts go to the
journal (``GET /__admin/requests``), the drift tally (``GET /__admin/drift``, ``--drift-report``,
``--junitxml``) and, with ``--record DIR``, to one redacted recording per distinct request,
drifted answers included and marked, which ``serve`` can replay.

A target that cannot be reached is the proxy's failure and says so in plain text (502, or
504 for a timeout) naming the target, never in a vendor's error format. Secrets (the
credentials each request carries, the ``FACE_CONTRACTS_*`` variables, credential-named
fields, headers and query parameters) are masked in everything the proxy keeps or shows.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import contextlib
import functools
import hashlib
import hmac
import itertools
import logging
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
import traceback
import zlib
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson

import face_contracts.vendors
from face_contracts._net import bearer_token, is_loopback_host
from face_contracts._transport import (
    BACKLOG,
    Server,
    ServerConfig,
    listening_socket,
    open_files_allowance,
)
from face_contracts._upstream import UpstreamConnection, UpstreamError, UpstreamPool
from face_contracts.contract_suite.cases import Expect
from face_contracts.contract_suite.judge import Answer, Drift, judge, judge_report
from face_contracts.contract_suite.report import DriftTally
from face_contracts.contracts import contracts, operations
from face_contracts.journal import upload_document
from face_contracts.mock._http import BodyError, HttpRequest, parse_body
from face_contracts.recordings import (
    Recording,
    answer_body,
    replay_key,
    request_summary,
    save_recording,
)
from face_contracts.redaction import MASK, SECRET_ENVIRONMENT, Redactor, is_secret_name
from face_contracts.settings import (
    ServerSettings,
    SettingsError,
    parse_server_settings,
    read_toml,
)
from face_contracts.validation import validate

if TYPE_CHECKING:
    import socket
    from collections.abc import (
        Awaitable,
        Callable,
        Iterable,
        Mapping,
        MutableMapping,
    )
    from pathlib import Path

    from face_contracts.mock._http import ParsedBody
    from face_contracts.recordings import CredentialState

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]

__all__ = [
    "ADMIN_PREFIX",
    "VENDORS",
    "ProxyApp",
    "ProxyOptions",
    "ProxyServer",
    "TargetError",
    "parse_targets",
    "read_proxy_settings",
    "run_proxy",
]

ADMIN_PREFIX = "/__admin/"
VENDORS = tuple(face_contracts.vendors.VENDORS)  # the vendors a target may be named for
DEFAULT_UPSTREAM_TIMEOUT = 60.0  # seconds a target may take to answer (the live suite's)
CONNECT_TIMEOUT = 10.0
UPSTREAM_CONNECTIONS = 100  # connections to the targets, shared by all clients
# The [server] settings that apply to the proxy (served by serve's stack, with its limits):
# the rest (engine threads and deadline, shared state) belong to the mock's engine.
PROXY_SERVER_SETTINGS = (
    "max_connections",
    "max_header_bytes",
    "max_headers",
    "header_timeout",
    "body_timeout",
    "keep_alive_timeout",
    "grace",
)
# What is kept of an exchange to judge it: the request up to the operation's picture limit
# plus 1 MiB (_judging_limit), the answer up to the largest recording; larger ones are
# forwarded and journaled unjudged.
ANSWER_LIMIT = 32 << 20
JOURNAL_LIMIT = 256
JOURNAL_ANSWER_LIMIT = 256 << 10  # an answer larger than this is journaled as its digest
# Exchanges answered but not yet judged (each holds its bytes): beyond this, the next
# request waits for judging to catch up before it is forwarded, so memory stays bounded
# when judging is slower than forwarding.
JUDGING_BACKLOG = 64
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
_NOT_FORWARDED = HOP_BY_HOP | {b"host"}  # Host names the target instead

_log = logging.getLogger("face_contracts.proxy")
Judging = Literal["threads", "process"]


class TargetError(ValueError):
    """A ``--target`` that cannot be used; the message names it (password masked)."""


@dataclass(frozen=True)
class ProxyOptions:
    """The command line of ``proxy``. ``targets``: each vendor's base URL (see
    :func:`parse_targets`); a vendor without one is answered 502 by the proxy."""

    targets: Mapping[str, str]
    host: str = "127.0.0.1"
    port: int = 8080
    drift_report: Path | None = None
    junitxml: Path | None = None
    record: Path | None = None
    strict_drift: bool = False
    admin_token: str | None = None
    upstream_timeout: float = DEFAULT_UPSTREAM_TIMEOUT
    access_log: bool = False
    server: ServerSettings = field(default_factory=ServerSettings)
    """The server's limits and grace (``--config FILE``'s ``[server]`` table; see
    :func:`read_proxy_settings`): those of ``serve``, with its defaults."""


def parse_targets(values: Iterable[str]) -> dict[str, str]:
    """Each vendor's base URL from ``--target`` values: a bare ``URL`` serves every vendor
    without its own, ``VENDOR=URL`` (``ailab``, ``acedata``, ``facepp``) one vendor."""
    default: str | None = None
    given: dict[str, str] = {}
    shown = Redactor()
    for value in values:
        name, sep, rest = value.partition("=")
        if sep and "://" not in name:
            vendor = name.strip().lower()
            if vendor not in VENDORS:
                msg = (
                    f"--target {shown.url(value)}: unknown vendor {name!r}; "
                    f"known: {', '.join(VENDORS)}"
                )
                raise TargetError(msg)
            if vendor in given:
                msg = f"--target {vendor}= is given twice"
                raise TargetError(msg)
            given[vendor] = _base_url(rest.strip(), value)
        else:
            if default is not None:
                msg = "only one --target may omit the vendor (it serves every vendor)"
                raise TargetError(msg)
            default = _base_url(value.strip(), value)
    if default is None and not given:
        msg = "give --target URL (every vendor) or --target VENDOR=URL (ailab, acedata, facepp)"
        raise TargetError(msg)
    targets = {}
    for vendor in VENDORS:
        url = given.get(vendor, default)
        if url is not None:
            targets[vendor] = url
    return targets


def _base_url(url: str, given: str) -> str:
    shown = Redactor().url(given)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        msg = f"--target {shown}: not a URL ({error})"
        raise TargetError(msg) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        msg = f"--target {shown}: give an http:// or https:// URL with a host"
        raise TargetError(msg)
    if "@" in parts.netloc:
        msg = (
            f"--target {shown}: no user or password in the target URL; the client's "
            "requests carry their own credentials"
        )
        raise TargetError(msg)
    if parts.query or parts.fragment:
        msg = f"--target {shown}: a base URL has no query or fragment"
        raise TargetError(msg)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = host if port is None else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}{parts.path.rstrip('/')}"


def read_proxy_settings(path: Path | None) -> ServerSettings:
    """The ``[server]`` table of a TOML file, for ``proxy --config FILE``: the limits and
    grace ``serve`` takes (``max_connections``, ``max_header_bytes``, ``max_headers``,
    ``header_timeout``, ``body_timeout``, ``keep_alive_timeout``, ``grace``), checked by the
    same rules with the same messages; without a file, ``serve``'s defaults. Anything else
    is refused, naming it: the mock's settings and the engine's ``[server]`` keys do not
    apply to a proxy."""
    if path is None:
        return ServerSettings()
    data = read_toml(path)
    taken = ", ".join(PROXY_SERVER_SETTINGS)
    other = sorted(key for key in data if key != "server")
    if other:
        msg = (
            f"{path}: {', '.join(other)}: not a proxy setting; the proxy reads only the "
            f"[server] table ({taken})"
        )
        raise ValueError(msg)
    table = data.get("server", {})
    if not isinstance(table, dict):
        msg = f"{path}: server: must be a table ([server])"
        raise ValueError(msg)
    engine = sorted(set(table) & set(ServerSettings().to_json()) - set(PROXY_SERVER_SETTINGS))
    if engine:
        msg = (
            f"{path}: [server] {engine[0]}: a setting of the mock's engine, not of the proxy "
            f"(it takes {taken})"
        )
        raise ValueError(msg)
    try:
        return parse_server_settings(table)
    except SettingsError as error:
        msg = f"{path}: {error}"
        raise ValueError(msg) from None


# --- one exchange ---------------------------------------------------------------------------


@dataclass
class _Exchange:
    """One request and its answer, as forwarded; ``body``/``answer`` are None when larger
    than what is kept for judging. Holds the request's secrets in memory until judged. The
    headers are kept as they came (bytes) and decoded only by the judge, off the client's
    path."""

    seq: int
    at: float
    method: str
    path: str
    query: str
    raw_headers: list[tuple[bytes, bytes]]
    operation: str | None
    vendor: str | None
    target: str | None
    body: bytes | None = None
    body_bytes: int = 0
    body_limit: int = 0
    status: int | None = None
    raw_response_headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    answer: bytes | None = None
    answer_bytes: int = 0
    upstream_ms: float | None = None
    problem: str | None = None

    @functools.cached_property
    def headers(self) -> dict[str, str]:
        """The request's headers by lower-case name (a repeated one: its last value)."""
        return {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in self.raw_headers
        }

    @functools.cached_property
    def response_headers(self) -> list[tuple[str, str]]:
        """The answer's headers as the client received them, in order."""
        return [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in self.raw_response_headers
        ]

    def content_type(self) -> str:
        return next((v for n, v in self.response_headers if n.lower() == "content-type"), "")

    def headline(self) -> str:
        answered = f" -> HTTP {self.status}" if self.status is not None else ""
        return f"{self.method} {self.path}{answered}"


class _ClientGone(Exception):  # noqa: N818 - control flow: the client left mid-request
    pass


class _UpstreamCut(Exception):  # noqa: N818 - reported as one log line, then the socket closes
    pass


class _SlowBody(Exception):  # noqa: N818 - control flow: the client's body is overdue
    pass


# --- the app --------------------------------------------------------------------------------


class ProxyApp:
    """The validation proxy as an ASGI application. Requests go to the targets through the
    proxy's own HTTP/1.1 client (:mod:`face_contracts._upstream`: asyncio, a keep-alive pool
    per target, httptools' parser), which forwards each piece of a body as it comes and does
    nothing a client library would add (cookies, redirects, headers of its own).
    ``judging``: in this process's worker ``threads`` (the default: tests, the ``face_proxy``
    fixture) or in a ``process`` of its own (the command), where judging cannot hold the
    interpreter lock forwarding needs."""

    def __init__(self, options: ProxyOptions, *, judging: Judging = "threads") -> None:
        self.options = options
        self.targets = dict(options.targets)
        self._secrets = _base_secrets(options)
        self.redactor = Redactor(self._secrets)
        self.tally = DriftTally(strict=options.strict_drift)
        self.journal: deque[dict[str, Any]] = deque(maxlen=JOURNAL_LIMIT)
        self.started = time.time()
        timeout = options.upstream_timeout
        self._timeout = timeout
        self._connect_timeout = min(CONNECT_TIMEOUT, timeout)
        self._pool = UpstreamPool(
            limit=UPSTREAM_CONNECTIONS, connect_timeout=self._connect_timeout, timeout=timeout
        )
        self._body_timeout = options.server.body_timeout
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._pending: dict[int, concurrent.futures.Future[None]] = {}
        self.waiting_for_judging = 0  # requests held back until judging catches up
        self._waiting_for_room: list[asyncio.Future[None]] = []
        self._unrecorded: set[int] = set()  # exchanges whose recording an earlier one replaced
        # Judging runs in this process's threads, or (``face-contracts proxy``) in a process
        # of its own, where it cannot hold the interpreter lock the forwarding needs.
        self._judging = judging
        self._judge = _Judge(options, self._secrets, lazy_answers=judging == "threads")
        self._executor: concurrent.futures.Executor | None = None
        self._generation = 0  # bumped by reset: recordings may be made again
        # Each route once: its operation, vendor and how much of its body is kept to judge.
        self._routes = {
            (op.method, op.path): (op.id, op.vendor, _judging_limit(op.id)) for op in operations()
        }
        # A path that is no operation still goes to its vendor when its first segment
        # belongs to one vendor only (/facepp/..., /api/..., /face/...); it is not judged.
        owners: dict[str, set[str]] = {}
        for op in operations():
            owners.setdefault(_first_segment(op.path), set()).add(op.vendor)
        self._prefixes = {seg: next(iter(v)) for seg, v in owners.items() if len(v) == 1}
        self._closed = False
        self._abandoned = False  # the server stopped waiting for in-flight exchanges

    # --- ASGI -------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path.startswith(ADMIN_PREFIX) or path == ADMIN_PREFIX.rstrip("/"):
            await self._admin(scope, receive, send)
            return
        await self._forward(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self._judging == "process":  # start it now, not on the first exchange
                    self._executor_for().submit(_judging_ready)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def abandon(self) -> None:
        """The grace period after a stop signal is over and the clients' connections are
        closed (called by the server): exchanges still waiting for a target end now, each
        journaled as stopped, without an answer to a client that is gone."""
        self._abandoned = True
        self._pool.abort_busy()

    async def aclose(self) -> None:
        """Finish judging, close the connections to the targets, write the reports."""
        if self._closed:
            return
        self._closed = True
        self._pool.close()
        await asyncio.get_running_loop().run_in_executor(None, self.settle)
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
        try:
            self.flush()
        except OSError as error:
            _log.error("face-contracts proxy: cannot write the reports: %s", error)

    # --- forwarding -------------------------------------------------------------------------

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        if len(self._pending) >= JUDGING_BACKLOG:
            await self._room_to_judge()
        method: str = scope["method"]
        path: str = scope["path"]
        raw_headers: list[tuple[bytes, bytes]] = scope["headers"]
        route = self._routes.get((method.upper(), path.rstrip("/") or "/"))
        operation: str | None = None
        vendor: str | None
        if route is not None:
            operation, vendor, limit = route
        else:
            vendor, limit = self._prefixes.get(_first_segment(path)), 1 << 20
        target = self.targets.get(vendor) if vendor else None
        query: bytes = scope["query_string"]
        exchange = _Exchange(
            next(self._seq),
            time.time(),
            method,
            path,
            query.decode("latin-1"),
            raw_headers,
            operation,
            vendor,
            target,
        )
        if vendor is None:
            message = (
                f"face-contracts proxy: {method} {path} is no path of {', '.join(VENDORS)}; "
                "nothing was forwarded"
            )
            await self._proxy_answer(send, exchange, 404, message)
            return
        if target is None:
            message = (
                f"face-contracts proxy: no --target for {vendor}, so {method} {path} was not "
                "forwarded"
            )
            await self._proxy_answer(send, exchange, 502, message)
            return
        exchange.body_limit = limit
        origin = self._pool.origin(target)
        head, framing = _request_head(method, scope, raw_headers, origin.host_header)
        started = time.perf_counter()
        connection: UpstreamConnection | None = None
        keep = False  # whether the connection may serve another request
        try:
            try:
                connection, _ = await self._pool.acquire(origin)
                connection.start(head_only=method == "HEAD")
                if framing is None:
                    connection.write((head,))
                    sent_whole = True
                else:
                    sent_whole = await self._send_body(receive, connection, head, framing, exchange)
                await connection.head(self._timeout)
            except _ClientGone:
                exchange.problem = "the client disconnected while sending its request"
                self._submit(exchange)
                return
            except _SlowBody:
                message = (
                    f"face-contracts proxy: the body of {method} {path} did not arrive within "
                    f"{self._body_timeout:g} s; nothing more was forwarded"
                )
                await self._proxy_answer(send, exchange, 408, message, close=True)
                return
            except UpstreamError as error:
                if self._abandoned:
                    exchange.problem = f"the proxy stopped before {target} answered"
                    self._submit(exchange)
                    return
                status, message = self._upstream_failure(exchange, error)
                await self._proxy_answer(send, exchange, status, message)
                return
            except asyncio.CancelledError:  # the server gave up on this exchange
                exchange.problem = f"the proxy stopped before {target} answered"
                self._submit(exchange)
                raise
            try:
                await self._relay(connection, send, exchange)
                keep = sent_whole
            finally:
                exchange.upstream_ms = round((time.perf_counter() - started) * 1000, 3)
                self._submit(exchange)
        finally:
            if connection is not None:
                self._pool.release(connection, keep=keep)

    async def _send_body(
        self,
        receive: Receive,
        connection: UpstreamConnection,
        head: bytes,
        chunked: bool,
        exchange: _Exchange,
    ) -> bool:
        """Forward the client's body piece by piece as it arrives (the head goes with the
        first piece, in one write), keeping a copy up to the judging limit; whether all of
        it was sent (not when the target answered before taking it all)."""
        deadline = asyncio.get_running_loop().time() + self._body_timeout
        limit = exchange.body_limit
        kept: list[bytes] | None = []
        size = 0
        pieces: list[bytes] = [head]
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        message = await receive()
                except TimeoutError:
                    raise _SlowBody from None
                if message["type"] == "http.disconnect":
                    raise _ClientGone
                chunk: bytes = message.get("body", b"")
                more: bool = message.get("more_body", False)
                if chunk:
                    size += len(chunk)
                    if kept is not None:
                        if size > limit:
                            kept = None
                        else:
                            kept.append(chunk)
                    if chunked:
                        pieces += (b"%x\r\n" % len(chunk), chunk, b"\r\n")
                    else:
                        pieces.append(chunk)
                if not more and chunked:
                    pieces.append(b"0\r\n\r\n")
                if pieces:
                    connection.write(pieces)
                    pieces = []
                if not more:
                    return True
                await connection.drain(self._timeout)
                if connection.head_done:
                    return False  # answered before the whole body: the rest is not sent
        finally:
            exchange.body = None if kept is None else b"".join(kept)
            exchange.body_bytes = size

    async def _relay(self, connection: UpstreamConnection, send: Send, exchange: _Exchange) -> None:
        """The target's answer to the client as it comes: its status, its headers without the
        hop-by-hop ones, its body (a copy kept for judging up to :data:`ANSWER_LIMIT`)."""
        received = connection.headers
        dropped = HOP_BY_HOP
        for name, value in received:
            if name.lower() == b"connection":
                dropped = dropped | {token.strip().lower() for token in value.split(b",")}
        headers = [(name, value) for name, value in received if name.lower() not in dropped]
        exchange.status = connection.status
        exchange.raw_response_headers = headers
        self._track(exchange)
        await send({"type": "http.response.start", "status": connection.status, "headers": headers})
        kept: list[bytes] | None = []
        size = 0
        while True:
            chunks = connection.take()
            if chunks:
                data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                size += len(data)
                if kept is not None:
                    if size > ANSWER_LIMIT:
                        kept = None
                    else:
                        kept.append(data)
                done = connection.done
                await send({"type": "http.response.body", "body": data, "more_body": not done})
                if done:
                    break
            elif connection.done:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                break
            else:
                try:
                    await connection.more(self._timeout)
                except UpstreamError as error:
                    exchange.answer_bytes = size
                    if self._abandoned:
                        exchange.problem = (
                            f"the proxy stopped while {exchange.target} was sending its "
                            f"answer, after {size} bytes"
                        )
                        return
                    exchange.problem = (
                        f"{exchange.target} cut its answer to {exchange.method} "
                        f"{exchange.path} after {size} bytes: {error.reason}"
                    )
                    # The status line is out: the only honest signal left is a cut connection.
                    raise _UpstreamCut(f"face-contracts proxy: {exchange.problem}") from None
        exchange.answer_bytes = size
        exchange.answer = None if kept is None else b"".join(kept)

    def _upstream_failure(self, exchange: _Exchange, error: UpstreamError) -> tuple[int, str]:
        target, sent = exchange.target, f"{exchange.method} {exchange.path}"
        reason = self.redactor.text(error.reason)
        timeouts = {
            "connect_timeout": (self._connect_timeout, "to accept the connection"),
            "pool_timeout": (self._timeout, "for a free connection"),
            "write_timeout": (self._timeout, "to take the request"),
            "read_timeout": (self._timeout, "to answer"),
        }
        if error.kind in timeouts:
            seconds, what = timeouts[error.kind]
            status = 504
            message = (
                f"face-contracts proxy: {target} took longer than {seconds:g} s {what} ({sent})"
            )
        elif error.kind == "tls":
            status = 502
            message = f"face-contracts proxy: TLS with {target} failed ({sent}): {reason}"
        elif error.kind == "connect":
            status = 502
            message = f"face-contracts proxy: cannot connect to {target} ({sent}): {reason}"
        else:
            status = 502
            message = f"face-contracts proxy: {target} broke off the exchange ({sent}): {reason}"
        _log.warning("%s", message)
        return status, message

    async def _proxy_answer(
        self, send: Send, exchange: _Exchange, status: int, message: str, *, close: bool = False
    ) -> None:
        """An answer of the proxy itself: plain text, marked, never a vendor's format."""
        body = (message + "\n").encode()
        exchange.status, exchange.problem = status, message
        exchange.raw_response_headers = [(b"content-type", b"text/plain; charset=utf-8")]
        self._track(exchange)
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"x-face-contracts-proxy", b"error"),
        ]
        if close:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        self._submit(exchange)

    async def _room_to_judge(self) -> None:
        """Wait while :data:`JUDGING_BACKLOG` exchanges wait to be judged (woken by
        :meth:`_conclude` once there is room)."""
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if len(self._pending) < JUDGING_BACKLOG:
                    return
                room: asyncio.Future[None] = loop.create_future()
                self._waiting_for_room.append(room)
                self.waiting_for_judging += 1
            try:
                await room
            finally:
                with self._lock:
                    self.waiting_for_judging -= 1

    def _track(self, exchange: _Exchange) -> None:
        """Count the exchange as pending from before its client can have the whole answer,
        so that an admin view asked right after the answer waits for its verdict."""
        with self._lock:
            self._pending.setdefault(exchange.seq, concurrent.futures.Future())

    def _executor_for(self) -> concurrent.futures.Executor:
        with self._lock:
            if self._executor is None:
                if self._judging == "process":
                    self._executor = concurrent.futures.ProcessPoolExecutor(
                        max_workers=1,
                        mp_context=multiprocessing.get_context("spawn"),
                        initializer=_start_judging_process,
                        initargs=(self.options, self._secrets),
                    )
                else:
                    self._executor = concurrent.futures.ThreadPoolExecutor(
                        max_workers=2, thread_name_prefix="face-contracts-judge"
                    )
            return self._executor

    def _submit(self, exchange: _Exchange) -> None:
        self._track(exchange)
        future: concurrent.futures.Future[_Verdict]
        try:
            if self._judging == "process":
                future = self._executor_for().submit(_judge_in_process, exchange, self._generation)
            else:
                future = self._executor_for().submit(
                    self._judge.verdict, exchange, self._generation
                )
        except RuntimeError as error:  # shutting down, or the judging process is gone
            future = concurrent.futures.Future()
            future.set_exception(error)
        future.add_done_callback(lambda judged: self._conclude(exchange, judged))

    def _conclude(self, exchange: _Exchange, judged: concurrent.futures.Future[_Verdict]) -> None:
        """Keep a verdict: journal, tally. Runs in the executor's thread."""
        try:
            verdict = judged.result()
        except Exception as error:  # noqa: BLE001 - the judging process died or refused
            if isinstance(error, concurrent.futures.process.BrokenProcessPool):
                with self._lock:
                    # Judging goes on in this process's threads rather than spawning
                    # process after process where processes cannot be started or live.
                    broken, self._executor = self._executor, None
                    self._judging = "threads"
                if broken is not None:
                    _log.warning(
                        "face-contracts proxy: the judging process stopped; judging goes on "
                        "in threads"
                    )
                    broken.shutdown(wait=False)
            verdict = self._judge.unjudged(exchange, f"judging failed: {type(error).__name__}")
        finally:
            exchange.body = exchange.answer = None  # the bytes (and secrets) go now
        if verdict.judged is not None:
            self.tally.add(
                verdict.judged,
                answer=verdict.answer,
                request=verdict.request,
                example=exchange.headline(),
                when=_iso(exchange.at),
            )
        with self._lock:
            self._unrecord(verdict)
            self.journal.append(verdict.entry)
            done = self._pending.pop(exchange.seq, None)
            waiting: list[asyncio.Future[None]] = []
            if self._waiting_for_room and len(self._pending) < JUDGING_BACKLOG:
                waiting, self._waiting_for_room = self._waiting_for_room, []
        if done is not None:
            done.set_result(None)
        for room in waiting:  # from the judging thread to the event loop's
            room.get_loop().call_soon_threadsafe(_wake, room)

    def _unrecord(self, verdict: _Verdict) -> None:
        """Journal that the exchange whose recording ``verdict``'s replaced is not the one
        recorded (it may be journaled already, or not yet). Called with the lock held."""
        if verdict.superseded is not None:
            for entry in reversed(self.journal):
                if entry["id"] == verdict.superseded:
                    entry["recorded"] = None
                    break
            else:  # not journaled yet (an evicted entry is not kept waiting for)
                if verdict.superseded in self._pending:
                    self._unrecorded.add(verdict.superseded)
        if verdict.entry["id"] in self._unrecorded:
            self._unrecorded.discard(verdict.entry["id"])
            verdict.entry["recorded"] = None

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until every exchange answered so far is judged (thread-safe)."""
        with self._lock:
            pending = list(self._pending.values())
        if pending:
            concurrent.futures.wait(pending, timeout=timeout)

    def journal_view(self, since: int = 0) -> list[dict[str, Any]]:
        """The journal entries after exchange ``since``, oldest first, as
        ``GET /__admin/requests`` shows them (secrets masked); call :meth:`settle` first to
        include every exchange answered so far."""
        with self._lock:
            entries = sorted(
                (entry for entry in self.journal if entry["id"] > since),
                key=lambda entry: entry["id"],
            )
        return [_shown(entry) for entry in entries]

    def last_exchange(self) -> int:
        """The number of the latest exchange journaled (0 before any)."""
        with self._lock:
            return max((entry["id"] for entry in self.journal), default=0)

    # --- reports ----------------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        """What the drift report says about the proxy."""
        return {
            "source": "face-contracts proxy",
            "targets": {vendor: self.redactor.url(url) for vendor, url in self.targets.items()},
            "started_at": _iso(self.started),
            "recording": str(self.options.record) if self.options.record else None,
        }

    def drift_json(self) -> dict[str, Any]:
        """The drift report (``GET /__admin/drift``)."""
        return self.tally.to_json(self.meta())

    def flush(self) -> list[str]:
        """Write ``--drift-report`` and ``--junitxml`` (those given); the paths written."""
        written = []
        if self.options.drift_report is not None:
            self.tally.write(self.options.drift_report, self.meta())
            written.append(str(self.options.drift_report))
        if self.options.junitxml is not None:
            self.tally.write_junit(self.options.junitxml)
            written.append(str(self.options.junitxml))
        return written

    def exit_code(self) -> int:
        """1 when ``--strict-drift`` and any drift (or invalid request) was seen, else 0."""
        return 1 if self.options.strict_drift and self.tally.failing() else 0

    def summary_line(self) -> str:
        """One line for the terminal when the proxy stops."""
        counts = self.tally.counts()
        line = (
            f"face-contracts proxy: {counts['exchanges']} exchange(s), "
            f"{counts['judged_answers']} answer(s) judged, {counts['drifted_answers']} "
            f"drifted, {counts['distinct_drifts']} distinct drift(s) "
            f"({counts['drift_failures']} failing), {counts['invalid_requests']} invalid "
            "request(s)"
        )
        written = [str(p) for p in (self.options.drift_report, self.options.junitxml) if p]
        return line + (f"; written: {', '.join(written)}" if written else "")

    # --- admin ------------------------------------------------------------------------------

    async def _admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope["headers"]
        }
        if self.options.admin_token is not None:
            given = bearer_token(headers.get("authorization", ""))
            if given is None or not hmac.compare_digest(
                given.encode(), self.options.admin_token.encode()
            ):
                await _json(
                    send, 401, {"error": "the admin API needs Authorization: Bearer <admin token>"}
                )
                return
        while True:  # admin routes take no body: drain it
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                break
        route = (scope["method"], scope["path"].removeprefix(ADMIN_PREFIX).rstrip("/"))
        if route == ("GET", "health"):
            payload: Any = {
                "status": "ok",
                "mode": "proxy",
                "uptime_seconds": round(time.time() - self.started, 3),
                "pid": os.getpid(),
                "targets": self.meta()["targets"],
            }
        elif route == ("GET", "config"):
            payload = {
                "targets": self.meta()["targets"],
                "strict_drift": self.options.strict_drift,
                "record": str(self.options.record) if self.options.record else None,
                "drift_report": str(self.options.drift_report)
                if self.options.drift_report
                else None,
                "junitxml": str(self.options.junitxml) if self.options.junitxml else None,
                "upstream_timeout": self.options.upstream_timeout,
            }
        elif route == ("GET", "requests"):
            await self._settled_async()
            payload = await asyncio.get_running_loop().run_in_executor(None, self.journal_view)
        elif route == ("DELETE", "requests"):
            await self._settled_async()
            with self._lock:
                self.journal.clear()
            payload = {"cleared": True}
        elif route == ("POST", "reset"):
            await self._settled_async()
            with self._lock:
                self.journal.clear()
                self._unrecorded.clear()
                self._generation += 1
            self.tally.clear()
            payload = {"reset": True}
        elif route == ("GET", "drift"):
            await self._settled_async()
            payload = self.drift_json()
        elif route == ("POST", "drift/flush"):
            await self._settled_async()
            if self.options.drift_report is None and self.options.junitxml is None:
                await _json(
                    send,
                    400,
                    {"error": "start the proxy with --drift-report FILE or --junitxml FILE"},
                )
                return
            try:
                written = await asyncio.get_running_loop().run_in_executor(None, self.flush)
            except OSError as error:
                await _json(send, 500, {"error": f"cannot write the report: {error}"})
                return
            payload = {"written": written, "summary": self.tally.counts()}
        else:
            routes = [
                "GET health",
                "GET config",
                "GET requests",
                "DELETE requests",
                "POST reset",
                "GET drift",
                "POST drift/flush",
            ]
            await _json(
                send,
                404,
                {
                    "error": f"no admin route {route[0]} {scope['path']}",
                    "routes": [f"{r.split()[0]} {ADMIN_PREFIX}{r.split()[1]}" for r in routes],
                },
            )
            return
        await _json(send, 200, payload)

    async def _settled_async(self) -> None:
        with self._lock:
            pending = [asyncio.wrap_future(future) for future in self._pending.values()]
        if pending:
            await asyncio.wait(pending, timeout=60)


@dataclass
class _Verdict:
    """What judging one exchange gives the proxy: the journal entry and, when the exchange
    was judged (``judged`` is its operation), the drifts of its answer and request."""

    entry: dict[str, Any]
    judged: str | None = None
    answer: list[Drift] | None = None
    request: list[Drift] | None = None
    superseded: int | None = None  # the exchange whose recording this one's replaced


class _Judge:
    """Judges exchanges against the contract and records them: in the proxy's worker
    threads, or alone in a judging process (``face-contracts proxy``). ``lazy_answers``:
    journal answers are redacted when shown rather than when judged (in-process only)."""

    def __init__(
        self, options: ProxyOptions, secrets: tuple[str, ...], *, lazy_answers: bool
    ) -> None:
        self.options = options
        self.redactor = Redactor(secrets)
        self.lazy_answers = lazy_answers
        self._lock = threading.Lock()
        # Replay key -> the exchange recorded for it: the earliest, by exchange number, as
        # exchanges judged side by side may finish in any order.
        self._recorded: dict[str, int] = {}
        self._recording_lock = threading.Lock()  # claim and file write, one at a time
        self._generation = 0
        self._redactors: dict[frozenset[str], Redactor] = {}

    def verdict(self, exchange: _Exchange, generation: int) -> _Verdict:
        """The verdict on one exchange (never raises: a failure of ours is journaled)."""
        with self._lock:
            if generation != self._generation:  # the proxy was reset
                self._generation = generation
                self._recorded.clear()
        try:
            return self._judged(exchange)
        except Exception as error:  # noqa: BLE001 - a bug of ours must not lose the exchange
            redactor = self.redactor.with_secrets(_secrets_in(exchange.headers, exchange.query))
            _log.error(
                "face-contracts proxy: judging %s failed:\n%s",
                exchange.headline(),
                redactor.text("".join(traceback.format_exception(error))),
            )
            return self.unjudged(exchange, f"judging failed: {type(error).__name__}")

    def unjudged(self, exchange: _Exchange, reason: str) -> _Verdict:
        """The journal entry of an exchange that could not be judged."""
        redactor = self.redactor.with_secrets(_secrets_in(exchange.headers, exchange.query))
        entry = self._entry(exchange, redactor)
        entry["not_judged"] = reason
        return _Verdict(entry)

    def _judged(self, exchange: _Exchange) -> _Verdict:
        operation = exchange.operation
        parsed: ParsedBody | None = None
        body_problem = None
        if exchange.body is not None:
            try:
                parsed = parse_body(exchange.headers.get("content-type", ""), exchange.body)
            except BodyError as error:
                body_problem = str(error)
        redactor = self._redactor_for(_secrets_in(exchange.headers, exchange.query, parsed))
        entry = self._entry(exchange, redactor)
        if operation is None or exchange.problem is not None:
            entry["not_judged"] = (
                exchange.problem and redactor.text(exchange.problem)
            ) or "not one of the five operations"
            return _Verdict(entry)

        request = HttpRequest(
            exchange.method, exchange.path, exchange.headers, exchange.body or b"", exchange.query
        )
        request_drifts: list[Drift] | None = None
        summary = None
        if parsed is not None:
            document = _request_document(exchange.headers, parsed)
            report = validate(operation, "request", document)
            request_drifts = judge_report(report, document, redactor)
            state = _credential_state(operation, exchange.headers, parsed, exchange.status)
            summary = request_summary(operation, request, parsed, state, redactor)
            entry["request"] = summary
        elif body_problem is not None:
            request_drifts = [
                Drift(
                    "failure",
                    "body",
                    "/body",
                    "a body its Content-Type can be parsed as",
                    redactor.text(body_problem),
                )
            ]
        else:
            entry["request_not_judged"] = (
                f"request body of {exchange.body_bytes} bytes is over the "
                f"{exchange.body_limit} bytes kept for judging"
            )
        if request_drifts is not None:
            entry["request_valid"] = not any(d.severity == "failure" for d in request_drifts)
            entry["request_failures"] = [d.to_json() for d in request_drifts]

        answer, undecodable = _decoded(exchange)
        answer_drifts: list[Drift] | None = None
        if answer is None:
            entry["not_judged"] = undecodable or (
                f"answer of {exchange.answer_bytes} bytes is over the {ANSWER_LIMIT} bytes "
                "kept for judging"
            )
        else:
            options = _options(parsed)
            answer_drifts = judge(
                operation,
                Expect("either"),
                Answer(exchange.status or 0, exchange.content_type(), answer),
                {"headers": {}, "body": options},
                redactor,
            )
            strict = self.options.strict_drift
            entry["judged"] = True
            entry["drifted"] = bool(answer_drifts)
            entry["drifts"] = [
                {**d.to_json(), "fails": strict or d.severity == "failure"} for d in answer_drifts
            ]
            shown = _JournaledAnswer(answer, redactor)
            entry["response"] = shown if self.lazy_answers else shown.settled()
        superseded = None
        if self.options.record is not None and summary is not None and answer is not None:
            entry["recorded"], superseded = self._record(
                exchange, summary, answer, answer_drifts, redactor
            )
        return _Verdict(entry, operation, answer_drifts, request_drifts, superseded)

    def _entry(self, exchange: _Exchange, redactor: Redactor) -> dict[str, Any]:
        return {
            "id": exchange.seq,
            "at": exchange.at,
            "operation": exchange.operation,
            "vendor": exchange.vendor,
            "target": exchange.target,
            "method": exchange.method,
            "path": redactor.text(exchange.path),
            "query": _redacted_query(exchange.query, redactor),
            "headers": redactor.headers(exchange.headers),
            "request": None,
            "request_valid": None,
            "request_failures": [],
            "status": exchange.status,
            "content_type": redactor.text(exchange.content_type()),
            "response_headers": [
                [name, redactor.header(name, value)] for name, value in exchange.response_headers
            ],
            "response": None,
            "upstream_ms": exchange.upstream_ms,
            "judged": False,
            "not_judged": None,
            "drifted": False,
            "drifts": [],
            "recorded": None,
            "error": redactor.text(exchange.problem) if exchange.problem else None,
        }

    def _record(
        self,
        exchange: _Exchange,
        summary: dict[str, Any],
        answer: bytes,
        drifts: list[Drift] | None,
        redactor: Redactor,
    ) -> tuple[str | None, int | None]:
        """Record the exchange if it is the earliest of its replay key judged so far: its
        path under the recordings directory (None: not recorded) and the later exchange
        whose recording it replaced, if any."""
        assert exchange.operation is not None
        assert self.options.record is not None
        key = replay_key(exchange.operation, summary)
        with self._recording_lock:
            with self._lock:
                holder = self._recorded.get(key)
            if holder is not None and holder < exchange.seq:
                return None, None  # one recording per distinct request: the first answer
            body, text = answer_body(exchange.content_type(), answer, redactor)
            recording = Recording(
                operation=exchange.operation,
                recorded_at=datetime.fromtimestamp(int(exchange.at), UTC),
                host=redactor.text(urlsplit(exchange.target or "").hostname or ""),
                case=f"{exchange.operation}/proxied",
                request=summary,
                status=exchange.status or 0,
                content_type=redactor.text(exchange.content_type()),
                body=body,
                text=text,
                drift=tuple(d.to_json() for d in drifts or ()),
            )
            try:
                path = save_recording(self.options.record, recording)
            except OSError as error:
                _log.error("face-contracts proxy: cannot record %s: %s", exchange.headline(), error)
                return None, None
            with self._lock:
                self._recorded[key] = exchange.seq
        return str(path.relative_to(self.options.record)), holder

    def _redactor_for(self, secrets: frozenset[str]) -> Redactor:
        """The app's redactor plus this request's credentials (clients reuse theirs, so the
        compiled redactors are kept for the last few sets)."""
        with self._lock:
            found = self._redactors.get(secrets)
        if found is None:
            found = self.redactor.with_secrets(secrets)
            with self._lock:
                if len(self._redactors) >= 64:
                    self._redactors.clear()
                self._redactors[secrets] = found
        return found


_process_judge: _Judge | None = None


def _start_judging_process(options: ProxyOptions, secrets: tuple[str, ...]) -> None:
    """In the judging process: signals are the proxy's to handle, judging is ours."""
    global _process_judge  # one judge per judging process
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _process_judge = _Judge(options, secrets, lazy_answers=False)


def _judging_ready() -> None:
    """Nothing: submitted at startup so the judging process starts before any exchange."""


def _judge_in_process(exchange: _Exchange, generation: int) -> _Verdict:
    assert _process_judge is not None
    return _process_judge.verdict(exchange, generation)


def _base_secrets(options: ProxyOptions) -> tuple[str, ...]:
    """The secrets masked in everything: the FACE_CONTRACTS_* credentials and the admin
    token."""
    values = [os.environ.get(name, "") for name in SECRET_ENVIRONMENT]
    values.append(options.admin_token or "")
    return tuple(value for value in values if value)


# --- helpers --------------------------------------------------------------------------------


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _judging_limit(operation: str | None) -> int:
    """How much of a request body is kept for judging: the operation's picture limit plus
    room for the form around it (1 MiB), or 1 MiB for requests without a picture."""
    image = contracts().mock_data[operation].get("image") if operation else None
    return int(image["max_bytes"]) + (1 << 20) if image else 1 << 20


def _first_segment(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _request_head(
    method: str, scope: Scope, raw: list[tuple[bytes, bytes]], host: bytes
) -> tuple[bytes, bool | None]:
    """The request line and headers for the target, and how the body is framed (None: no
    body; False: Content-Length, forwarded as is; True: chunked). The client's headers go
    as they came minus the hop-by-hop ones (and those its Connection header names), with
    Host naming the target, as every reverse proxy sends it; the path is the target's base
    path plus the client's raw path and query."""
    dropped = _NOT_FORWARDED
    framing: bool | None = None
    for name, value in raw:
        if name == b"connection":
            dropped = dropped | {token.strip().lower() for token in value.split(b",")}
        elif name == b"transfer-encoding":
            framing = True
        elif name == b"content-length" and framing is None:
            framing = False
    if framing:
        dropped = dropped | {b"content-length"}  # chunked wins, as the client's parser read it
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope["query_string"]
    parts = [method.encode(), b" ", raw_path]
    if query:
        parts += (b"?", query)
    parts += (b" HTTP/1.1\r\nhost: ", host, b"\r\n")
    for name, value in raw:
        if name not in dropped:
            parts += (name, b": ", value, b"\r\n")
    if framing:
        parts.append(b"transfer-encoding: chunked\r\n")
    parts.append(b"\r\n")
    return b"".join(parts), framing


def _decoded(exchange: _Exchange) -> tuple[bytes | None, str | None]:
    """The answer's bytes with its Content-Encoding undone (bounded), for judging."""
    if exchange.answer is None:
        return None, None
    encoding = next(
        (
            v.strip().lower()
            for n, v in exchange.response_headers
            if n.lower() == "content-encoding"
        ),
        "identity",
    )
    if encoding in ("", "identity"):
        return exchange.answer, None
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return None, f"answer encoded as {encoding!r}: not judged"
    window = zlib.MAX_WBITS | 32 if encoding != "deflate" else zlib.MAX_WBITS
    try:
        inflater = zlib.decompressobj(window)
        data = inflater.decompress(exchange.answer, ANSWER_LIMIT + 1)
    except zlib.error:
        if encoding == "deflate":  # some servers send raw deflate without the zlib header
            try:
                inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                data = inflater.decompress(exchange.answer, ANSWER_LIMIT + 1)
            except zlib.error as error:
                return None, f"answer declared {encoding} does not decompress: {error}"
        else:
            return None, f"answer declared {encoding} does not decompress"
    if len(data) > ANSWER_LIMIT:
        return None, f"answer decompresses to over {ANSWER_LIMIT} bytes: not judged"
    return data, None


def _secrets_in(
    headers: Mapping[str, str], query: str, parsed: ParsedBody | None = None
) -> frozenset[str]:
    """The credential values this request carries (credential-named headers, query
    parameters and fields, Basic credentials, URL passwords), to be masked wherever they
    appear in what is kept of the exchange."""
    found: set[str] = set()
    for name, value in headers.items():
        if is_secret_name(name):
            found.update(_credential_parts(value))
    for name, value in parse_qsl(query, keep_blank_values=True):
        if is_secret_name(name):
            found.add(value)
    if parsed is not None:
        found.update(_secret_values(parsed.json if parsed.kind == "json" else parsed.fields))
    return frozenset(value for value in found if value.strip())


def _credential_parts(value: str) -> set[str]:
    parts = {value.strip()}
    scheme, _, credential = value.strip().partition(" ")
    if credential:
        parts.add(credential.strip())
        if scheme.lower() == "basic":
            with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                decoded = base64.b64decode(credential.strip(), validate=True).decode()
                parts.add(decoded)
                parts.update(decoded.split(":", 1))
    return parts


def _secret_values(value: Any, name: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            found |= _secret_values(item, str(key))
    elif isinstance(value, list):
        for item in value:
            found |= _secret_values(item, name)
    elif isinstance(value, str):
        if name and is_secret_name(name):
            found.add(value)
        elif "://" in value:
            with contextlib.suppress(ValueError):
                parts = urlsplit(value)
                if parts.password:
                    found.add(parts.password)
                found.update(
                    v
                    for k, v in parse_qsl(parts.query, keep_blank_values=True)
                    if is_secret_name(k)
                )
    return found


def _redacted_query(query: str, redactor: Redactor) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    masked = urlencode([(k, MASK if is_secret_name(k) else v) for k, v in pairs], safe="<>")
    return redactor.text(masked)


def _request_document(headers: Mapping[str, str], parsed: ParsedBody) -> dict[str, Any]:
    """The request as a request document (what ``validate(op, "request", ...)`` reads):
    the headers, and the JSON body or the form fields with files as base64 parts."""
    if parsed.kind == "json":
        return {"headers": dict(headers), "body": parsed.json}
    body: dict[str, Any] = dict(parsed.fields)
    for name, part in parsed.files.items():
        body[name] = upload_document(part.data, part.filename, part.content_type)
    return {"headers": dict(headers), "body": body}


def _options(parsed: ParsedBody | None) -> dict[str, Any]:
    """The request's options, as the response rules read them (no credentials)."""
    if parsed is None:
        return {}
    if parsed.kind == "json":
        source = parsed.json if isinstance(parsed.json, dict) else {}
    else:
        source = parsed.fields
    return {name: value for name, value in source.items() if not is_secret_name(str(name))}


def _credential_state(
    operation: str, headers: Mapping[str, str], parsed: ParsedBody, status: int | None
) -> CredentialState:
    """``missing`` when the request lacks the credential its operation documents (the
    contract's ``auth``), ``wrong`` when the target refused it (HTTP 401), otherwise
    ``valid``: the states the mock's replay matches against its own credentials."""
    auth = contracts().operation(operation).auth
    if auth["in"] == "header":
        value = headers.get(str(auth["name"]).lower(), "").strip()
        scheme = auth.get("scheme")
        present = bool(re.fullmatch(rf"(?i:{re.escape(scheme)}) +\S+", value) if scheme else value)
    else:
        source = parsed.json if parsed.kind == "json" else parsed.fields
        present = isinstance(source, dict) and all(
            isinstance(source.get(name), str) and source.get(name) for name in auth["fields"]
        )
    if not present:
        return "missing"
    return "wrong" if status == 401 else "valid"


class _JournaledAnswer:
    """An answer body in the journal, redacted when the journal is looked at rather than on
    every exchange (masking a 975-key document costs more than judging it); one larger than
    :data:`JOURNAL_ANSWER_LIMIT` is kept as its digest and size only."""

    __slots__ = ("_data", "_redactor")

    def __init__(self, data: bytes, redactor: Redactor) -> None:
        self._data: bytes | dict[str, Any] = data
        self._redactor = redactor
        if len(data) > JOURNAL_ANSWER_LIMIT:
            self._data = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}

    def shown(self) -> Any:
        """The body as JSON (or text), secrets masked."""
        if isinstance(self._data, dict):
            return self._data
        try:
            return self._redactor.json(orjson.loads(self._data))
        except orjson.JSONDecodeError:
            return self._redactor.text(self._data.decode("utf-8", errors="replace"))

    def settled(self) -> _RedactedAnswer:
        """Redacted now, as JSON bytes: what the judging process sends back, which the
        proxy receives without rebuilding a 975-key document under its interpreter lock."""
        return _RedactedAnswer(orjson.dumps(self.shown()))


class _RedactedAnswer:
    """An answer body in the journal, already redacted, kept as JSON."""

    __slots__ = ("_json",)

    def __init__(self, json: bytes) -> None:
        self._json = json

    def shown(self) -> Any:
        return orjson.loads(self._json)


def _shown(entry: dict[str, Any]) -> dict[str, Any]:
    """A journal entry as shown: its answer body redacted."""
    response = entry.get("response")
    if isinstance(response, _JournaledAnswer | _RedactedAnswer):
        return {**entry, "response": response.shown()}
    return entry


async def _json(send: Send, status: int, payload: Any) -> None:
    body = orjson.dumps(payload)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# --- running it -----------------------------------------------------------------------------


class _RedactingFilter(logging.Filter):
    """Log records with secrets masked (uvicorn's access log shows query strings), and a
    cut answer as one line instead of a traceback."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], _UpstreamCut):
            record.msg, record.args = str(record.exc_info[1]), None
            record.exc_info, record.exc_text = None, None
        elif record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redactor.text(
                "".join(traceback.format_exception(record.exc_info[1]))
            ).rstrip()
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        redacted = self.redactor.text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_LOGGERS = ("uvicorn.error", "uvicorn.access", "face_contracts.proxy")


def _server_config(app: ProxyApp, options: ProxyOptions, **extra: Any) -> ServerConfig:
    """``serve``'s server stack (uvicorn with httptools and the project's limits: header
    bytes and fields, header and keep-alive timeouts, connections, a bounded stop) with the
    proxy's ``[server]`` settings."""
    return ServerConfig(
        app,
        options.server,
        log_level="info" if options.access_log else "warning",
        access_log=options.access_log,
        # Only the target's headers reach the client.
        server_header=False,
        date_header=False,
        **extra,
    )


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


class ProxyServer:
    """The proxy on a loopback port, served in a background thread by ``serve``'s server
    stack: for tests and the ``face_proxy`` fixture. Stopping it finishes judging and writes
    the reports.

    >>> with ProxyServer(ProxyOptions({"facepp": "http://127.0.0.1:9"}, port=0)) as proxy:
    ...     proxy.url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(
        self, options: ProxyOptions, *, judging: Judging = "threads", start_timeout: float = 15.0
    ) -> None:
        self.app = ProxyApp(options, judging=judging)
        self._socket = listening_socket(options.host, options.port)
        self.url = _url(self._socket)
        self._start_timeout = start_timeout
        self._grace = options.server.grace
        self._server = Server(_server_config(self.app, options), name="proxy")
        self._filter = _RedactingFilter(self.app.redactor)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="face-contracts-proxy",
            daemon=True,
        )

    def url_for(self, path: str) -> str:
        """The proxy's URL for a vendor path."""
        return self.url + path

    def start(self) -> ProxyServer:
        """Serve; return once connections are accepted."""
        for name in _LOGGERS:
            logging.getLogger(name).addFilter(self._filter)
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                msg = f"the proxy on {self.url} did not start"
                raise RuntimeError(msg)
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop: in-flight exchanges get the grace period, judging ends, the reports are
        written."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=self._grace + 90)
        self._socket.close()
        for name in _LOGGERS:
            logging.getLogger(name).removeFilter(self._filter)

    def __enter__(self) -> ProxyServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_proxy(options: ProxyOptions) -> int:
    """Check the options, bind, serve until stopped (SIGTERM or Ctrl-C: in-flight requests
    get ``[server] grace`` seconds, a second signal stops at once), print where the proxy
    listens once it serves; the exit status is :meth:`ProxyApp.exit_code`."""
    if not is_loopback_host(options.host) and not options.admin_token:
        msg = (
            f"--host {options.host} exposes the admin API beyond this machine: "
            "give --admin-token (or FACE_CONTRACTS_ADMIN_TOKEN)"
        )
        raise ValueError(msg)
    if options.upstream_timeout <= 0 or options.upstream_timeout != options.upstream_timeout:
        msg = "--upstream-timeout must be a number of seconds above 0"
        raise ValueError(msg)
    for name, path in (("--drift-report", options.drift_report), ("--junitxml", options.junitxml)):
        if path is not None and path.is_dir():
            msg = f"{name} {path}: is a folder; give a file name"
            raise ValueError(msg)
    if options.record is not None:
        try:
            options.record.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            msg = f"--record {options.record}: cannot create the folder: {error.strerror}"
            raise ValueError(msg) from None
    # Each client connection may hold one to a target: both need file descriptors.
    wanted = options.server.max_connections
    allowed = open_files_allowance(wanted + UPSTREAM_CONNECTIONS) - UPSTREAM_CONNECTIONS
    if allowed < wanted:
        print(
            f"face-contracts: the open-files limit leaves room for {max(allowed, 1)} client "
            f"connections, fewer than max_connections = {wanted}",
            file=sys.stderr,
            flush=True,
        )
        options = replace(options, server=replace(options.server, max_connections=max(allowed, 1)))
    app = ProxyApp(options, judging="process")
    sock = listening_socket(options.host, options.port)
    redacting = _RedactingFilter(app.redactor)
    for name in _LOGGERS:
        logging.getLogger(name).addFilter(redacting)
    url = _url(sock)
    targets = ", ".join(f"{vendor} -> {target}" for vendor, target in app.meta()["targets"].items())
    line = f"face-contracts proxy listening on {url} ({targets}; admin: {url}/__admin/)"
    config = _server_config(app, options, backlog=BACKLOG)
    # The line is printed by the server once it serves the socket.
    Server(config, listening=line, owns_process=True, name="proxy").run(sockets=[sock])
    print(app.summary_line(), file=sys.stderr, flush=True)
    return app.exit_code()
