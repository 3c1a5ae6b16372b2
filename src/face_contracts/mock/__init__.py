"""Vendor-faithful mocks of the five operations: one engine, three transports.

:class:`FaceMock` is the engine with its settings and journal. Serve it in-process to httpx
(:func:`face_contracts.mock.transports.respx_router`), on a real socket in tests (the
``face_mock`` pytest fixture, pytest-httpserver), or as a standalone server
(``face-contracts serve``).

>>> from face_contracts.mock import FaceMock, HttpRequest
>>> mock = FaceMock()
>>> answer = mock.handle(HttpRequest("POST", "/facepp/v3/detect", {}, b""))
>>> answer.status, answer.json()["error_message"]
(400, 'MISSING_ARGUMENTS: api_key')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from face_contracts.mock._config import (
    MASK,
    Box,
    ConfigError,
    Fault,
    ForcedError,
    MockConfig,
    config_from_mapping,
    config_to_json,
    setting_changes,
)
from face_contracts.mock._engine import Engine, JournalEntry, body_limit
from face_contracts.mock._http import HttpRequest, HttpResponse, encode_request

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "MASK",
    "Box",
    "ConfigError",
    "FaceMock",
    "Fault",
    "ForcedError",
    "HttpRequest",
    "HttpResponse",
    "JournalEntry",
    "MockConfig",
    "UnexpectedCallsError",
    "body_limit",
    "config_from_mapping",
    "config_to_json",
    "encode_request",
    "setting_changes",
]


class UnexpectedCallsError(AssertionError):
    """The journal does not hold the calls a test expected; the message lists them all."""


class FaceMock(Engine):
    """The mock engine with conveniences for tests. Settings last until :meth:`reset`."""

    def set_faces(self, faces: int | Iterable[Box], *, operation: str | None = None) -> None:
        """Every picture has ``faces`` faces (a count, or boxes left, top, width, height)."""
        value: int | tuple[Box, ...] = (
            faces if isinstance(faces, int) else tuple((b[0], b[1], b[2], b[3]) for b in faces)
        )
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
        nth: int | None = None,
        times: int | None = None,
        **details: str,
    ) -> None:
        """Answer the documented error ``code`` (see the operation's error catalogue)."""
        self._check_code(code, operation)
        self.configure(
            errors=[ForcedError(code, operation, credential, nth, times, tuple(details.items()))]
        )

    def add_fault(
        self,
        *,
        operation: str | None = None,
        delay: float = 0.0,
        drop: bool = False,
        status: int | None = None,
        nth: int | None = None,
        times: int | None = None,
    ) -> None:
        """Add latency, drop the connection, or answer a bare 5xx."""
        if status is not None and not 500 <= status <= 599:
            msg = f"a fault answers a 5xx status, not {status}"
            raise ValueError(msg)
        self.configure(faults=[Fault(operation, delay, drop, status, nth, times)])

    def set_credentials(
        self,
        *,
        ailab: Iterable[str] | None = None,
        acedata: Iterable[str] | None = None,
        facepp: Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Only these credentials work (AILab keys, Ace Data tokens, Face++ key/secret pairs)."""
        changes: dict[str, tuple[str, ...]] = {}
        if ailab is not None:
            changes["ailab"] = tuple(ailab)
        if acedata is not None:
            changes["acedata"] = tuple(acedata)
        if facepp is not None:
            changes["facepp"] = tuple(f"{key}:{secret}" for key, secret in facepp)
        self.configure(credentials=changes)

    def register_image(self, url: str, data: bytes) -> None:
        """Serve ``data`` for requests that name ``url`` as their image."""
        self.configure(images={url: data})

    def calls(self, operation: str | None = None) -> list[JournalEntry]:
        """The journal, or the entries of one operation."""
        return [
            entry for entry in self.journal if operation is None or entry.operation == operation
        ]

    def assert_called(
        self, operation: str, *, times: int | None = None, **fields: Any
    ) -> list[JournalEntry]:
        """Assert that ``operation`` was called (``times`` times, if given) with these field
        values (form fields or JSON body members, compared as strings); the message lists
        what was expected and every call made, near misses first."""
        __tracebackhide__ = True  # the failure is the caller's, not this method's
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
        near = sorted(self.journal, key=lambda entry: (entry.operation != operation, entry.at))
        if near:
            lines.append("Calls made (same operation first):")
            lines.extend(f"  {entry.summary()}" for entry in near)
        else:
            lines.append("No call was made.")
        raise UnexpectedCallsError("\n".join(lines))

    def _check_code(self, code: str, operation: str | None) -> None:
        from face_contracts.contracts import contracts

        targets = (
            [contracts().operation(operation)]
            if operation
            else list(contracts().operations.values())
        )
        if not any(
            entry["code"] == code
            for op in targets
            for entry in contracts().mock_data[op.id]["errors"]
        ):
            where = operation or "any operation"
            msg = f"{code!r} is not a documented error of {where}"
            raise ValueError(msg)
