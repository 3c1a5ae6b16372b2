"""Render the README's pictures: one per operation, made by ``face_contracts.draw``.

Each picture is the local mock's answer drawn over the bundled public-domain portrait
(``fixtures/images/astronaut.png``, NASA, see ``fixtures/images/README.md``): AILabTools
Facial Landmarks (landmark201) and Face Analyzer Advanced (105 points), Ace Data Cloud (90
points), Face++ Dense (975 points) and Face++ Detect (106 points), written to
``docs/images/<operation>.png``; and Face++ Detect on ``fixtures/images/group.jpg``, three
faces, written to ``docs/images/group.facepp.detect.png``.

What is done to the portrait, and why:

- the head is cut out (256x256 px) and enlarged twice, so that 975 points are tellable
  apart in a README;
- nothing tells the mock where the faces are: it finds them with its detector and fits
  every landmark template to each face's eyes, nose tip and mouth corners;
- the result is stored as a 256-colour PNG whose palette keeps every landmark colour and
  the box colour exact, so each file stays well under 300 KB without shrinking the dots.

No randomness anywhere: the same Pillow writes the same pixels, which
``tests/test_readme_pictures.py`` checks against the committed files. Run
``python scripts/make_readme_pictures.py`` from the repository root to rewrite them.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageChops

from face_contracts.draw import BOX_COLOUR, PALETTE, draw
from face_contracts.mock import FaceMock

ROOT = Path(__file__).resolve().parent.parent
PORTRAIT = ROOT / "fixtures" / "images" / "astronaut.png"
GROUP = ROOT / "fixtures" / "images" / "group.jpg"
OUT = ROOT / "docs" / "images"
OPERATIONS = (
    "ailab.face_key_points",
    "ailab.face_analyzer_advanced",
    "acedata.face_analyze",
    "facepp.thousandlandmark",
    "facepp.detect",
)
GROUP_PICTURE = "group.facepp.detect"  # docs/images/<this>.png: Face++ Detect on group.jpg
HEAD = (96, 0, 352, 256)  # left, top, right, bottom of the head in the 512x512 portrait
SCALE = 2
MAX_BYTES = 300_000


def portrait() -> bytes:
    """The enlarged head, as PNG bytes: the picture the mock is sent and drawn over."""
    with Image.open(PORTRAIT) as image:
        left, top, right, bottom = HEAD
        head = image.convert("RGB").crop(HEAD)
        head = head.resize(
            ((right - left) * SCALE, (bottom - top) * SCALE), Image.Resampling.LANCZOS
        )
    buffer = io.BytesIO()
    head.save(buffer, "PNG")
    return buffer.getvalue()


def _mask(picture: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """An L mask, 255 where ``picture`` has exactly ``colour``."""
    bands = [
        band.point(lambda value, wanted=wanted: 255 if value == wanted else 0)
        for band, wanted in zip(picture.split(), colour, strict=True)
    ]
    return ImageChops.multiply(ImageChops.multiply(bands[0], bands[1]), bands[2])


def indexed(picture: Image.Image) -> Image.Image:
    """The picture in 256 colours: the box and landmark colours exact, the photograph and
    the legend's text in the other 243, chosen by median cut."""
    reserved = [BOX_COLOUR, *PALETTE]
    rest = 256 - len(reserved)
    photo = picture.quantize(colors=rest, method=Image.Quantize.MEDIANCUT)
    colours = [value for colour in reserved for value in colour]
    colours += (photo.getpalette() or [])[: 3 * rest]
    palette = Image.new("P", (1, 1))
    palette.putpalette(colours + [0] * (768 - len(colours)))
    result = picture.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG)
    # Mapping onto a palette is approximate in Pillow; put the drawn colours back exactly.
    for index, colour in enumerate(reserved):
        result.paste(index, mask=_mask(picture, colour))
    return result


def render(operation: str) -> bytes:
    """The PNG bytes of one README picture: ``operation`` on the enlarged portrait, or
    GROUP_PICTURE (Face++ Detect on group.jpg)."""
    if operation == GROUP_PICTURE:
        picture = indexed(draw("facepp.detect", GROUP.read_bytes(), mock=FaceMock()))
    else:
        picture = indexed(draw(operation, portrait(), mock=FaceMock()))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", optimize=True)
    data = buffer.getvalue()
    if len(data) > MAX_BYTES:
        msg = f"{operation}: {len(data)} bytes, more than {MAX_BYTES}"
        raise ValueError(msg)
    return data


def main() -> None:
    """Write every picture to docs/images/."""
    OUT.mkdir(parents=True, exist_ok=True)
    for operation in (*OPERATIONS, GROUP_PICTURE):
        path = OUT / f"{operation}.png"
        path.write_bytes(render(operation))
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
