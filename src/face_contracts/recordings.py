"""Recorded vendor answers: saved redacted by the live suite's record mode, re-validated
and age-checked whenever they are loaded, replayed by the mocks for a matching request.

A recording is one JSON file, ``<recordings dir>/<operation id>/<case>-<key hash>.json``::

    {
      "format": "face-contracts recording 1",
      "recorded_at": "2025-11-21T20:40:00Z",        # UTC
      "host": "api-us.faceplusplus.com",
      "operation": "facepp.detect",
      "case": "facepp.detect/return_landmark=2",
      "request": {                                   # a summary: never a secret, never an image
        "method": "POST", "path": "/facepp/v3/detect",
        "content_type": "multipart/form-data", "credentials": "valid",
        "fields": {"api_key": "<redacted>", "api_secret": "<redacted>", "return_landmark": "2"},
        "files": {"image_file": {"sha256": "...", "bytes": 791555,
                                 "filename": "astronaut.png", "content_type": "image/png"}}
      },
      "status": 200,
      "content_type": "application/json",
      "body": {...},                                 # or "body_text": "..." for a text answer
      "drift": [{"severity": "failure", "rule": "required", "pointer": "/faces",
                 "expected": "...", "got": "(missing)"}]   # only when the answer drifted
    }

``credentials`` says whether the request carried the credentials that work (``valid``),
others (``wrong``) or none (``missing``): enough to tell a success from a refusal of the
same picture without storing any credential. Long field values (an ``image_base64``) are
kept as their SHA-256 and length. ``drift`` (optional) lists what the recorder found wrong
with the answer when it was recorded (the validation proxy records real answers, drifted
ones included); whatever the file says, the answer is judged again on every load and
:attr:`Recording.drifted` is that verdict. Only ``orjson`` reads these files.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson

from face_contracts.contracts import contracts
from face_contracts.errors import FaceContractsError
from face_contracts.redaction import MASK, Redactor, is_secret_name
from face_contracts.validation import validate

if TYPE_CHECKING:
    from collections.abc import Mapping

    from face_contracts.mock._http import HttpRequest, ParsedBody
    from face_contracts.validation import Report

__all__ = [
    "DEFAULT_STALE_AFTER_DAYS",
    "FORMAT",
    "CredentialState",
    "Recording",
    "RecordingError",
    "answer_body",
    "load_recording",
    "load_recordings",
    "replay_key",
    "request_summary",
    "save_recording",
    "validate_answer",
]

FORMAT = "face-contracts recording 1"
DEFAULT_STALE_AFTER_DAYS = 30
CredentialState = Literal["valid", "wrong", "missing"]
CREDENTIAL_STATES: tuple[CredentialState, ...] = ("valid", "wrong", "missing")
# A field value longer than this (an image_base64) is kept as its digest and length.
_LONG_FIELD = 256
# A recording file larger than this is refused unread: answers are kilobytes, not megabytes.
_MAX_FILE_BYTES = 32 << 20
_OPERATION_ID = re.compile(r"^[a-z]+\.[a-z_]+$")


class RecordingError(FaceContractsError, ValueError):
    """A recording file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Recording:
    """One recorded exchange. ``report`` is the contract's verdict on the answer (filled
    when loaded) and ``stale`` whether it is older than the age limit it was loaded with.
    ``drift``: the drifts the recorder saw in the answer (redacted JSON objects, empty when
    it conformed); :attr:`drifted` says whether the answer breaks the contract now."""

    operation: str
    recorded_at: datetime
    host: str
    case: str
    request: Mapping[str, Any]
    status: int
    content_type: str
    body: Any
    text: bool = False
    source: Path | None = field(default=None, compare=False)
    report: Report | None = field(default=None, compare=False)
    stale: bool = field(default=False, compare=False)
    drift: tuple[Mapping[str, Any], ...] = ()

    @cached_property
    def drifted(self) -> bool:
        """Whether the answer breaks the contract now: the verdict made when it was loaded
        (judged here for a recording that was not loaded from a file)."""
        report = self.report
        if report is None:
            report = validate_answer(
                self.operation,
                self.status,
                self.encoded_body() if self.text else self.body,
                request_document(self.request),
            )
        return not report.valid

    @cached_property
    def key(self) -> str:
        """What a request must match to be answered with this recording."""
        return replay_key(self.operation, self.request)

    def encoded_body(self) -> bytes:
        """The body as sent on the wire (JSON re-encoded, or the text)."""
        if self.text:
            return str(self.body).encode()
        return orjson.dumps(self.body)

    def age(self, now: datetime | None = None) -> timedelta:
        """How long ago it was recorded."""
        return (now or datetime.now(UTC)) - self.recorded_at

    def to_json(self) -> dict[str, Any]:
        """The file's content."""
        document: dict[str, Any] = {
            "format": FORMAT,
            "recorded_at": self.recorded_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "host": self.host,
            "operation": self.operation,
            "case": self.case,
            "request": dict(self.request),
            "status": self.status,
            "content_type": self.content_type,
        }
        document["body_text" if self.text else "body"] = self.body
        if self.drift:
            document["drift"] = [dict(item) for item in self.drift]
        return document


def request_summary(
    operation: str,
    request: HttpRequest,
    parsed: ParsedBody,
    credentials: CredentialState,
    redactor: Redactor | None = None,
) -> dict[str, Any]:
    """What is kept of a request: method, path, media type, the credential state, the fields
    (credentials masked, secrets masked, long values as digests) and the files' digests."""
    redactor = redactor or Redactor()
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if parsed.kind == "json":
        raw: Mapping[str, Any] = (
            parsed.json if isinstance(parsed.json, dict) else {"(body)": parsed.json}
        )
    else:
        raw = parsed.fields
    fields: dict[str, Any] = {}
    for name, value in raw.items():
        if is_secret_name(name):
            fields[name] = MASK
        elif isinstance(value, str) and len(value) > _LONG_FIELD:
            fields[name] = {"sha256": _digest(value.encode()), "chars": len(value)}
        else:
            fields[name] = redactor.json(value)
    files = {
        name: {
            "sha256": _digest(part.data),
            "bytes": len(part.data),
            "filename": redactor.text(part.filename or ""),
            "content_type": part.content_type or "",
        }
        for name, part in parsed.files.items()
    }
    del operation  # the operation is stored beside the summary, not inside it
    return {
        "method": request.method.upper(),
        "path": request.path,
        "content_type": media,
        "credentials": credentials,
        "fields": fields,
        "files": files,
    }


def replay_key(operation: str, summary: Mapping[str, Any]) -> str:
    """The matching key of a request summary: operation, method, path, credential state,
    fields and file digests (not file names or media types, which vendors ignore)."""
    files = summary.get("files", {})
    key = {
        "operation": operation,
        "method": summary.get("method"),
        "path": summary.get("path"),
        "credentials": summary.get("credentials"),
        "fields": summary.get("fields", {}),
        "files": {
            name: part.get("sha256") if isinstance(part, dict) else None
            for name, part in (files.items() if isinstance(files, dict) else ())
        },
    }
    return orjson.dumps(key, option=orjson.OPT_SORT_KEYS).decode()


def answer_body(content_type: str, body: bytes, redactor: Redactor) -> tuple[Any, bool]:
    """What a recording keeps of an answer body, redacted: ``(parsed JSON, False)`` for a
    JSON answer, ``(text, True)`` for any other (or JSON that does not parse)."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media.endswith("json"):
        try:
            return redactor.json(orjson.loads(body)), False
        except orjson.JSONDecodeError:
            pass
    return redactor.text(body.decode("utf-8", errors="replace")), True


def validate_answer(
    operation: str,
    status: int,
    body: Any,
    request: Mapping[str, Any] | None = None,
) -> Report:
    """The contract's verdict on an answer: a success body for HTTP 200, the error envelope
    otherwise; a documented alternative shape (variant) is accepted when it fits better."""
    kind = "response" if status == 200 else "error"
    context = request if kind == "response" else None
    report = validate(operation, kind, body, request=context, status=status)
    if report.valid:
        return report
    for variant in contracts().operation(operation).variants.get(kind, {}):
        alternative = validate(
            operation, kind, body, variant=variant, request=context, status=status
        )
        if len(alternative.failures) < len(report.failures):
            report = alternative
    return report


def request_document(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A request document from a summary, as the response rules read it (options only)."""
    fields = summary.get("fields", {})
    body = {
        name: value
        for name, value in (fields.items() if isinstance(fields, dict) else ())
        if not isinstance(value, dict)
    }
    return {"headers": {}, "body": body}


def recording_path(directory: Path, operation: str, case: str, key: str) -> Path:
    """Where a recording lives: names made only of the operation id (checked), a slug of
    the case name and a digest, so no part of a name can climb out of ``directory``."""
    if not _OPERATION_ID.fullmatch(operation):
        msg = f"not an operation id: {operation!r}"
        raise RecordingError(msg)
    slug = re.sub(r"[^a-z0-9]+", "-", case.lower()).strip("-")[:80] or "recording"
    return directory / operation / f"{slug}-{_digest(key.encode())[:12]}.json"


def save_recording(directory: str | os.PathLike[str], recording: Recording) -> Path:
    """Write ``recording`` (already redacted) under ``directory``; returns its path. The
    file is written whole or not at all."""
    root = Path(directory)
    path = recording_path(root, recording.operation, recording.case, recording.key)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = orjson.dumps(recording.to_json(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".recording-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data + b"\n")
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load_recording(
    path: str | os.PathLike[str],
    *,
    stale_after_days: float = DEFAULT_STALE_AFTER_DAYS,
    now: datetime | None = None,
) -> Recording:
    """Read one recording, validate its answer against the contract (``report``) and flag
    it ``stale`` when older than ``stale_after_days``. A file that is not a recording
    raises :class:`RecordingError`."""
    file = Path(path)
    try:
        if file.stat().st_size > _MAX_FILE_BYTES:
            msg = f"{file}: larger than {_MAX_FILE_BYTES} bytes"
            raise RecordingError(msg)
        data = orjson.loads(file.read_bytes())
    except OSError as error:
        msg = f"{file}: cannot read: {error.strerror}"
        raise RecordingError(msg) from None
    except orjson.JSONDecodeError as error:
        msg = f"{file}: not JSON: {error}"
        raise RecordingError(msg) from None
    recording = _parse(file, data)
    limit = timedelta(days=stale_after_days)
    report = validate_answer(
        recording.operation,
        recording.status,
        recording.encoded_body() if recording.text else recording.body,
        request_document(recording.request),
    )
    return replace(recording, source=file, report=report, stale=recording.age(now) > limit)


def load_recordings(
    directory: str | os.PathLike[str],
    *,
    stale_after_days: float = DEFAULT_STALE_AFTER_DAYS,
    now: datetime | None = None,
    allow_drift: bool = True,
) -> tuple[Recording, ...]:
    """Every recording under ``directory`` (``<operation>/<name>.json``), sorted by path.
    Files reached through a link that leaves ``directory`` are refused. Each is judged on
    load (:attr:`Recording.drifted`); with ``allow_drift=False`` the first whose answer
    breaks the contract raises :class:`RecordingError` naming it and its failures."""
    root = Path(directory).resolve()
    if not root.is_dir():
        return ()
    recordings = []
    for path in sorted(root.glob("*/*.json")):
        if not path.resolve().is_relative_to(root):
            msg = f"{path}: points outside {root}"
            raise RecordingError(msg)
        recording = load_recording(path, stale_after_days=stale_after_days, now=now)
        if recording.drifted and not allow_drift:
            msg = (
                f"{path}: the recorded answer breaks the contract (allow drifted recordings "
                f"to replay what the vendor really sent): {recording.report}"
            )
            raise RecordingError(msg)
        recordings.append(recording)
    return tuple(recordings)


def _parse(file: Path, data: Any) -> Recording:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        msg = f"{file}: not a recording (format is not {FORMAT!r})"
        raise RecordingError(msg)
    problems = [
        name
        for name, kinds in (
            ("recorded_at", str),
            ("host", str),
            ("operation", str),
            ("case", str),
            ("request", dict),
            ("status", int),
            ("content_type", str),
        )
        if not isinstance(data.get(name), kinds) or isinstance(data.get(name), bool)
    ]
    if ("body" in data) == ("body_text" in data):
        problems.append("body or body_text")
    elif "body_text" in data and not isinstance(data["body_text"], str):
        problems.append("body_text")
    drift = data.get("drift", [])
    if not isinstance(drift, list) or not all(isinstance(item, dict) for item in drift):
        problems.append("drift")
    if problems:
        msg = f"{file}: missing or malformed: {', '.join(problems)}"
        raise RecordingError(msg)
    if data["operation"] not in contracts().operations:
        msg = f"{file}: unknown operation {data['operation']!r}"
        raise RecordingError(msg)
    if data["request"].get("credentials") not in CREDENTIAL_STATES:
        msg = f"{file}: request.credentials must be one of {', '.join(CREDENTIAL_STATES)}"
        raise RecordingError(msg)
    try:
        recorded_at = datetime.fromisoformat(data["recorded_at"])
    except ValueError:
        msg = f"{file}: recorded_at is not an ISO 8601 date: {data['recorded_at']!r}"
        raise RecordingError(msg) from None
    if recorded_at.tzinfo is None:
        recorded_at = recorded_at.replace(tzinfo=UTC)
    text = "body_text" in data
    return Recording(
        operation=data["operation"],
        recorded_at=recorded_at,
        host=data["host"],
        case=data["case"],
        request=data["request"],
        status=data["status"],
        content_type=data["content_type"],
        body=data["body_text"] if text else data["body"],
        text=text,
        drift=tuple(drift),
    )


def _digest(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()
