"""FaceppClient uses requests, which respx cannot intercept: its tests use the real socket
of ``face_mock`` (base URL = ``face_mock.url``)."""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING

import pytest
from PIL import Image

from face_client import (
    Box,
    Face,
    FaceppClient,
    ServiceUnavailableError,
    UnexpectedAnswerError,
    VendorError,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from face_contracts.mock.transports import ServedFaceMock


def box_of(face: Face) -> Box:
    """The face's box: Face++ and AILabTools give every face one."""
    assert face.box is not None
    return face.box


@pytest.fixture
def client(face_mock: ServedFaceMock) -> Iterator[FaceppClient]:
    with FaceppClient("my-key", "my-secret", base_url=face_mock.url) as client:
        yield client


def test_dense_landmarks(client: FaceppClient, face_mock: ServedFaceMock, picture: bytes) -> None:
    face = client.dense_landmarks(picture)
    assert face is not None
    assert len(face.landmarks) == 973  # 975 keys less the two pupil radii
    assert face.landmarks["left_eye_pupil_center"].x < face.landmarks["right_eye_pupil_center"].x
    face_mock.assert_called("facepp.thousandlandmark", return_landmark="all")


def test_no_face_is_no_face(client: FaceppClient, blank: bytes) -> None:
    assert client.dense_landmarks(blank) is None


@pytest.mark.parametrize(("landmarks", "points"), [(0, 0), (1, 83), (2, 106)])
def test_detect_with_each_landmark_set(
    client: FaceppClient, picture: bytes, landmarks: int, points: int
) -> None:
    (face,) = client.detect(picture, landmarks=landmarks)
    assert len(face.landmarks) == points


# Seven face boxes (left, top, width, height), each at least the 48 px Face++ can detect.
SEVEN = [[20 + 150 * (i % 4), 40 + 220 * (i // 4), 120 - 8 * i, 130 - 8 * i] for i in range(7)]


@pytest.mark.face_mock(faces=SEVEN)
def test_detect_gives_landmarks_to_the_five_largest_faces(
    client: FaceppClient, picture: bytes
) -> None:
    faces = client.detect(picture)
    assert [(box_of(f).left, box_of(f).top) for f in faces] == [(b[0], b[1]) for b in SEVEN]
    assert [len(face.landmarks) for face in faces] == [106] * 5 + [0] * 2


@pytest.mark.face_mock(
    errors=[{"code": "CONCURRENCY_LIMIT_EXCEEDED", "operation": "facepp.detect", "times": 1}]
)
def test_an_error_forced_by_the_marker(client: FaceppClient, picture: bytes) -> None:
    with pytest.raises(VendorError) as caught:
        client.detect(picture)
    assert (caught.value.status, caught.value.code) == (403, "CONCURRENCY_LIMIT_EXCEEDED")
    assert client.detect(picture)


def test_an_error_forced_by_the_fixture(
    client: FaceppClient, face_mock: ServedFaceMock, picture: bytes
) -> None:
    face_mock.force_error("IMAGE_ERROR_UNSUPPORTED_FORMAT", operation="facepp.thousandlandmark")
    with pytest.raises(VendorError) as caught:
        client.dense_landmarks(picture)
    assert caught.value.code == "IMAGE_ERROR_UNSUPPORTED_FORMAT"
    assert caught.value.message == "image_file"


def test_a_picture_over_2_mb_gets_the_plain_text_413(client: FaceppClient) -> None:
    noise = Image.frombytes("RGB", (1100, 1100), os.urandom(1100 * 1100 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    with pytest.raises(VendorError) as caught:
        client.detect(buffer.getvalue())
    assert (caught.value.status, caught.value.code) == (413, "REQUEST_ENTITY_TOO_LARGE")


@pytest.mark.face_mock(faults=[{"operation": "facepp.detect", "drop": True, "times": 1}])
def test_a_dropped_connection(client: FaceppClient, picture: bytes) -> None:
    with pytest.raises(ServiceUnavailableError):
        client.detect(picture)
    assert client.detect(picture)  # the fault was for one call


def test_the_vendor_renamed_a_pupil_landmark_and_the_client_reports_it(
    client: FaceppClient, face_mock: ServedFaceMock, picture: bytes
) -> None:
    # The real answer to this request, with exactly this key renamed (a drifted answer).
    face_mock.respond(
        "facepp.thousandlandmark",
        invalid="misnamed_key",
        at="/face/landmark/left_eye/left_eye_pupil_center",
    )
    with pytest.raises(UnexpectedAnswerError, match="'left_eye_pupil_center' is missing"):
        client.dense_landmarks(picture)
    (call,) = face_mock.calls("facepp.thousandlandmark")
    assert call.notes[-1].startswith(
        "drift misnamed_key: required at /face/landmark/left_eye/left_eye_pupil_center"
    )
