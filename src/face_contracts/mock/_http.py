"""HTTP as the engine sees it: a request and response independent of any transport, and
the body parsers (multipart and urlencoded forms with python-multipart, JSON with orjson)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import httpx
import orjson
import python_multipart
from python_multipart.multipart import MultipartState
from python_multipart.multipart import parse_options_header as _parse_options_header

from face_contracts._net import bearer_token
from face_contracts.contracts import contracts

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "MAX_PARTS",
    "BodyError",
    "FilePart",
    "HttpRequest",
    "HttpResponse",
    "ParsedBody",
    "PartBudgetError",
    "bearer_token",
    "encode_request",
    "multipart_body",
    "parse_body",
]

MAX_PARTS = 1000
"""Multipart parts read from one body; more is refused as malformed (no vendor form has
more than a dozen, and counting them keeps a hostile body cheap)."""


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One request: header names lower-case, the raw body, the path without the query."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = b""
    query: str = ""
    host: str = ""


@dataclass(slots=True)
class HttpResponse:
    """One answer. ``delay`` (seconds) is waited before answering and ``drop`` closes the
    connection without an answer; transports honour both, then call ``complete()``."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    on_complete: Callable[[], None] | None = None

    def complete(self) -> None:
        """Tell the engine the answer has been sent (releases concurrency slots)."""
        if self.on_complete is not None:
            callback, self.on_complete = self.on_complete, None
            callback()

    def json(self) -> Any:
        """The body parsed as JSON."""
        return orjson.loads(self.body)


@dataclass(frozen=True, slots=True)
class FilePart:
    """An uploaded file part; ``data`` may be a view into the request body."""

    data: bytes | memoryview
    filename: str | None
    content_type: str | None


@dataclass(slots=True)
class ParsedBody:
    """Form fields (first value wins for a repeated name), file parts, or a JSON value."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, FilePart] = field(default_factory=dict)
    json: Any = None
    kind: str = "empty"  # multipart, urlencoded, json, empty, other


class BodyError(ValueError):
    """A body that cannot be parsed; ``field`` names the part at fault when known."""

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


@lru_cache(maxsize=1024)
def parse_options_header(value: str | bytes) -> tuple[bytes, dict[bytes, bytes]]:
    """python-multipart's header parser, remembered: clients repeat the same few
    Content-Type and Content-Disposition values, and parsing them is the slow part."""
    return _parse_options_header(value)


class PartBudgetError(Exception):
    """A multipart body has more parts than the caller's ``part_budget`` (not a malformed
    body: the caller parses it again with the full allowance elsewhere)."""


def parse_body(content_type: str, body: bytes, *, part_budget: int | None = None) -> ParsedBody:
    """Parse a request body by its declared content type. ``part_budget``: raise
    :class:`PartBudgetError` after that many multipart parts (the server's event loop
    parses only small forms itself)."""
    media, params = parse_options_header(content_type or "")
    media_type = media.decode("latin-1").lower()
    if not body and media_type != "multipart/form-data":
        return ParsedBody(kind="empty")
    if media_type == "multipart/form-data":
        boundary = params.get(b"boundary")
        if not boundary:
            msg = "multipart body without a boundary"
            raise BodyError(msg)
        return _multipart(boundary, body, part_budget)
    if media_type == "application/x-www-form-urlencoded":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            msg = "the form is not UTF-8"
            raise BodyError(msg) from None
        parsed = ParsedBody(kind="urlencoded")
        for name, value in parse_qsl(text, keep_blank_values=True):
            parsed.fields.setdefault(name, value)
        return parsed
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            return ParsedBody(json=orjson.loads(body), kind="json")
        except orjson.JSONDecodeError as error:
            msg = f"the body is not valid JSON: {error}"
            raise BodyError(msg) from None
    return ParsedBody(kind="other")


def _multipart(boundary: bytes, body: bytes, part_budget: int | None) -> ParsedBody:
    parsed = ParsedBody(kind="multipart")
    state: dict[str, Any] = {}

    def on_part_begin() -> None:
        state["parts"] = state.get("parts", 0) + 1
        if part_budget is not None and state["parts"] > part_budget:
            raise PartBudgetError
        if state["parts"] > MAX_PARTS:
            msg = f"the multipart body has more than {MAX_PARTS} parts"
            raise BodyError(msg)
        state["headers"] = {}
        state["data"] = []

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] = data[start:end].decode("latin-1").lower()

    def on_header_value(data: bytes, start: int, end: int) -> None:
        # Header bytes as latin-1 (lossless); names and filenames are decoded as UTF-8 below.
        state["headers"][state["field"]] = data[start:end].decode("latin-1")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        # A view, not a copy: a part that arrives in one piece is never copied at all.
        state["data"].append(memoryview(data)[start:end])

    def on_part_end() -> None:
        disposition = state["headers"].get("content-disposition", "")
        _, options = parse_options_header(disposition)
        raw_name = options.get(b"name")
        if raw_name is None:
            msg = "a multipart part has no name"
            raise BodyError(msg)
        name = raw_name.decode("utf-8", errors="replace")
        pieces = state["data"]
        data = pieces[0] if len(pieces) == 1 else memoryview(b"".join(pieces))
        filename = options.get(b"filename")
        media = state["headers"].get("content-type", "").split(";", 1)[0].strip().lower()
        # A part with a filename is a file; so is one without that declares a non-text
        # type (a picture sent unnamed). "api_key=k;type=text/plain" (curl -F, Spring,
        # OkHttp) is a field, as real servers read it.
        if filename is not None or (media and not media.startswith("text/")):
            if name not in parsed.files:
                parsed.files[name] = FilePart(
                    data,
                    filename.decode("utf-8", errors="replace") if filename is not None else None,
                    state["headers"].get("content-type"),
                )
            return
        if name not in parsed.fields:
            try:
                parsed.fields[name] = bytes(data).decode("utf-8")
            except UnicodeDecodeError:
                msg = f"form field {name!r} is not UTF-8"
                raise BodyError(msg, name) from None

    parser = python_multipart.MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        written = parser.write(body)
        parser.finalize()
    except (BodyError, PartBudgetError):
        raise
    except Exception as error:  # noqa: BLE001 - the parser's own errors are several classes
        msg = f"the multipart body is malformed: {error}"
        raise BodyError(msg) from None
    if written != len(body) or parser.state != MultipartState.END:
        msg = "the multipart body is truncated or has no closing boundary"
        raise BodyError(msg)
    return parsed


def encode_request(
    operation: str, document: Mapping[str, Any], *, multipart: bool | None = None
) -> HttpRequest:
    """The HTTP request a client sends for a request document: multipart for file parts
    (and for AILabTools always), urlencoded for Face++ forms without files unless
    ``multipart`` is asked, JSON for Ace Data Cloud. File parts given as ``path`` are read."""
    op = contracts().operation(operation)
    if not isinstance(document, dict):
        document = {}
    raw_headers = document.get("headers", {})
    headers = (
        {str(k): _text(v) for k, v in raw_headers.items()} if isinstance(raw_headers, dict) else {}
    )
    body = document.get("body", {})
    url = f"https://{op.hosts[0]}{op.path}"
    if op.request_content_types == ("application/json",):
        request = httpx.Request(op.method, url, content=orjson.dumps(body), headers=headers)
        if "content-type" not in {name.lower() for name in headers}:
            request.headers["content-type"] = "application/json"
    else:
        # A request document may hold values no client would send (invalid documents do):
        # a value that is not text or a file part is sent as its JSON text.
        fields = body if isinstance(body, dict) else {}
        data = {k: _text(v) for k, v in fields.items() if not _is_file(v)}
        files = {
            name: (
                _text(part.get("filename", name)),
                _part_bytes(part),
                _text(part.get("content_type", "application/octet-stream")),
            )
            for name, part in fields.items()
            if _is_file(part)
        }
        headers.pop("content-type", None)
        as_multipart = (
            multipart
            if multipart is not None
            else op.request_content_types[0] == "multipart/form-data"
        )
        if files or as_multipart:
            body, headers["content-type"] = multipart_body(data, files)
            request = httpx.Request(op.method, url, content=body, headers=headers)
        else:
            request = httpx.Request(op.method, url, data=data, headers=headers)
    content = request.read()
    return HttpRequest(
        op.method,
        op.path,
        {name.lower(): value for name, value in request.headers.items()},
        content,
        host=op.hosts[0],
    )


def multipart_body(
    fields: Mapping[str, str], files: Mapping[str, tuple[str | None, bytes, str | None]]
) -> tuple[bytes, str]:
    """A multipart/form-data body (text parts, then file parts) and its Content-Type, built
    by httpx; a form without files is still multipart (a text part is a part without a
    filename)."""
    parts: list[tuple[str, Any]] = [
        (name, (None, value.encode())) for name, value in fields.items()
    ]
    parts.extend(
        (name, (filename, data, media) if media else (filename, data))
        for name, (filename, data, media) in files.items()
    )
    if not parts:  # httpx sends a form without parts as no body at all
        boundary = "face-contracts-empty-form"
        return f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"
    request = httpx.Request("POST", "http://localhost/", files=parts)
    return request.read(), request.headers["content-type"]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _is_file(value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    if isinstance(value.get("base64"), str):
        try:
            _part_bytes(value)
        except ValueError:
            return False
        return True
    return isinstance(value.get("path"), str)


def _part_bytes(part: Mapping[str, Any]) -> bytes:
    if "base64" in part:
        return base64.b64decode(part["base64"], validate=False)
    return Path(part["path"]).read_bytes()
