"""``draw``: a vendor's landmarks and face boxes painted over the picture they describe.

The answer comes from the in-process mock by default (the same engine the fixtures and the
server use), or is given: a saved answer or one from the real vendor, checked against the
contract first. Every vendor's answer is read into one shape, :class:`Landmarks` (faces,
each with an optional box, landmark groups and pupil circles), then painted: each group in
its own colour from a fixed palette, the face boxes in white, and a legend panel on the
right naming every group.

>>> from face_contracts.draw import draw
>>> picture = draw("facepp.detect", open("face.jpg", "rb").read())  # doctest: +SKIP
>>> picture.save("detect.png")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import io
import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from face_contracts.contracts import contracts
from face_contracts.errors import FaceContractsError
from face_contracts.faces import detect, detector_status
from face_contracts.images import declared_faces
from face_contracts.mock import FaceMock, encode_request
from face_contracts.validation import validate
from face_contracts.vendors import Circle, FaceMarks, Group, vendor_of

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


__all__ = [
    "BOX_COLOUR",
    "PALETTE",
    "Circle",
    "DrawError",
    "FaceMarks",
    "Group",
    "Landmarks",
    "default_request",
    "draw",
    "faces_source",
    "landmarks",
    "mock_answer",
    "parse_face_box",
]

Point = tuple[float, float]
Colour = tuple[int, int, int]

# Sasha Trubetskoy's distinct colours, the most distinct first; none is white, the box colour.
PALETTE: tuple[Colour, ...] = (
    (230, 25, 75),
    (60, 180, 75),
    (255, 225, 25),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
    (210, 245, 60),
    (250, 190, 212),
    (0, 128, 128),
    (170, 110, 40),
)
BOX_COLOUR: Colour = (255, 255, 255)
_INK: Colour = (20, 20, 20)
_PAPER: Colour = (255, 255, 255)

# The mock is asked for an image URL under this host when the vendor takes URLs only.
_IMAGE_URL = "https://face-contracts.invalid/draw/image"


class DrawError(FaceContractsError, ValueError):
    """Nothing can be drawn: not a picture, an answer that breaks the contract, an error
    answer from the mock, or an operation without landmarks. ``subject`` says which input
    is at fault: ``"image"``, ``"response"`` or ``"operation"``."""

    def __init__(self, message: str, subject: str) -> None:
        self.subject = subject
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Landmarks:
    """Everything an answer says about where faces are: ``label`` names the landmark set
    (``"landmark201"``, ``"106 points"``...)."""

    operation: str
    label: str
    faces: tuple[FaceMarks, ...]

    def group_names(self) -> tuple[str, ...]:
        """Every group name, in order of first appearance: the order colours are given in."""
        names: dict[str, None] = {}
        for face in self.faces:
            for group in face.groups:
                names.setdefault(group.name, None)
            for circle in face.circles:
                names.setdefault(circle.group, None)
        return tuple(names)

    def colours(self) -> dict[str, Colour]:
        """Group name -> colour, from :data:`PALETTE` in order (cycling past its end)."""
        return {
            name: PALETTE[index % len(PALETTE)] for index, name in enumerate(self.group_names())
        }


# --- reading each vendor's answer -------------------------------------------------------


def _reader(operation: str) -> Callable[[Mapping[str, Any]], tuple[str, list[FaceMarks]]]:
    """How the operation's vendor reads an answer's landmarks (each vendor reads its own)."""
    op = contracts().operation(operation)  # UnknownOperationError for an unknown id
    reader = vendor_of(op.id).readers.get(op.id)
    if reader is None:
        msg = f"{op.id} answers no landmarks: nothing to draw"
        raise DrawError(msg, "operation")
    return reader


def landmarks(operation: str, response: Any) -> Landmarks:
    """The faces, boxes and landmark groups of a success answer of ``operation`` (raw bytes,
    text or parsed JSON). The answer is validated first: :class:`DrawError` names the first
    broken rule of an answer that breaks the contract."""
    reader = _reader(operation)
    if isinstance(response, bytes | str):
        try:
            response = orjson.loads(response)
        except orjson.JSONDecodeError as error:
            msg = f"the response is not JSON: {error}"
            raise DrawError(msg, "response") from None
    report = validate(operation, "response", response)
    if not report.valid:
        msg = f"the response breaks the {operation} contract: {report.failures[0]}"
        raise DrawError(msg, "response")
    label, faces = reader(response)
    return Landmarks(operation, label, tuple(faces))


# --- asking the mock --------------------------------------------------------------------


def default_request(operation: str, image_bytes: bytes) -> dict[str, Any]:
    """The request document ``draw`` sends the mock: the picture as a file part (an image
    URL for a vendor that takes URLs only, registered with the mock), placeholder
    credentials, and every landmark and face the operation can return (return_landmark=all,
    every landmark face_field and 10 faces, return_landmark=2...)."""
    _reader(operation)  # DrawError for an operation without landmarks
    vendor = vendor_of(operation)
    kind = _format(image_bytes)
    part = {
        "filename": f"image.{kind.lower()}",
        "content_type": f"image/{kind.lower()}",
        "base64": base64.b64encode(image_bytes).decode("ascii"),
    }
    body = vendor.richest_request(operation, part, _IMAGE_URL)
    credentials = ("face-contracts-draw",) * len(vendor.credential_env)
    return vendor.request_document(operation, credentials, body)


def mock_answer(operation: str, image_bytes: bytes, *, mock: FaceMock | None = None) -> Any:
    """The mock's parsed success answer for the picture (a fresh :class:`FaceMock` unless
    one is given, whose settings, such as faces, then apply); :class:`DrawError` carries
    the vendor error the mock answers instead, if any."""
    engine = mock if mock is not None else FaceMock()
    request = default_request(operation, image_bytes)
    if _IMAGE_URL in request["body"].values():
        engine.register_image(_IMAGE_URL, image_bytes)
    answer = engine.handle(encode_request(operation, request))
    answer.complete()
    if answer.status != 200:
        text = answer.body.decode("utf-8", errors="replace")
        msg = f"the mock answered {operation} with HTTP {answer.status}: {text:.200}"
        raise DrawError(msg, "image")
    return answer.json()


# --- painting ---------------------------------------------------------------------------


def _format(image_bytes: bytes) -> str:
    with _opened(image_bytes) as image:
        return image.format or "PNG"


def _open(image_bytes: bytes) -> Image.Image:
    with _opened(image_bytes) as image:
        try:
            return image.convert("RGB")
        except (OSError, ValueError) as error:  # a readable header over broken pixels
            msg = f"not a picture Pillow can read: {error}"
            raise DrawError(msg, "image") from None


def _opened(image_bytes: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(image_bytes))
    except UnidentifiedImageError:
        msg = "not a picture Pillow can read (unknown format)"
        raise DrawError(msg, "image") from None
    except (OSError, ValueError) as error:
        msg = f"not a picture Pillow can read: {error}"
        raise DrawError(msg, "image") from None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled font: the same glyphs on every machine, so pictures are reproducible.
    return ImageFont.load_default(size=size)


def _radius(face: FaceMarks) -> int:
    """Dots small enough that a dense set stays readable, large enough to see."""
    if face.box is not None:
        width = face.box[2]
    else:
        xs = [x for group in face.groups for x, _ in group.points]
        width = max(xs) - min(xs) if xs else 0.0
    return max(1, min(4, round(width / (6 * math.sqrt(max(1, face.point_count))))))


def _dot(canvas: ImageDraw.ImageDraw, point: Point, radius: int, colour: Colour) -> None:
    # Centred on the pixel that holds the point, so that pixel always has the group colour.
    x, y = math.floor(point[0]), math.floor(point[1])
    box = (x - radius, y - radius, x + radius, y + radius)
    if radius == 1:
        canvas.rectangle(box, fill=colour)
    else:
        canvas.ellipse(box, fill=colour)


def _legend(
    marks: Landmarks, colours: Mapping[str, Colour], height: int
) -> tuple[Image.Image, int]:
    """The legend panel and its font size: title, landmark set, then one swatch per group."""
    size = max(11, min(24, round(height / 34)))
    font, small = _font(size), _font(max(10, size - 2))
    line = round(size * 1.5)
    counts: dict[str, int] = {}
    for face in marks.faces:
        for group in face.groups:
            counts.setdefault(group.name, len(group.points))
    faces = len(marks.faces)
    rows: list[tuple[Colour | None, str]] = [
        (None, marks.operation),
        (None, f"{marks.label}, {faces} face{'s' * (faces != 1)}"),
    ]
    notes = dict(vendor_of(marks.operation).legend_notes(marks.operation))
    circled = {circle.group for face in marks.faces for circle in face.circles}
    for name in marks.group_names():
        if name not in counts:
            rows.append((colours[name], f"{name} (circles)"))
            continue
        note = [notes[name]] if name in notes else []
        note += ["pupil circle"] if name in circled else []
        rows.append((colours[name], f"{name} ({', '.join([str(counts[name]), *note])})"))
    if any(face.box is not None for face in marks.faces):
        rows.append((BOX_COLOUR, "face box"))
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    pad, swatch = size, size
    text_width = max(
        measure.textlength(text, font=font if colour is None else small) for colour, text in rows
    )
    width = int(pad * 2 + swatch + pad // 2 + text_width)
    panel = Image.new("RGB", (width, max(height, pad * 2 + line * len(rows))), _PAPER)
    canvas = ImageDraw.Draw(panel)
    y = pad
    for colour, text in rows:
        if colour is None:
            canvas.text((pad, y), text, fill=_INK, font=font)
        else:
            canvas.rectangle((pad, y, pad + swatch, y + swatch), fill=colour, outline=_INK, width=1)
            canvas.text((pad + swatch + pad // 2, y), text, fill=_INK, font=small)
        y += line
    return panel, size


def paint(image: Image.Image, marks: Landmarks) -> Image.Image:
    """The picture with the faces' boxes, landmark dots and pupil circles, and the legend
    panel on its right; the picture keeps its coordinates."""
    colours = marks.colours()
    picture = image.convert("RGB")
    canvas = ImageDraw.Draw(picture)
    line = max(1, round(min(picture.size) / 256))
    for face in marks.faces:
        if face.box is not None:
            left, top, width, height = face.box
            canvas.rectangle(
                (left, top, left + width, top + height), outline=BOX_COLOUR, width=line
            )
    for face in marks.faces:
        radius = _radius(face)
        for group in face.groups:
            for point in group.points:
                _dot(canvas, point, radius, colours[group.name])
    # Pupil circles last: the eye's own dots would hide them.
    for face in marks.faces:
        for circle in face.circles:
            r = circle.radius
            canvas.ellipse(
                (circle.x - r, circle.y - r, circle.x + r, circle.y + r),
                outline=colours[circle.group],
                width=1,
            )
    panel, _ = _legend(marks, colours, picture.height)
    out = Image.new("RGB", (picture.width + panel.width, max(picture.height, panel.height)), _PAPER)
    out.paste(picture, (0, 0))
    out.paste(panel, (picture.width, 0))
    return out


def parse_face_box(text: str) -> tuple[int, int, int, int]:
    """``LEFT,TOP,WIDTH,HEIGHT`` (whole pixels, width and height at least 1) as a box;
    ValueError naming the mistake otherwise."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 4 or not all(part.isdigit() for part in parts):
        msg = f"--face-box {text!r}: expected LEFT,TOP,WIDTH,HEIGHT in whole pixels"
        raise ValueError(msg)
    left, top, width, height = (int(part) for part in parts)
    if width < 1 or height < 1:
        msg = f"--face-box {text!r}: width and height must be at least 1"
        raise ValueError(msg)
    return left, top, width, height


def faces_source(image_bytes: bytes, *, given: bool = False) -> str:
    """One line saying where the drawn faces come from: set by the user (``given``),
    declared by the picture, found by the detector (and how many), or placed by the
    picture's digest because no detector is available here. Never silent about a
    fallback."""
    if given:
        return "faces: as given (--faces / --face-box); landmarks fitted to the boxes"
    if declared_faces(image_bytes) is not None:
        return "faces: declared by the picture (face-contracts:faces=), not detected"
    status = detector_status()
    if not status.available:
        return status.line
    found = detect(image_bytes)
    if found.error is not None:
        return f"faces: none ({found.error}); {status.line}"
    count = len(found.faces)
    return f"faces: {count} found; {status.line}"


def draw(
    operation: str,
    image_bytes: bytes,
    response: Any = None,
    *,
    mock: FaceMock | None = None,
) -> Image.Image:
    """The picture with ``operation``'s landmarks and face boxes drawn over it.

    ``response`` is the answer to draw (raw bytes, text or parsed JSON, validated against
    the contract first); without it the in-process mock is asked (``mock``, or a fresh
    :class:`~face_contracts.mock.FaceMock`) for every landmark it can return. Raises
    :class:`DrawError` for a picture Pillow cannot read, an answer that breaks the contract
    or an error answer, and :class:`~face_contracts.UnknownOperationError`.
    """
    _reader(operation)
    image = _open(image_bytes)
    if response is None:
        response = mock_answer(operation, image_bytes, mock=mock)
    return paint(image, landmarks(operation, response))
