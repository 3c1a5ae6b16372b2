"""The drift report: per operation, what was expected, what came back and where; as text
for the terminal and as JSON for machines. Everything in it is already redacted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from pathlib import Path

    from face_contracts.contract_suite.judge import Drift

__all__ = ["REPORT_FORMAT", "CaseResult", "DriftReport"]

REPORT_FORMAT = "face-contracts drift report 1"
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
