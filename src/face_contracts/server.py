"""The standalone mock server: the engine as a raw ASGI app, plus the admin API.

Vendor paths are answered by the engine exactly as in-process; ``/__admin/`` (WireMock's
convention, never a vendor path) controls and inspects it. The app is plain ASGI, no
framework, because every microsecond of the request path is measured against a floor.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import time
from typing import TYPE_CHECKING, Any

import orjson

from face_contracts.mock import (
    ConfigError,
    FaceMock,
    Fault,
    ForcedError,
    HttpRequest,
    MockConfig,
    body_limit,
    config_from_mapping,
    config_to_json,
    setting_changes,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]

__all__ = ["ADMIN_PREFIX", "MockApp", "app_from_environment"]

ADMIN_PREFIX = "/__admin/"
ENVIRONMENT_CONFIG = "FACE_CONTRACTS_SERVE_SETTINGS"


class _BodyTooLarge(Exception):  # noqa: N818 - control flow: stop reading, answer unread
    pass


class MockApp:
    """An ASGI application serving one :class:`FaceMock` and its admin API.

    ``admin_token``: when set, admin routes need ``Authorization: Bearer <token>``."""

    def __init__(self, mock: FaceMock | None = None, *, admin_token: str | None = None) -> None:
        self.mock = mock or FaceMock()
        self.admin_token = admin_token
        self.started = time.time()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path.startswith(ADMIN_PREFIX) or path == ADMIN_PREFIX.rstrip("/"):
            await self._admin(scope, receive, send)
            return
        method: str = scope["method"]
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope["headers"]
        }
        operation = self.mock.route(method, path)
        request = HttpRequest(
            method, path, headers, b"", scope.get("query_string", b"").decode("latin-1")
        )
        try:
            body = await _read_body(receive, body_limit(operation), headers)
        except _BodyTooLarge:
            response = self.mock.too_large(operation, request)
            await _answer(send, response.status, response.content_type, response.body, close=True)
            return
        request = HttpRequest(method, path, headers, body, request.query)
        try:
            response = self.mock.handle(request)
        except Exception:  # a bug of ours must not become a bare traceback
            # The client gets the vendor's documented internal error; the log gets the bug.
            logging.getLogger("face_contracts.server").exception(
                "engine failure on %s %s", method, path
            )
            response = self.mock.internal_error(operation, request)
        try:
            if response.delay:
                await asyncio.sleep(response.delay)
            if response.drop:
                await _drop(send)
                return
            await _answer(send, response.status, response.content_type, response.body)
        finally:
            response.complete()

    # --- admin ------------------------------------------------------------------------------

    async def _admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope["headers"]
        }
        if self.admin_token is not None:
            given = headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), self.admin_token.encode()):
                await _json(
                    send, 401, {"error": "the admin API needs Authorization: Bearer <admin token>"}
                )
                return
        try:
            body = await _read_body(receive, 64 << 20, headers)
        except _BodyTooLarge:
            await _json(send, 413, {"error": "admin requests are limited to 64 MiB"})
            return
        route = (scope["method"], scope["path"].removeprefix(ADMIN_PREFIX).rstrip("/"))
        handler = _ADMIN_ROUTES.get(route)
        if handler is None:
            await _json(
                send,
                404,
                {"error": f"no admin route {route[0]} {scope['path']}", "routes": _route_list()},
            )
            return
        query = scope.get("query_string", b"").decode("latin-1")
        try:
            status, payload = handler(self, body, query)
        except (ConfigError, ValueError, TypeError, KeyError) as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
            await _json(send, 400, {"error": str(message)})
            return
        if isinstance(payload, bytes):
            await _answer(send, status, "application/json", payload)
        else:
            await _json(send, status, payload)

    def health(self, body: bytes, query: str) -> tuple[int, Any]:
        """GET /__admin/health: liveness, with what is served."""
        del body, query
        from face_contracts.contracts import operations

        return 200, {
            "status": "ok",
            "uptime_seconds": round(time.time() - self.started, 3),
            "pid": os.getpid(),
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
        """GET /__admin/config: the effective configuration (credentials masked)."""
        del body, query
        return 200, config_to_json(self.mock.config)

    def change_config(self, body: bytes, query: str) -> tuple[int, Any]:
        """POST /__admin/config: merge settings (the TOML keys, as JSON) until the next reset."""
        del query
        self.mock.configure(**setting_changes(_object(body)))
        return 200, config_to_json(self.mock.config)

    def errors(self, body: bytes, query: str) -> tuple[int, Any]:
        """POST /__admin/errors: force a documented error {code, operation?, credential?,
        nth?, times?, details?}."""
        del query
        item = _object(body)
        forced = config_from_mapping({"errors": [item]}).errors[0]
        self.mock.force_error(
            forced.code,
            operation=forced.operation,
            credential=forced.credential,
            nth=forced.nth,
            times=forced.times,
            **dict(forced.details),
        )
        return 200, {"errors": [_forced_json(e) for e in self.mock.config.errors]}

    def faults(self, body: bytes, query: str) -> tuple[int, Any]:
        """POST /__admin/faults: add a fault {operation?, delay?, drop?, status?, nth?, times?}."""
        del query
        fault = config_from_mapping({"faults": [_object(body)]}).faults[0]
        self.mock.configure(faults=[fault])
        return 200, {"faults": [_fault_json(f) for f in self.mock.config.faults]}

    def faces(self, body: bytes, query: str) -> tuple[int, Any]:
        """POST /__admin/faces: {faces: count | [[left, top, width, height], ...], operation?}."""
        del query
        item = _object(body)
        operation = item.get("operation")
        parsed = config_from_mapping({"faces": item.get("faces")}).faces
        if operation is None:
            self.mock.configure(faces=parsed)
        else:
            self.mock.configure(operation_faces={str(operation): parsed})
        return 200, {
            "faces": config_to_json(self.mock.config)["faces"],
            "operation_faces": config_to_json(self.mock.config)["operation_faces"],
        }

    def images(self, body: bytes, query: str) -> tuple[int, Any]:
        """PUT /__admin/images?url=<image url>: the request body is the picture served for it."""
        from urllib.parse import parse_qs

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
        """GET /__admin/requests: the journal, oldest first (secrets masked)."""
        del body, query
        return 200, [_entry_json(entry) for entry in self.mock.journal]

    def clear_requests(self, body: bytes, query: str) -> tuple[int, Any]:
        """DELETE /__admin/requests: empty the journal."""
        del body, query
        self.mock.journal.clear()
        return 200, {"cleared": True}

    def openapi(self, body: bytes, query: str) -> tuple[int, Any]:
        """GET /__admin/openapi.json: the OpenAPI 3.1 document of the five operations."""
        del body, query
        from face_contracts.openapi import openapi_document

        return 200, openapi_document()


_ADMIN_ROUTES: dict[tuple[str, str], Callable[[MockApp, bytes, str], tuple[int, Any]]] = {
    ("GET", "health"): MockApp.health,
    ("POST", "reset"): MockApp.reset,
    ("GET", "config"): MockApp.config,
    ("POST", "config"): MockApp.change_config,
    ("POST", "errors"): MockApp.errors,
    ("POST", "faults"): MockApp.faults,
    ("POST", "faces"): MockApp.faces,
    ("PUT", "images"): MockApp.images,
    ("GET", "requests"): MockApp.requests,
    ("DELETE", "requests"): MockApp.clear_requests,
    ("GET", "openapi.json"): MockApp.openapi,
}


def _route_list() -> list[str]:
    return [f"{method} {ADMIN_PREFIX}{path}" for method, path in _ADMIN_ROUTES]


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


def _forced_json(forced: ForcedError) -> dict[str, Any]:
    return {
        "code": forced.code,
        "operation": forced.operation,
        "credential": "<redacted>" if forced.credential else None,
        "nth": forced.nth,
        "times": forced.times,
        "details": dict(forced.details),
    }


def _fault_json(fault: Fault) -> dict[str, Any]:
    return {
        "operation": fault.operation,
        "delay": fault.delay,
        "drop": fault.drop,
        "status": fault.status,
        "nth": fault.nth,
        "times": fault.times,
    }


def _entry_json(entry: Any) -> dict[str, Any]:
    verdict = entry.verdict
    return {
        "operation": entry.operation,
        "method": entry.method,
        "path": entry.path,
        "headers": entry.headers,
        "fields": entry.fields,
        "files": {
            name: {
                "filename": part.filename,
                "content_type": part.content_type,
                "bytes": len(part.data),
            }
            for name, part in entry._files.items()
        },
        "request_valid": None if verdict is None else verdict.valid,
        "request_failures": [] if verdict is None else [str(f) for f in verdict.failures],
        "status": entry.status,
        "content_type": entry.content_type,
        "response": entry.response,
        "at": entry.at,
    }


async def _read_body(receive: Receive, limit: int, headers: dict[str, str]) -> bytes:
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _answer(
    send: Send, status: int, content_type: str, body: bytes, *, close: bool = False
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _json(send: Send, status: int, payload: Any) -> None:
    await _answer(send, status, "application/json", orjson.dumps(payload))


async def _drop(send: Send) -> None:
    # ASGI has no "close without answering": promise a body and end the stream short, so the
    # server closes the connection and the client sees it cut, as with a dropped connection.
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]}
    )
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def settings_from_file(path: str | os.PathLike[str]) -> MockConfig:
    """A mock configuration from a TOML file (parsed with the standard tomllib)."""
    import tomllib
    from pathlib import Path

    file = Path(path)
    try:
        with file.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        msg = f"{file}: cannot read: {error.strerror}"
        raise ConfigError(msg) from None
    except tomllib.TOMLDecodeError as error:
        msg = f"{file}: not valid TOML: {error}"
        raise ConfigError(msg) from None
    try:
        return config_from_mapping(data, base_dir=file.resolve().parent)
    except ConfigError as error:
        msg = f"{file}: {error}"
        raise ConfigError(msg) from None


def app_from_environment() -> MockApp:
    """The app for each server worker, built from the settings the CLI put in the
    environment (a worker process cannot be handed Python objects)."""
    settings = orjson.loads(os.environ.get(ENVIRONMENT_CONFIG, "{}"))
    config = settings_from_file(settings["config"]) if settings.get("config") else MockConfig()
    overrides = settings.get("overrides", {})
    if overrides:
        config = config.merged(**setting_changes(overrides))
    return MockApp(FaceMock(config), admin_token=settings.get("admin_token"))
