"""``draw`` and ``face-contracts draw``: landmarks and boxes painted in their group colours,
a legend, several faces, saved answers, refusals and exit codes."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from PIL import Image

from face_contracts.draw import (
    BOX_COLOUR,
    PALETTE,
    DrawError,
    Landmarks,
    draw,
    faces_source,
    landmarks,
    mock_answer,
    parse_face_box,
)
from face_contracts.faces import detector_status
from face_contracts.images import encode_image
from face_contracts.mock import FaceMock

from .conftest import FIXTURES, ROOT, fixture_entries

PHOTO = ROOT / "fixtures" / "images" / "astronaut.png"
OPERATIONS = [
    "ailab.face_key_points",
    "ailab.face_analyzer_advanced",
    "acedata.face_analyze",
    "facepp.thousandlandmark",
    "facepp.detect",
]
# What the mock answers with every landmark asked: the richest set of each operation.
EXPECTED = {
    "ailab.face_key_points": ("landmark201", 201, 10),
    "ailab.face_analyzer_advanced": ("105 points", 105, 6),
    "acedata.face_analyze": ("90 points", 90, 9),
    "facepp.thousandlandmark": ("975 points", 973, 9),
    "facepp.detect": ("106 points", 106, 7),
}


@pytest.fixture(scope="module")
def photo() -> bytes:
    return PHOTO.read_bytes()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "face_contracts", "draw", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def assert_painted(picture: Image.Image, original: Image.Image, marks: Landmarks) -> None:
    """Every landmark pixel shows its group's colour, or the colour of a group or pupil
    circle drawn after it (close points overlap); every group shows its own colour where
    the original picture had another; every face box shows the box colour; the legend panel
    right of the picture holds a swatch of every group colour."""
    colours = marks.colours()
    assert len(set(colours.values())) == len(colours)
    assert picture.height >= original.height
    assert picture.width > original.width
    drawn = [group for face in marks.faces for group in face.groups]
    circles = {colours[circle.group] for face in marks.faces for circle in face.circles}
    for index, group in enumerate(drawn):
        later = {colours[other.name] for other in drawn[index:]} | circles
        inside = [
            (int(x), int(y))
            for x, y in group.points
            if 0 <= x < original.width and 0 <= y < original.height
        ]
        assert all(picture.getpixel(xy) in later for xy in inside), group.name
        shown = [xy for xy in inside if picture.getpixel(xy) == colours[group.name]]
        assert any(original.getpixel(xy) != colours[group.name] for xy in shown), group.name
    for face in marks.faces:
        if face.box is not None:
            left, top, width, height = (int(v) for v in face.box)
            edge = [(left + width * i // 10, top) for i in range(1, 10)]
            edge += [(left, top + height * i // 10) for i in range(1, 10)]
            edge = [(x, y) for x, y in edge if x < original.width and y < original.height]
            white = [xy for xy in edge if picture.getpixel(xy) == BOX_COLOUR]
            assert len(white) * 2 > len(edge)
    legend = picture.crop((original.width, 0, picture.width, picture.height))
    counted = legend.getcolors(legend.width * legend.height)
    assert counted is not None
    panel = {colour: count for count, colour in counted}
    for name, colour in colours.items():
        assert panel.get(colour, 0) > 25, f"no legend swatch for {name}"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_landmark_operation_renders(operation: str, photo: bytes) -> None:
    answer = mock_answer(operation, photo)
    marks = landmarks(operation, answer)
    label, points, groups = EXPECTED[operation]
    assert marks.label == label
    assert len(marks.faces) == 1
    assert marks.faces[0].point_count == points
    assert len(marks.group_names()) == groups
    picture = draw(operation, photo)
    assert picture.mode == "RGB"
    assert_painted(picture, Image.open(io.BytesIO(photo)).convert("RGB"), marks)
    # The same picture and answer give the same pixels: the README pictures depend on it.
    assert picture.tobytes() == draw(operation, photo, answer).tobytes()


def test_the_dense_set_draws_nine_groups_and_both_pupils(photo: bytes) -> None:
    marks = landmarks("facepp.thousandlandmark", mock_answer("facepp.thousandlandmark", photo))
    assert marks.group_names() == (
        "face",
        "left_eyebrow",
        "right_eyebrow",
        "left_eye",
        "right_eye",
        "left_eye_eyelid",
        "right_eye_eyelid",
        "nose",
        "mouth",
    )
    (face,) = marks.faces
    assert [circle.group for circle in face.circles] == ["left_eye", "right_eye"]
    assert all(circle.radius > 0 for circle in face.circles)


@pytest.mark.parametrize(
    ("operation", "faces"),
    [
        ("ailab.face_key_points", 3),
        ("ailab.face_analyzer_advanced", 3),
        ("acedata.face_analyze", 3),
        ("facepp.detect", 3),
        ("facepp.thousandlandmark", 1),  # the vendor analyses the largest face only
    ],
)
def test_several_faces(operation: str, faces: int) -> None:
    """The three faces of different sizes the detector finds in crowd.jpg."""
    crowd = (ROOT / "fixtures" / "faces" / "crowd.jpg").read_bytes()
    answer = mock_answer(operation, crowd)
    marks = landmarks(operation, answer)
    assert len(marks.faces) == faces
    assert all(face.point_count == EXPECTED[operation][1] for face in marks.faces)
    picture = draw(operation, crowd, answer)
    assert_painted(picture, Image.open(io.BytesIO(crowd)).convert("RGB"), marks)


def test_landmark4_points_each_have_their_own_colour(photo: bytes) -> None:
    answer = mock_answer("ailab.face_key_points", photo)
    for name in ("landmark72", "landmark150", "landmark201"):
        del answer["result"]["face_list"][0][name]
    marks = landmarks("ailab.face_key_points", answer)
    assert marks.label == "landmark4"
    assert [len(group.points) for group in marks.faces[0].groups] == [1, 1, 1, 1]
    assert list(marks.colours().values()) == list(PALETTE[:4])
    assert_painted(draw("ailab.face_key_points", photo, answer), Image.open(PHOTO), marks)


def test_landmark72_is_named_from_the_schema(photo: bytes) -> None:
    answer = mock_answer("ailab.face_key_points", photo)
    for name in ("landmark150", "landmark201"):
        del answer["result"]["face_list"][0][name]
    marks = landmarks("ailab.face_key_points", answer)
    assert marks.label == "landmark72"
    counts = {group.name: len(group.points) for group in marks.faces[0].groups}
    assert counts == {
        "cheek/chin": 13,
        "eyebrow_right": 8,
        "eyebrow_left": 8,
        "eye_right": 9,
        "eye_left": 9,
        "nose": 11,
        "mouth": 14,
    }


def test_a_detect_answer_without_landmarks_draws_the_boxes(photo: bytes) -> None:
    mock = FaceMock()
    mock.set_faces(2)
    answer = mock_answer("facepp.detect", photo, mock=mock)
    for face in answer["faces"]:
        del face["landmark"]
    marks = landmarks("facepp.detect", answer)
    assert marks.label == "no landmarks"
    assert [face.groups for face in marks.faces] == [(), ()]
    assert_painted(draw("facepp.detect", photo, answer), Image.open(PHOTO).convert("RGB"), marks)


@pytest.mark.parametrize(
    ("operation", "relative"),
    [
        (operation, entry["file"])
        for operation, entry in fixture_entries()
        if entry["kind"] == "response" and entry["verdict"] == "valid" and "variant" not in entry
    ],
)
def test_every_valid_documented_answer_can_be_drawn(operation: str, relative: str) -> None:
    raw = (FIXTURES / operation / relative).read_bytes()
    marks = landmarks(operation, raw)
    picture = draw(operation, PHOTO.read_bytes(), raw)
    assert picture.width > 512
    points = sum(face.point_count for face in marks.faces)
    assert points == sum(len(group.points) for face in marks.faces for group in face.groups)


def test_an_invalid_answer_is_refused_with_its_first_failure(photo: bytes) -> None:
    answer: dict[str, Any] = mock_answer("facepp.detect", photo)
    del answer["faces"][0]["face_rectangle"]
    with pytest.raises(DrawError, match=r"breaks the facepp.detect contract: /faces/0") as caught:
        draw("facepp.detect", photo, answer)
    assert caught.value.subject == "response"
    with pytest.raises(DrawError, match="not JSON"):
        draw("facepp.detect", photo, b"{")


def test_a_picture_the_mock_refuses_is_an_error() -> None:
    gif = (ROOT / "fixtures" / "images" / "wrong-format.gif").read_bytes()
    with pytest.raises(DrawError, match=r"HTTP 400.*IMAGE_ERROR_UNSUPPORTED_FORMAT") as caught:
        draw("facepp.detect", gif)
    assert caught.value.subject == "image"


def test_cli_draws_the_mock_answer_and_a_saved_response(tmp_path: Path, photo: bytes) -> None:
    out = tmp_path / "dense.png"
    result = run("facepp.thousandlandmark", str(PHOTO), "--out", str(out))
    assert result.returncode == 0, result.stderr
    status = detector_status()
    assert result.stdout == f"{out}: facepp.thousandlandmark drawn\nfaces: 1 found; {status.line}\n"
    with Image.open(out) as written:
        assert written.format == "PNG"
        assert written.convert("RGB").tobytes() == draw("facepp.thousandlandmark", photo).tobytes()

    mock = FaceMock()
    mock.set_faces(3)
    answer = mock_answer("acedata.face_analyze", photo, mock=mock)
    saved = tmp_path / "answer.json"
    saved.write_bytes(orjson.dumps(answer))
    out = tmp_path / "ace.png"
    result = run("acedata.face_analyze", str(PHOTO), "--response", str(saved), "--out", str(out))
    assert result.returncode == 0, result.stderr
    with Image.open(out) as written:
        marks = landmarks("acedata.face_analyze", answer)
        assert len(marks.faces) == 3
        assert_painted(written.convert("RGB"), Image.open(PHOTO).convert("RGB"), marks)


def test_cli_faces_option_sets_the_mock(tmp_path: Path) -> None:
    out = tmp_path / "three.png"
    result = run("facepp.detect", str(PHOTO), "--out", str(out), "--faces", "3")
    assert result.returncode == 0, result.stderr
    mock = FaceMock()
    mock.set_faces(3)
    expected = draw("facepp.detect", PHOTO.read_bytes(), mock=mock)
    with Image.open(out) as written:
        assert written.convert("RGB").tobytes() == expected.tobytes()


def test_cli_face_box_option_places_the_faces_there(tmp_path: Path) -> None:
    out = tmp_path / "boxes.png"
    result = run(
        "facepp.detect",
        str(PHOTO),
        "--out",
        str(out),
        "--face-box",
        "10,20,120,140",
        "--face-box",
        "300,40,100,110",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == (
        "faces: as given (--faces / --face-box); landmarks fitted to the boxes"
    )
    mock = FaceMock()
    mock.set_faces([(10, 20, 120, 140), (300, 40, 100, 110)])
    expected = draw("facepp.detect", PHOTO.read_bytes(), mock=mock)
    with Image.open(out) as written:
        assert written.convert("RGB").tobytes() == expected.tobytes()
    boxes = [
        face.box
        for face in landmarks(
            "facepp.detect", mock_answer("facepp.detect", PHOTO.read_bytes(), mock=mock)
        ).faces
    ]
    assert boxes == [(10, 20, 120, 140), (300, 40, 100, 110)]


def test_the_landmarks_sit_on_the_detected_face(photo: bytes) -> None:
    """No box given: the mock finds her face; Face++'s eye centres land on her pupils
    (measured by hand at (203, 101) and (246, 103), fixtures/faces/truth.json)."""
    answer = mock_answer("facepp.detect", photo)
    (face,) = answer["faces"]
    left, right = face["landmark"]["left_eye_center"], face["landmark"]["right_eye_center"]
    assert abs(left["x"] - 203) <= 6
    assert abs(left["y"] - 101) <= 6
    assert abs(right["x"] - 246) <= 6
    assert abs(right["y"] - 103) <= 6


def test_faces_source_names_where_the_faces_come_from(photo: bytes) -> None:
    assert faces_source(photo, given=True).startswith("faces: as given")
    drawn = encode_image("PNG", 200, 160, faces=((40, 30, 90, 100),))
    assert faces_source(drawn) == (
        "faces: declared by the picture (face-contracts:faces=), not detected"
    )
    assert faces_source(photo) == f"faces: 1 found; {detector_status().line}"


@pytest.mark.parametrize(
    ("text", "box"), [("1,2,3,4", (1, 2, 3, 4)), (" 10, 20 ,30,40", (10, 20, 30, 40))]
)
def test_face_box_text_is_read(text: str, box: tuple[int, int, int, int]) -> None:
    assert parse_face_box(text) == box


@pytest.mark.parametrize("text", ["1,2,3", "1,2,3,4,5", "a,b,c,d", "1,2,0,4", "-1,2,3,4", ""])
def test_bad_face_box_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="--face-box"):
        parse_face_box(text)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("facepp.nope", "{photo}", "--out", "{out}"), "unknown operation 'facepp.nope'"),
        (("facepp.detect", "{photo}", "--face-box", "1,2,3", "--out", "{out}"), "--face-box"),
        (
            (
                "facepp.detect",
                "{photo}",
                "--response",
                "{valid}",
                "--face-box",
                "1,2,3,4",
                "--out",
                "{out}",
            ),
            "--face-box",
        ),
        (("facepp.detect", "{missing}", "--out", "{out}"), "cannot read"),
        (("facepp.detect", "{text}", "--out", "{out}"), "not a picture Pillow can read"),
        (("facepp.detect", "{gif}", "--out", "{out}"), "IMAGE_ERROR_UNSUPPORTED_FORMAT"),
        (("facepp.detect", "{photo}", "--response", "{text}", "--out", "{out}"), "not JSON"),
        (
            ("facepp.detect", "{photo}", "--response", "{invalid}", "--out", "{out}"),
            "{invalid}: the response breaks the facepp.detect contract: "
            "/time_used: required key 'time_used' is missing [required]",
        ),
        (
            ("facepp.detect", "{photo}", "--response", "{valid}", "--faces", "2", "--out", "{out}"),
            "--faces",
        ),
        (("facepp.detect", "{photo}", "--out", "{tmp}/picture.unknown"), "cannot write"),
        (("facepp.detect", "{photo}"), "the following arguments are required: --out"),
    ],
)
def test_cli_usage_errors_exit_2_with_one_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a picture, not JSON")
    valid = {"request_id": "1,a", "time_used": 2, "image_id": "x", "face_num": 0, "faces": []}
    invalid = {key: value for key, value in valid.items() if key != "time_used"}
    (tmp_path / "valid.json").write_bytes(orjson.dumps(valid))
    (tmp_path / "invalid.json").write_bytes(orjson.dumps(invalid))
    paths = {
        "photo": str(PHOTO),
        "out": str(tmp_path / "out.png"),
        "missing": str(tmp_path / "missing.png"),
        "text": str(text),
        "gif": str(ROOT / "fixtures" / "images" / "wrong-format.gif"),
        "valid": str(tmp_path / "valid.json"),
        "invalid": str(tmp_path / "invalid.json"),
        "tmp": str(tmp_path),
    }
    result = run(*(arg.format(**paths) for arg in args))
    assert result.returncode == 2
    assert message.format(**paths) in result.stderr
    # One error line (argparse puts its usage lines before it).
    assert [line for line in result.stderr.splitlines() if "error:" in line] == [
        result.stderr.splitlines()[-1]
    ]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.png").exists()
