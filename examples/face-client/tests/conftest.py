"""Pictures for the tests, drawn here so that the project carries no binary files.

The mock fixtures (``face_mock``, ``face_mock_respx``) and the ``face_mock`` marker come
from the face-contracts pytest plugin, which pytest loads by itself once face-contracts is
installed: nothing to import, nothing to register.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw


def _picture(fill: bool) -> bytes:
    image = Image.new("RGB", (640, 480), (90, 120, 160))
    if fill:
        canvas = ImageDraw.Draw(image)
        canvas.ellipse((230, 90, 410, 330), fill=(224, 180, 150))  # a head
        canvas.ellipse((275, 170, 305, 185), fill=(40, 40, 40))  # the eyes
        canvas.ellipse((335, 170, 365, 185), fill=(40, 40, 40))
        canvas.arc((285, 240, 355, 290), 20, 160, fill=(150, 40, 40), width=5)  # a smile
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def picture() -> bytes:
    """A 640x480 JPEG with a face in it (the mock finds one face in any picture that is
    not a single flat colour, unless told how many)."""
    return _picture(fill=True)


@pytest.fixture(scope="session")
def blank() -> bytes:
    """A 640x480 JPEG of one flat colour: no face."""
    return _picture(fill=False)
