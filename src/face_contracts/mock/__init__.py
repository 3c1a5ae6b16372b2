"""Vendor-faithful mocks of the five operations: one engine, three transports.

:class:`FaceMock` is the engine with its settings, state and journal. Serve it in-process
to httpx (:func:`face_contracts.mock.transports.respx_router`), on a real socket in tests
(the ``face_mock`` pytest fixture, pytest-httpserver), or as a standalone server
(``face-contracts serve``).

>>> from face_contracts.mock import FaceMock, HttpRequest
>>> mock = FaceMock()
>>> answer = mock.handle(HttpRequest("POST", "/facepp/v3/detect", {}, b""))
>>> answer.status, answer.json()["error_message"].split(":")[0]
(400, 'MISSING_ARGUMENTS')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from face_contracts.contracts import contracts
from face_contracts.journal import JournalEntry, JournalQuery
from face_contracts.mock._engine import Deferred, Engine
from face_contracts.mock._http import HttpRequest, HttpResponse, encode_request
from face_contracts.settings import Box, Settings, SettingsError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "Box",
    "Deferred",
    "FaceMock",
    "HttpRequest",
    "HttpResponse",
    "JournalEntry",
    "RuleHandle",
    "Settings",
    "SettingsError",
    "UnexpectedCallsError",
    "encode_request",
]


class UnexpectedCallsError(AssertionError):
    """The journal does not hold the calls a test expected; the message lists them all."""


@dataclass(frozen=True)
class RuleHandle:
    """A forced error, fault or stubbed answer in force; :meth:`remove` takes it away."""

    mock: FaceMock
    id: str

    def remove(self) -> bool:
        """Stop applying this rule (False if a reset or an earlier remove already did)."""
        return self.mock.remove(self.id)


class FaceMock(Engine):
    """The mock engine with conveniences for tests. Settings last until :meth:`reset`.

    Keyword arguments are settings (the keys of the TOML file and of the ``face_mock``
    marker: ``faces``, ``errors``, ``faults``, ``responses``, ``credentials``, ``credits``,
    ...), checked as everywhere else (:mod:`face_contracts.settings`)."""

    def set_faces(self, faces: int | Iterable[Box] | None, *, operation: str | None = None) -> None:
        """Every picture has ``faces`` faces (a count, or boxes left, top, width, height);
        None returns to the faces found in the picture."""
        value: Any = faces if faces is None or isinstance(faces, int) else [list(b) for b in faces]
        if operation is None:
            self.configure(faces=value)
        else:
            self.configure(operation_faces={operation: value})

    def force_error(
        self,
        code: str,
        *,
        operation: str | None = None,
        credential: str | None = None,
        when: Mapping[str, Any] | None = None,
        nth: int | None = None,
        times: int | None = None,
        **details: str,
    ) -> RuleHandle:
        """Answer the documented error ``code`` (see the operation's error catalogue), for
        calls matching ``when`` (``fields``, ``headers``, ``credential``, ``image_sha256``),
        on the ``nth`` matching call, at most ``times`` times."""
        item: dict[str, Any] = {"code": code, "operation": operation, "nth": nth, "times": times}
        if when is not None:
            item["when"] = dict(when)
        if credential is not None:
            item["credential"] = credential
        if details:
            item["details"] = details
        return self._add("errors", item)

    def add_fault(
        self,
        *,
        operation: str | None = None,
        delay: float | Mapping[str, Any] = 0.0,
        drop: bool = False,
        status: int | None = None,
        when: Mapping[str, Any] | None = None,
        nth: int | None = None,
        times: int | None = None,
    ) -> RuleHandle:
        """Add latency (seconds, or ``{"distribution": "uniform", "low", "high"}`` /
        ``{"distribution": "lognormal", "median", "sigma"}``), drop the connection, or
        answer a bare 5xx."""
        item: dict[str, Any] = {
            "operation": operation,
            "delay": dict(delay) if not isinstance(delay, int | float) else delay,
            "drop": drop,
            "status": status,
            "nth": nth,
            "times": times,
        }
        if when is not None:
            item["when"] = dict(when)
        return self._add("faults", item)

    def respond(
        self,
        operation: str,
        body: Any = None,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
        invalid: str | None = None,
        seed: int = 0,
        at: str | None = None,
        when: Mapping[str, Any] | None = None,
        nth: int | None = None,
        times: int | None = None,
    ) -> RuleHandle:
        """Answer matching calls of ``operation`` with exactly ``body`` (a JSON value, text
        or bytes), ``status``, ``headers`` and ``content_type`` (default: JSON for a JSON
        value, ``text/plain`` for text, ``application/octet-stream`` for bytes); or, with
        ``invalid`` (a drift label such as ``misnamed_key``), with the real success answer
        broken in that one way, chosen by ``seed``, at the JSON pointer ``at`` or below it
        (``at="/face/landmark/left_eye/left_eye_pupil_center"`` renames exactly that key).
        Raises SettingsError naming the allowed values."""
        item: dict[str, Any] = {"operation": operation, "nth": nth, "times": times}
        if invalid is not None:
            if body is not None:
                msg = "give a body or an invalid label, not both"
                raise SettingsError(msg)
            item.update(invalid=invalid, seed=seed)
            if at is not None:
                item["at"] = at
        elif at is not None:
            msg = "at= places a drift: give it with invalid="
            raise SettingsError(msg)
        else:
            item.update(body=body, status=status)
            if headers is not None:
                item["headers"] = dict(headers)
            if content_type is not None:
                item["content_type"] = content_type
        if when is not None:
            item["when"] = dict(when)
        return self._add("responses", item)

    def _add(self, name: str, item: dict[str, Any]) -> RuleHandle:
        (rule_id,) = self.configure(**{name: [item]})
        return RuleHandle(self, rule_id)

    def set_credentials(
        self,
        *,
        ailab: Iterable[str] | None = None,
        acedata: Iterable[str] | None = None,
        facepp: Iterable[str | tuple[str, str]] | None = None,
    ) -> None:
        """Only these credentials work (AILab keys, Ace Data tokens, Face++ ``key:secret``
        strings or ``(key, secret)`` pairs)."""
        changes: dict[str, list[Any]] = {}
        if ailab is not None:
            changes["ailab"] = list(ailab)
        if acedata is not None:
            changes["acedata"] = list(acedata)
        if facepp is not None:
            changes["facepp"] = [item if isinstance(item, str) else list(item) for item in facepp]
        self.configure(credentials=changes)

    def register_image(self, url: str, data: bytes) -> None:
        """Serve ``data`` for requests that name ``url`` as their image."""
        self.configure(images={url: data})

    def calls(
        self,
        operation: str | None = None,
        *,
        status: int | None = None,
        since: float | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """The journal, or the entries of one operation (and status, and time on)."""
        return self.calls_matching(JournalQuery(operation, status, since, limit))

    def assert_called(
        self, operation: str, *, times: int | None = None, **fields: Any
    ) -> list[JournalEntry]:
        """Assert that ``operation`` was called (``times`` times, if given) with these field
        values (form fields or JSON body members, compared as strings); the message lists
        what was expected and every call made, near misses first."""
        __tracebackhide__ = True  # the failure is the caller's, not this method's
        contracts().operation(operation)  # an unknown id names the known ones
        wanted = {name: str(value) for name, value in fields.items()}
        matching = [
            entry
            for entry in self.calls(operation)
            if all(str(entry.fields.get(name)) == value for name, value in wanted.items())
        ]
        if (times is None and matching) or (times is not None and len(matching) == times):
            return matching
        expected = f"{operation} called {'at least once' if times is None else f'{times} time(s)'}"
        if wanted:
            expected += " with " + ", ".join(f"{k}={v!r}" for k, v in wanted.items())
        lines = [f"face-contracts: expected {expected}; found {len(matching)} matching call(s)."]
        journal = self.journal
        near = sorted(journal, key=lambda entry: (entry.operation != operation, entry.sequence))
        if near:
            lines.append("Calls made (same operation first):")
            lines.extend(f"  {entry.summary()}" for entry in near)
        else:
            lines.append("No call was made.")
        raise UnexpectedCallsError("\n".join(lines))
