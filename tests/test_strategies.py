"""Property tests of the strategies: every valid draw is accepted, every invalid draw is
rejected for exactly its labelled reason."""

from __future__ import annotations

import pytest
from hypothesis import given

from face_contracts import operations, validate
from face_contracts.strategies import documents, exchanges, invalid_documents

OPERATIONS = [op.id for op in operations()]
KINDS = ["request", "response", "error"]
CASES = [(op, kind) for op in OPERATIONS for kind in KINDS]


@pytest.mark.parametrize(("operation", "kind"), CASES)
def test_valid_draws_are_accepted(operation: str, kind: str) -> None:
    @given(documents(operation, kind))
    def check(document: object) -> None:
        report = validate(operation, kind, document)
        assert report.valid, str(report)

    check()


@pytest.mark.parametrize("operation", OPERATIONS)
def test_responses_answer_their_request(operation: str) -> None:
    @given(exchanges(operation))
    def check(exchange: object) -> None:
        request = exchange.request  # type: ignore[attr-defined]
        body = exchange.body  # type: ignore[attr-defined]
        assert validate(operation, "request", request).valid
        report = validate(operation, "response", body, request=request, status=200)
        assert report.valid, str(report)

    check()


@pytest.mark.parametrize(("operation", "kind"), CASES)
def test_invalid_draws_fail_for_their_label(operation: str, kind: str) -> None:
    @given(invalid_documents(operation, kind))
    def check(case: object) -> None:
        report = validate(
            operation,
            kind,
            case.document,  # type: ignore[attr-defined]
            request=case.request,  # type: ignore[attr-defined]
            status=case.status,  # type: ignore[attr-defined]
        )
        assert not report.valid
        assert (case.rule, case.pointer) in case.expected  # type: ignore[attr-defined]
        assert report.rules() == case.expected, case.description  # type: ignore[attr-defined]

    check()
