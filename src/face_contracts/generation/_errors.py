"""Error answers built from each operation's error catalogue in ``mocks/``.

One function per vendor envelope; the catalogue decides the status, content type and
wording, so a forced error in the mock and a generated one in a test read the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from face_contracts.contracts import contracts
from face_contracts.generation._render import facepp_request_id
from face_contracts.generation._scene import HEX

if TYPE_CHECKING:
    from collections.abc import Mapping

    from face_contracts.generation._scene import Chooser

__all__ = ["ErrorAnswer", "catalogue", "error_answer"]

ErrorAnswer = tuple[int, str, Any]  # status, content type, body (JSON value or text)


def catalogue(operation: str) -> list[Mapping[str, Any]]:
    """The documented errors of one operation."""
    errors: list[Mapping[str, Any]] = contracts().mock_data[operation]["errors"]
    return errors


def _entry(operation: str, code: str) -> Mapping[str, Any]:
    for entry in catalogue(operation):
        if entry["code"] == code:
            return entry
    known = ", ".join(entry["code"] for entry in catalogue(operation))
    msg = f"{operation} documents no error {code!r}; documented: {known}"
    raise KeyError(msg)


def error_answer(operation: str, code: str, chooser: Chooser, **details: str) -> ErrorAnswer:
    """The answer for the documented error ``code``. ``details`` fill the message
    placeholders (``field``, ``face_token``, ``reason``) and, for AILabTools, the upstream
    ``message``."""
    entry = _entry(operation, code)
    vendor = operation.split(".", 1)[0]
    if vendor == "facepp":
        return _facepp(entry, chooser, details)
    if vendor == "ailab":
        return _ailab(entry, chooser, details)
    return _acedata(entry, chooser, details)


def _facepp(entry: Mapping[str, Any], chooser: Chooser, details: Mapping[str, str]) -> ErrorAnswer:
    if entry["content_type"].startswith("text/"):
        return entry["status"], entry["content_type"], entry["message"]
    fill = {
        "field": details.get("field") or chooser.choice(entry.get("fields") or ["image_file"]),
        "face_token": details.get("face_token") or chooser.token(HEX, 32),
        "reason": details.get("reason")
        or chooser.choice(entry.get("reasons") or ["Denied by Client"]),
    }
    fill["fields"] = details.get("fields") or fill["field"]
    body = {
        "time_used": chooser.integer(0, 60),
        "error_message": entry["message"].format(**fill),
        "request_id": facepp_request_id(chooser),
    }
    return entry["status"], "application/json", body


def _ailab_id(chooser: Chooser) -> str:
    return chooser.token(HEX.upper(), 32)


def _ailab(entry: Mapping[str, Any], chooser: Chooser, details: Mapping[str, str]) -> ErrorAnswer:
    status: int = entry["status"]
    upstream = details.get("message") or entry.get("message") or entry["code_message"]
    body: dict[str, Any] = {
        "request_id": _ailab_id(chooser),
        "log_id": _ailab_id(chooser),
        "error_code": status,
    }
    if "error_code_str" in entry:
        body["error_code_str"] = entry["error_code_str"]
        body["error_msg"] = f"{entry['code_message']} - {upstream}"
    body["error_detail"] = {
        "status_code": status,
        "code": entry["code"],
        "code_message": entry["code_message"],
        "message": upstream,
    }
    return status, "application/json", body


def _acedata(entry: Mapping[str, Any], chooser: Chooser, details: Mapping[str, str]) -> ErrorAnswer:
    text = chooser.token(HEX, 32)
    trace_id = f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:]}"
    body = {
        "error": {"code": entry["code"], "message": details.get("message") or entry["message"]},
        "trace_id": trace_id,
    }
    return entry["status"], entry["content_type"], body
