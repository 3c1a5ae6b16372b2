"""Looking at image bytes the way the vendors do: format from the bytes, size from the header.

Nothing here trusts a filename or a declared content type. The header is read without
decoding pixels, so a decompression bomb is caught by its declared size before any
decoding happens; :func:`decode_check` decodes fully and is only called on images whose
declared size is within the vendor's limits.
"""

from __future__ import annotations

import binascii
import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

__all__ = ["ImageInfo", "ImageProblemError", "decode_base64", "decode_check", "read_header", "sniff_format"]

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
        raise ImageProblemError("bomb", f"the {sniffed} declares too many pixels: {error}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ImageProblemError("undecodable", f"the {sniffed} header cannot be read: {error}") from None
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
