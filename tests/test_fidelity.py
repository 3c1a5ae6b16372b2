"""Fidelity II (issue 13): fresh ids per call, every documented answer reachable, the
vendors' limits read as the register decides."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from face_contracts import validate
from face_contracts.images import encode_image, pad_image
from face_contracts.mock import FaceMock, HttpRequest, HttpResponse, encode_request
from face_contracts.mock._http import multipart_body

JPEG = encode_image("JPEG", 640, 480, seed=5, faces=((220, 90, 200, 240),))


def _file(data: bytes, name: str = "me.jpg") -> dict[str, str]:
    return {
        "filename": name,
        "content_type": "image/jpeg",
        "base64": base64.b64encode(data).decode(),
    }


def _detect(mock: FaceMock, picture: bytes = JPEG, **fields: str) -> HttpResponse:
    body: dict[str, Any] = {"api_key": "k", "api_secret": "s", "image_file": _file(picture)}
    return mock.handle(encode_request("facepp.detect", {"body": {**body, **fields}}))


def test_identical_detect_calls_get_fresh_ids_and_face_tokens_that_all_resolve() -> None:
    mock = FaceMock()
    first, second = _detect(mock).json(), _detect(mock).json()
    assert first["request_id"] != second["request_id"]
    assert first["image_id"] != second["image_id"]
    tokens = [answer["faces"][0]["face_token"] for answer in (first, second)]
    assert tokens[0] != tokens[1]
    # Apart from the values issued per call, the two answers are the same answer.
    for answer in (first, second):
        assert validate("facepp.detect", "response", answer).valid
    assert first["faces"][0]["face_rectangle"] == second["faces"][0]["face_rectangle"]
    for token in tokens:
        dense = mock.handle(
            encode_request(
                "facepp.thousandlandmark",
                {
                    "body": {
                        "api_key": "k",
                        "api_secret": "s",
                        "return_landmark": "all",
                        "face_token": token,
                    }
                },
            )
        )
        assert dense.status == 200
        assert dense.json()["face"]["face_rectangle"] == first["faces"][0]["face_rectangle"]


def test_ids_repeat_with_the_seed_and_the_call_order() -> None:
    one, other = FaceMock(seed=7), FaceMock(seed=7)
    assert [_detect(one).json()["request_id"] for _ in range(3)] == [
        _detect(other).json()["request_id"] for _ in range(3)
    ]
    assert (
        _detect(FaceMock(seed=8)).json()["request_id"]
        != _detect(FaceMock(seed=7)).json()["request_id"]
    )


def test_ailab_and_error_ids_are_fresh_per_call() -> None:
    mock = FaceMock()
    request = encode_request(
        "ailab.face_key_points",
        {"headers": {"ailabapi-api-key": "k"}, "body": {"image": _file(JPEG)}},
    )
    answers = [mock.handle(request).json() for _ in range(2)]
    assert answers[0]["request_id"] != answers[1]["request_id"]
    assert answers[0]["log_id"] != answers[1]["log_id"]
    refused = [_detect(mock, return_landmark="9").json()["request_id"] for _ in range(2)]
    assert refused[0] != refused[1]


def _analyzer(mock: FaceMock, picture: bytes) -> HttpResponse:
    return mock.handle(
        encode_request(
            "ailab.face_analyzer_advanced",
            {"headers": {"ailabapi-api-key": "k"}, "body": {"image": _file(picture)}},
        )
    )


def test_face_analyzer_advanced_answers_its_documented_no_face_and_face_size_errors() -> None:
    blank = encode_image("PNG", 320, 240, seed=1, uniform=True)
    answer = _analyzer(FaceMock(), blank)
    assert (answer.status, answer.json()["error_detail"]["code"]) == (422, "ERROR_NO_FACE_IN_FILE")
    small = _analyzer(FaceMock(faces=[[10, 10, 40, 45]]), JPEG)
    assert (small.status, small.json()["error_detail"]["code"]) == (
        422,
        "ERROR_FACE_SIZE_NOT_MEET_REQUIREMENTS",
    )
    assert validate("ailab.face_analyzer_advanced", "error", small.json(), status=422).valid
    big_enough = _analyzer(FaceMock(faces=[[10, 10, 64, 72]]), JPEG)
    assert (big_enough.status, big_enough.json()["data"]["face_count"]) == (200, 1)


def test_face_plus_plus_reads_2_mb_as_2_mib() -> None:
    # D-FPP-27: a request body of 2,097,152 bytes is read; one byte more is refused unread
    # with the plain-text 413.
    fields = {"api_key": "k", "api_secret": "s"}
    empty, _ = multipart_body(fields, {"image_file": ("a.jpg", b"", "image/jpeg")})
    for total, refused in ((2_097_152, False), (2_097_153, True)):
        data = pad_image(JPEG, total - len(empty))
        body, content_type = multipart_body(fields, {"image_file": ("a.jpg", data, "image/jpeg")})
        assert len(body) == total
        answer = FaceMock().handle(
            HttpRequest("POST", "/facepp/v3/detect", {"content-type": content_type}, body)
        )
        assert (answer.status == 413) is refused, answer.body[:80]
        if refused:
            assert answer.body == b"Request Entity Too Large"


@pytest.mark.parametrize(
    ("size", "upstream"),
    [
        ((5000, 5000), "FailedOperation.ImageResolutionExceed"),
        ((20, 20), "FailedOperation.ImageResolutionTooSmall"),
        ((2100, 300), None),  # a JPEG may be 4000 px long
    ],
)
def test_ace_data_applies_the_limits_of_the_picture_behind_the_url(
    size: tuple[int, int], upstream: str | None
) -> None:
    mock = FaceMock(faces=1)
    mock.register_image("https://cdn.example.com/p.jpg", encode_image("JPEG", *size, seed=2))
    answer = mock.handle(
        encode_request(
            "acedata.face_analyze",
            {
                "headers": {"authorization": "Bearer t"},
                "body": {"image_url": "https://cdn.example.com/p.jpg"},
            },
        )
    )
    if upstream is None:
        assert answer.status == 200
    else:
        assert (answer.status, answer.json()["error"]) == (
            500,
            {"code": "api_error", "message": upstream},
        )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"image_url": "https://cdn.example.com/p.jpg", "mode": 2}, "mode: 2"),
        ({"image_url": "https://cdn.example.com/p.jpg", "face_model_version": "4.0"}, "4.0"),
        ({"mode": 0}, "image_url is required"),
    ],
)
def test_ace_data_parameter_errors_are_bad_requests(body: dict[str, Any], message: str) -> None:
    answer = FaceMock().handle(
        encode_request(
            "acedata.face_analyze", {"headers": {"authorization": "Bearer t"}, "body": body}
        )
    )
    assert (answer.status, answer.json()["error"]["code"]) == (400, "bad_request")
    assert message in answer.json()["error"]["message"]


def test_a_text_part_with_a_content_type_is_a_field() -> None:
    # curl -F 'api_key=k;type=text/plain', Spring and OkHttp label text parts.
    boundary = "b0undary"
    parts = [
        (b'name="api_key"', b"Content-Type: text/plain; charset=utf-8\r\n", b"k"),
        (b'name="api_secret"', b"Content-Type: text/plain\r\n", b"s"),
        (b'name="image_file"; filename="me.jpg"', b"Content-Type: image/jpeg\r\n", JPEG),
    ]
    body = (
        b"".join(
            b"--"
            + boundary.encode()
            + b"\r\nContent-Disposition: form-data; "
            + disposition
            + b"\r\n"
            + header
            + b"\r\n"
            + value
            + b"\r\n"
            for disposition, header, value in parts
        )
        + b"--"
        + boundary.encode()
        + b"--\r\n"
    )
    answer = FaceMock().handle(
        HttpRequest(
            "POST",
            "/facepp/v3/detect",
            {"content-type": f"multipart/form-data; boundary={boundary}"},
            body,
        )
    )
    assert answer.status == 200, answer.body


def test_faces_n_is_placed_in_a_grid_or_refused_with_the_picture_size() -> None:
    twelve = _detect(FaceMock(faces=12)).json()
    assert twelve["face_num"] == 12
    sides = [face["face_rectangle"]["width"] for face in twelve["faces"]]
    assert sides == sorted(sides, reverse=True)
    refused = _detect(FaceMock(faces=200))
    assert refused.status == 500
    assert refused.content_type.startswith("text/plain")
    text = refused.body.decode()
    assert "faces = 200 cannot be placed on this 640x480 picture" in text
    assert "48 px, and at most 70 of that size fit" in text
    assert _detect(FaceMock(faces=70)).json()["face_num"] == 70
