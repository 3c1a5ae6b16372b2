"""The validate API: inputs, reports, errors."""

from __future__ import annotations

import pytest

import face_contracts
from face_contracts import (
    ContractViolationError,
    Failure,
    UnknownKindError,
    UnknownOperationError,
    validate,
)
from face_contracts.validation import pointer

EMPTY_FACE = {"request_id": "1,abc", "time_used": 5, "face": {}}


def test_public_api_is_pinned() -> None:
    assert face_contracts.__all__ == [
        "KINDS",
        "ContractViolationError",
        "FaceContractsError",
        "Failure",
        "Operation",
        "Report",
        "UnknownKindError",
        "UnknownOperationError",
        "operations",
        "validate",
    ]


def test_parsed_document_bytes_and_text_give_the_same_verdict() -> None:
    import orjson

    raw = orjson.dumps(EMPTY_FACE)
    for document in (EMPTY_FACE, raw, raw.decode()):
        assert validate("facepp.thousandlandmark", "response", document).valid


def test_body_that_is_not_json_fails_the_json_rule() -> None:
    report = validate("facepp.thousandlandmark", "response", b"{not json")
    assert not report.valid
    assert report.rules() == {("json", "")}


def test_plain_text_answer_is_checked_where_one_is_documented() -> None:
    assert validate(
        "facepp.thousandlandmark", "error", b"Request Entity Too Large", status=413
    ).valid
    report = validate("facepp.thousandlandmark", "error", b"Payload Too Large", status=413)
    assert not report.valid


def test_missing_key_is_reported_at_its_own_pointer() -> None:
    report = validate("facepp.thousandlandmark", "response", {"time_used": 1, "face": {}})
    assert report.failures == (
        Failure(
            "/request_id",
            "required",
            "required key 'request_id' is missing",
            report.failures[0].schema_path,
        ),
    )


def test_each_extra_key_is_reported_at_its_own_pointer() -> None:
    report = validate("facepp.thousandlandmark", "response", {**EMPTY_FACE, "extra": 1, "more": 2})
    assert report.rules() == {("additionalProperties", "/extra"), ("additionalProperties", "/more")}


def test_pointer_escapes_tilde_and_slash() -> None:
    assert pointer(["a/b", "c~d", 0]) == "/a~1b/c~0d/0"


def test_report_renders_one_line_per_failure_and_raises() -> None:
    report = validate("facepp.thousandlandmark", "response", {"face": {}})
    text = str(report)
    assert text.splitlines()[0] == "facepp.thousandlandmark response: invalid (2 failures)"
    assert "  /request_id: required key 'request_id' is missing [required]" in text.splitlines()
    with pytest.raises(ContractViolationError) as raised:
        report.raise_for_failures()
    assert raised.value.report is report
    assert isinstance(raised.value, AssertionError)
    validate("facepp.thousandlandmark", "response", EMPTY_FACE).raise_for_failures()


def test_unknown_operation_kind_and_variant_are_named() -> None:
    with pytest.raises(
        UnknownOperationError, match=r"unknown operation 'facepp\.nope'; known: ailab"
    ):
        validate("facepp.nope", "response", {})
    with pytest.raises(UnknownKindError, match="unknown kind 'answer'"):
        validate("facepp.thousandlandmark", "answer", {})
    with pytest.raises(UnknownKindError, match="response:nope"):
        validate("facepp.thousandlandmark", "response", {}, variant="nope")


def test_status_rule_runs_only_with_a_status() -> None:
    error = {"time_used": 1, "error_message": "AUTHENTICATION_ERROR", "request_id": "1,a"}
    assert validate("facepp.thousandlandmark", "error", error).valid
    assert validate("facepp.thousandlandmark", "error", error, status=401).valid
    report = validate("facepp.thousandlandmark", "error", error, status=400)
    assert report.rules() == {("error.status", "/error_message")}
