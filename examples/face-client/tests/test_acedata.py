"""AceDataClient (httpx): the picture is given by URL, so the tests tell the mock which
picture each URL holds (``register_image``) or leave it to answer its bundled face."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from face_client import AceDataClient, VendorError

if TYPE_CHECKING:
    from face_contracts.mock.transports import RoutedFaceMock, ServedFaceMock


URL = "https://cdn.example.com/me.jpg"


def test_analyze_at_the_vendor_host(face_mock_respx: RoutedFaceMock, picture: bytes) -> None:
    face_mock_respx.register_image(URL, picture)
    with AceDataClient("my-token") as client:
        (face,) = client.analyze(URL)
    assert face.box is None  # Ace Data gives landmarks only
    assert len(face.landmarks) == 90
    assert face.landmarks["left_pupil_0"].x < face.landmarks["right_pupil_0"].x
    face_mock_respx.assert_called("acedata.face_analyze", times=1, image_url=URL)


@pytest.mark.face_mock(faces=3)
def test_every_face_or_the_largest_over_a_socket(face_mock: ServedFaceMock, picture: bytes) -> None:
    face_mock.register_image(URL, picture)
    with AceDataClient("my-token", base_url=face_mock.url) as client:
        assert len(client.analyze(URL)) == 3
        assert len(client.analyze(URL, largest_only=True)) == 1


def test_an_error_forced_by_the_fixture(face_mock: ServedFaceMock, picture: bytes) -> None:
    face_mock.register_image(URL, picture)
    face_mock.force_error("used_up", nth=2)
    with AceDataClient("my-token", base_url=face_mock.url) as client:
        assert client.analyze(URL)
        with pytest.raises(VendorError) as caught:
            client.analyze(URL)
    assert (caught.value.status, caught.value.code) == (403, "used_up")


@pytest.mark.face_mock(strict_urls=True)
def test_a_picture_the_vendor_cannot_fetch(face_mock_respx: RoutedFaceMock) -> None:
    with AceDataClient("my-token") as client, pytest.raises(VendorError) as caught:
        client.analyze("https://cdn.example.com/gone.jpg")
    assert caught.value.status == 500
    assert caught.value.code == "api_error"
