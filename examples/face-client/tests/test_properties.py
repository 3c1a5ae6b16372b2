"""Hypothesis properties: the parsers read every answer the vendors document (drawn by
``face_contracts.strategies``), and the clients report every face the mock is told of."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from face_contracts.strategies import documents
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from face_client import Box, Face, FaceppClient, acedata, ailab, facepp

if TYPE_CHECKING:
    from face_contracts.mock.transports import ServedFaceMock


def box_of(face: Face) -> Box:
    """The face's box: Face++ and AILabTools give every face one."""
    assert face.box is not None
    return face.box


@given(documents("ailab.face_key_points", "response"))
def test_ailab_parser_reads_every_valid_answer(document: Any) -> None:
    faces = ailab.parse_key_points(document)
    entries = document["result"]["face_list"]
    assert len(faces) == document["result"]["face_num"] == len(entries)
    for face, entry in zip(faces, entries, strict=True):
        assert box_of(face).width == entry["location"]["width"]
        richest = next((name for name in reversed(ailab.LANDMARK_SETS) if name in entry), None)
        assert len(face.landmarks) == (len(entry[richest]) if richest else 0)


@given(documents("acedata.face_analyze", "response"))
def test_acedata_parser_reads_every_valid_answer(document: Any) -> None:
    faces = acedata.parse_analysis(document)
    assert len(faces) == len(document["face_shape_set"])
    assert all(len(face.landmarks) == 90 for face in faces)


@given(documents("facepp.thousandlandmark", "response"))
def test_facepp_dense_parser_reads_every_valid_answer(document: Any) -> None:
    face = facepp.parse_thousandlandmark(document)
    groups = document["face"].get("landmark", {})
    if face is None:
        assert not document["face"]
    else:
        points = sum(isinstance(v, dict) for group in groups.values() for v in group.values())
        assert len(face.landmarks) == points


@given(documents("facepp.detect", "response"))
def test_facepp_detect_parser_reads_every_valid_answer(document: Any) -> None:
    faces = facepp.parse_detect(document)
    assert [box_of(face).left for face in faces] == [
        entry["face_rectangle"]["left"] for entry in document["faces"]
    ]


@given(documents("ailab.face_key_points", "error"))
def test_ailab_errors_carry_the_vendor_code(document: Any) -> None:
    error = ailab.parse_error(document["error_code"], json.dumps(document).encode())
    assert error.code == document["error_detail"]["code"]
    assert error.status == document["error_code"]


@given(documents("acedata.face_analyze", "error"))
def test_acedata_errors_carry_the_vendor_code(document: Any) -> None:
    error = acedata.parse_error(403, json.dumps(document).encode())
    assert error.code == document["error"]["code"]


@given(documents("facepp.detect", "error"))
def test_facepp_errors_carry_the_vendor_code(document: Any) -> None:
    if isinstance(document, str):  # HTTP 413 answers plain text, not JSON
        error = facepp.parse_error(413, document.encode())
        assert error.code == "REQUEST_ENTITY_TOO_LARGE"
        return
    error = facepp.parse_error(400, json.dumps(document).encode())
    assert document["error_message"].startswith(error.code)
    assert error.code.isupper()


@st.composite
def face_boxes(draw: st.DrawFn) -> tuple[int, int, int, int]:
    """Face boxes inside the 640x480 test picture, each at least the 48 px Face++ detects."""
    side = draw(st.integers(min_value=48, max_value=200))
    height = side + side // 8
    left = draw(st.integers(min_value=0, max_value=640 - side))
    top = draw(st.integers(min_value=0, max_value=480 - height))
    return (left, top, side, height)


# Function-scoped fixtures are not reset between the examples of one @given test: reset the
# mock first in each example (see the face-contracts plugin's documentation).
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=15)
@given(boxes=st.lists(face_boxes(), min_size=1, max_size=8, unique=True))
def test_detect_reports_every_face_the_mock_is_told_of(
    face_mock: ServedFaceMock, picture: bytes, boxes: list[tuple[int, int, int, int]]
) -> None:
    face_mock.reset()
    face_mock.set_faces(boxes)
    with FaceppClient("my-key", "my-secret", base_url=face_mock.url) as client:
        faces = client.detect(picture)
    found = sorted((box.left, box.top, box.width, box.height) for box in map(box_of, faces))
    assert found == sorted(boxes)
    assert sum(bool(face.landmarks) for face in faces) == min(len(boxes), 5)
