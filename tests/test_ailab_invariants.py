"""The AILabTools invariants and the landmark names they rely on."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from face_contracts import validate
from face_contracts.contracts import contracts
from face_contracts.vendors.ailab_documents import PER_FACE, face_fields_asked, max_faces_asked

KEY_POINTS = "ailab.face_key_points"
ADVANCED = "ailab.face_analyzer_advanced"
SCHEMAS = contracts().schemas
RESPONSE_DEFS = SCHEMAS[f"urn:face-contracts:{KEY_POINTS}:response"]["$defs"]


def _request(**body: Any) -> dict[str, Any]:
    return {"headers": {"ailabapi-api-key": "k"}, "body": {"image": {"base64": ""}, **body}}


def _envelope() -> dict[str, Any]:
    return {
        "request_id": "r",
        "log_id": "l",
        "error_code": 0,
        "error_detail": {"status_code": 200, "code": "", "code_message": "", "message": ""},
    }


def _face(**extra: Any) -> dict[str, Any]:
    return {
        "face_token": "t",
        "location": {"left": 1.0, "top": 2.0, "width": 30.0, "height": 40.0, "rotation": 0},
        "face_probability": 0.9,
        "angle": {"yaw": 1.0, "pitch": 2.0, "roll": 3.0},
        **extra,
    }


def _key_points(*faces: dict[str, Any]) -> dict[str, Any]:
    return {**_envelope(), "result": {"face_num": len(faces), "face_list": list(faces)}}


def _advanced(faces: int) -> dict[str, Any]:
    data: dict[str, Any] = {name: [0] * (n * faces) for name, n in PER_FACE.items()}
    data["face_probability_list"] = [0.5] * faces
    data.update(face_count=faces, landmark_count=105, dense_feature_length=1024)
    qualities = ("score", "blur", "fnf", "glass", "illu", "mask", "noise", "pose")
    data["qualities"] = {f"{name}_list": [90.0] * faces for name in qualities}
    return {**_envelope(), "data": data}


@pytest.mark.parametrize(
    ("face_field", "expected"),
    [
        (None, set()),
        ("age,gender,landmark4", {"age", "gender", "landmark4"}),
        (" landmark72 , landmark72,age", {"landmark72", "age"}),
        ("landmark,age", {"age"}),
    ],
)
def test_face_fields_asked(face_field: str | None, expected: set[str]) -> None:
    body = {} if face_field is None else {"face_field": face_field}
    assert face_fields_asked(_request(**body)) == expected


@pytest.mark.parametrize(("value", "expected"), [(None, 1), ("7", 7), ("x", None), (3, 3)])
def test_max_faces_asked(value: object, expected: int | None) -> None:
    body = {} if value is None else {"max_face_num": value}
    assert max_faces_asked(_request(**body)) == expected


def test_landmark_names_nest_in_table_order() -> None:
    names201 = list(RESPONSE_DEFS["landmark201"]["properties"])
    names150 = list(RESPONSE_DEFS["landmark150"]["properties"])
    assert len(names201) == len(set(names201)) == 201
    assert names150 == names201[:150] == RESPONSE_DEFS["landmark150"]["required"]
    assert RESPONSE_DEFS["landmark72"]["x-point-names"] == names201[:72]
    assert names201[150:] == [
        *(f"iris_left_{i}" for i in range(1, 21)),
        *(f"iris_right_{i}" for i in range(1, 21)),
        "forehead_center",
        *(f"forehead_right_{i}" for i in range(1, 6)),
        *(f"forehead_left_{i}" for i in range(1, 6)),
    ]


def test_face_field_gating_reports_both_directions() -> None:
    document = _key_points(_face(age=30.0, landmark4=[{"x": 0, "y": 0}] * 4))
    report = validate(KEY_POINTS, "response", document, request=_request(face_field="age,gender"))
    assert report.rules() == {
        ("face_field.gating", "/result/face_list/0/gender"),
        ("face_field.gating", "/result/face_list/0/landmark4"),
    }


def test_gating_and_face_limit_need_the_request() -> None:
    document = _key_points(_face(age=30.0), _face())
    assert validate(KEY_POINTS, "response", document).valid
    report = validate(KEY_POINTS, "response", document, request=_request(face_field="age"))
    assert report.rules() == {
        ("face_field.gating", "/result/face_list/1/age"),
        ("max_face_num.limits_face_list", "/result/face_list"),
    }


@pytest.mark.parametrize("faces", [0, 1, 3])
def test_advanced_lists_follow_face_count(faces: int) -> None:
    assert validate(ADVANCED, "response", _advanced(faces)).valid


def test_advanced_short_list_is_reported_where_it_is() -> None:
    document = _advanced(2)
    document["data"]["pupils"].pop()
    document["data"]["qualities"]["noise_list"].append(50.0)
    assert validate(ADVANCED, "response", document).rules() == {
        ("face_count.matches_lists", "/data/pupils"),
        ("face_count.matches_lists", "/data/qualities/noise_list"),
    }


@pytest.mark.parametrize(
    ("index", "value", "rule"),
    [
        (0, -90.0, None),
        (3, 90.5, "pose_list.ranges"),
        (4, -91.0, "pose_list.ranges"),
        (5, 179.0, None),
        (5, -181.0, "minimum"),
    ],
)
def test_pose_list_ranges_by_position(index: int, value: float, rule: str | None) -> None:
    document = _advanced(2)
    document["data"]["pose_list"][index] = value
    expected = set() if rule is None else {(rule, f"/data/pose_list/{index}")}
    assert validate(ADVANCED, "response", document).rules() == expected


@pytest.mark.parametrize(
    ("field", "index", "rule"),
    [
        ("face_rectangles", 0, None),
        ("face_rectangles", 6, "face_rectangles.size"),
        ("face_rectangles", 7, "face_rectangles.size"),
        ("pupils", 2, "pupils.radius"),
        ("pupils", 4, None),
        ("pupils", 11, "pupils.radius"),
    ],
)
def test_negative_sizes_by_position(field: str, index: int, rule: str | None) -> None:
    document = _advanced(2)
    document["data"][field][index] = -5
    expected = set() if rule is None else {(rule, f"/data/{field}/{index}")}
    assert validate(ADVANCED, "response", document).rules() == expected


def _error(status: int, code: str, status_code: int | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {"code": code, "code_message": "m", "message": ""}
    if status_code is not None:
        detail = {"status_code": status_code, **detail}
    return {"request_id": "r", "log_id": "l", "error_code": status, "error_detail": detail}


@pytest.mark.parametrize("operation", [KEY_POINTS, ADVANCED])
@pytest.mark.parametrize(
    ("document", "status", "expected"),
    [
        (_error(422, "ERROR_NO_FACE_IN_FILE", 422), 422, set()),
        (
            _error(422, "ERROR_NO_FACE_IN_FILE", 400),
            None,
            {("error_code.matches_status_code", "/error_detail/status_code")},
        ),
        (_error(500, "PROCESSING_FAILURE"), 500, set()),
        (_error(400, "PROCESSING_FAILURE"), 400, {("error.status", "/error_detail/code")}),
        (_error(400, "PROCESSING_FAILURE"), None, set()),
        (
            _error(401, "ERROR_APPLICATIONS_NOT_EXISTS"),
            403,
            {
                ("error_code.matches_http_status", "/error_code"),
                ("error.status", "/error_detail/code"),
            },
        ),
        (_error(418, "ERROR_SOMETHING_NEW"), 418, set()),
    ],
)
def test_error_status_rules(
    operation: str, document: dict[str, Any], status: int | None, expected: set[tuple[str, str]]
) -> None:
    assert validate(operation, "error", copy.deepcopy(document), status=status).rules() == expected


@pytest.mark.parametrize("operation", [KEY_POINTS, ADVANCED])
def test_success_body_needs_http_200(operation: str) -> None:
    document = _key_points(_face()) if operation == KEY_POINTS else _advanced(1)
    assert validate(operation, "response", document, status=200).valid
    assert validate(operation, "response", document, status=422).rules() == {
        ("response.http_status", "")
    }


@pytest.mark.parametrize("operation", [KEY_POINTS, ADVANCED])
def test_error_catalogue_has_one_status_per_code(operation: str) -> None:
    entries = contracts().mock_data[operation]["errors"]
    codes = [entry["code"] for entry in entries]
    assert len(codes) == len(set(codes))
    assert {
        "ERROR_NOT_ENOUGH_CREDITS",
        "ERROR_APPLICATIONS_NOT_EXISTS",
        "ERROR_NO_FACE_IN_FILE",
    } <= set(codes)
    assert all(400 <= entry["status"] <= 599 for entry in entries)
