"""The face detector (face_contracts.faces) and how the mock uses it: faces found in the
pixels, image sides, detection once per picture and process, a cache bounded in bytes, a
detector failure answered as no face with the reason in the journal, the fallback said
aloud, the faces the user sets or the picture declares winning over detection, templates
fitted to the measured anchors, and generated pictures agreeing with their answers."""

from __future__ import annotations

import base64
import hashlib
import io
import subprocess
import sys
import threading
from typing import Any

import pytest
from hypothesis import assume, given, settings
from PIL import Image

from face_contracts import faces
from face_contracts.faces import Detection, DetectorStatus, FoundFace, detect, detector_status
from face_contracts.generation._fit import anchor_sets, canonical_anchors, fit, placement
from face_contracts.generation._render import template
from face_contracts.generation._scene import Face, RandomChooser, Scene
from face_contracts.images import declared_faces, encode_image
from face_contracts.mock import FaceMock, encode_request
from face_contracts.mock import _pictures as pictures
from face_contracts.strategies import exchanges, images
from face_contracts.vendors import vendor_of

from .conftest import ROOT

PORTRAIT = (ROOT / "fixtures" / "images" / "astronaut.png").read_bytes()
MIRRORED = (ROOT / "fixtures" / "faces" / "mirrored.jpg").read_bytes()
CAT = (ROOT / "fixtures" / "faces" / "chelsea.png").read_bytes()


def _jpeg(data: bytes, quality: int) -> bytes:
    """The same picture as a JPEG of another quality: new bytes, so no cache knows it."""
    buffer = io.BytesIO()
    with Image.open(io.BytesIO(data)) as image:
        image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _detect_request(picture: bytes, **fields: str) -> dict[str, Any]:
    part = {
        "filename": "p.jpg",
        "content_type": "image/jpeg",
        "base64": base64.b64encode(picture).decode(),
    }
    return {"body": {"api_key": "k", "api_secret": "s", "image_file": part, **fields}}


def _boxes(body: Any) -> list[tuple[int, int, int, int]]:
    return [
        (
            face["face_rectangle"]["left"],
            face["face_rectangle"]["top"],
            face["face_rectangle"]["width"],
            face["face_rectangle"]["height"],
        )
        for face in body["faces"]
    ]


# --- the detector ---------------------------------------------------------------------------


def test_the_detector_is_available_and_says_which_it_is() -> None:
    status = detector_status()
    assert status.available, status.line
    assert faces.preload() == status
    assert status.line.startswith("face detector: MediaPipe 0.10.")
    assert "bundled" in status.line


def test_a_portrait_has_one_face_with_image_sides_and_angles() -> None:
    (face,) = detect(PORTRAIT).faces
    assert isinstance(face, FoundFace)
    assert face.image_left_eye[0] < face.nose_tip[0] < face.image_right_eye[0]
    assert face.image_left_mouth_corner[0] < face.image_right_mouth_corner[0]
    assert face.image_left_eye[1] < face.nose_tip[1] < face.image_left_mouth_corner[1]
    assert 0.5 <= face.score <= 1.0
    assert 30 < face.eye_distance < 60  # about 43 px on this portrait
    assert -10 < face.roll < 10
    assert -25 < face.yaw < 25


def test_mirroring_swaps_the_image_sides() -> None:
    (face,) = detect(PORTRAIT).faces
    (mirrored,) = detect(MIRRORED).faces
    assert abs(mirrored.image_left_eye[0] - (512 - face.image_right_eye[0])) < 4
    assert abs(mirrored.image_right_eye[0] - (512 - face.image_left_eye[0])) < 4
    assert face.roll * mirrored.roll < 0  # the tilt turns the other way


def test_roll_follows_the_eye_line() -> None:
    rolled = (ROOT / "fixtures" / "faces" / "rolled.jpg").read_bytes()
    (face,) = detect(rolled).faces
    (upright,) = detect(PORTRAIT).faces
    # make_pictures.py turns the portrait 20 degrees anticlockwise on screen.
    assert -28 < face.roll - upright.roll < -12


def test_a_cat_and_a_cup_have_no_face() -> None:
    assert detect(CAT) == Detection(())
    assert detect((ROOT / "fixtures" / "faces" / "coffee.png").read_bytes()) == Detection(())


def test_the_same_picture_gives_the_same_faces_in_another_process() -> None:
    here = detect(PORTRAIT)
    code = (
        "import sys; from face_contracts.faces import detect; "
        "sys.stdout.write(repr(detect(open(sys.argv[1], 'rb').read())))"
    )
    there = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "fixtures" / "images" / "astronaut.png")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert there.stdout == repr(here)
    assert there.stderr == ""  # MediaPipe's start-up chatter is kept off stderr


def test_detection_runs_once_per_picture_even_when_asked_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    picture = _jpeg(PORTRAIT, 71)
    calls = []
    real = faces._detect_uncached

    def counted(data: bytes) -> Detection:
        calls.append(len(data))
        return real(data)

    monkeypatch.setattr(faces, "_detect_uncached", counted)
    found: list[Detection] = []
    threads = [threading.Thread(target=lambda: found.append(detect(picture))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert len(found) == 6
    assert all(result == found[0] for result in found)
    assert len(found[0].faces) == 1


def test_the_cache_is_bounded_in_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    face = detect(PORTRAIT).faces[0]
    monkeypatch.setattr(
        faces, "_detect_uncached", lambda data: Detection((face,) * (len(data) % 5 + 1))
    )
    monkeypatch.setattr(faces, "_CACHE_BYTES", 20_000)
    faces.clear_cache()
    try:
        for size in range(1, 40):
            detect(b"x" * size, digest=f"test-{size}")
            assert faces._cache_used <= 20_000
        assert "test-1" not in faces._cache  # the oldest went first
        assert "test-39" in faces._cache
        assert len(faces._cache) > 1
        # One detection larger than the whole budget is answered, and not kept.
        monkeypatch.setattr(faces, "_detect_uncached", lambda data: Detection((face,) * 30))
        assert len(detect(b"large", digest="test-large").faces) == 30
        assert "test-large" not in faces._cache
        assert faces._cache_used == sum(cost for _, cost in faces._cache.values())
    finally:
        faces.clear_cache()


def test_a_detector_failure_is_no_face_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(models: object, image: object) -> tuple[FoundFace, ...]:
        raise RuntimeError("inference exploded")

    faces._loaded()  # the model itself loads and warms up fine; inference then fails

    monkeypatch.setattr(faces, "_find_faces", broken)
    picture = _jpeg(PORTRAIT, 72)
    found = detect(picture)
    assert found == Detection((), "detector failed: RuntimeError: inference exploded")
    assert "face detection failed" in caplog.text

    # Through the mock: a success answer without faces, and the journal says why.
    mock = FaceMock()
    answer = mock.handle(encode_request("facepp.detect", _detect_request(_jpeg(PORTRAIT, 73))))
    assert answer.status == 200
    assert answer.json()["faces"] == []
    (entry,) = mock.journal
    assert "detector failed: RuntimeError: inference exploded" in entry.notes


def test_pixels_the_detector_cannot_decode_are_no_face_with_the_reason() -> None:
    found = detect(b"\x89PNG\r\n\x1a\nnot really a png")
    assert found.faces == ()
    assert found.error is not None
    assert found.error.startswith("the picture cannot be decoded for detection")


# --- the mock's scenes ----------------------------------------------------------------------


def test_a_detected_face_carries_its_anchors_and_the_shared_face_box() -> None:
    picture = pictures.analyse(PORTRAIT)
    scene = pictures.faces_for(picture, None)
    (face,) = scene.faces
    assert scene.note is None
    assert {name for name, _, _ in face.anchors} == {name for name, _ in canonical_anchors()}
    found = detect(PORTRAIT).faces[0]
    # The box contains the measured features and is about the head's size.
    for _, x, y in face.anchors:
        assert face.left < x < face.left + face.width
        assert face.top < y < face.top + face.height
    assert 1.8 < face.width / found.eye_distance < 3.0
    assert face.score == round(found.score, 4)
    assert face.roll == found.roll


def test_faces_set_by_the_user_or_declared_by_the_picture_win_over_detection() -> None:
    picture = pictures.analyse(PORTRAIT)
    boxes = pictures.faces_for(picture, ((10, 20, 100, 120),))
    assert boxes.faces == (Face(10, 20, 100, 120),)
    row = pictures.faces_for(picture, 2)
    assert len(row.faces) == 2
    assert all(not face.anchors for face in row.faces)

    drawn = encode_image("JPEG", 400, 300, faces=((50, 60, 120, 140),), poses=((5.0, 1.0, -3.0),))
    declared = pictures.faces_for(pictures.analyse(drawn), None)
    assert declared.faces == (Face(50, 60, 120, 140, 5.0, 1.0, -3.0),)
    assert declared.note == "faces declared by the picture (face-contracts:faces=)"
    none = encode_image("PNG", 300, 200, seed=5)
    assert declared_faces(none) == ()
    assert pictures.faces_for(pictures.analyse(none), None).faces == ()


def test_without_a_detector_the_mock_places_one_face_by_digest_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    line = "face detector: unavailable (test); faces are placed by the picture's digest instead"
    monkeypatch.setattr(faces, "detector_status", lambda: DetectorStatus(False, line))
    data = _jpeg(PORTRAIT, 74)
    picture = pictures._analyse(data, hashlib.sha256(data).hexdigest())
    assert picture.found is None
    scene = pictures.faces_for(picture, None)
    assert len(scene.faces) == 1
    assert scene.note == line
    assert not scene.faces[0].anchors


def test_a_face_under_the_vendors_minimum_is_not_reported() -> None:
    """Face++ Detect reports faces of at least max(48 px, short side / 48): exactly."""
    picture = encode_image("JPEG", 480, 480, faces=((10, 10, 48, 60), (200, 200, 47, 60)))
    body = FaceMock().handle(encode_request("facepp.detect", _detect_request(picture))).json()
    assert _boxes(body) == [(10, 10, 48, 60)]


# --- templates fitted to the anchors ------------------------------------------------------


def test_an_affine_fit_recovers_an_exact_map() -> None:
    source = [(0.2, 0.4), (0.8, 0.4), (0.5, 0.6), (0.3, 0.8), (0.7, 0.8)]

    def move(u: float, v: float) -> tuple[float, float]:
        return (100 + 200 * u - 30 * v, 50 + 20 * u + 240 * v)

    found = fit(source, [move(*p) for p in source])
    for u, v in [(0.0, 0.0), (1.0, 1.0), (0.5, 0.1)]:
        assert found(u, v) == pytest.approx(move(u, v))
    with pytest.raises(ValueError, match="collinear"):
        fit([(0, 0), (1, 1), (2, 2)], [(0, 0), (1, 1), (2, 2)])


@pytest.mark.parametrize(
    "operation",
    [
        "facepp.detect",
        "facepp.thousandlandmark",
        "ailab.face_key_points",
        "ailab.face_analyzer_advanced",
        "acedata.face_analyze",
    ],
)
def test_every_group_lands_its_anchors_on_the_measured_ones(operation: str) -> None:
    """A face whose anchors are an exact rotated and scaled image of the template's: every
    anchor point of every group is placed on its measured point."""
    cos, sin = 0.94, 0.34  # about 20 degrees

    def move(u: float, v: float) -> tuple[float, float]:
        x, y = 300 * u, 360 * v
        return (400 + cos * x - sin * y, 150 + sin * x + cos * y)

    for groups, anchors in anchor_sets(operation):
        measured = tuple((name, *move(u, v)) for name, (u, v) in anchors)
        face = Face(350, 150, 300, 360, anchors=measured)
        for group in groups:
            where = placement(face, operation, group)
            for _, (u, v) in anchors:
                assert where(u, v) == pytest.approx(move(u, v), abs=1e-6)


def test_rendered_eyes_land_on_the_measured_eyes() -> None:
    (face,) = pictures.faces_for(pictures.analyse(PORTRAIT), None).faces
    eyes = {name: (x, y) for name, x, y in face.anchors}
    scene = Scene(512, 512, (face,))
    body = vendor_of("facepp.detect").render(
        "facepp.detect", scene, {"body": {"return_landmark": "1"}}, RandomChooser(1)
    )
    mark = body["faces"][0]["landmark"]
    tolerance = 0.12 * abs(eyes["image_right_eye"][0] - eyes["image_left_eye"][0])
    for name, key in (("image_left_eye", "left_eye_pupil"), ("image_right_eye", "right_eye_pupil")):
        assert abs(mark[key]["x"] - eyes[name][0]) <= tolerance
        assert abs(mark[key]["y"] - eyes[name][1]) <= tolerance
    assert template("facepp.detect")["1"]["left_eye_pupil"][0] < 0.5


# --- generation agrees ----------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["facepp.detect", "ailab.face_key_points"])
def test_a_generated_exchange_is_what_the_mock_answers_to_its_request(operation: str) -> None:
    """The request's picture declares the scene's faces, so the mock finds exactly the faces
    the generated answer describes (boxes, order, count)."""
    mock = FaceMock()

    @settings(max_examples=15, deadline=None)
    @given(exchanges(operation))
    def run(exchange: Any) -> None:
        # An image URL carries no picture: the mock answers the one registered for it.
        assume("image_url" not in exchange.request["body"])
        answer = mock.handle(encode_request(operation, exchange.request))
        assert answer.status == 200
        if operation == "facepp.detect":
            assert _boxes(answer.json()) == _boxes(exchange.body)
        else:
            locations = [
                [face["location"][k] for k in ("left", "top", "width", "height")]
                for body in (answer.json(), exchange.body)
                for face in body["result"]["face_list"]
            ]
            half = len(locations) // 2
            assert locations[:half] == locations[half:]

    run()


@settings(max_examples=20, deadline=None)
@given(images())
def test_generated_pictures_declare_the_faces_drawn_in_them(picture: bytes) -> None:
    declared = declared_faces(picture)
    assert declared is not None
    with Image.open(io.BytesIO(picture)) as image:
        width, height = image.size
    for left, top, box_width, box_height, *_ in declared:
        assert 0 <= left < left + box_width <= width
        assert 0 <= top < top + box_height <= height
