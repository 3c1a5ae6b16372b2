"""The README's pictures in docs/images/ are what scripts/make_readme_pictures.py makes now:
a change to draw, the templates or the mock that moves a landmark shows up here, and
``python scripts/make_readme_pictures.py`` brings the pictures up to date."""

from __future__ import annotations

import importlib.util
import io
from types import ModuleType

import pytest
from PIL import Image

from face_contracts.draw import BOX_COLOUR, PALETTE

from .conftest import ROOT

SCRIPT = ROOT / "scripts" / "make_readme_pictures.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_readme_pictures", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pixels(data: bytes) -> tuple[tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return image.size, image.convert("RGB").tobytes()


@pytest.mark.parametrize(
    "operation",
    [
        "ailab.face_key_points",
        "ailab.face_analyzer_advanced",
        "acedata.face_analyze",
        "facepp.thousandlandmark",
        "facepp.detect",
        "group.facepp.detect",
    ],
)
def test_committed_picture_is_what_the_script_makes(script: ModuleType, operation: str) -> None:
    assert operation in (*script.OPERATIONS, script.GROUP_PICTURE)
    committed = (ROOT / "docs" / "images" / f"{operation}.png").read_bytes()
    assert len(committed) < 300_000
    fresh = script.render(operation)
    assert _pixels(committed) == _pixels(fresh), (
        f"docs/images/{operation}.png is stale: run python scripts/make_readme_pictures.py"
    )
    assert script.render(operation) == fresh  # deterministic, byte for byte


def test_the_reduced_palette_keeps_the_drawn_colours_exact(script: ModuleType) -> None:
    from face_contracts.draw import draw
    from face_contracts.mock import FaceMock

    drawn = draw("facepp.thousandlandmark", script.portrait(), mock=FaceMock())
    stored = script.indexed(drawn).convert("RGB")
    exact = [BOX_COLOUR, *PALETTE]
    for x in range(0, drawn.width, 3):
        for y in range(0, drawn.height, 3):
            colour = drawn.getpixel((x, y))
            if colour in exact:
                assert stored.getpixel((x, y)) == colour, (x, y)
