"""The journal: every request a mock answered, secrets masked, bounded in entries and bytes.

An entry always keeps the request's metadata (method, path, masked headers and fields, each
file's name, size and SHA-256) and the answer's status; uploaded file bytes and answer
bodies are kept only while the journal's byte budget allows, oldest dropped first. Entries
are plain data (:meth:`JournalEntry.to_json`), so a shared state (Redis) can hold them.
"""

from __future__ import annotations

import base64
import threading
from collections import deque
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from face_contracts.validation import Report

__all__ = ["FileRecord", "Journal", "JournalEntry", "JournalQuery", "upload_document"]


def upload_document(
    data: bytes | memoryview, filename: str | None, content_type: str | None
) -> dict[str, Any]:
    """An uploaded file as a request document's part: base64 bytes, its name and type when
    sent (what ``validate(op, "request", ...)`` reads)."""
    part: dict[str, Any] = {"base64": base64.b64encode(data).decode()}
    if filename is not None:
        part["filename"] = filename
    if content_type is not None:
        part["content_type"] = content_type
    return part


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One uploaded file: always its size and digest; its bytes while the budget allows
    (a view into the request body as received: kept, not copied)."""

    filename: str | None
    content_type: str | None
    size: int
    sha256: str
    data: bytes | memoryview | None = None

    def to_json(self, *, with_data: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "filename": self.filename,
            "content_type": self.content_type,
            "bytes": self.size,
            "sha256": self.sha256,
        }
        if with_data and self.data is not None:
            data["base64"] = base64.b64encode(self.data).decode()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileRecord:
        raw = data.get("base64")
        return cls(
            data.get("filename"),
            data.get("content_type"),
            int(data["bytes"]),
            str(data["sha256"]),
            base64.b64decode(raw) if isinstance(raw, str) else None,
        )


@dataclass
class JournalEntry:
    """One request the mock answered: what came in (secrets masked) and what went out.

    ``fields`` are the form fields or JSON body members; ``files`` the uploaded parts;
    ``body`` the answer's bytes (None once the byte budget dropped them); ``notes`` say
    what decided the answer when it was not the vendor's own logic (a forced error, a
    fault, a stub, a drift, a replayed recording, the face detector)."""

    sequence: int
    operation: str | None
    method: str
    path: str
    headers: dict[str, str]
    fields: dict[str, Any]
    status: int
    content_type: str
    body: bytes | None
    at: float
    files: dict[str, FileRecord] = field(default_factory=dict)
    query: str = ""
    process: str = ""
    notes: tuple[str, ...] = ()
    dropped: bool = False

    @property
    def payload_bytes(self) -> int:
        """The bytes this entry holds beyond its metadata (file bytes, answer body)."""
        files = sum(f.size for f in self.files.values() if f.data is not None)
        return files + (len(self.body) if self.body is not None else 0)

    def without_payload(self) -> JournalEntry:
        """The same entry with file bytes and answer body dropped (digests kept)."""
        return JournalEntry(
            self.sequence,
            self.operation,
            self.method,
            self.path,
            self.headers,
            self.fields,
            self.status,
            self.content_type,
            None,
            self.at,
            {
                name: FileRecord(f.filename, f.content_type, f.size, f.sha256)
                for name, f in self.files.items()
            },
            self.query,
            self.process,
            self.notes,
            self.dropped,
        )

    @cached_property
    def response(self) -> Any:
        """The answer's body: parsed JSON, text, or None when no longer kept."""
        if self.body is None:
            return None
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return self.body.decode("utf-8", errors="replace")

    @cached_property
    def request_document(self) -> dict[str, Any] | None:
        """The request as a request document (headers and body, secrets masked, files as
        base64 parts), the form ``validate(operation, "request", ...)`` reads; None when
        the byte budget dropped a file's bytes."""
        body: dict[str, Any] = dict(self.fields)
        for name, part in self.files.items():
            if part.data is None:
                return None
            body[name] = upload_document(part.data, part.filename, part.content_type)
        return {"headers": dict(self.headers), "body": body}

    @cached_property
    def verdict(self) -> Report | None:
        """The request schema's verdict on this request (None for an unknown route, or when
        the picture is no longer kept). Secrets are masked, so a masked credential is judged
        as the non-empty string it replaced."""
        from face_contracts.validation import validate  # deferred: jsonschema on first use

        document = self.request_document
        if self.operation is None or document is None:
            return None
        return validate(self.operation, "request", document)

    def field(self, name: str) -> Any:
        """A field's value (form field or JSON member), None when absent."""
        return self.fields.get(name)

    def summary(self) -> str:
        """One line: method, path, operation, the fields sent, the status answered."""
        sent = ", ".join(f"{k}={v!r}" for k, v in self.fields.items())
        files = ", ".join(f"{k}=<file {f.size} bytes>" for k, f in self.files.items())
        sent_all = ", ".join(filter(None, [sent, files]))
        outcome = "dropped" if self.dropped else str(self.status)
        notes = f" [{'; '.join(self.notes)}]" if self.notes else ""
        return f"{self.method} {self.path} [{self.operation}] ({sent_all}) -> {outcome}{notes}"

    def to_json(self, *, with_payload: bool = True) -> dict[str, Any]:
        """Plain data: what ``GET /__admin/requests`` shows (with ``response``) and what a
        shared state stores (with the base64 payload)."""
        data: dict[str, Any] = {
            "sequence": self.sequence,
            "operation": self.operation,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "fields": self.fields,
            "files": {n: f.to_json(with_data=with_payload) for n, f in self.files.items()},
            "status": self.status,
            "content_type": self.content_type,
            "at": self.at,
            "process": self.process,
            "notes": list(self.notes),
            "dropped": self.dropped,
        }
        if with_payload and self.body is not None:
            data["body_base64"] = base64.b64encode(self.body).decode()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JournalEntry:
        """The entry :meth:`to_json` wrote."""
        raw = data.get("body_base64")
        return cls(
            int(data["sequence"]),
            data.get("operation"),
            str(data["method"]),
            str(data["path"]),
            dict(data.get("headers", {})),
            dict(data.get("fields", {})),
            int(data["status"]),
            str(data.get("content_type", "")),
            base64.b64decode(raw) if isinstance(raw, str) else None,
            float(data["at"]),
            {n: FileRecord.from_json(f) for n, f in data.get("files", {}).items()},
            str(data.get("query", "")),
            str(data.get("process", "")),
            tuple(data.get("notes", ())),
            bool(data.get("dropped", False)),
        )


@dataclass(frozen=True, slots=True)
class JournalQuery:
    """Which entries to list: by operation, status, and from a sequence number or time on;
    ``limit`` keeps the newest that many."""

    operation: str | None = None
    status: int | None = None
    since: float | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 0:
            msg = f"limit must be 0 or more, not {self.limit}"
            raise ValueError(msg)

    def matches(self, entry: JournalEntry) -> bool:
        return (
            (self.operation is None or entry.operation == self.operation)
            and (self.status is None or entry.status == self.status)
            and (self.since is None or entry.at >= self.since)
        )

    def select(self, entries: Iterable[JournalEntry]) -> list[JournalEntry]:
        found = [entry for entry in entries if self.matches(entry)]
        return found[max(0, len(found) - self.limit) :] if self.limit is not None else found


class Journal:
    """An in-memory journal: at most ``limit`` entries, their payloads within ``max_bytes``
    (the oldest entries lose their payload first). Thread-safe."""

    def __init__(self, limit: int, max_bytes: int) -> None:
        self.limit = max(1, limit)
        self.max_bytes = max(0, max_bytes)
        self._entries: deque[JournalEntry] = deque()
        self._payload = 0  # payload bytes held, all entries
        self._kept = 0  # index of the oldest entry that still holds its payload
        # One copy of each distinct upload, shared by the entries that hold it (digest ->
        # [bytes, holders]): a test that sends one picture a thousand times keeps it once,
        # and each request's body is freed with its call.
        self._uploads: dict[str, list[Any]] = {}
        self._lock = threading.Lock()

    def resize(self, limit: int, max_bytes: int) -> None:
        with self._lock:
            self.limit, self.max_bytes = max(1, limit), max(0, max_bytes)
            self._trim()

    def append(self, entry: JournalEntry) -> None:
        with self._lock:
            for name, file in entry.files.items():
                if file.data is None:
                    continue
                shared = self._uploads.get(file.sha256)
                if shared is None:
                    self._uploads[file.sha256] = [file.data, 1]
                else:
                    shared[1] += 1
                    entry.files[name] = FileRecord(
                        file.filename, file.content_type, file.size, file.sha256, shared[0]
                    )
            self._entries.append(entry)
            self._payload += entry.payload_bytes
            self._trim()

    def _release(self, entry: JournalEntry) -> None:
        for file in entry.files.values():
            shared = self._uploads.get(file.sha256) if file.data is not None else None
            if shared is not None:
                shared[1] -= 1
                if shared[1] == 0:
                    del self._uploads[file.sha256]

    def _trim(self) -> None:
        while len(self._entries) > self.limit:
            oldest = self._entries.popleft()
            self._release(oldest)
            self._payload -= oldest.payload_bytes
            self._kept = max(0, self._kept - 1)
        while self._payload > self.max_bytes and self._kept < len(self._entries):
            entry = self._entries[self._kept]
            if entry.payload_bytes:
                self._release(entry)
                self._payload -= entry.payload_bytes
                self._entries[self._kept] = entry.without_payload()
            self._kept += 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._uploads.clear()
            self._payload = 0
            self._kept = 0

    def entries(self) -> list[JournalEntry]:
        with self._lock:
            return list(self._entries)

    @property
    def payload_bytes(self) -> int:
        """Payload bytes held now (at most ``max_bytes``, bar one entry's worth)."""
        return self._payload

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries())
