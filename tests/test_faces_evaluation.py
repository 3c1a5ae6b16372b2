"""The mock sees the faces really in the picture: on every evaluation picture of
fixtures/faces/ (truth measured by hand, see truth.json and make_pictures.py), the real mock
engine's answer for every operation, read by that operation's own landmark names, has the
right number of faces, largest first, each box overlapping the true one (IoU >= 0.35), both
eye centres within 0.35 and the mouth within 0.5 inter-ocular distances of the truth.

Counts follow each vendor's documented minimum face side. A true face within 10% of an
operation's minimum is counted as either side of it: whether it passes depends on how the
vendor draws its box (hairline or brows, cheeks or ears), which no document fixes; every
other face's count is exact.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any

import pytest

from face_contracts.faces import detector_status

from .conftest import ROOT

EVALUATE = ROOT / "fixtures" / "faces" / "evaluate.py"
BORDER = 0.10

if not detector_status().available and sys.version_info >= (3, 13):  # pragma: no cover
    # mediapipe 0.10.21 has no wheel here: the mock falls back to digest placement and
    # says so; tests/test_faces.py checks that fallback. CI (Python 3.11) always detects.
    pytest.skip(detector_status().line, allow_module_level=True)


def _evaluate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("face_evaluation", EVALUATE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


evaluate = _evaluate()
TRUTH = evaluate.truth()


def _count_range(operation: str, label: str, faces: list[Any], size: tuple[int, int]) -> range:
    """The counts the documentation allows: exact, except for faces within BORDER of the
    operation's minimum side."""
    sure = evaluate.expected_count(operation, label, faces, *size)
    grown = [
        evaluate.Truth(f.image_left_eye, f.image_right_eye, f.mouth, _scaled(f.box, 1 + BORDER))
        for f in faces
    ]
    most = evaluate.expected_count(operation, label, grown, *size)
    shrunk = [
        evaluate.Truth(f.image_left_eye, f.image_right_eye, f.mouth, _scaled(f.box, 1 - BORDER))
        for f in faces
    ]
    least = evaluate.expected_count(operation, label, shrunk, *size)
    assert least <= sure <= most
    return range(least, most + 1)


def _scaled(box: tuple[float, ...], factor: float) -> tuple[float, ...]:
    return (box[0], box[1], box[2] * factor, box[3] * factor)


@pytest.mark.parametrize("picture", sorted(TRUTH))
@pytest.mark.parametrize(
    ("operation", "label", "extra"),
    evaluate.CASES,
    ids=[f"{operation}:{label}" for operation, label, _ in evaluate.CASES],
)
def test_every_operation_describes_the_faces_in_the_picture(
    picture: str, operation: str, label: str, extra: dict[str, str]
) -> None:
    path = ROOT / picture
    truth = TRUTH[picture]
    size = evaluate.picture_size(path)
    status, body = evaluate.answer(operation, path.read_bytes(), extra)
    found = evaluate.faces_of(operation, label, status, body)
    allowed = _count_range(operation, label, truth, size)
    assert len(found) in allowed, f"{len(found)} faces, the documentation says {allowed}"
    areas = [face.box[2] * face.box[3] for face in found if face.box is not None]
    assert areas == sorted(areas, reverse=True), "faces are not largest first"
    for index, (face, true) in enumerate(zip(found, truth, strict=False)):
        errors = evaluate.errors(face, true)
        where = f"{picture} face {index}"
        if errors.iou is not None:
            assert errors.iou >= 0.35, f"{where}: box IoU {errors.iou:.2f}"
        assert errors.left_eye <= 0.35, f"{where}: image-left eye off by {errors.left_eye:.2f}"
        assert errors.right_eye <= 0.35, f"{where}: image-right eye off by {errors.right_eye:.2f}"
        assert errors.mouth <= 0.5, f"{where}: mouth off by {errors.mouth:.2f}"


def test_the_evaluation_has_several_faces_mirrored_and_no_face_pictures() -> None:
    counts = {picture: len(faces) for picture, faces in TRUTH.items()}
    assert counts["fixtures/faces/crowd.jpg"] == 3
    assert counts["fixtures/images/group.jpg"] == 3
    assert counts["fixtures/faces/chelsea.png"] == counts["fixtures/faces/coffee.png"] == 0
    assert "fixtures/faces/mirrored.jpg" in counts
    sides = {round(min(face.box[2:])) for face in TRUTH["fixtures/faces/crowd.jpg"]}
    assert len(sides) == 3  # three different sizes
