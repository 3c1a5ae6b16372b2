"""AILabClient (httpx) against the face-contracts mock: over a real socket (``face_mock``,
base URL = ``face_mock.url``) and in-process at the vendor's own host
(``face_mock_respx``, the client unchanged)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from face_client import AILabClient, Point, ServiceUnavailableError, VendorError

if TYPE_CHECKING:
    from face_contracts.mock.transports import RoutedFaceMock, ServedFaceMock


def test_key_points_over_a_socket(face_mock: ServedFaceMock, picture: bytes) -> None:
    with AILabClient("my-key", base_url=face_mock.url) as client:
        faces = client.key_points(picture, landmarks="landmark201")
    assert len(faces) == 1
    (face,) = faces
    assert len(face.landmarks) == 201
    assert face.box is not None
    nose = face.landmarks["nose_tip"]
    assert face.box.left < nose.x < face.box.left + face.box.width
    assert face.box.top < nose.y < face.box.top + face.box.height
    face_mock.assert_called("ailab.face_key_points", times=1, face_field="landmark201")


def test_key_points_at_the_vendor_host(face_mock_respx: RoutedFaceMock, picture: bytes) -> None:
    with AILabClient("my-key") as client:  # the real base URL: respx answers in-process
        (face,) = client.key_points(picture, landmarks="landmark72")
    assert sorted(face.landmarks, key=int) == [str(index) for index in range(72)]
    assert all(isinstance(point, Point) for point in face.landmarks.values())
    assert [entry.operation for entry in face_mock_respx.journal] == ["ailab.face_key_points"]


@pytest.mark.face_mock(faces=3)
@pytest.mark.parametrize(("max_faces", "found"), [(10, 3), (2, 2), (1, 1)])
def test_several_faces_up_to_max_faces(
    face_mock_respx: RoutedFaceMock, picture: bytes, max_faces: int, found: int
) -> None:
    with AILabClient("my-key") as client:
        faces = client.key_points(picture, landmarks="landmark4", max_faces=max_faces)
    assert len(faces) == found
    assert all(len(face.landmarks) == 4 for face in faces)


@pytest.mark.face_mock(errors=[{"code": "ERROR_NOT_ENOUGH_CREDITS", "times": 1}])
def test_an_error_forced_by_the_marker(face_mock: ServedFaceMock, picture: bytes) -> None:
    with AILabClient("my-key", base_url=face_mock.url) as client:
        with pytest.raises(VendorError) as caught:
            client.key_points(picture)
        assert (caught.value.status, caught.value.code) == (429, "ERROR_NOT_ENOUGH_CREDITS")
        assert client.key_points(picture)  # times=1: the next call succeeds


def test_an_error_forced_by_the_fixture(face_mock_respx: RoutedFaceMock, picture: bytes) -> None:
    face_mock_respx.force_error("ERROR_USER_LOCKED", operation="ailab.face_key_points")
    with AILabClient("my-key") as client, pytest.raises(VendorError, match="ERROR_USER_LOCKED"):
        client.key_points(picture)


def test_no_face_is_the_vendors_error(face_mock: ServedFaceMock, blank: bytes) -> None:
    with (
        AILabClient("my-key", base_url=face_mock.url) as client,
        pytest.raises(VendorError) as caught,
    ):
        client.key_points(blank)
    assert (caught.value.status, caught.value.code) == (422, "ERROR_NO_FACE_IN_FILE")


@pytest.mark.face_mock(credentials={"ailab": ["the-real-key"]})
def test_a_wrong_key_is_refused(face_mock: ServedFaceMock, picture: bytes) -> None:
    with AILabClient("the-real-key", base_url=face_mock.url) as client:
        assert client.key_points(picture)
    with (
        AILabClient("a-wrong-key", base_url=face_mock.url) as client,
        pytest.raises(VendorError) as caught,
    ):
        client.key_points(picture)
    assert caught.value.status == 401


@pytest.mark.face_mock(faults=[{"operation": "ailab.face_key_points", "drop": True}])
def test_a_dropped_connection(face_mock_respx: RoutedFaceMock, picture: bytes) -> None:
    with AILabClient("my-key") as client, pytest.raises(ServiceUnavailableError):
        client.key_points(picture)
