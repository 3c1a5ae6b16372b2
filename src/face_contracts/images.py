"""Looking at image bytes the way the vendors do: format from the bytes, size from the header.

Nothing here trusts a filename or a declared content type. The header is read without
decoding pixels, so a decompression bomb is caught by its declared size before any
decoding happens; :func:`decode_check` decodes fully and is only called on images whose
declared size is within the vendor's limits.
"""

from __future__ import annotations

import binascii
import io
import json
import math
import warnings
import zlib
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw, PngImagePlugin, UnidentifiedImageError

__all__ = [
    "FACES_MARKER",
    "DeclaredFace",
    "ImageInfo",
    "ImageProblemError",
    "declared_faces",
    "decode_base64",
    "decode_check",
    "read_header",
    "sniff_format",
]

# Magic numbers, longest first where one is a prefix of another.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """What the header says: sniffed format, pixel size and byte size."""

    format: str
    width: int
    height: int
    byte_size: int


class ImageProblemError(ValueError):
    """The bytes are not a readable image. ``reason`` is one of ``empty``, ``base64``,
    ``unknown_format``, ``undecodable``, ``truncated`` or ``bomb`` (a declared pixel count
    past Pillow's decompression-bomb guard, far beyond any vendor's limit)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


def sniff_format(data: bytes) -> str | None:
    """The image format named by the leading bytes, or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    for signature, name in _SIGNATURES:
        if data.startswith(signature):
            return name
    return None


def decode_base64(text: str) -> bytes:
    """Standard base64 (line breaks allowed) to bytes, or ImageProblemError('base64')."""
    try:
        return binascii.a2b_base64(text.strip().encode("ascii"), strict_mode=False)
    except (binascii.Error, UnicodeEncodeError) as error:
        raise ImageProblemError("base64", f"not valid base64: {error}") from None


def read_header(data: bytes) -> ImageInfo:
    """Format and pixel size from the header only; no pixel is decoded."""
    if not data:
        raise ImageProblemError("empty", "the image is empty (0 bytes)")
    sniffed = sniff_format(data)
    if sniffed is None:
        raise ImageProblemError("unknown_format", "the bytes are not a known image format")
    try:
        with warnings.catch_warnings():
            # The caller compares the size with the vendor's own (much lower) limit.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError as error:
        raise ImageProblemError(
            "bomb", f"the {sniffed} declares too many pixels: {error}"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ImageProblemError(
            "undecodable", f"the {sniffed} header cannot be read: {error}"
        ) from None
    return ImageInfo(sniffed, width, height, len(data))


def decode_check(data: bytes) -> None:
    """Decode every pixel; ImageProblemError('truncated' or 'undecodable') if that fails."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.load()
    except OSError as error:
        reason = "truncated" if "truncated" in str(error) else "undecodable"
        raise ImageProblemError(reason, f"the image cannot be decoded: {error}") from None
    except (UnidentifiedImageError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ImageProblemError("undecodable", f"the image cannot be decoded: {error}") from None


# --- making images ---------------------------------------------------------------------

_PNG_PADDING_CHUNK = b"fcPd"  # ancillary, private, safe-to-copy: decoders skip it


# --- faces a picture declares ------------------------------------------------------------

# A drawn face is no photograph: no real detector finds it. So a picture made here says in
# its metadata which faces it holds, and the mock takes that word instead of detecting.
FACES_MARKER = b"face-contracts:faces="
_MOST_DECLARED = 64  # more than any vendor reports; a longer list is cut here
_DECLARATION_BYTES = 64 * 80  # room for that many faces, each written in under 80 bytes

DeclaredFace = tuple[int, int, int, int, float, float, float]


def _declaration(faces: tuple[DeclaredFace, ...]) -> bytes:
    return FACES_MARKER + json.dumps([list(face) for face in faces]).encode("ascii")


def declared_faces(data: bytes | memoryview) -> tuple[DeclaredFace, ...] | None:
    """The faces a picture declares (``left, top, width, height, yaw, pitch, roll``), or
    None when it declares none. The declaration is ``face-contracts:faces=`` and a JSON
    list of ``[left, top, width, height]`` or ``[left, top, width, height, yaw, pitch,
    roll]``, written by :func:`encode_image` into a JPEG or GIF comment, a PNG text chunk,
    or after the pixel data of other formats (decoders skip all of these). A malformed
    declaration counts as none."""
    raw = bytes(data)
    at = raw.rfind(FACES_MARKER)
    if at < 0:
        return None
    start = at + len(FACES_MARKER)
    text = raw[start : start + _DECLARATION_BYTES].decode("latin-1")
    try:
        items, _ = json.JSONDecoder().raw_decode(text)  # the bytes after it are not JSON
    except ValueError:
        return None
    if not isinstance(items, list):
        return None
    faces: list[DeclaredFace] = []
    for item in items[:_MOST_DECLARED]:
        if (
            not isinstance(item, list)
            or len(item) not in (4, 7)
            or not all(isinstance(value, int | float) for value in item)
            or not all(math.isfinite(value) for value in item)
        ):
            return None
        left, top, width, height = (int(value) for value in item[:4])
        yaw, pitch, roll = (float(value) for value in item[4:]) if len(item) == 7 else (0.0,) * 3
        faces.append((left, top, width, height, yaw, pitch, roll))
    return tuple(faces)


def encode_image(
    image_format: str,
    width: int,
    height: int,
    *,
    seed: int = 0,
    byte_size: int | None = None,
    faces: tuple[tuple[int, int, int, int], ...] = (),
    poses: tuple[tuple[float, float, float], ...] = (),
    uniform: bool = False,
    declare: bool = True,
) -> bytes:
    """A real encoded picture: ``image_format`` is a Pillow format name (JPEG, PNG, BMP, GIF,
    TIFF, WEBP). ``faces`` are boxes (left, top, width, height) where a simple face is
    drawn, ``poses`` their (yaw, pitch, roll) if not frontal; the background is a gradient
    coloured by ``seed``, or one flat colour when ``uniform``. ``byte_size`` pads the file
    to exactly that many bytes with data the decoders skip (JPEG comment segments, a private
    PNG chunk, trailing BMP bytes); it must be at least the encoded size.

    Unless ``declare`` is false, the picture declares its faces (:func:`declared_faces`;
    none for a picture without faces): the mock reports exactly those, since a drawn face
    is not one a real detector finds.
    """
    rng = _Lcg(seed)
    base = (rng.next(256), rng.next(256), rng.next(256))
    mode = "RGB"
    image = Image.new(mode, (width, height), base)
    if not uniform:
        draw = ImageDraw.Draw(image)
        stripes = max(1, height // 8)
        for index in range(0, height, stripes):
            shade = tuple((channel + index * 97 // max(height, 1)) % 256 for channel in base)
            draw.rectangle((0, index, width, index + stripes), fill=shade)
        for left, top, box_width, box_height in faces:
            _draw_face(draw, left, top, box_width, box_height)
    buffer = io.BytesIO()
    save_as: dict[str, Any] = {"JPEG": {"quality": 85}, "PNG": {"compress_level": 6}}.get(
        image_format, {}
    )
    declaration = b""
    if declare:
        padded = poses + ((0.0, 0.0, 0.0),) * (len(faces) - len(poses))
        declaration = _declaration(
            tuple((*box, *pose) for box, pose in zip(faces, padded, strict=False))
        )
        if image_format in ("JPEG", "GIF"):
            save_as["comment"] = declaration
        elif image_format == "PNG":
            text = PngImagePlugin.PngInfo()
            text.add_text("Comment", declaration.decode("ascii"))
            save_as["pnginfo"] = text
    if image_format == "GIF":
        image = image.convert("P")
    image.save(buffer, format=image_format, **save_as)
    data = buffer.getvalue()
    if declaration and image_format not in ("JPEG", "GIF", "PNG"):
        data = pad_image(data, len(data) + len(declaration))
        data = data[: len(data) - len(declaration)] + declaration
    if byte_size is not None:
        data = pad_image(data, byte_size)
    return data


def pad_image(data: bytes, byte_size: int) -> bytes:
    """``data`` grown to exactly ``byte_size`` bytes without changing the picture."""
    missing = byte_size - len(data)
    if missing < 0:
        msg = f"the image is already {len(data)} bytes, more than {byte_size}"
        raise ValueError(msg)
    if missing == 0:
        return data
    image_format = sniff_format(data)
    if image_format == "JPEG":
        if missing < 4:
            return data + b"\x00" * missing
        segments = bytearray()
        while missing:
            payload = min(missing - 4, 65533)  # a comment segment is FF FE, a length, the payload
            if 0 < missing - payload - 4 < 4:
                payload -= 4
            segments += b"\xff\xfe" + (payload + 2).to_bytes(2, "big") + b"\x00" * payload
            missing -= payload + 4
        return data[:2] + bytes(segments) + data[2:]
    if image_format == "PNG":
        if missing < 12:
            msg = "a PNG can only grow by 12 bytes or more"
            raise ValueError(msg)
        filler = b"\x00" * (missing - 12)
        chunk = (
            len(filler).to_bytes(4, "big")
            + _PNG_PADDING_CHUNK
            + filler
            + zlib.crc32(_PNG_PADDING_CHUNK + filler).to_bytes(4, "big")
        )
        end = data.rindex(b"IEND") - 4
        return data[:end] + chunk + data[end:]
    if image_format == "BMP":
        grown = bytearray(data + b"\x00" * missing)
        grown[2:6] = len(grown).to_bytes(4, "little")
        return bytes(grown)
    return data + b"\x00" * missing


def truncate_image(data: bytes, keep: float = 0.6) -> bytes:
    """The first ``keep`` of the file: the header survives, the pixel data does not."""
    return data[: max(64, int(len(data) * keep))]


def _draw_face(draw: Any, left: int, top: int, width: int, height: int) -> None:
    skin, feature = (224, 182, 150), (60, 40, 30)
    draw.ellipse((left, top, left + width, top + height), fill=skin)
    for centre in (0.3, 0.7):
        cx, cy = left + width * centre, top + height * 0.42
        draw.ellipse(
            (cx - width * 0.08, cy - height * 0.03, cx + width * 0.08, cy + height * 0.03),
            fill=feature,
        )
    draw.line(
        (left + width * 0.5, top + height * 0.45, left + width * 0.5, top + height * 0.63),
        fill=feature,
        width=max(1, width // 40),
    )
    draw.arc(
        (left + width * 0.33, top + height * 0.7, left + width * 0.67, top + height * 0.88),
        10,
        170,
        fill=feature,
        width=max(1, width // 30),
    )


class _Lcg:
    """A tiny deterministic generator, so a seed gives the same picture everywhere."""

    def __init__(self, seed: int) -> None:
        self.state = seed & 0xFFFFFFFF

    def next(self, bound: int) -> int:
        self.state = (1664525 * self.state + 1013904223) & 0xFFFFFFFF
        return self.state % bound
