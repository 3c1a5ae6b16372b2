"""The drift report: per operation, what was expected, what came back and where; as text
for the terminal and as JSON for machines. Everything in it is already redacted.

:class:`DriftReport` holds the live suite's judged cases; :class:`DriftTally` counts the
drifts seen in real traffic (the validation proxy), each distinct drift once with how
often and since when it was seen, and writes it as JSON and as JUnit XML."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import orjson

if TYPE_CHECKING:
    from pathlib import Path

    from face_contracts.contract_suite.judge import Drift

__all__ = [
    "REPORT_FORMAT",
    "TALLY_FORMAT",
    "CaseResult",
    "DriftReport",
    "DriftTally",
    "TalliedDrift",
]

REPORT_FORMAT = "face-contracts drift report 1"
# The proxy's report: the live suite's envelope and drift objects, but each operation lists
# distinct drifts with counts rather than judged cases, hence its own format name.
TALLY_FORMAT = "face-contracts proxy drift report 1"
DRIFT_LINES = 12  # drifts shown per case in the readable report


@dataclass
class CaseResult:
    """One judged case (or recording): its request summary, the answer's status and content
    type, the drifts found, and the test's outcome once pytest knows it."""

    nodeid: str
    case: str
    operation: str
    description: str
    target: str
    request: dict[str, Any] | None = None
    status: int | None = None
    content_type: str | None = None
    drifts: list[Drift] = field(default_factory=list)
    outcome: str = "not run"
    reason: str | None = None

    def failing(self, strict: bool) -> list[Drift]:
        """The drifts that fail the case."""
        return [d for d in self.drifts if d.severity == "failure" or strict]

    def drift_lines(self, strict: bool, limit: int = DRIFT_LINES) -> list[str]:
        """One ``FAIL``/``WARN`` line per drift, failures first, at most ``limit`` (the
        JSON report has them all)."""
        failing = self.failing(strict)
        ordered = failing + [d for d in self.drifts if d not in failing]
        lines = [f"{'FAIL' if d in failing else 'WARN'} {d.line()}" for d in ordered[:limit]]
        if len(ordered) > limit:
            lines.append(f"... and {len(ordered) - limit} more drift(s): see the JSON report")
        return lines

    def headline(self) -> str:
        """``POST /path -> HTTP 200 application/json``."""
        request = self.request or {}
        sent = f"{request.get('method', '?')} {request.get('path', '?')}"
        if self.status is None:
            return sent
        return f"{sent} -> HTTP {self.status} {self.content_type or ''}".rstrip()

    def to_json(self, strict: bool) -> dict[str, Any]:
        """The case as a JSON object."""
        return {
            "nodeid": self.nodeid,
            "case": self.case,
            "description": self.description,
            "target": self.target,
            "outcome": self.outcome,
            "reason": self.reason,
            "request": self.request,
            "status": self.status,
            "content_type": self.content_type,
            "drifts": [
                {**d.to_json(), "fails": d.severity == "failure" or strict} for d in self.drifts
            ],
        }


@dataclass
class DriftReport:
    """Every case judged in a session, by pytest node id."""

    strict: bool = False
    results: dict[str, CaseResult] = field(default_factory=dict)

    def add(self, result: CaseResult) -> None:
        """Keep a judged case (replacing an earlier result of the same test)."""
        self.results[result.nodeid] = result

    def operations(self) -> dict[str, list[CaseResult]]:
        """The results grouped by operation, in the order they ran."""
        grouped: dict[str, list[CaseResult]] = {}
        for result in self.results.values():
            grouped.setdefault(result.operation, []).append(result)
        return grouped

    def counts(self) -> dict[str, int]:
        """How many cases passed, failed and were skipped, and how many drifts were found."""
        results = list(self.results.values())
        return {
            "cases": len(results),
            "passed": sum(r.outcome == "passed" for r in results),
            "failed": sum(r.outcome == "failed" for r in results),
            "skipped": sum(r.outcome == "skipped" for r in results),
            "drift_failures": sum(len(r.failing(self.strict)) for r in results),
            "drift_warnings": sum(len(r.drifts) - len(r.failing(self.strict)) for r in results),
        }

    def text(self) -> list[str]:
        """The readable summary: a line per operation, then each drifting case with its
        request, its answer and one line per drift (FAIL or WARN)."""
        lines = []
        for operation, results in self.operations().items():
            judged = [r for r in results if r.outcome != "skipped"]
            failures = sum(len(r.failing(self.strict)) for r in results)
            warnings = sum(len(r.drifts) for r in results) - failures
            skipped = len(results) - len(judged)
            state = "DRIFT" if failures or warnings else "no drift" if judged else "not judged"
            lines.append(
                f"{operation}: {state}: {len(judged)} case(s) judged, {failures} failure(s), "
                f"{warnings} warning(s)" + (f", {skipped} skipped" if skipped else "")
            )
            for result in results:
                if not result.drifts:
                    continue
                lines.append(f"  {result.case}: {result.headline()}")
                lines.extend(f"    {line}" for line in result.drift_lines(self.strict))
        return lines

    def to_json(self, meta: dict[str, Any]) -> dict[str, Any]:
        """The machine-readable report."""
        return {
            "format": REPORT_FORMAT,
            "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **meta,
            "strict": self.strict,
            "summary": self.counts(),
            "operations": {
                operation: [result.to_json(self.strict) for result in results]
                for operation, results in self.operations().items()
            },
        }

    def write(self, path: Path, meta: dict[str, Any]) -> None:
        """Write the JSON report to ``path`` (folders created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            orjson.dumps(self.to_json(meta), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
            + b"\n"
        )


Subject = Literal["answer", "request"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )


@dataclass
class TalliedDrift:
    """One distinct drift of an operation's answers (or a rule its requests broke): the
    same rule at the same pointer with the same expectation. How many times it was seen,
    when first and last, the first exchange that showed it; ``drift.got`` is the value first
    seen and ``last_got`` the latest."""

    operation: str
    subject: Subject
    drift: Drift
    count: int
    first_seen: str
    last_seen: str
    example: str
    last_got: str = ""

    def __post_init__(self) -> None:
        self.last_got = self.last_got or self.drift.got

    def fails(self, strict: bool) -> bool:
        """Whether it counts as a failure (every drift does under ``strict``)."""
        return strict or self.drift.severity == "failure"

    def to_json(self, strict: bool) -> dict[str, Any]:
        """The live suite's drift object, with the operation, the count and the times."""
        return {
            "operation": self.operation,
            **self.drift.to_json(),
            "fails": self.fails(strict),
            "last_got": self.last_got,
            "count": self.count,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "example": self.example,
        }

    def line(self, strict: bool) -> str:
        """``FAIL at POINTER [rule]: expected ...; got ... (seen N times since ...)``."""
        return (
            f"{'FAIL' if self.fails(strict) else 'WARN'} {self.drift.line()} "
            f"(seen {self.count} time{'s' * (self.count != 1)} since {self.first_seen})"
        )


@dataclass
class _Traffic:
    exchanges: int = 0
    judged: int = 0
    drifted_answers: int = 0
    invalid_requests: int = 0


@dataclass
class DriftTally:
    """Drifts seen in real traffic, identical ones counted rather than repeated. At most
    ``limit`` distinct drifts are kept; later new ones are only counted (``overflow``), so a
    vendor that drifts differently on every answer cannot exhaust memory. Thread-safe."""

    strict: bool = False
    limit: int = 10_000
    overflow: int = 0
    drifts: dict[tuple[str, ...], TalliedDrift] = field(default_factory=dict)
    traffic: dict[str, _Traffic] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(
        self,
        operation: str,
        *,
        answer: list[Drift] | None,
        request: list[Drift] | None,
        example: str,
        when: str | None = None,
    ) -> None:
        """Count one exchange of ``operation``: its answer's drifts and its request's
        failures (None: that side was not judged)."""
        when = when or _now()
        with self._lock:
            traffic = self.traffic.setdefault(operation, _Traffic())
            traffic.exchanges += 1
            traffic.judged += answer is not None
            traffic.drifted_answers += bool(answer)
            traffic.invalid_requests += any(d.severity == "failure" for d in request or ())
            sides: tuple[tuple[Subject, list[Drift] | None], ...] = (
                ("answer", answer),
                ("request", request),
            )
            for subject, drifts in sides:
                for drift in drifts or ():
                    self._count(operation, subject, drift, example, when)

    def _count(
        self, operation: str, subject: Subject, drift: Drift, example: str, when: str
    ) -> None:
        # The same rule broken at the same place is the same drift, whatever value came
        # back this time (an unknown field carries a new value in every answer): ``got``
        # stays the value first seen, ``last_got`` is the latest.
        key = (operation, subject, drift.severity, drift.rule, drift.pointer, drift.expected)
        seen = self.drifts.get(key)
        if seen is not None:
            seen.count += 1
            seen.last_seen = when
            seen.last_got = drift.got
        elif len(self.drifts) >= self.limit:
            self.overflow += 1
        else:
            self.drifts[key] = TalliedDrift(operation, subject, drift, 1, when, when, example)

    def clear(self) -> None:
        """Forget every drift and count."""
        with self._lock:
            self.drifts.clear()
            self.traffic.clear()
            self.overflow = 0

    def failing(self) -> list[TalliedDrift]:
        """The distinct drifts (of answers and requests) that count as failures."""
        with self._lock:
            return [d for d in self.drifts.values() if d.fails(self.strict)]

    def counts(self) -> dict[str, int]:
        """Exchanges, judged answers, drifted answers, invalid requests, distinct drifts."""
        with self._lock:
            tallied = list(self.drifts.values())
            traffic = list(self.traffic.values())
        answers = [d for d in tallied if d.subject == "answer"]
        return {
            "exchanges": sum(t.exchanges for t in traffic),
            "judged_answers": sum(t.judged for t in traffic),
            "drifted_answers": sum(t.drifted_answers for t in traffic),
            "invalid_requests": sum(t.invalid_requests for t in traffic),
            "distinct_drifts": len(answers),
            "drift_failures": sum(d.fails(self.strict) for d in answers),
            "drift_warnings": sum(not d.fails(self.strict) for d in answers),
            "distinct_request_failures": len(tallied) - len(answers),
            "not_kept": self.overflow,
        }

    def to_json(self, meta: dict[str, Any]) -> dict[str, Any]:
        """The machine-readable report: per operation, its traffic counts, its answers'
        distinct drifts and its requests' broken rules, each with count and first seen."""
        with self._lock:
            tallied = list(self.drifts.values())
            traffic = dict(self.traffic)
        operations: dict[str, Any] = {}
        for operation, seen in traffic.items():
            operations[operation] = {
                "exchanges": seen.exchanges,
                "judged_answers": seen.judged,
                "drifted_answers": seen.drifted_answers,
                "invalid_requests": seen.invalid_requests,
                "drifts": [
                    d.to_json(self.strict)
                    for d in tallied
                    if d.operation == operation and d.subject == "answer"
                ],
                "request_failures": [
                    d.to_json(self.strict)
                    for d in tallied
                    if d.operation == operation and d.subject == "request"
                ],
            }
        return {
            "format": TALLY_FORMAT,
            "generated_at": _now(),
            **meta,
            "strict": self.strict,
            "summary": self.counts(),
            "operations": operations,
        }

    def text(self) -> list[str]:
        """A line per operation, then one line per distinct drift."""
        with self._lock:
            tallied = list(self.drifts.values())
            traffic = dict(self.traffic)
        lines = []
        for operation, seen in traffic.items():
            mine = [d for d in tallied if d.operation == operation]
            state = "DRIFT" if any(d.subject == "answer" for d in mine) else "no drift"
            lines.append(
                f"{operation}: {state}: {seen.exchanges} exchange(s), {seen.judged} answer(s) "
                f"judged, {seen.drifted_answers} drifted, {seen.invalid_requests} invalid "
                "request(s)"
            )
            lines.extend(f"  {d.subject}: {d.line(self.strict)}" for d in mine)
        return lines

    def write(self, path: Path, meta: dict[str, Any]) -> None:
        """Write the JSON report to ``path`` (folders created)."""
        _write_json(path, self.to_json(meta))

    def write_junit(self, path: Path, suite: str = "face-contracts proxy") -> None:
        """JUnit XML: per operation seen, one test case for its answers and one for its
        requests, failed by their failing drifts; warnings are ``drift`` properties."""
        with self._lock:
            tallied = list(self.drifts.values())
            operations = list(self.traffic)
        root = ElementTree.Element("testsuites")
        cases = []
        for operation in operations:
            for subject in ("answer", "request"):
                mine = [d for d in tallied if d.operation == operation and d.subject == subject]
                failing = [d for d in mine if d.fails(self.strict)]
                case = ElementTree.Element(
                    "testcase", {"classname": f"{suite}.{operation}", "name": f"{subject}s"}
                )
                warnings = [d for d in mine if d not in failing]
                if warnings:
                    properties = ElementTree.SubElement(case, "properties")
                    for drift in warnings:
                        ElementTree.SubElement(
                            properties, "property", {"name": "drift", "value": drift.line(False)}
                        )
                if failing:
                    failure = ElementTree.SubElement(
                        case,
                        "failure",
                        {"message": f"{len(failing)} distinct drift(s) of the {subject}s"},
                    )
                    failure.text = "\n".join(d.line(self.strict) for d in failing)
                cases.append(case)
        failures = sum(case.find("failure") is not None for case in cases)
        testsuite = ElementTree.SubElement(
            root,
            "testsuite",
            {
                "name": suite,
                "tests": str(len(cases)),
                "failures": str(failures),
                "errors": "0",
                "skipped": "0",
                "timestamp": _now(),
            },
        )
        testsuite.extend(cases)
        root.set("tests", str(len(cases)))
        root.set("failures", str(failures))
        path.parent.mkdir(parents=True, exist_ok=True)
        ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
