"""The mock engine answers as the vendors document: every answer valid under schemas/,
every documented error reachable, deterministic, faithful to the request."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from face_contracts import operations, validate
from face_contracts.images import encode_image
from face_contracts.mock import Deferred, FaceMock, HttpRequest, HttpResponse, encode_request
from face_contracts.strategies import documents, invalid_documents
from face_contracts.vendors import vendor_of

from .conftest import png_bomb

OPERATIONS = [op.id for op in operations()]
PICTURE = encode_image("JPEG", 640, 480, seed=3, faces=((200, 100, 220, 250),))
UNIFORM = encode_image("PNG", 300, 300, uniform=True)
FILE = {
    "filename": "face.jpg",
    "content_type": "image/jpeg",
    "base64": base64.b64encode(PICTURE).decode(),
}


def body_of(response: HttpResponse) -> Any:
    return response.body.decode() if response.content_type.startswith("text/") else response.json()


def check(operation: str, response: HttpResponse, request: Any = None) -> None:
    kind = "response" if response.status == 200 else "error"
    report = validate(operation, kind, body_of(response), status=response.status, request=request)
    assert report.valid, str(report)


def good_request(operation: str, **body: Any) -> dict[str, Any]:
    if operation.startswith("facepp."):
        base = {"api_key": "key", "api_secret": "secret", "image_file": FILE}
        if operation == "facepp.thousandlandmark":
            base["return_landmark"] = "all"
        return {"body": {**base, **body}}
    if operation.startswith("ailab."):
        return {"headers": {"ailabapi-api-key": "key"}, "body": {"image": FILE, **body}}
    return {
        "headers": {"authorization": "Bearer token"},
        "body": {"image_url": "https://cdn.example.com/a.jpg", **body},
    }


def send(mock: FaceMock, operation: str, document: dict[str, Any]) -> HttpResponse:
    return mock.handle(encode_request(operation, document))


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_generated_request_gets_a_valid_answer(operation: str) -> None:
    mock = FaceMock()

    @given(documents(operation, "request"))
    def run(document: dict[str, Any]) -> None:
        response = send(mock, operation, document)
        check(operation, response, request=document if response.status == 200 else None)

    run()


def _lost_on_the_wire(operation: str, case: Any) -> bool:
    """Whether a request document's fault never reaches the vendor, so a success is right:
    unknown fields (vendors ignore them), a non-text value in a header or a text form field
    (everything there is text: a number arrives as its digits), and the base64 spelling of a
    file part (its bytes travel, not their spelling)."""
    from face_contracts.contracts import contracts
    from face_contracts.generation._render import flat_at

    if case.label == "extra_key":
        return True
    where = tuple(case.pointer.split("/")[1:])
    form = contracts().operation(operation).request_content_types != ("application/json",)
    if case.rule == "type" and where and (where[0] == "headers" or form):
        return flat_at(operation, "request", where).get("type") == "string"
    return case.rule == "pattern" and form and len(where) == 3 and where[-1] == "base64"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_invalid_request_gets_a_documented_error(operation: str) -> None:
    mock = FaceMock()

    @given(invalid_documents(operation, "request"))
    def run(case: Any) -> None:
        response = send(mock, operation, case.document)
        check(operation, response)
        if not _lost_on_the_wire(operation, case):
            assert response.status != 200, case.description

    run()


@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_same_request_gets_the_same_answer(operation: str) -> None:
    first = send(FaceMock(), operation, good_request(operation))
    second = send(FaceMock(), operation, good_request(operation))
    assert first.status == 200
    assert first.body == second.body


def boxes(operation: str, body: Any) -> list[tuple[int, int, int, int]]:
    if operation == "facepp.thousandlandmark":
        rect = body["face"]["face_rectangle"]
        return [(rect["left"], rect["top"], rect["width"], rect["height"])]
    if operation == "facepp.detect":
        return [
            (
                f["face_rectangle"]["left"],
                f["face_rectangle"]["top"],
                f["face_rectangle"]["width"],
                f["face_rectangle"]["height"],
            )
            for f in body["faces"]
        ]
    if operation == "ailab.face_key_points":
        return [
            (
                int(f["location"]["left"]),
                int(f["location"]["top"]),
                int(f["location"]["width"]),
                int(f["location"]["height"]),
            )
            for f in body["result"]["face_list"]
        ]
    if operation == "ailab.face_analyzer_advanced":
        values = body["data"]["face_rectangles"]
        return [
            (values[i], values[i + 1], values[i + 2], values[i + 3])
            for i in range(0, len(values), 4)
        ]
    return []


def test_one_picture_gives_the_same_face_box_to_every_vendor() -> None:
    mock = FaceMock()
    seen = {
        operation: boxes(operation, send(mock, operation, good_request(operation)).json())
        for operation in OPERATIONS
        if not operation.startswith("acedata")
    }
    assert len({tuple(found) for found in seen.values()}) == 1, seen
    (box,) = seen["facepp.detect"]
    left, top, width, height = box
    assert min(left, top) >= 0
    assert left + width <= 640
    assert top + height <= 480


def test_landmarks_sit_in_the_face_in_order() -> None:
    body = send(
        FaceMock(), "facepp.thousandlandmark", good_request("facepp.thousandlandmark")
    ).json()
    landmark = body["face"]["landmark"]
    rect = body["face"]["face_rectangle"]

    def mean_y(group: str) -> float:
        points = [p for p in landmark[group].values() if isinstance(p, dict)]
        return float(sum(p["y"] for p in points)) / len(points)

    assert mean_y("left_eyebrow") < mean_y("left_eye") < mean_y("nose") < mean_y("mouth")
    left = sum(p["x"] for p in landmark["left_eye"].values() if isinstance(p, dict))
    right = sum(p["x"] for p in landmark["right_eye"].values() if isinstance(p, dict))
    assert left < right  # Face++ names sides as seen in the picture
    for group in landmark.values():
        for point in group.values():
            if isinstance(point, dict):
                assert rect["left"] <= point["x"] <= rect["left"] + rect["width"]
                assert rect["top"] <= point["y"] <= rect["top"] + rect["height"]


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("facepp.thousandlandmark", (200, "face", {})),
        ("facepp.detect", (200, "face_num", 0)),
        ("ailab.face_key_points", (422, "code", "ERROR_NO_FACE_IN_FILE")),
        # Its catalogue documents ERROR_NO_FACE_IN_FILE for a picture without a face.
        ("ailab.face_analyzer_advanced", (422, "code", "ERROR_NO_FACE_IN_FILE")),
    ],
)
def test_a_uniform_picture_has_no_face(operation: str, expected: tuple[int, str, Any]) -> None:
    part = {
        "filename": "blank.png",
        "content_type": "image/png",
        "base64": base64.b64encode(UNIFORM).decode(),
    }
    field = "image" if operation.startswith("ailab") else "image_file"
    response = send(FaceMock(), operation, good_request(operation, **{field: part}))
    check(operation, response)
    status, key, value = expected
    assert response.status == status
    body = response.json()
    found = body.get(key, body.get("data", {}).get(key, body.get("error_detail", {}).get(key)))
    assert found == value


def test_ace_data_answers_no_face_with_its_error() -> None:
    mock = FaceMock()
    mock.register_image("https://cdn.example.com/blank.png", UNIFORM)
    response = send(
        mock,
        "acedata.face_analyze",
        good_request("acedata.face_analyze", image_url="https://cdn.example.com/blank.png"),
    )
    check("acedata.face_analyze", response)
    assert response.status == 500


def test_faces_can_be_set_per_test_and_come_largest_first() -> None:
    mock = FaceMock()
    mock.set_faces(4)
    body = send(
        mock, "ailab.face_key_points", good_request("ailab.face_key_points", max_face_num="3")
    ).json()
    faces = body["result"]["face_list"]
    assert body["result"]["face_num"] == len(faces) == 3
    areas = [f["location"]["width"] * f["location"]["height"] for f in faces]
    assert areas == sorted(areas, reverse=True)
    ace = send(mock, "acedata.face_analyze", good_request("acedata.face_analyze", mode=1)).json()
    assert len(ace["face_shape_set"]) == 1
    assert (
        len(
            send(mock, "acedata.face_analyze", good_request("acedata.face_analyze")).json()[
                "face_shape_set"
            ]
        )
        == 4
    )


def test_face_field_gating_and_return_landmark_subsets() -> None:
    mock = FaceMock()
    request = good_request("ailab.face_key_points", face_field="age,landmark72")
    face = send(mock, "ailab.face_key_points", request).json()["result"]["face_list"][0]
    assert {"age", "landmark72"} <= set(face)
    assert not {"gender", "landmark4", "landmark150", "landmark201"} & set(face)
    request = good_request("facepp.thousandlandmark", return_landmark="left_eye_eyelid,mouse")
    landmark = send(mock, "facepp.thousandlandmark", request).json()["face"]["landmark"]
    assert set(landmark) == {"left_eye_eyelid", "mouth"}


def test_face_tokens_from_detect_are_reusable_and_unknown_ones_refused() -> None:
    mock = FaceMock()
    detected = send(mock, "facepp.detect", good_request("facepp.detect")).json()
    token = detected["faces"][0]["face_token"]
    for _ in range(2):
        answer = send(
            mock,
            "facepp.thousandlandmark",
            {
                "body": {
                    "api_key": "k",
                    "api_secret": "s",
                    "return_landmark": "face",
                    "face_token": token,
                }
            },
        )
        assert answer.status == 200
        assert answer.json()["face"]["face_rectangle"] == detected["faces"][0]["face_rectangle"]
    unknown = send(
        mock,
        "facepp.thousandlandmark",
        {
            "body": {
                "api_key": "k",
                "api_secret": "s",
                "return_landmark": "all",
                "face_token": "f" * 32,
            }
        },
    )
    assert (unknown.status, unknown.json()["error_message"]) == (
        400,
        f"INVALID_FACE_TOKEN: {'f' * 32}",
    )


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_documented_error_can_be_forced(operation: str) -> None:
    for entry in vendor_of(operation).catalogue(operation):
        mock = FaceMock()
        mock.force_error(entry["code"], operation=operation)
        response = send(mock, operation, good_request(operation))
        assert response.status == entry["status"], entry["code"]
        assert response.content_type == entry.get("content_type", "application/json")
        check(operation, response)


def test_forced_errors_follow_nth_times_and_credential() -> None:
    mock = FaceMock()
    mock.force_error("INTERNAL_ERROR", operation="facepp.detect", nth=2)
    statuses = [send(mock, "facepp.detect", good_request("facepp.detect")).status for _ in range(3)]
    assert statuses == [200, 500, 200]
    mock.reset()
    mock.force_error("invalid_token", credential="revoked")
    revoked = good_request("acedata.face_analyze")
    revoked["headers"]["authorization"] = "Bearer revoked"
    assert send(mock, "acedata.face_analyze", revoked).status == 401
    assert send(mock, "acedata.face_analyze", good_request("acedata.face_analyze")).status == 200


@pytest.mark.parametrize(
    ("operation", "request_", "status", "code"),
    [
        (
            "facepp.detect",
            {
                "body": {
                    "api_key": "key",
                    "api_secret": "wrong",
                    "image_url": "https://x.example/a.jpg",
                }
            },
            401,
            "AUTHENTICATION_ERROR",
        ),
        (
            "ailab.face_key_points",
            {"headers": {"ailabapi-api-key": "wrong"}, "body": {"image": FILE}},
            401,
            "ERROR_APPLICATIONS_NOT_EXISTS",
        ),
        (
            "acedata.face_analyze",
            {
                "headers": {"authorization": "Bearer wrong"},
                "body": {"image_url": "https://x.example/a.jpg"},
            },
            401,
            "invalid_token",
        ),
    ],
)
def test_configured_credentials_make_others_fail(
    operation: str, request_: dict[str, Any], status: int, code: str
) -> None:
    mock = FaceMock()
    mock.set_credentials(ailab=["key"], acedata=["token"], facepp=[("key", "secret")])
    response = send(mock, operation, request_)
    check(operation, response)
    assert response.status == status
    assert code in response.body.decode()
    assert send(mock, operation, good_request(operation)).status == 200


def test_missing_credentials_get_each_vendors_error() -> None:
    mock = FaceMock()
    facepp = send(mock, "facepp.detect", {"body": {"image_url": "https://x.example/a.jpg"}})
    assert (facepp.status, facepp.json()["error_message"]) == (400, "MISSING_ARGUMENTS: api_key")
    ailab = send(mock, "ailab.face_key_points", {"body": {"image": FILE}})
    assert (ailab.status, ailab.json()["error_detail"]["code"]) == (
        401,
        "ERROR_APPLICATIONS_NOT_EXISTS",
    )
    ace = send(mock, "acedata.face_analyze", {"body": {"image_url": "https://x.example/a.jpg"}})
    assert (ace.status, ace.json()["error"]["code"]) == (400, "no_token")


def test_ailab_credits_run_out_at_the_documented_price() -> None:
    mock = FaceMock()
    mock.configure(credits=5)  # face key points cost 2 credits a call
    statuses = [
        send(mock, "ailab.face_key_points", good_request("ailab.face_key_points")).status
        for _ in range(4)
    ]
    assert statuses == [200, 200, 429, 429]
    assert (
        mock.calls("ailab.face_key_points")[-1].response["error_detail"]["code"]
        == "ERROR_NOT_ENOUGH_CREDITS"
    )


def test_ace_data_rate_limit_answers_429() -> None:
    mock = FaceMock()
    mock.configure(rate_per_second=2)
    statuses = [
        send(mock, "acedata.face_analyze", good_request("acedata.face_analyze")).status
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_face_plus_plus_concurrency_limit_counts_calls_in_flight() -> None:
    mock = FaceMock()
    mock.configure(concurrency=1)
    first = send(mock, "facepp.detect", good_request("facepp.detect"))  # not completed: in flight
    second = send(mock, "facepp.detect", good_request("facepp.detect"))
    assert (first.status, second.status) == (200, 403)
    assert second.json()["error_message"] == "CONCURRENCY_LIMIT_EXCEEDED"
    first.complete()
    assert send(mock, "facepp.detect", good_request("facepp.detect")).status == 200


def test_faults_delay_drop_and_5xx_on_the_nth_call() -> None:
    mock = FaceMock()
    mock.add_fault(operation="facepp.detect", drop=True, nth=1)
    mock.add_fault(operation="facepp.detect", status=503, nth=2)
    mock.add_fault(operation="facepp.detect", delay=0.25, nth=3)
    first, second, third = (
        send(mock, "facepp.detect", good_request("facepp.detect")) for _ in range(3)
    )
    assert first.drop
    assert second.status == 503
    assert (third.status, third.delay) == (200, 0.25)
    with pytest.raises(
        ValueError, match=r"status: 404 is not null or an integer >= 500 and <= 599"
    ):
        mock.add_fault(status=404)


def test_image_urls_registered_strict_and_default() -> None:
    mock = FaceMock()
    request = good_request("facepp.detect")
    del request["body"]["image_file"]
    request["body"]["image_url"] = "https://unknown.example/face.jpg"
    assert send(mock, "facepp.detect", request).status == 200  # the bundled face
    mock.configure(strict_urls=True)
    refused = send(mock, "facepp.detect", request)
    assert (refused.status, refused.json()["error_message"]) == (400, "INVALID_IMAGE_URL")
    mock.register_image("https://unknown.example/face.jpg", PICTURE)
    assert send(mock, "facepp.detect", request).status == 200
    ace = good_request("acedata.face_analyze", image_url="https://elsewhere.example/x.jpg")
    failed = send(mock, "acedata.face_analyze", ace)
    assert (failed.status, failed.json()["error"]["message"]) == (500, "fetch failed")


def test_image_urls_on_loopback_are_fetched() -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Serve(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "image/png")
            self.end_headers()
            self.wfile.write(UNIFORM)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Serve)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        mock = FaceMock()
        mock.configure(strict_urls=True)
        url = f"http://127.0.0.1:{server.server_address[1]}/blank.png"
        answer = send(
            mock, "facepp.detect", {"body": {"api_key": "k", "api_secret": "s", "image_url": url}}
        )
        assert (answer.status, answer.json()["faces"]) == (200, [])  # fetched: the uniform picture
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("operation", "picture", "status", "needle"),
    [
        (
            "facepp.detect",
            encode_image("GIF", 120, 120),
            400,
            "IMAGE_ERROR_UNSUPPORTED_FORMAT: image_file",
        ),
        ("facepp.detect", encode_image("JPEG", 40, 40), 400, "INVALID_IMAGE_SIZE: image_file"),
        (
            "facepp.thousandlandmark",
            PICTURE[: len(PICTURE) // 2],
            400,
            "IMAGE_ERROR_UNSUPPORTED_FORMAT: image_file",
        ),
        ("facepp.thousandlandmark", b"x" * 2_200_000, 413, "Request Entity Too Large"),
        ("ailab.face_key_points", encode_image("GIF", 120, 120), 415, "UNSUPPORTED_FILE_TYPES"),
        ("ailab.face_key_points", PICTURE[: len(PICTURE) // 2], 422, "FILE_DECODING_FAILURE"),
        (
            "ailab.face_key_points",
            encode_image("JPEG", 1920, 200),
            413,
            "FILE_RESOLUTION_EXCEEDS_LIMITS",
        ),
        ("ailab.face_analyzer_advanced", encode_image("PNG", 20, 20), 422, "ERROR_LOW_RESOLUTION"),
    ],
)
def test_bad_pictures_get_the_vendors_error(
    operation: str, picture: bytes, status: int, needle: str
) -> None:
    part = {
        "filename": "upload.jpg",
        "content_type": "image/jpeg",
        "base64": base64.b64encode(picture).decode(),
    }
    field = "image" if operation.startswith("ailab") else "image_file"
    response = send(FaceMock(), operation, good_request(operation, **{field: part}))
    check(operation, response)
    assert response.status == status
    assert needle in response.body.decode()


def test_decompression_bomb_is_refused_without_decoding() -> None:
    bomb = png_bomb(100_000, 1000)  # declares 100000 x 100000 pixels
    part = {
        "filename": "bomb.png",
        "content_type": "image/png",
        "base64": base64.b64encode(bomb).decode(),
    }
    response = send(FaceMock(), "facepp.detect", good_request("facepp.detect", image_file=part))
    check("facepp.detect", response)
    assert response.status == 400


@pytest.mark.parametrize(
    ("operation", "content_type", "body", "status"),
    [
        (
            "facepp.detect",
            "multipart/form-data; boundary=xyz",
            b'--xyz\r\nContent-Disposition: form-data; name="api_key"\r\n\r\nk',
            400,
        ),
        ("facepp.detect", "multipart/form-data", b"anything", 400),
        ("ailab.face_key_points", "multipart/form-data; boundary=xyz", b"--xyz--garbage", 400),
        ("acedata.face_analyze", "application/json", b"{not json", 400),
    ],
)
def test_malformed_bodies_get_the_vendors_parameter_error(
    operation: str, content_type: str, body: bytes, status: int
) -> None:
    headers = {"content-type": content_type, "ailabapi-api-key": "k", "authorization": "Bearer t"}
    path = next(op.path for op in operations() if op.id == operation)
    response = FaceMock().handle(HttpRequest("POST", path, headers, body))
    check(operation, response)
    assert response.status == status


def test_unknown_paths_get_the_vendors_not_found() -> None:
    mock = FaceMock()
    facepp = mock.handle(HttpRequest("POST", "/facepp/v3/nothing", {}, b""))
    assert (facepp.status, facepp.json()["error_message"]) == (404, "API_NOT_FOUND")
    assert mock.handle(HttpRequest("GET", "/", {}, b"")).status == 404
    wrong_method = mock.handle(HttpRequest("GET", "/facepp/v3/detect", {}, b""))
    assert wrong_method.status == 404


def test_journal_masks_secrets_and_records_the_verdict() -> None:
    mock = FaceMock()
    send(
        mock,
        "facepp.detect",
        good_request("facepp.detect", return_landmark="1", api_key="K-9f3e", api_secret="S-77ab"),
    )
    ailab = good_request("ailab.face_key_points")
    ailab["headers"]["ailabapi-api-key"] = "A-51c0"
    send(mock, "ailab.face_key_points", ailab)
    (entry,) = mock.calls("facepp.detect")
    assert entry.fields["api_key"] == entry.fields["api_secret"] == "<redacted>"
    assert entry.fields["return_landmark"] == "1"
    assert entry.verdict is not None
    assert entry.verdict.valid
    assert mock.calls("ailab.face_key_points")[0].headers["ailabapi-api-key"] == "<redacted>"
    for secret in ("K-9f3e", "S-77ab", "A-51c0"):
        assert secret not in repr(mock.journal)
        assert all(secret not in entry.summary() for entry in mock.journal)
    mock.assert_called("facepp.detect", times=1, return_landmark=1)


def test_assert_called_explains_near_misses() -> None:
    mock = FaceMock()
    send(mock, "ailab.face_key_points", good_request("ailab.face_key_points", max_face_num="2"))
    with pytest.raises(AssertionError) as failure:
        mock.assert_called("ailab.face_key_points", max_face_num=3)
    text = str(failure.value)
    assert "expected ailab.face_key_points called at least once with max_face_num='3'" in text
    assert "max_face_num='2'" in text


def test_reset_between_hypothesis_examples() -> None:
    """One mock shared by every example, as a session fixture shares it: after reset, what
    the previous example configured, called and counted is gone, and the first call is
    answered exactly as a fresh mock answers it."""
    request = good_request("facepp.detect")
    fresh = send(FaceMock(), "facepp.detect", request)
    mock = FaceMock()

    @given(st.integers(1, 3), st.booleans())
    def example(faces: int, refuse: bool) -> None:
        mock.reset()
        assert mock.journal == []
        first = send(mock, "facepp.detect", request)
        assert (first.status, first.body) == (fresh.status, fresh.body)
        mock.set_faces(faces)
        if refuse:
            mock.force_error("AUTHENTICATION_ERROR")
        second = send(mock, "facepp.detect", request)
        if refuse:
            assert second.status == 401
        else:
            assert second.json()["face_num"] == faces

    example()


# --- answering on a server's event loop --------------------------------------------------


def _on_loop(mock: FaceMock, request: HttpRequest) -> HttpResponse | str:
    """The answer given on the loop, or why the call was deferred to the threads."""
    try:
        return mock.handle(request, on_loop=True)
    except Deferred as deferred:
        return str(deferred)


@pytest.mark.parametrize(
    "operation", ["facepp.detect", "facepp.thousandlandmark", "ailab.face_key_points"]
)
def test_the_loop_answers_only_what_the_caches_hold(operation: str) -> None:
    mock = FaceMock()
    # A picture of its own: the analysis cache is the process's.
    seed = 11 + OPERATIONS.index(operation)
    picture = encode_image("JPEG", 640, 480, seed=seed, faces=((220, 120, 200, 240),))
    file = {
        "filename": "f.jpg",
        "content_type": "image/jpeg",
        "base64": base64.b64encode(picture).decode(),
    }
    field = "image" if operation.startswith("ailab.") else "image_file"
    request = encode_request(operation, good_request(operation, **{field: file}))
    assert _on_loop(mock, request) == "a picture not analysed yet"
    threaded = mock.handle(request)
    answered = _on_loop(mock, request)
    assert isinstance(answered, HttpResponse)
    assert answered.status == threaded.status == 200
    check(operation, answered, request=None)
    assert len(mock.calls()) == 2  # the deferred try is not a call
    options = {"return_landmark": "left_eye"} if operation == "facepp.thousandlandmark" else None
    if options:  # known picture, answer not rendered yet
        other = encode_request(operation, good_request(operation, **{field: file}, **options))
        assert _on_loop(mock, other) == "an answer not rendered yet"


def test_the_loop_defers_image_urls_rules_and_large_forms() -> None:
    mock = FaceMock()
    url_call = encode_request("acedata.face_analyze", good_request("acedata.face_analyze"))
    assert _on_loop(mock, url_call) == "an image URL"
    mock.handle(encode_request("facepp.detect", good_request("facepp.detect")))
    known = encode_request("facepp.detect", good_request("facepp.detect"))
    assert isinstance(_on_loop(mock, known), HttpResponse)
    rule = mock.force_error("CONCURRENCY_LIMIT_EXCEEDED", operation="facepp.detect", nth=2)
    assert _on_loop(mock, known) == "the call may change a rule's counts or a quota"
    rule.remove()
    boundary = "b"
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="f{n}"\r\n\r\nv\r\n'
        for n in range(100)
    )
    crowded = HttpRequest(
        "POST",
        known.path,
        {"content-type": f"multipart/form-data; boundary={boundary}"},
        (parts + f"--{boundary}--\r\n").encode(),
        "",
    )
    assert _on_loop(mock, crowded) == "a form of many parts"
    assert mock.handle(crowded).status == 400  # in a thread: the vendor's own refusal


def test_a_picture_sent_again_is_known_by_all_its_bytes_not_a_sample_of_them() -> None:
    # A picture seen before is found by comparing its bytes, not by its SHA-256 (about
    # 100 µs for a 160 KB photo); the sample that finds the candidate is only a lookup key.
    import hashlib

    from face_contracts.mock import _pictures

    first = encode_image("JPEG", 320, 240, seed=5, faces=((100, 60, 120, 150),), byte_size=20_000)
    changed = bytearray(first)
    changed[1000] ^= 0xFF  # outside the sampled start, middle and end: the same lookup key
    assert _pictures._sample_key(first) == _pictures._sample_key(bytes(changed))
    known = _pictures.analyse(first)
    assert known.digest == hashlib.sha256(first).hexdigest()
    body = b"--b\r\n" + first + b"\r\n--b--"  # a view into a request body, as parsed
    assert _pictures.analysed(memoryview(body)[5 : 5 + len(first)]) is known
    assert _pictures.analysed(bytes(changed)) is None  # not mistaken for the first
    other = _pictures.analyse(memoryview(bytes(changed)))
    assert other.digest == hashlib.sha256(changed).hexdigest() != known.digest
    assert _pictures.analyse(bytes(changed)) is other
    assert _pictures.analyse(first) is known  # both known now, whichever came last
