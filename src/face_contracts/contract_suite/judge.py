"""Judging one answer against the contract: what drifted, where, and how badly.

A :class:`Drift` names the rule, the JSON pointer, what the contract expects and what came
back. Its severity is ``failure``, or ``warning`` for an unknown extra field (the vendor
added something: worth knowing, not yet broken), an answer in a documented alternative
shape, a stale recording, or a miss on an expectation the documentation does not state.
``--strict-drift`` turns warnings into failures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import orjson

from face_contracts._report import pointer_parts
from face_contracts.contracts import contracts
from face_contracts.recordings import validate_answer
from face_contracts.vendors import vendor_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from face_contracts.contract_suite.cases import Expect
    from face_contracts.redaction import Redactor

__all__ = ["Answer", "Drift", "error_code", "judge", "judge_report", "value_at"]

Severity = Literal["failure", "warning"]
_SHOWN = 160  # characters of a value shown in a drift


@dataclass(frozen=True)
class Answer:
    """What came back: HTTP status, Content-Type header and the raw body."""

    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class Drift:
    """One difference between the contract and an answer."""

    severity: Severity
    rule: str
    pointer: str
    expected: str
    got: str
    stated: bool = False  # ``expected`` is the rule's own sentence about the violation

    def line(self) -> str:
        """``at POINTER [rule]: expected ...; got ...`` on one line."""
        where = self.pointer or "(document)"
        said = self.expected if self.stated else f"expected {self.expected}"
        return f"at {where} [{self.rule}]: {said}; got {self.got}"

    def to_json(self) -> dict[str, str]:
        """The drift as a JSON object."""
        return {
            "severity": self.severity,
            "rule": self.rule,
            "pointer": self.pointer,
            "expected": self.expected,
            "got": self.got,
        }


def value_at(document: Any, pointer: str) -> tuple[bool, Any]:
    """The value at an RFC 6901 pointer: ``(found, value)``."""
    current = document
    for part in pointer_parts(pointer):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return False, None
    return True, current


def _show(value: Any, redactor: Redactor) -> str:
    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        text = repr(value)
    if len(text) > _SHOWN:
        text = text[: _SHOWN - 1] + "…"
    return redactor.text(text)


def error_code(operation: str, body: Any) -> tuple[str | None, str]:
    """The catalogue code of an error answer and its pointer, read defensively."""
    vendor = vendor_of(operation)
    return vendor.error_code(operation, body), "" if isinstance(body, str) else vendor.error_code_at


def _documented_answer(operation: str, status: int) -> Mapping[str, str] | None:
    answers = contracts().operation(operation).answers
    return answers.get(str(status)) or answers.get(f"{status // 100}XX")


def _parsed(answer: Answer, expects_text: bool) -> Any:
    try:
        return orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        return answer.body.decode("utf-8", errors="replace") if expects_text else None


def judge(
    operation: str,
    expect: Expect,
    answer: Answer,
    request: Mapping[str, Any],
    redactor: Redactor,
) -> list[Drift]:
    """Every drift of ``answer`` from the contract, for a request that expects ``expect``:
    the documented status and content type, the expected outcome and error code, the body
    under the schema and invariants (with the request's context), and the face count."""
    drifts: list[Drift] = []
    status = answer.status
    kind = "response" if status == 200 else "error"
    documented = _documented_answer(operation, status)
    if documented is None:
        listed = ", ".join(contracts().operation(operation).answers)
        drifts.append(
            Drift("failure", "status", "", f"a documented status ({listed})", f"HTTP {status}")
        )
    else:
        media = answer.content_type.split(";", 1)[0].strip().lower()
        if media != documented["content_type"]:
            drifts.append(
                Drift(
                    "failure",
                    "content_type",
                    "",
                    f"Content-Type {documented['content_type']} with HTTP {status}",
                    _show(answer.content_type or "(none)", redactor),
                )
            )
    parsed = _parsed(
        answer,
        expects_text=documented is not None and documented["content_type"].startswith("text/"),
    )
    soft: Severity = "warning" if expect.inferred else "failure"
    if expect.outcome == "success" and kind == "error":
        code, _ = error_code(operation, parsed)
        drifts.append(
            Drift(
                soft,
                "outcome",
                "",
                "HTTP 200 with a success answer",
                f"HTTP {status} {code or ''}".strip(),
            )
        )
    elif expect.outcome == "error" and kind == "response":
        codes = " or ".join(sorted(expect.codes)) or "a documented error"
        drifts.append(
            Drift(soft, "outcome", "", f"an error answer ({codes})", "HTTP 200, a success answer")
        )

    report = validate_answer(
        operation, status, answer.body, request if kind == "response" else None
    )
    drifts.extend(judge_report(report, parsed, redactor))

    if kind == "error" and expect.codes and expect.outcome != "success":
        code, where = error_code(operation, parsed)
        if code is not None and code not in expect.codes:
            drifts.append(
                Drift(
                    soft,
                    "error.code",
                    where,
                    f"error code {' or '.join(sorted(expect.codes))}",
                    _show(code, redactor),
                )
            )
    if kind == "response" and expect.faces is not None and expect.outcome != "error":
        low, high = expect.faces
        count = vendor_of(operation).face_count(operation, parsed)
        if count is not None and (count < low or (high is not None and count > high)):
            wanted = (
                f"{low}"
                if low == high
                else f"{low} to {high}"
                if high is not None
                else f"at least {low}"
            )
            drifts.append(Drift(soft, "faces.count", "", f"{wanted} face(s)", f"{count} face(s)"))
    return drifts


def judge_report(report: Any, parsed: Any, redactor: Redactor) -> list[Drift]:
    """The drifts in a :class:`~face_contracts.validation.Report`: unknown extra fields and a
    documented alternative shape are warnings, every other failure a failure."""
    drifts = []
    if report.variant is not None and report.valid:
        drifts.append(
            Drift(
                "warning",
                "variant",
                "",
                "the default shape of the answer",
                f"the documented alternative shape {report.variant!r}",
            )
        )
    for failure in report.failures:
        found, value = value_at(parsed, failure.pointer)
        got = _show(value, redactor) if found else "(missing)"
        severity: Severity = "warning" if failure.rule == "additionalProperties" else "failure"
        if failure.rule == "additionalProperties":
            expected, stated = "no such key (an unknown field)", False
        else:
            expected, stated = failure.message, True
        drifts.append(
            Drift(severity, failure.rule, failure.pointer, redactor.text(expected), got, stated)
        )
    return drifts
