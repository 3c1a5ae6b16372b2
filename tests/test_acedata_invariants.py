"""Focused tests of the Ace Data Cloud invariants (vendors/acedata_documents.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from face_contracts import validate

OP = "acedata.face_analyze"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "documents" / OP


def _seed_response() -> dict[str, Any]:
    text = (FIXTURES / "response" / "seed-003-success-example.json").read_text()
    document: dict[str, Any] = json.loads(text)
    return document


def _request(**body: Any) -> dict[str, Any]:
    return {
        "headers": {"authorization": "Bearer token"},
        "body": {"image_url": "https://example.com/a.jpg", **body},
    }


def _with_faces(count: int, version: str = "3.0") -> dict[str, Any]:
    document = _seed_response()
    face = document["face_shape_set"][0]
    document["face_shape_set"] = [copy.deepcopy(face) for _ in range(count)]
    document["face_model_version"] = version
    return document


@pytest.mark.parametrize(
    ("faces", "body", "broken"),
    [
        (2, {"mode": 1}, True),
        (1, {"mode": 1}, False),
        (2, {"mode": 0}, False),
        (2, {}, False),  # mode defaults to 0
        (3, {"mode": True}, False),  # not the number 1: the request schema's to report
    ],
)
def test_mode_largest(faces: int, body: dict[str, Any], broken: bool) -> None:
    report = validate(OP, "response", _with_faces(faces), request=_request(**body))
    assert (("face_shape_set.mode_largest", "/face_shape_set") in report.rules()) is broken
    assert report.valid is not broken


def test_mode_largest_needs_a_request() -> None:
    assert validate(OP, "response", _with_faces(2)).valid


@pytest.mark.parametrize(
    ("returned", "body", "broken"),
    [
        ("3.0", {}, False),  # the documented default
        ("2.0", {}, True),
        ("2.0", {"face_model_version": "2.0"}, False),
        ("3.0", {"face_model_version": "1.0"}, True),
    ],
)
def test_model_version_matches_request(returned: str, body: dict[str, Any], broken: bool) -> None:
    report = validate(OP, "response", _with_faces(1, returned), request=_request(**body))
    rule = ("face_model_version.matches_request", "/face_model_version")
    assert report.rules() == ({rule} if broken else set())


def test_model_version_needs_a_request() -> None:
    assert validate(OP, "response", _with_faces(1, "2.0")).valid


def _error(code: str) -> dict[str, Any]:
    return {
        "error": {"code": code, "message": "m"},
        "trace_id": "2efa9340-b21b-4e26-9e14-4aac95f343ab",
    }


@pytest.mark.parametrize(
    ("code", "status", "broken"),
    [
        ("token_mismatched", 400, False),  # [acedata-face-analyze], [acedata-openapi]
        ("token_mismatched", 401, False),  # [acedata-responses]
        ("token_mismatched", 403, True),
        ("no_token", 400, False),
        ("no_token", 401, True),
        ("api_error", 500, False),
        ("invalid_token", 500, True),
        ("timeout", 504, False),
    ],
)
def test_error_status(code: str, status: int, broken: bool) -> None:
    report = validate(OP, "error", _error(code), status=status)
    assert report.rules() == ({("error.status", "/error/code")} if broken else set())


def test_error_status_skips_undocumented_codes_and_missing_status() -> None:
    assert validate(OP, "error", _error("invalid_token")).valid
    assert validate(OP, "error", _error("nope"), status=418).rules() == {("enum", "/error/code")}
