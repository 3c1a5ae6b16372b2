"""The mock engine: one request in, the vendor's answer out.

Routing, auth, parsing, image checks, quotas, forced errors and faults are decided here,
once; the transports (respx, pytest-httpserver, the ASGI server) only translate HTTP. Answers
are built by the same renderers as the Hypothesis strategies, from a scene derived from the
picture, with values seeded by the picture and the request: the same request gets the same
answer in every run and process.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from face_contracts.contracts import contracts
from face_contracts.generation._errors import error_answer
from face_contracts.generation._render import RENDERERS, flat_at
from face_contracts.generation._scene import Face, RandomChooser, Scene
from face_contracts.mock._config import MASK, ForcedError, MockConfig
from face_contracts.mock._http import (
    BodyError,
    FilePart,
    HttpRequest,
    HttpResponse,
    ParsedBody,
    parse_body,
)
from face_contracts.mock._pictures import Picture, analyse, default_picture, faces_for

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from face_contracts.recordings import CredentialState
    from face_contracts.validation import Report

__all__ = ["MASK", "Engine", "JournalEntry"]

_SECRET_FIELDS = frozenset({"api_key", "api_secret"})
_SECRET_HEADERS = frozenset({"ailabapi-api-key", "authorization", "cookie", "proxy-authorization"})


@dataclass
class JournalEntry:
    """One request the mock answered: what came in (secrets masked) and what went out."""

    operation: str | None
    method: str
    path: str
    headers: dict[str, str]
    fields: dict[str, Any]
    status: int
    content_type: str
    body: bytes
    at: float
    _files: dict[str, FilePart] = field(default_factory=dict, repr=False)

    @cached_property
    def response(self) -> Any:
        """The answer's body: parsed JSON, or text."""
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return self.body.decode("utf-8", errors="replace")

    @cached_property
    def request_document(self) -> dict[str, Any]:
        """The request as a request document (headers and body; secrets masked, files as
        base64 file parts), the form ``validate(operation, "request", ...)`` reads."""
        body: dict[str, Any] = dict(self.fields)
        for name, part in self._files.items():
            entry: dict[str, Any] = {"base64": base64.b64encode(part.data).decode()}
            if part.filename is not None:
                entry["filename"] = part.filename
            if part.content_type is not None:
                entry["content_type"] = part.content_type
            body[name] = entry
        return {"headers": dict(self.headers), "body": body}

    @cached_property
    def verdict(self) -> Report | None:
        """The request schema's verdict on this request (None for an unknown route). Secrets
        are masked, so a masked credential is judged as the non-empty string it replaced."""
        from face_contracts.validation import validate

        if self.operation is None:
            return None
        return validate(self.operation, "request", self.request_document)

    def summary(self) -> str:
        """One line: method, path, operation, the fields sent, the status answered."""
        sent = ", ".join(f"{k}={v!r}" for k, v in self.fields.items())
        files = ", ".join(f"{k}=<file {len(p.data)} bytes>" for k, p in self._files.items())
        sent_all = ", ".join(filter(None, [sent, files]))
        return f"{self.method} {self.path} [{self.operation}] ({sent_all}) -> {self.status}"


@dataclass
class _Answer:
    status: int
    content_type: str
    body: Any  # JSON value, text, or already encoded JSON bytes


class _Refusal(Exception):  # noqa: N818 - control flow inside the engine, never raised out of it
    def __init__(self, answer: _Answer) -> None:
        self.answer = answer
        self.parsed: ParsedBody | None = None


class Engine:
    """The state of one mock: its configuration, the face_tokens it issued, its counters
    and journal. Thread-safe: the transports may call :meth:`handle` concurrently."""

    def __init__(self, config: MockConfig | None = None) -> None:
        self.base_config = config or MockConfig()
        self._lock = threading.RLock()
        self.reset()

    # --- state ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the base configuration: per-test settings, tokens, counters and journal go."""
        with self._lock:
            self.config = self.base_config
            self.journal: deque[JournalEntry] = deque(maxlen=max(1, self.config.journal_limit))
            self._tokens: dict[str, tuple[Scene, Face]] = {}
            self._calls: dict[str | None, int] = defaultdict(int)
            self._error_uses: dict[int, int] = defaultdict(int)
            self._fault_uses: dict[int, int] = defaultdict(int)
            self._credits: dict[str, int] = {}
            self._rate: dict[str, deque[float]] = defaultdict(deque)
            self._in_flight: dict[str, int] = defaultdict(int)

    def configure(self, **changes: Any) -> None:
        """Change the configuration of this mock until the next :meth:`reset`."""
        with self._lock:
            self.config = self.config.merged(**changes)
            if self.journal.maxlen != self.config.journal_limit:
                self.journal = deque(self.journal, maxlen=max(1, self.config.journal_limit))

    # --- the request path -------------------------------------------------------------------

    def route(self, method: str, path: str) -> str | None:
        """The operation served at this method and path, if any."""
        for op in contracts().operations.values():
            if op.path == path.rstrip("/") and op.method == method.upper():
                return op.id
        return None

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one request as the vendor would."""
        operation = self.route(request.method, request.path)
        with self._lock:
            self._calls[operation] += 1
            call = self._calls[operation]
        fault = self._fault(operation, call)
        if fault is not None and (fault.drop or fault.status):
            response = HttpResponse(
                fault.status or 0, "text/plain", b"", delay=fault.delay, drop=fault.drop
            )
            if fault.status:
                response.body = f"{fault.status} fault injected by face-contracts".encode()
            self._record(operation, request, ParsedBody(), response)
            return response
        if operation is not None and self.config.recordings:
            replayed = self._replayed(operation, request)
            if replayed is not None:
                return replayed
        parsed = ParsedBody()
        release: Callable[[], None] | None = None
        try:
            if operation is None:
                raise _Refusal(self._not_found(request.path))
            parsed, answer, release = self._answer(operation, request, call)
        except _Refusal as refusal:
            answer, parsed = refusal.answer, refusal.parsed or parsed
        response = _encode(answer)
        if fault is not None:
            response.delay = fault.delay
        response.on_complete = release
        self._record(operation, request, parsed, response)
        return response

    def _replayed(self, operation: str, request: HttpRequest) -> HttpResponse | None:
        """The recorded answer to a request whose summary (fields, file digests, credential
        state) matches a recording's, or None to answer as usual."""
        from face_contracts.recordings import replay_key, request_summary

        try:
            parsed = parse_body(request.headers.get("content-type", ""), request.body)
        except BodyError:
            return None
        vendor = operation.split(".", 1)[0]
        credential = _credential(vendor, request, parsed)
        if vendor == "facepp":
            secret = parsed.fields.get("api_secret")
            credential = f"{credential}:{secret}" if credential and secret else None
        allowed = self.config.credentials.get(vendor)
        state: CredentialState = "valid"
        if not credential:
            state = "missing"
        elif allowed and credential not in allowed:
            state = "wrong"
        key = replay_key(operation, request_summary(operation, request, parsed, state))
        for recording in self.config.recordings:
            if recording.operation == operation and recording.key == key:
                response = HttpResponse(
                    recording.status, recording.content_type, recording.encoded_body()
                )
                self._record(operation, request, parsed, response)
                return response
        return None

    def _answer(
        self, operation: str, request: HttpRequest, call: int
    ) -> tuple[ParsedBody, _Answer, Callable[[], None] | None]:
        vendor = operation.split(".", 1)[0]
        limit = request_limit(operation)
        if limit is not None and len(request.body) > limit:
            # Face++ refuses an oversized request before reading it (seed 004: 413, plain text).
            raise _Refusal(self._error(operation, "Request Entity Too Large"))
        try:
            parsed = parse_body(request.headers.get("content-type", ""), request.body)
        except BodyError as error:
            raise _Refusal(self._bad_body(operation, error)) from None
        try:
            credential = _credential(vendor, request, parsed)
            forced = self._forced(operation, call, credential)
            if forced is not None:
                raise _Refusal(self._error(operation, forced.code, **dict(forced.details)))
            handler = {"facepp": self._facepp, "ailab": self._ailab, "acedata": self._acedata}[
                vendor
            ]
            body, release = handler(operation, request, parsed)
        except _Refusal as refusal:
            refusal.parsed = parsed
            raise
        return parsed, _Answer(200, "application/json", body), release

    def internal_error(self, operation: str | None, request: HttpRequest) -> HttpResponse:
        """The vendor's documented internal error, for a transport that caught a failure of
        the engine itself."""
        codes = {
            "facepp": "INTERNAL_ERROR",
            "ailab": "SERVICE_INTERNAL_ERROR",
            "acedata": "api_error",
        }
        if operation is None:
            return HttpResponse(500, "text/plain", b"face-contracts mock: internal error")
        response = _encode(self._error(operation, codes[operation.split(".", 1)[0]]))
        self._record(operation, request, ParsedBody(kind="unread"), response)
        return response

    def too_large(self, operation: str | None, request: HttpRequest) -> HttpResponse:
        """The vendor's answer to a body over :func:`body_limit`, given without reading it."""
        if operation is None:
            answer = self._not_found(request.path)
        elif operation.startswith("facepp."):
            answer = self._error(operation, "Request Entity Too Large")
        elif operation.startswith("ailab."):
            answer = self._error(
                operation, "FILE_SIZE_EXCEEDS_LIMIT", message="the request is too large"
            )
        else:
            answer = self._error(operation, "bad_request", message="the request body is too large")
        response = _encode(answer)
        self._record(operation, request, ParsedBody(kind="unread"), response)
        return response

    # --- Face++ -----------------------------------------------------------------------------

    def _facepp(
        self, operation: str, request: HttpRequest, parsed: ParsedBody
    ) -> tuple[Any, Callable[[], None] | None]:
        del request
        fields, files = parsed.fields, parsed.files
        for name in ("api_key", "api_secret"):
            if not fields.get(name):
                raise _Refusal(self._error(operation, "MISSING_ARGUMENTS", field=name, fields=name))
        key, secret = fields["api_key"], fields["api_secret"]
        allowed = self.config.credentials.get("facepp")
        if allowed and f"{key}:{secret}" not in allowed:
            raise _Refusal(self._error(operation, "AUTHENTICATION_ERROR"))
        release = self._take_slot(operation, key)
        try:
            self._facepp_options(operation, fields)
            scene, request_body = self._facepp_scene(operation, fields, files)
        except _Refusal:
            if release is not None:
                release()
            raise
        body, tokens = _rendered(operation, scene, request_body)
        if tokens:
            with self._lock:
                for token, face in zip(tokens, scene.faces, strict=False):
                    self._tokens[token] = (scene, face)
        return body, release

    def _facepp_options(self, operation: str, fields: Mapping[str, str]) -> None:
        schema = flat_at(operation, "request", ("body",))
        for name, value in fields.items():
            if (
                name in _SECRET_FIELDS
                or name not in schema["properties"]
                or name in ("image_base64", "image_url", "face_token")
            ):
                continue
            subschema = flat_at(operation, "request", ("body", name))
            if not _matches(subschema, value):
                raise _Refusal(self._error(operation, "BAD_ARGUMENTS", field=name))
        if operation == "facepp.thousandlandmark" and "return_landmark" not in fields:
            raise _Refusal(
                self._error(
                    operation,
                    "MISSING_ARGUMENTS",
                    field="return_landmark",
                    fields="return_landmark",
                )
            )

    def _facepp_scene(
        self, operation: str, fields: Mapping[str, str], files: Mapping[str, FilePart]
    ) -> tuple[Scene, dict[str, Any]]:
        request_body: dict[str, Any] = {k: v for k, v in fields.items() if k not in _SECRET_FIELDS}
        for source in ("face_token", "image_base64", "image_url"):
            # A source sent empty is a malformed argument, not an absent one.
            if source in fields and not fields[source].strip():
                raise _Refusal(self._error(operation, "BAD_ARGUMENTS", field=source))
        url = fields.get("image_url")
        if url is not None and not _matches(
            flat_at(operation, "request", ("body", "image_url")), url
        ):
            raise _Refusal(self._error(operation, "INVALID_IMAGE_URL"))
        token = fields.get("face_token", "").strip()
        if token and not re.fullmatch(r"[A-Za-z0-9_-]+", token):
            # Not something the service could have issued; echoing it would mangle the answer.
            raise _Refusal(self._error(operation, "BAD_ARGUMENTS", field="face_token"))
        if operation == "facepp.thousandlandmark" and token:
            with self._lock:
                known = self._tokens.get(token)
            if known is None:
                raise _Refusal(self._error(operation, "INVALID_FACE_TOKEN", face_token=token))
            scene, face = known
            return Scene(scene.width, scene.height, (face,)), request_body
        if "image_file" in files:
            field_name, data = "image_file", files["image_file"].data
        elif fields.get("image_base64"):
            field_name = "image_base64"
            try:
                data = base64.b64decode(fields["image_base64"], validate=False)
            except (binascii.Error, ValueError):
                raise _Refusal(
                    self._error(operation, "IMAGE_ERROR_UNSUPPORTED_FORMAT", field=field_name)
                ) from None
        elif fields.get("image_url"):
            field_name = "image_url"
            data = self._fetch(operation, fields["image_url"])
        else:
            sources = "image_url, image_file, image_base64"
            raise _Refusal(
                self._error(operation, "MISSING_ARGUMENTS", field="image_url", fields=sources)
            )
        limits = contracts().mock_data[operation]["image"]
        picture = analyse(data)
        if picture.size > limits["max_bytes"]:
            raise _Refusal(self._error(operation, "IMAGE_FILE_TOO_LARGE", field=field_name))
        if picture.info is None or picture.problem or picture.info.format not in limits["formats"]:
            raise _Refusal(
                self._error(operation, "IMAGE_ERROR_UNSUPPORTED_FORMAT", field=field_name)
            )
        if not _within_limits(picture, limits):
            raise _Refusal(self._error(operation, "INVALID_IMAGE_SIZE", field=field_name))
        scene = self._scene(operation, picture)
        return _big_enough(scene, limits), request_body

    # --- AILabTools -------------------------------------------------------------------------

    def _ailab(
        self, operation: str, request: HttpRequest, parsed: ParsedBody
    ) -> tuple[Any, Callable[[], None] | None]:
        key = request.headers.get("ailabapi-api-key", "")
        allowed = self.config.credentials.get("ailab")
        if not key or (allowed and key not in allowed):
            raise _Refusal(
                self._error(operation, "ERROR_APPLICATIONS_NOT_EXISTS", message="invalid api key")
            )
        data = contracts().mock_data[operation]
        refund = self._reserve_credits(operation, key, int(data.get("cost_credits", 1)))
        try:
            return self._ailab_answer(operation, parsed, data), None
        except _Refusal:
            if refund is not None:
                refund()  # a refused call costs nothing
            raise

    def _reserve_credits(self, operation: str, key: str, cost: int) -> Callable[[], None] | None:
        """Take the call's price from the key's credits up front, so that concurrent calls
        can never spend more than there is; returns how to give it back."""
        if self.config.credits is None:
            return None
        with self._lock:
            balance = self._credits.setdefault(key, self.config.credits)
            if balance >= cost:
                self._credits[key] = balance - cost
        if balance < cost:
            raise _Refusal(
                self._error(
                    operation,
                    "ERROR_NOT_ENOUGH_CREDITS",
                    message=f"{balance} credits left, {cost} needed",
                )
            )

        def refund() -> None:
            with self._lock:
                self._credits[key] += cost

        return refund

    def _ailab_answer(self, operation: str, parsed: ParsedBody, data: Mapping[str, Any]) -> Any:
        if parsed.kind != "multipart" or "image" not in parsed.files:
            raise _Refusal(
                self._error(
                    operation,
                    "MISSING_PARAMETERS",
                    message="image: a multipart file part is required",
                )
            )
        fields = parsed.fields
        schema = flat_at(operation, "request", ("body",))
        for name, value in fields.items():
            if name in schema.get("properties", {}) and not _matches(
                flat_at(operation, "request", ("body", name)), value
            ):
                raise _Refusal(
                    self._error(
                        operation,
                        "ERROR_PARAMETERS",
                        message=f"{name}: {value!r} is not a documented value",
                    )
                )
        limits = data["image"]
        picture = analyse(parsed.files["image"].data)
        if picture.size > limits["max_bytes"]:
            raise _Refusal(
                self._error(
                    operation, "FILE_SIZE_EXCEEDS_LIMIT", message=f"image: {picture.size} bytes"
                )
            )
        if picture.problem in ("empty", "unknown_format") or (
            picture.info and picture.info.format not in limits["formats"]
        ):
            raise _Refusal(
                self._error(
                    operation, "UNSUPPORTED_FILE_TYPES", message="image: unsupported file type"
                )
            )
        if picture.info is None or picture.problem:
            raise _Refusal(
                self._error(
                    operation, "FILE_DECODING_FAILURE", message="image: the file cannot be decoded"
                )
            )
        if not _within(picture, limits["max_pixels"], upper=True):
            raise _Refusal(
                self._error(
                    operation,
                    "FILE_RESOLUTION_EXCEEDS_LIMITS",
                    message="image: resolution too high",
                )
            )
        if not _within(picture, limits["min_pixels"], upper=False):
            raise _Refusal(
                self._error(operation, "ERROR_LOW_RESOLUTION", message="image: resolution too low")
            )
        scene = _big_enough(self._scene(operation, picture), limits)
        if not scene.faces and operation == "ailab.face_key_points":
            raise _Refusal(
                self._error(operation, "ERROR_NO_FACE_IN_FILE", message="pic not has face")
            )
        body, _ = _rendered(operation, scene, dict(fields))
        return body

    # --- Ace Data Cloud ---------------------------------------------------------------------

    def _acedata(
        self, operation: str, request: HttpRequest, parsed: ParsedBody
    ) -> tuple[Any, Callable[[], None] | None]:
        authorization = request.headers.get("authorization", "").strip()
        if not authorization:
            raise _Refusal(self._error(operation, "no_token"))
        match = re.fullmatch(r"(?i:bearer) +([^ \t\r\n]+)", authorization)
        allowed = self.config.credentials.get("acedata")
        if match is None or (allowed and match.group(1) not in allowed):
            raise _Refusal(self._error(operation, "invalid_token"))
        token = match.group(1)
        rate = self.config.rate_per_second
        if rate is not None and not self._within_rate(token, rate):
            raise _Refusal(self._error(operation, "too_many_requests"))
        body = parsed.json
        if parsed.kind != "json" or not isinstance(body, dict):
            raise _Refusal(
                self._error(operation, "bad_request", message="the body must be a JSON object")
            )
        if not isinstance(body.get("image_url"), str) or not body["image_url"]:
            raise _Refusal(self._error(operation, "bad_request", message="image_url is required"))
        for name in ("image_url", "mode", "face_model_version", "need_rotate_detection"):
            if name in body and not _matches(
                flat_at(operation, "request", ("body", name)), body[name]
            ):
                raise _Refusal(
                    self._error(
                        operation,
                        "bad_request",
                        message=f"{name}: {body[name]!r} is not a documented value",
                    )
                )
        data = self._fetch(operation, body["image_url"])
        picture = analyse(data)
        target = contracts().mock_data[operation]["image_url_target"]
        if picture.info is None or picture.problem or picture.info.format not in target["formats"]:
            raise _Refusal(self._error(operation, "api_error", message="fetch failed"))
        scene = self._scene(operation, picture)
        if not scene.faces:
            no_face = contracts().mock_data[operation]["no_face"]
            raise _Refusal(self._error(operation, no_face["code"], message=no_face["message"]))
        answer, _ = _rendered(operation, scene, body)
        return answer, None

    # --- shared steps -----------------------------------------------------------------------

    def _scene(self, operation: str, picture: Picture) -> Scene:
        override = self.config.operation_faces.get(operation, self.config.faces)
        return faces_for(picture, override)

    def _fetch(self, operation: str, url: str) -> bytes:
        """The picture behind an image URL: registered, fetched from loopback, or the bundled
        face; in strict mode an unknown URL is the vendor's download failure."""
        if url in self.config.images:
            return self.config.images[url]
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:  # not a URL at all (e.g. a broken IPv6 host): a bad argument
            if operation.startswith("acedata."):
                answer = self._error(
                    operation, "bad_request", message="image_url is not a valid URL"
                )
            else:
                answer = self._error(operation, "INVALID_IMAGE_URL")
            raise _Refusal(answer) from None
        if host in ("localhost", "::1") or host.startswith("127."):
            import httpx

            try:
                response = httpx.get(url, timeout=5.0)
                response.raise_for_status()
            except httpx.TimeoutException:
                raise _Refusal(self._download_failure(operation, timeout=True)) from None
            except httpx.HTTPError:
                raise _Refusal(self._download_failure(operation, timeout=False)) from None
            return response.content
        if self.config.strict_urls:
            raise _Refusal(self._download_failure(operation, timeout=False))
        return default_picture()

    def _download_failure(self, operation: str, *, timeout: bool) -> _Answer:
        if operation.startswith("facepp."):
            return self._error(
                operation, "IMAGE_DOWNLOAD_TIMEOUT" if timeout else "INVALID_IMAGE_URL"
            )
        if operation.startswith("acedata."):
            return self._error(operation, "api_error", message="fetch failed")
        return self._error(operation, "ERROR_FILE_DOWNLOAD_FAILED")

    def _error(self, operation: str, code: str, **details: str) -> _Answer:
        seed = f"{operation}:{code}:{sum(self._calls.values())}"
        status, content_type, body = error_answer(operation, code, RandomChooser(seed), **details)
        return _Answer(status, content_type, body)

    def _bad_body(self, operation: str, error: BodyError) -> _Answer:
        vendor = operation.split(".", 1)[0]
        if vendor == "facepp":
            return self._error(operation, "BAD_ARGUMENTS", field=error.field or "image_file")
        if vendor == "ailab":
            return self._error(operation, "ERROR_PARAMETERS", message=str(error))
        return self._error(operation, "bad_request", message=str(error))

    def _not_found(self, path: str) -> _Answer:
        if path.startswith("/facepp/"):
            return self._error("facepp.thousandlandmark", "API_NOT_FOUND")
        if path.startswith("/api/"):
            return self._error(
                "ailab.face_key_points", "ERROR_AI_NOT_EXISTS", message=f"{path} is not an API"
            )
        if path.startswith("/face/"):
            return self._error("acedata.face_analyze", "no_api")
        routes = "\n".join(
            f"{op.method} {op.path}  {op.id}" for op in contracts().operations.values()
        )
        return _Answer(
            404,
            "text/plain",
            f"face-contracts mock: no operation at {path}; it serves:\n{routes}\n",
        )

    def _forced(self, operation: str, call: int, credential: str | None) -> ForcedError | None:
        with self._lock:
            for index, forced in enumerate(self.config.errors):
                if forced.operation not in (None, operation):
                    continue
                if forced.credential is not None and forced.credential != credential:
                    continue
                if forced.nth is not None and forced.nth != call:
                    continue
                if forced.times is not None and self._error_uses[index] >= forced.times:
                    continue
                if forced.operation is None and not _documents(operation, forced.code):
                    continue
                self._error_uses[index] += 1
                return forced
        return None

    def _fault(self, operation: str | None, call: int) -> Any:
        with self._lock:
            for index, fault in enumerate(self.config.faults):
                if fault.operation not in (None, operation):
                    continue
                if fault.nth is not None and fault.nth != call:
                    continue
                if fault.times is not None and self._fault_uses[index] >= fault.times:
                    continue
                self._fault_uses[index] += 1
                return fault
        return None

    def _take_slot(self, operation: str, key: str) -> Callable[[], None] | None:
        limit = self.config.concurrency
        if limit is None:
            return None
        with self._lock:
            if self._in_flight[key] >= limit:
                raise _Refusal(self._error(operation, "CONCURRENCY_LIMIT_EXCEEDED"))
            self._in_flight[key] += 1
        # The counters of this call's generation: a transport may release after a reset()
        # (the socket transport does so once the answer is written), which must not count
        # against the fresh counters.
        in_flight = self._in_flight

        def release() -> None:
            with self._lock:
                in_flight[key] -= 1

        return release

    def _within_rate(self, token: str, limit: float) -> bool:
        now = time.monotonic()
        with self._lock:
            window = self._rate[token]
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= limit:
                return False
            window.append(now)
            return True

    def _record(
        self,
        operation: str | None,
        request: HttpRequest,
        parsed: ParsedBody,
        response: HttpResponse,
    ) -> None:
        headers = {
            name: (_masked_header(value) if name in _SECRET_HEADERS else value)
            for name, value in request.headers.items()
        }
        if parsed.kind == "json" and isinstance(parsed.json, dict):
            fields: dict[str, Any] = dict(parsed.json)
        else:
            fields = {
                name: (MASK if name in _SECRET_FIELDS else value)
                for name, value in parsed.fields.items()
            }
        entry = JournalEntry(
            operation,
            request.method,
            request.path,
            headers,
            fields,
            response.status,
            response.content_type,
            response.body,
            time.time(),
            dict(parsed.files),
        )
        with self._lock:
            self.journal.append(entry)


_RENDERED: dict[str, tuple[bytes, tuple[str, ...]]] = {}
_RENDERED_LOCK = threading.Lock()
_RENDERED_SIZE = 256


def _rendered(
    operation: str, scene: Scene, request_body: Mapping[str, Any]
) -> tuple[bytes, tuple[str, ...]]:
    """The encoded success answer and its face_tokens. Answers are a pure function of the
    operation, the scene and the options, so each is rendered once and kept (bounded)."""
    seed = _seed(operation, scene, request_body)
    found = _RENDERED.get(seed)
    if found is not None:
        return found
    body = RENDERERS[operation](scene, {"body": request_body}, RandomChooser(seed))
    tokens = tuple(face["face_token"] for face in body.get("faces", ()))
    encoded = (orjson.dumps(body), tokens)
    with _RENDERED_LOCK:
        if len(_RENDERED) >= _RENDERED_SIZE:
            _RENDERED.pop(next(iter(_RENDERED)))
        _RENDERED[seed] = encoded
    return encoded


def _masked_header(value: str) -> str:
    """A secret header's value masked, keeping an auth scheme ("Bearer <redacted>") so the
    journal's request verdict still sees the form the vendor checks."""
    scheme, _, credential = value.partition(" ")
    if credential and scheme.lower() in ("bearer", "basic"):
        return f"{scheme} {MASK}"
    return MASK


def _encode(answer: _Answer) -> HttpResponse:
    if isinstance(answer.body, bytes):
        return HttpResponse(answer.status, answer.content_type, answer.body)
    if answer.content_type.startswith("text/"):
        text = answer.body if isinstance(answer.body, str) else str(answer.body)
        return HttpResponse(answer.status, answer.content_type, text.encode())
    return HttpResponse(answer.status, "application/json", orjson.dumps(answer.body))


def body_limit(operation: str | None) -> int:
    """How many body bytes a transport reads before it answers :meth:`Engine.too_large`
    unread: Face++'s documented 2 MB, otherwise the vendor's picture limit plus room for
    the form around it (AILabTools), or 1 MiB for a JSON body that carries only a URL."""
    if operation is None:
        return 1 << 20
    limit = request_limit(operation)
    if limit is not None:
        return limit
    image = contracts().mock_data[operation].get("image")
    return image["max_bytes"] + (1 << 20) if image else 1 << 20


def request_limit(operation: str) -> int | None:
    """The largest request body the vendor reads, where it refuses larger ones unread
    (Face++: 2 MB, HTTP 413 plain text, seed 004)."""
    if not operation.startswith("facepp."):
        return None
    limit: int = contracts().mock_data[operation]["image"]["max_bytes"]
    return limit


def _credential(vendor: str, request: HttpRequest, parsed: ParsedBody) -> str | None:
    if vendor == "facepp":
        return parsed.fields.get("api_key")
    if vendor == "ailab":
        return request.headers.get("ailabapi-api-key")
    authorization = request.headers.get("authorization", "").strip()
    match = re.fullmatch(r"(?i:bearer) +([^ \t\r\n]+)", authorization)
    return match.group(1) if match else None


def _documents(operation: str, code: str) -> bool:
    return any(entry["code"] == code for entry in contracts().mock_data[operation]["errors"])


def _seed(operation: str, scene: Scene, body: Mapping[str, Any]) -> str:
    options = orjson.dumps(
        {k: v for k, v in body.items() if k not in ("image_base64", "image_url", "image_file")},
        option=orjson.OPT_SORT_KEYS,
    ).decode()
    boxes = [(f.left, f.top, f.width, f.height) for f in scene.faces]
    return f"{operation}|{scene.width}x{scene.height}|{boxes}|{options}"


def _matches(subschema: Mapping[str, Any], value: Any) -> bool:
    from face_contracts.generation._mutations import leaf_failures

    return not leaf_failures(dict(subschema), value, "")


def _within(picture: Picture, bound: Mapping[str, Any], *, upper: bool) -> bool:
    from face_contracts._invariants.requests import _within as within  # one reading of the limits

    if picture.info is None:
        return False
    return within((picture.info.width, picture.info.height), bound, upper=upper)


def _within_limits(picture: Picture, limits: Mapping[str, Any]) -> bool:
    return _within(picture, limits["min_pixels"], upper=False) and _within(
        picture, limits["max_pixels"], upper=True
    )


def _big_enough(scene: Scene, limits: Mapping[str, Any]) -> Scene:
    """Drop the faces smaller than the vendor can detect (its documented minimum face)."""
    rule = limits.get("min_face_side")
    if not rule:
        return scene
    minimum = max(
        rule.get("pixels", 0),
        min(scene.width, scene.height) * rule.get("fraction_of_short_side", 0),
    )
    return Scene(
        scene.width,
        scene.height,
        tuple(f for f in scene.faces if min(f.width, f.height) >= minimum),
    )
