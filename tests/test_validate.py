"""The validate API: inputs, reports, errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import face_contracts
from face_contracts import (
    ContractViolationError,
    Failure,
    UnknownKindError,
    UnknownOperationError,
    operations,
    validate,
)
from face_contracts.validation import pointer

KINDS = ("request", "response", "error")
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


# --- one judge: the compiled JSON Schema validator --------------------------------------------

ACE_ERROR: dict[str, Any] = {
    "success": False,
    "error": {"code": "api_error", "message": "Face detection failed."},
    "trace_id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
}


def test_a_trailing_newline_does_not_satisfy_an_anchored_pattern() -> None:
    import orjson

    document = {**ACE_ERROR, "trace_id": ACE_ERROR["trace_id"] + "\n"}
    assert validate("acedata.face_analyze", "error", ACE_ERROR).valid
    for form in (document, orjson.dumps(document), orjson.dumps(document).decode()):
        report = validate("acedata.face_analyze", "error", form)
        assert report.rules() == {("pattern", "/trace_id")}, str(report)


def test_failures_are_read_from_the_validator_structured_errors() -> None:
    """Keys with quotes, slashes and tildes: pointers escape them, messages quote them."""
    odd = "it's a/b~c"
    report = validate("facepp.thousandlandmark", "response", {**EMPTY_FACE, odd: 1})
    assert report.failures == (
        Failure(
            "/it's a~1b~0c",
            "additionalProperties",
            f"key {odd!r} is not allowed here",
            "urn:face-contracts:facepp.thousandlandmark:response#/additionalProperties",
        ),
    )
    report = validate("facepp.thousandlandmark", "response", {"time_used": 1, "face": {}})
    assert report.failures[0].schema_path == (
        "urn:face-contracts:facepp.thousandlandmark:response#/required"
    )


FACEPP_BODY = {"api_key": "k", "api_secret": "s", "return_landmark": "all"}


@pytest.mark.parametrize(
    ("kind", "document", "expected"),
    [
        (
            "request",
            {"body": FACEPP_BODY},
            Failure(
                "/body",
                "anyOf",
                "one of face_token, image_file, image_base64, image_url is required",
            ),
        ),
        (
            "request",
            {"body": {**FACEPP_BODY, "image_file": {}}},
            Failure("/body/image_file", "oneOf", "one of base64, path is required"),
        ),
        (
            "request",
            {"body": {**FACEPP_BODY, "image_file": {"base64": "", "path": "a.jpg"}}},
            Failure("/body/image_file", "oneOf", "exactly one of base64, path is allowed"),
        ),
        (
            "response",
            {
                **EMPTY_FACE,
                "face": {"face_rectangle": {"top": 1, "left": 1, "width": 1, "height": 1}},
            },
            Failure(
                "/face",
                "dependentRequired",
                "key 'landmark' is required when 'face_rectangle' is present",
            ),
        ),
        (
            "request",
            {"headers": {"X-Up": "1"}, "body": {**FACEPP_BODY, "face_token": "t"}},
            Failure(
                "/headers/X-Up",
                "propertyNames",
                "key 'X-Up' is not an allowed name: "
                """"X-Up" does not match "^[a-z0-9!#$%&'*+.^_`|~-]+$\"""",
            ),
        ),
    ],
    ids=["anyOf-required", "oneOf-none", "oneOf-both", "dependentRequired", "propertyNames"],
)
def test_keyword_failures_explain_themselves(
    kind: str, document: object, expected: Failure
) -> None:
    report = validate("facepp.thousandlandmark", kind, document)
    schema_failures = [failure for failure in report.failures if failure.schema_path]
    assert [(f.pointer, f.rule, f.message) for f in schema_failures] == [
        (expected.pointer, expected.rule, expected.message)
    ], str(report)


def test_alternatives_report_the_branch_the_value_was_meant_for() -> None:
    error = {"time_used": 1, "request_id": "1,a", "error_message": "NOPE"}
    report = validate("facepp.thousandlandmark", "error", error)
    assert report.rules() == {("pattern", "/error_message")}, str(report)
    report = validate("facepp.thousandlandmark", "error", {"time_used": 1, "request_id": "1,a"})
    assert report.rules() == {("required", "/error_message")}, str(report)


def test_a_long_value_is_summarised_in_the_message() -> None:
    document = {**EMPTY_FACE, "time_used": ["x"] * 100}
    (failure,) = validate("facepp.thousandlandmark", "response", document).failures
    assert failure.message == 'an array of 100 items is not of type "integer"'


# --- context -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_context", "error", "says"),
    [
        ({"return_landmark": "all"}, ValueError, "keys 'return_landmark' (a bare body?"),
        ({"headers": {}}, ValueError, "keys 'headers'"),
        ({"body": "return_landmark=all"}, ValueError, "its 'body' is a str, not a mapping"),
        ({"headers": [], "body": {}}, ValueError, "its 'headers' is a list, not a mapping"),
        ("return_landmark=all", TypeError, "got str"),
        ([{"body": {}}], TypeError, "got list"),
    ],
)
def test_a_request_context_that_is_not_a_request_document_is_an_error(
    request_context: object, error: type[Exception], says: str
) -> None:
    from face_contracts.errors import FaceContractsError, NotARequestDocumentError

    with pytest.raises(error, match=r"request= must be a request document \{'headers'") as raised:
        validate(
            "facepp.thousandlandmark",
            "response",
            EMPTY_FACE,
            request=request_context,  # type: ignore[arg-type]
        )
    assert isinstance(raised.value, NotARequestDocumentError | FaceContractsError)
    assert says in str(raised.value)


def test_a_request_document_without_headers_is_a_request_document() -> None:
    answer = {**EMPTY_FACE, "face": {}}
    assert validate(
        "facepp.thousandlandmark", "response", answer, request={"body": {"return_landmark": "all"}}
    ).valid


def test_a_rule_that_crashes_on_a_document_its_schema_accepts_surfaces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from face_contracts._invariants import RULES

    def crashes(document: object, context: object) -> list[tuple[str, str]]:
        return [("", str(document["no such key"]))]  # type: ignore[index]

    target = ("facepp.thousandlandmark", "response")
    monkeypatch.setitem(
        RULES, target, [*RULES.get(target, []), ("test.crashes", crashes, frozenset())]
    )
    with pytest.raises(KeyError) as raised:
        validate("facepp.thousandlandmark", "response", EMPTY_FACE)
    assert any("'test.crashes'" in note for note in raised.value.__notes__)


# --- imports ------------------------------------------------------------------------------------


def test_importing_validation_loads_neither_the_mock_engine_nor_hypothesis_nor_pillow() -> None:
    import subprocess
    import sys

    code = (
        "import sys, face_contracts.validation\n"
        "heavy = ('hypothesis', 'face_contracts.mock', 'PIL', 'jsonschema')\n"
        "print(' '.join(name for name in heavy if name in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


# --- bad input gets a verdict -------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
# The request body fields the response rules read.
_OPTIONS = (
    "return_landmark",
    "return_attributes",
    "calculate_all",
    "face_rectangle",
    "face_field",
    "max_face_num",
    "mode",
    "face_model_version",
)


def _paths(document: object, where: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [where]
    if isinstance(document, dict):
        for key, value in document.items():
            found += _paths(value, (*where, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += _paths(value, (*where, index))
    return found


def _replaced(document: object, path: tuple[str | int, ...], value: object) -> object:
    if not path:
        return value
    copy = dict(document) if isinstance(document, dict) else list(document)  # type: ignore[call-overload]
    copy[path[0]] = _replaced(copy[path[0]], path[1:], value)
    return copy


@pytest.mark.parametrize(
    ("operation", "kind"), [(op.id, kind) for op in operations() for kind in KINDS]
)
def test_a_document_broken_anywhere_gets_a_verdict_not_a_traceback(
    operation: str, kind: str
) -> None:
    """Every rule reads defensively: no part of a document, and no request option, replaced
    by any JSON value makes validate raise (a rule that raises is a bug, and surfaces)."""
    from face_contracts.strategies import documents

    requests = st.none() | st.fixed_dictionaries(
        {"body": st.dictionaries(st.sampled_from(_OPTIONS), _JSON | st.text(max_size=12))}
    )

    @given(st.data())
    def check(data: st.DataObject) -> None:
        valid = data.draw(documents(operation, kind), label="valid")
        path = data.draw(st.sampled_from(_paths(valid)), label="path")
        document = _replaced(valid, path, data.draw(_JSON, label="value"))
        request = data.draw(requests, label="request")
        status = data.draw(st.none() | st.sampled_from([200, 400, 401, 403, 413, 500]))
        report = validate(operation, kind, document, request=request, status=status)
        assert isinstance(report.valid, bool)

    check()
