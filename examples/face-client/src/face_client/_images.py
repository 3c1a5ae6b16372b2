"""What the vendors want to know about an uploaded picture: its content type."""

from __future__ import annotations

__all__ = ["content_type"]

_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"BM", "image/bmp"),
)


def content_type(image: bytes) -> str:
    """The picture's media type from its first bytes (``application/octet-stream`` when it
    is none of JPEG, PNG, BMP: the vendor decides what to answer then)."""
    for signature, media_type in _SIGNATURES:
        if image.startswith(signature):
            return media_type
    return "application/octet-stream"
