"""The standalone mock server: the engine as a raw ASGI app, plus the admin API.

Vendor paths are answered by the engine exactly as in-process; ``/__admin/`` (WireMock's
convention, never a vendor path) controls and inspects it. The app is plain ASGI, no
framework, because every microsecond of the request path is measured against a floor.

The event loop only moves bytes: the engine (parsing, pictures, image-URL fetches) and the
admin handlers run in a bounded thread pool, each request within a deadline, so one slow
request never delays another or the health check.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, unquote

import orjson

from face_contracts import faces
from face_contracts._net import bearer_token
from face_contracts.contracts import operations
from face_contracts.journal import JournalEntry, JournalQuery
from face_contracts.mock import Deferred, FaceMock, HttpRequest, HttpResponse
from face_contracts.mock._engine import body_limit
from face_contracts.openapi import openapi_document
from face_contracts.settings import (
    ServerSettings,
    Settings,
    SettingsError,
    parse_server_settings,
    parse_settings,
    read_toml,
)
from face_contracts.state import StateUnavailableError
from face_contracts.state_redis import open_state

ON_LOOP_BYTES = 4 << 20
"""The largest request body the event loop itself may parse and answer from the engine's
caches (about a millisecond of work); larger ones, forms of many parts and any call that
needs slow work are answered in the engine's threads."""

ConfigError = SettingsError  # the settings model's error, under the name this module used

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]

__all__ = ["ADMIN_PREFIX", "DROP_EXTENSION", "MockApp", "app_from_environment"]

ADMIN_PREFIX = "/__admin/"
ENVIRONMENT_CONFIG = "FACE_CONTRACTS_SERVE_SETTINGS"
DROP_EXTENSION = "face_contracts.drop"
"""The ASGI scope extension through which the server lets the app close a connection without
answering: ``scope["extensions"][DROP_EXTENSION]["close"]()`` (plain ASGI has no such
message). ``face-contracts serve`` provides it."""

logger = logging.getLogger("face_contracts.server")
_T = TypeVar("_T")


class _BodyTooLarge(Exception):  # noqa: N818 - control flow: stop reading, answer unread
    pass


class _Disconnected(Exception):  # noqa: N818 - control flow: the client left mid-request
    pass


class MockApp:
    """An ASGI application serving one :class:`FaceMock` and its admin API.

    ``admin_token``: when set, admin routes need ``Authorization: Bearer <token>``.
    ``settings``: the deadlines and the thread pool (see :class:`ServerSettings`)."""

    def __init__(
        self,
        mock: FaceMock | None = None,
        *,
        admin_token: str | None = None,
        settings: ServerSettings | None = None,
    ) -> None:
        self.mock = mock or FaceMock()
        self.admin_token = admin_token
        self.settings = settings or ServerSettings()
        self.started = time.time()
        self._pool_lock = threading.Lock()
        self._engine_pool: ThreadPoolExecutor | None = None
        self._fallback_pool: ThreadPoolExecutor | None = None
        self._running: set[Future[Any]] = set()
        self._waits: set[asyncio.Timeout] = set()
        self._abandoned = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope["headers"]
        }
        if path.startswith(ADMIN_PREFIX) or path == ADMIN_PREFIX.rstrip("/"):
            await self._admin(scope, headers, receive, send)
            return
        method: str = scope["method"]
        operation = self.mock.route(method, path)
        request = HttpRequest(
            method, path, headers, b"", scope.get("query_string", b"").decode("latin-1")
        )
        try:
            body = await self._body(receive, body_limit(operation), headers)
        except _BodyTooLarge:
            refusal = await self._engine(
                lambda: self.mock.too_large(operation, request), operation, request
            )
            if refusal is not None:
                await _answer(send, refusal.status, refusal.content_type, refusal.body, close=True)
            return
        except _Disconnected:
            return
        except TimeoutError:
            if not self._abandoned:
                await self._body_timeout(send)
            return
        request = HttpRequest(method, path, headers, body, request.query)
        response = ticket = None
        if len(body) <= ON_LOOP_BYTES:
            # A call that needs no slow work is answered here: handing it to a thread costs
            # more than the call (benchmarks/README.md); the rest is deferred to the threads.
            try:
                # A shared state's waits end at the request deadline (the state's own timer
                # for all the calls in flight: one per call would cost more than Redis).
                deadline = time.monotonic() + self.settings.request_deadline
                response = await self.mock.handle_on_loop(request, deadline=deadline)
            except Deferred as deferred:
                ticket = deferred.ticket
            except Exception:  # a bug of ours must not become a bare traceback to the client
                logger.exception("engine failure on %s %s", request.method, request.path)
                response = await self._internal_error(operation, request)
                if response is None:
                    return
        if response is None:
            # The engine bounds its own waiting (image URLs) by the same deadline, so its
            # thread is free about when the request's answer is due.
            deadline = time.monotonic() + self.settings.request_deadline
            response = await self._engine(
                lambda: self.mock.handle(request, deadline=deadline, ticket=ticket),
                operation,
                request,
            )
        if response is None:  # the server is stopping and its grace period is over
            return
        try:
            if response.delay:
                async with self._waiting(None):
                    await asyncio.sleep(response.delay)
            if response.drop:
                _drop(scope)
                return
            await _answer(send, response.status, response.content_type, response.body)
        except TimeoutError:  # only the stop cuts a fault's delay short
            return
        finally:
            response.complete()

    # --- off the event loop ---------------------------------------------------------------

    @property
    def engine_busy(self) -> int:
        """Engine or admin calls still running in the thread pool."""
        return len(self._running)

    def _pools(self) -> tuple[ThreadPoolExecutor, ThreadPoolExecutor]:
        with self._pool_lock:
            if self._engine_pool is None or self._fallback_pool is None:
                self._engine_pool = ThreadPoolExecutor(
                    self.settings.engine_threads, thread_name_prefix="face-contracts-engine"
                )
                # The internal error that answers a request past its deadline must not queue
                # behind the engine work that made it late.
                self._fallback_pool = ThreadPoolExecutor(
                    1, thread_name_prefix="face-contracts-fallback"
                )
            return self._engine_pool, self._fallback_pool

    @contextlib.asynccontextmanager
    async def _waiting(self, seconds: float | None) -> AsyncIterator[None]:
        """A wait the deadline ``seconds`` (None: none) or :meth:`abandon` ends with
        TimeoutError."""
        async with asyncio.timeout(seconds) as timeout:
            self._waits.add(timeout)
            if self._abandoned:
                timeout.reschedule(asyncio.get_running_loop().time())
            try:
                yield
            finally:
                self._waits.discard(timeout)

    async def _in_thread(
        self, call: Callable[[], _T], seconds: float | None, *, fallback: bool = False
    ) -> _T:
        """``call()`` in the pool, awaited for at most ``seconds`` (TimeoutError). Work that
        has not started by then is cancelled; work that has runs to its end unobserved, and
        an answer it produces is completed so it releases what it holds."""
        engine_pool, fallback_pool = self._pools()
        future = (fallback_pool if fallback else engine_pool).submit(call)
        self._running.add(future)
        future.add_done_callback(self._running.discard)
        try:
            async with self._waiting(seconds):
                return await asyncio.wrap_future(future)
        except TimeoutError:
            future.add_done_callback(_complete_late)
            raise

    async def _engine(
        self, call: Callable[[], HttpResponse], operation: str | None, request: HttpRequest
    ) -> HttpResponse | None:
        """The engine's answer, or the vendor's internal error when the engine failed or
        missed the request deadline; None once the server has abandoned its requests."""
        deadline = self.settings.request_deadline
        try:
            return await self._in_thread(call, deadline)
        except TimeoutError:
            if self._abandoned:
                return None
            logger.warning(
                "%s %s: engine work exceeded the %g s request deadline; answered with the "
                "vendor's internal error",
                request.method,
                request.path,
                deadline,
            )
        except Exception:  # a bug of ours must not become a bare traceback to the client
            # The client gets the vendor's documented internal error; the log gets the bug.
            logger.exception("engine failure on %s %s", request.method, request.path)
        return await self._internal_error(operation, request)

    async def _internal_error(
        self, operation: str | None, request: HttpRequest
    ) -> HttpResponse | None:
        """The vendor's internal error for a call the engine failed, from the pool kept for
        it (never queued behind the engine work); None once the server has abandoned its
        requests."""
        try:
            return await self._in_thread(
                lambda: self.mock.internal_error(operation, request),
                self.settings.request_deadline,
                fallback=True,
            )
        except TimeoutError:
            if self._abandoned:
                return None
        except Exception:
            logger.exception("engine failure answering %s %s", request.method, request.path)
        return HttpResponse(500, "text/plain", b"face-contracts mock: internal error")

    def abandon(self) -> None:
        """End every wait now: requests still reading their body, waiting for the engine or
        inside a fault's delay end without an answer. The server calls this when a stop's
        grace period is over, after closing their connections."""
        self._abandoned = True
        now = asyncio.get_running_loop().time()
        for wait in list(self._waits):
            wait.reschedule(now)

    def close(self) -> None:
        """Release the thread pool (running calls finish in their threads)."""
        with self._pool_lock:
            pools, self._engine_pool, self._fallback_pool = (
                (self._engine_pool, self._fallback_pool),
                None,
                None,
            )
        for pool in pools:
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.mock.leave_loop()
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _body(self, receive: Receive, limit: int, headers: dict[str, str]) -> bytes:
        async with self._waiting(self.settings.body_timeout):
            return await _read_body(receive, limit, headers)

    async def _body_timeout(self, send: Send) -> None:
        text = f"Request Timeout: the body did not arrive within {self.settings.body_timeout:g} s"
        await _answer(send, 408, "text/plain", text.encode(), close=True)

    # --- admin ------------------------------------------------------------------------------

    async def _admin(
        self, scope: Scope, headers: dict[str, str], receive: Receive, send: Send
    ) -> None:
        if self.admin_token is not None and not _bearer_matches(
            headers.get("authorization", ""), self.admin_token
        ):
            await _answer(
                send,
                401,
                "application/json",
                orjson.dumps({"error": "the admin API needs Authorization: Bearer <admin token>"}),
                extra=[(b"www-authenticate", b'Bearer realm="face-contracts admin"')],
            )
            return
        try:
            body = await self._body(receive, 64 << 20, headers)
        except _BodyTooLarge:
            await _json(send, 413, {"error": "admin requests are limited to 64 MiB"})
            return
        except _Disconnected:
            return
        except TimeoutError:
            if not self._abandoned:
                await self._body_timeout(send)
            return
        route = (scope["method"], scope["path"].removeprefix(ADMIN_PREFIX).rstrip("/"))
        handler = _ADMIN_ROUTES.get(route) or _rule_route(*route)
        if handler is None:
            await _json(
                send,
                404,
                {"error": f"no admin route {route[0]} {scope['path']}", "routes": _route_list()},
            )
            return
        query = scope.get("query_string", b"").decode("latin-1")
        if handler is MockApp.health:  # liveness is answered on the loop: it must never queue
            status, payload = _admin_answer(self, handler, body, query)
        else:
            try:
                status, payload = await self._in_thread(
                    lambda: _admin_answer(self, handler, body, query),
                    self.settings.request_deadline,
                )
            except TimeoutError:
                if self._abandoned:
                    return
                status, payload = (
                    503,
                    orjson.dumps(
                        {
                            "error": f"the admin request did not finish within "
                            f"{self.settings.request_deadline:g} s (request_deadline)"
                        }
                    ),
                )
        await _answer(send, status, "application/json", payload)

    def health(self, body: bytes, query: str) -> tuple[int, Any]:
        """GET /__admin/health: liveness, with what is served."""
        del body, query

        detector = faces.detector_status()
        return 200, {
            "status": "ok",
            "uptime_seconds": round(time.time() - self.started, 3),
            "pid": os.getpid(),
            # Said here so that a fallback to placed faces is never silent.
            "face_detector": {"available": detector.available, "detail": detector.line},
            "operations": [
                {"id": op.id, "method": op.method, "path": op.path} for op in operations()
            ],
        }

    def reset(self, body: bytes, query: str) -> tuple[int, Any]:
        """POST /__admin/reset: back to the configuration the server started with."""
        del body, query
        self.mock.reset()
        return 200, {"reset": True}

    def config(self, body: bytes, query: str) -> tuple[int, Any]:
        """GET /__admin/config: the effective settings (credentials masked)."""
        del body, query
        return 200, self.mock.settings.to_json()

    def change_config(self, body: bytes, query: str) -> tuple[int, Any]:
        """POST /__admin/config: merge settings (the TOML keys, as JSON) until the next reset."""
        del query
        self.mock.configure(**_object(body))
        return 200, self.mock.settings.to_json()

    def errors(self, body: bytes, query: str) -> tuple[int, Any]:
        """POST /__admin/errors: force a documented error {code, operation?, when?, nth?,
        times?, details?}; the answer names its id."""
        del query
        (rule_id,) = self.mock.configure(errors=[_object(body)])
        return 200, {"id": rule_id, "errors": [e.to_json() for e in self.mock.settings.errors]}

    def faults(self, body: bytes, query: str) -> tuple[int, Any]:
        """POST /__admin/faults: add a fault {operation?, when?, delay?, drop?, status?, nth?,
        times?}; the answer names its id."""
        del query
        (rule_id,) = self.mock.configure(faults=[_object(body)])
        return 200, {"id": rule_id, "faults": [f.to_json() for f in self.mock.settings.faults]}

    def responses(self, body: bytes, query: str) -> tuple[int, Any]:
        """POST /__admin/responses: answer matching calls with a stubbed body {operation,
        status?, body, headers?, content_type?, when?, nth?, times?} or a drifted one
        {operation, invalid, seed?, when?, nth?, times?}; the answer names its id."""
        del query
        (rule_id,) = self.mock.configure(responses=[_object(body)])
        return 200, {
            "id": rule_id,
            "responses": [r.to_json() for r in self.mock.settings.responses],
        }

    def list_errors(self, body: bytes, query: str) -> tuple[int, Any]:
        """GET /__admin/errors: the forced errors in force."""
        del body, query
        return 200, [e.to_json() for e in self.mock.settings.errors]

    def list_faults(self, body: bytes, query: str) -> tuple[int, Any]:
        """GET /__admin/faults: the faults in force."""
        del body, query
        return 200, [f.to_json() for f in self.mock.settings.faults]

    def list_responses(self, body: bytes, query: str) -> tuple[int, Any]:
        """GET /__admin/responses: the stubbed and drifted answers in force."""
        del body, query
        return 200, [r.to_json() for r in self.mock.settings.responses]

    def faces(self, body: bytes, query: str) -> tuple[int, Any]:
        """POST /__admin/faces: {faces: count | [[left, top, width, height], ...] | null,
        operation?}."""
        del query
        item = _object(body)
        unknown = sorted(set(item) - {"faces", "operation"})
        if unknown:
            msg = f"unknown key(s) {', '.join(unknown)}; known: faces, operation"
            raise SettingsError(msg)
        operation = item.get("operation")
        if operation is None:
            self.mock.configure(faces=item.get("faces"))
        else:
            self.mock.configure(operation_faces={str(operation): item.get("faces")})
        shown = self.mock.settings.to_json()
        return 200, {"faces": shown["faces"], "operation_faces": shown["operation_faces"]}

    def images(self, body: bytes, query: str) -> tuple[int, Any]:
        """PUT /__admin/images?url=<image url>: the request body is the picture served for it."""
        url = parse_qs(query).get("url", [""])[0]
        if not url:
            msg = "name the image URL: PUT /__admin/images?url=<url> with the picture as the body"
            raise ValueError(msg)
        if not body:
            msg = "the request body must be the picture's bytes"
            raise ValueError(msg)
        self.mock.register_image(url, body)
        return 200, {"registered": url, "bytes": len(body)}

    def requests(self, body: bytes, query: str) -> tuple[int, Any]:
        """GET /__admin/requests?operation=&status=&since=&limit=: the journal, oldest
        first (secrets masked)."""
        del body
        return 200, [_entry_json(entry) for entry in self.mock.calls_matching(_query(query))]

    def count_requests(self, body: bytes, query: str) -> tuple[int, Any]:
        """GET /__admin/requests/count?operation=&status=&since=: how many calls match."""
        del body
        return 200, {"count": len(self.mock.calls_matching(_query(query)))}

    def clear_requests(self, body: bytes, query: str) -> tuple[int, Any]:
        """DELETE /__admin/requests: empty the journal."""
        del body, query
        self.mock.clear_journal()
        return 200, {"cleared": True}

    def openapi(self, body: bytes, query: str) -> tuple[int, Any]:
        """GET /__admin/openapi.json: the OpenAPI 3.1 document of the five operations."""
        del body, query

        return 200, openapi_document()


_ADMIN_ROUTES: dict[tuple[str, str], Callable[[MockApp, bytes, str], tuple[int, Any]]] = {
    ("GET", "health"): MockApp.health,
    ("POST", "reset"): MockApp.reset,
    ("GET", "config"): MockApp.config,
    ("POST", "config"): MockApp.change_config,
    ("POST", "errors"): MockApp.errors,
    ("GET", "errors"): MockApp.list_errors,
    ("POST", "faults"): MockApp.faults,
    ("GET", "faults"): MockApp.list_faults,
    ("POST", "responses"): MockApp.responses,
    ("GET", "responses"): MockApp.list_responses,
    ("POST", "faces"): MockApp.faces,
    ("PUT", "images"): MockApp.images,
    ("GET", "requests"): MockApp.requests,
    ("GET", "requests/count"): MockApp.count_requests,
    ("DELETE", "requests"): MockApp.clear_requests,
    ("GET", "openapi.json"): MockApp.openapi,
}


RULE_KINDS: dict[str, str] = {
    "errors": "forced error",
    "faults": "fault",
    "responses": "stubbed answer",
}
"""The admin collections whose items are removed one by one: ``DELETE /__admin/KIND/{id}``."""


def _rule_route(method: str, path: str) -> Callable[[MockApp, bytes, str], tuple[int, Any]] | None:
    """The handler of ``DELETE /__admin/{errors|faults|responses}/{id}``, or None."""
    kind, _, rule_id = path.partition("/")
    if method != "DELETE" or kind not in RULE_KINDS or not rule_id or "/" in rule_id:
        return None

    def remove_rule(app: MockApp, body: bytes, query: str) -> tuple[int, Any]:
        del body, query
        return _remove_rule(app.mock, kind, unquote(rule_id))

    return remove_rule


def _remove_rule(mock: FaceMock, kind: str, rule_id: str) -> tuple[int, Any]:
    """DELETE /__admin/errors/{id} (faults, responses): remove one rule; 404 naming the id
    (and the ids in force) when there is none of that kind."""
    in_force = [rule.id for rule in getattr(mock.settings, kind)]
    if rule_id not in in_force or not mock.remove(rule_id):
        listed = ", ".join(in_force) if in_force else "none"
        message = f"no {RULE_KINDS[kind]} with id {rule_id!r}; {kind} in force: {listed}"
        return 404, {"error": message}
    return 200, {"removed": rule_id, kind: [r.to_json() for r in getattr(mock.settings, kind)]}


def _route_list() -> list[str]:
    return [f"{method} {ADMIN_PREFIX}{path}" for method, path in _ADMIN_ROUTES] + [
        f"DELETE {ADMIN_PREFIX}{kind}/{{id}}" for kind in RULE_KINDS
    ]


def _object(body: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError as error:
        msg = f"the body is not JSON: {error}"
        raise ValueError(msg) from None
    if not isinstance(value, dict):
        msg = "the body must be a JSON object"
        raise ValueError(msg)
    return value


def _query(query: str) -> JournalQuery:
    """A journal query from ``operation=&status=&since=&limit=`` (unknown names refused)."""
    values = {name: items[-1] for name, items in parse_qs(query).items()}
    unknown = sorted(set(values) - {"operation", "status", "since", "limit"})
    if unknown:
        msg = (
            f"unknown query parameter(s) {', '.join(unknown)}; "
            "known: limit, operation, since, status"
        )
        raise ValueError(msg)
    try:
        status = int(values["status"]) if "status" in values else None
        since = float(values["since"]) if "since" in values else None
        limit = int(values["limit"]) if "limit" in values else None
    except ValueError:
        msg = "status and limit are integers, since is a Unix time in seconds"
        raise ValueError(msg) from None
    return JournalQuery(values.get("operation") or None, status, since, limit)


def _entry_json(entry: JournalEntry) -> dict[str, Any]:
    verdict = entry.verdict
    data = entry.to_json(with_payload=False)
    data.update(
        request_valid=None if verdict is None else verdict.valid,
        request_failures=[] if verdict is None else [str(f) for f in verdict.failures],
        response=entry.response,
    )
    return data


def _admin_answer(
    app: MockApp, handler: Callable[[MockApp, bytes, str], tuple[int, Any]], body: bytes, query: str
) -> tuple[int, bytes]:
    """Run an admin handler and encode its answer (in the pool, except health)."""
    try:
        status, payload = handler(app, body, query)
    except (ConfigError, ValueError, TypeError, KeyError) as error:
        # A bare KeyError's str() is its repr; ours (unknown operation) explain themselves.
        message = error.args[0] if type(error) is KeyError and error.args else str(error)
        return 400, orjson.dumps({"error": str(message)})
    except StateUnavailableError as error:
        logger.error("admin %s: shared state unavailable: %s", handler.__name__, error)
        return 503, orjson.dumps({"error": f"shared state unavailable: {error}"})
    except Exception:  # a bug of ours: logged, answered as one
        logger.exception("admin handler %s failed", handler.__name__)
        return 500, orjson.dumps({"error": "internal error in the admin API (logged)"})
    return status, payload if isinstance(payload, bytes) else orjson.dumps(payload)


def _bearer_matches(authorization: str, token: str) -> bool:
    """``Authorization: Bearer <token>`` (the scheme is case-insensitive, RFC 9110 §11.1),
    compared in constant time; a bare token or another scheme does not match."""
    given = bearer_token(authorization)
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def _complete_late(future: Future[Any]) -> None:
    """Release what an answer nobody waited for holds (concurrency slots)."""
    if future.cancelled() or future.exception() is not None:
        return
    result = future.result()
    if isinstance(result, HttpResponse):
        result.complete()


def _drop(scope: Scope) -> None:
    extension = scope.get("extensions", {}).get(DROP_EXTENSION)
    if extension is None:
        msg = (
            "a drop fault needs the face_contracts.drop ASGI extension of face-contracts serve; "
            "this ASGI server cannot close a connection without answering"
        )
        raise RuntimeError(msg)
    extension["close"]()


async def _read_body(receive: Receive, limit: int, headers: dict[str, str]) -> bytes:
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":  # a body cut short is not a request
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _answer(
    send: Send,
    status: int,
    content_type: str,
    body: bytes,
    *,
    close: bool = False,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    if extra:
        headers += extra
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _json(send: Send, status: int, payload: Any) -> None:
    await _answer(send, status, "application/json", orjson.dumps(payload))


def settings_from_file(path: str | os.PathLike[str]) -> Settings:
    """A mock configuration from a TOML file (parsed with the standard tomllib)."""
    return read_settings_file(path)[0]


def read_settings_file(path: str | os.PathLike[str]) -> tuple[Settings, ServerSettings]:
    """The mock configuration and the ``[server]`` table of a TOML settings file."""

    file = Path(path)
    data = read_toml(file)
    try:
        server = parse_server_settings(data.pop("server", {}))
        return parse_settings(data, base_dir=file.resolve().parent), server
    except ConfigError as error:
        msg = f"{file}: {error}"
        raise ConfigError(msg) from None


def app_from_environment() -> MockApp:
    """The app for each server worker, built from the settings the CLI put in the
    environment (a worker process cannot be handed Python objects)."""
    settings = orjson.loads(os.environ.get(ENVIRONMENT_CONFIG, "{}"))
    config = settings_from_file(settings["config"]) if settings.get("config") else Settings()
    overrides = settings.get("overrides", {})
    if overrides:
        # Command-line paths (--recordings) come absolute, as the command resolved them.
        config = parse_settings(overrides, base=config, base_dir=Path.cwd(), confine=False)
    server = parse_server_settings(settings.get("server", {}))
    state = None
    if server.state is not None:
        state = open_state(server.state, server.state_prefix)
    mock = FaceMock(config, state=state)
    faces.preload()  # each worker loads its model before it takes a request
    if settings.get("listen"):
        host, port = settings["listen"]
        mock.own_addresses.add((str(host), int(port)))  # never fetch an image URL from here
    return MockApp(
        mock,
        admin_token=settings.get("admin_token"),
        settings=server,
    )
