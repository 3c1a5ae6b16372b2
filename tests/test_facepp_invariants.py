"""Focused tests of the Face++ invariants (src/face_contracts/vendors/facepp_documents.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from face_contracts import validate
from face_contracts.vendors.facepp_documents import (
    attributes_asked,
    groups_asked,
    landmark_kind,
    landmark_sets,
)

CRED = {"api_key": "k", "api_secret": "s", "image_url": "https://example.com/a.jpg"}
TOKENS = [f"{i:032x}" for i in range(1, 9)]


def _landmark(kind: str) -> dict[str, dict[str, int]]:
    return {name: {"x": 10, "y": 20} for name in sorted(landmark_sets()[kind])}


def _face(
    index: int, side: int, *, landmark: str | None = None, attributes: Any = None
) -> dict[str, Any]:
    face: dict[str, Any] = {
        "face_token": TOKENS[index],
        "face_rectangle": {"top": 10, "left": 10 + 200 * index, "width": side, "height": side},
    }
    if landmark:
        face["landmark"] = _landmark(landmark)
    if attributes is not None:
        face["attributes"] = attributes
    return face


def _answer(faces: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"request_id": "1,a", "time_used": 5, "image_id": "abc==", "faces": faces, **extra}


def _rules(document: Any, body: dict[str, str] | None = None) -> set[tuple[str, str]]:
    request = {"body": {**CRED, **body}} if body is not None else None
    return validate("facepp.detect", "response", document, request=request).rules()


GENDER = {"gender": {"value": "Male"}}


@pytest.mark.parametrize(
    ("value", "groups"),
    [
        ("all", 9),
        ("left_eye, ALL", 9),
        ("left_eye,mouse", 2),
        ("face", 1),
    ],
)
def test_groups_asked(value: str, groups: int) -> None:
    assert len(groups_asked(value)) == groups
    if "mouse" in value:
        assert "mouth" in groups_asked(value)


@pytest.mark.parametrize(
    ("value", "keys"),
    [
        ("none", set()),
        ("gender, age", {"gender", "age"}),
        ("smiling", {"smile"}),
    ],
)
def test_attributes_asked(value: str, keys: set[str]) -> None:
    assert attributes_asked(value) == keys


def test_landmark_sets_have_the_documented_sizes() -> None:
    sets = landmark_sets()
    assert (len(sets["1"]), len(sets["2"])) == (83, 106)
    assert len(sets["1"] & sets["2"]) == 72
    assert landmark_kind(set(sets["2"]) - {"nose_tip"}) == "2"


def test_face_num_must_match() -> None:
    assert _rules(_answer([_face(0, 100)], face_num=1)) == set()
    assert _rules(_answer([_face(0, 100)], face_num=2)) == {("face_num.matches_faces", "/face_num")}


def test_face_tokens_are_unique() -> None:
    faces = [_face(0, 100), _face(1, 90)]
    faces[1]["face_token"] = faces[0]["face_token"]
    assert _rules(_answer(faces)) == {("face_token.unique", "/faces/1/face_token")}


@pytest.mark.parametrize(("kind", "missing"), [("1", "contour_chin"), ("2", "nose_bridge2")])
def test_point_set_reports_each_missing_point(kind: str, missing: str) -> None:
    answer = _answer([_face(0, 100, landmark=kind)])
    assert _rules(answer) == set()
    del answer["faces"][0]["landmark"][missing]
    assert _rules(answer) == {("landmark.point_set", f"/faces/0/landmark/{missing}")}


@pytest.mark.parametrize(
    ("return_landmark", "kind", "expected"),
    [
        ("1", "1", set()),
        ("2", "2", set()),
        ("1", "2", {("landmark.matches_request", "/faces/0/landmark")}),
        ("0", "1", {("landmark.matches_request", "/faces/0/landmark")}),
    ],
)
def test_landmark_matches_request(
    return_landmark: str, kind: str, expected: set[tuple[str, str]]
) -> None:
    answer = _answer([_face(0, 100, landmark=kind)])
    assert _rules(answer, {"return_landmark": return_landmark}) == expected


def test_attributes_match_request_allows_only_glass_unasked() -> None:
    attributes = {"smile": {"value": 1.0, "threshold": 50.0}, "glass": {"value": "None"}}
    answer = _answer([_face(0, 100, attributes=attributes)])
    assert _rules(answer, {"return_attributes": "smiling"}) == set()
    assert _rules(answer, {"return_attributes": "smiling,age"}) == {
        ("attributes.match_request", "/faces/0/attributes/age")
    }
    assert _rules(answer, {"return_attributes": "none"}) == {
        ("attributes.match_request", "/faces/0/attributes")
    }


@pytest.mark.parametrize(
    ("faces", "calculate_all", "expected"),
    [
        (6, None, {("faces.analysed_count", "/faces")}),
        (6, "1", set()),
        (5, None, set()),
    ],
)
def test_analysed_count(
    faces: int, calculate_all: str | None, expected: set[tuple[str, str]]
) -> None:
    answer = _answer(
        [_face(i, 200 - 10 * i, attributes=copy.deepcopy(GENDER)) for i in range(faces)]
    )
    body = {"return_attributes": "gender"}
    if calculate_all:
        body["calculate_all"] = calculate_all
    assert _rules(answer, body) == expected


def test_five_largest_are_analysed() -> None:
    faces = [
        _face(i, 200 - 10 * i, attributes=copy.deepcopy(GENDER) if i < 5 else None)
        for i in range(7)
    ]
    assert _rules(_answer(faces), {"return_attributes": "gender"}) == set()
    faces[0].pop("attributes")
    faces[6]["attributes"] = copy.deepcopy(GENDER)
    assert _rules(_answer(faces)) == {("faces.analysed_largest", "/faces/6")}


def test_same_analysis_without_request_only() -> None:
    faces = [
        _face(0, 100, attributes={**GENDER, "age": {"value": 3}}),
        _face(1, 90, attributes=copy.deepcopy(GENDER)),
    ]
    assert _rules(_answer(faces)) == {("faces.same_analysis", "/faces/1")}
    assert _rules(_answer(faces), {"return_attributes": "gender,age"}) == {
        ("attributes.match_request", "/faces/1/attributes/age")
    }


def test_face_rectangle_matches_request() -> None:
    face = _face(0, 100)
    face["face_rectangle"] = {"top": 70, "left": 80, "width": 100, "height": 100}
    assert _rules(_answer([face]), {"face_rectangle": "70,80,100,100"}) == set()
    assert _rules(_answer([face]), {"face_rectangle": "70,81,100,100"}) == {
        ("face_rectangle.matches_request", "/faces/0/face_rectangle")
    }


@pytest.mark.parametrize(
    ("open_", "expected"),
    [(19.331, set()), (29.331, {("attributes.sums_to_100", "/faces/0/attributes/mouthstatus")})],
)
def test_mouthstatus_sums_to_100(open_: float, expected: set[tuple[str, str]]) -> None:
    status = {
        "close": 80.669,
        "surgical_mask_or_respirator": 0.0,
        "open": open_,
        "other_occlusion": 0.0,
    }
    assert _rules(_answer([_face(0, 100, attributes={"mouthstatus": status})])) == expected


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (403, "INSUFFICIENT_PERMISSION: calculate_all", set()),
        (400, "INSUFFICIENT_PERMISSION: calculate_all", {("error.status", "/error_message")}),
        (400, "MISSING_ARGUMENTS: image_url, image_file, image_base64", set()),
    ],
)
def test_detect_error_status(status: int, message: str, expected: set[tuple[str, str]]) -> None:
    document = {"time_used": 3, "error_message": message, "request_id": "1,a"}
    assert validate("facepp.detect", "error", document, status=status).rules() == expected
