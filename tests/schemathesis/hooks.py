"""Schemathesis hooks for the run against our server: file parts of the image types the
vendors document are sent as their raw bytes."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.serializer("image/jpeg", "image/png", "image/bmp", "application/octet-stream")
def raw_bytes(ctx: Any, value: Any) -> bytes:
    del ctx
    if isinstance(value, bytes):
        return value
    return str(value).encode()
