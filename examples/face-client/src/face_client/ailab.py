"""AILabTools Facial Landmarks (face-key-points), with httpx."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx

from face_client._images import content_type
from face_client.models import Box, Face, Point, ServiceUnavailableError, VendorError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

__all__ = ["LANDMARK_SETS", "AILabClient", "parse_error", "parse_key_points"]

BASE_URL = "https://www.ailabapi.com"
PATH = "/api/portrait/analysis/face-key-points"
LANDMARK_SETS = ("landmark4", "landmark72", "landmark150", "landmark201")
"""The landmark sets the vendor offers, poorest first."""


class AILabClient:
    """A client of AILabTools Facial Landmarks. ``base_url`` points it elsewhere (a proxy,
    a mock); the API key travels in the ``ailabapi-api-key`` header."""

    def __init__(self, api_key: str, *, base_url: str = BASE_URL, timeout: float = 30.0) -> None:
        self._http = httpx.Client(
            base_url=base_url, headers={"ailabapi-api-key": api_key}, timeout=timeout
        )

    def key_points(
        self, image: bytes, *, landmarks: str = "landmark72", max_faces: int = 1
    ) -> list[Face]:
        """The faces in the picture with one landmark set (see :data:`LANDMARK_SETS`), at
        most ``max_faces`` (1..10) of them."""
        if landmarks not in LANDMARK_SETS:
            msg = f"landmarks must be one of {', '.join(LANDMARK_SETS)}"
            raise ValueError(msg)
        try:
            answer = self._http.post(
                PATH,
                data={"face_field": landmarks, "max_face_num": str(max_faces)},
                files={"image": ("face", image, content_type(image))},
            )
        except httpx.TransportError as error:
            raise ServiceUnavailableError(f"AILabTools: {error!r}") from error
        if answer.status_code != 200:
            raise parse_error(answer.status_code, answer.content)
        document = answer.json()
        if document.get("error_code", 0) != 0:  # an error envelope that came with HTTP 200
            raise parse_error(answer.status_code, answer.content)
        return parse_key_points(document)

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> AILabClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def parse_key_points(document: Mapping[str, Any]) -> list[Face]:
    """The faces of a success answer, each with its richest landmark set."""
    faces = []
    for entry in document["result"]["face_list"]:
        where = entry["location"]
        box = Box(where["left"], where["top"], where["width"], where["height"])
        landmarks: dict[str, Point] = {}
        for name in reversed(LANDMARK_SETS):
            value = entry.get(name)
            if value is None:
                continue
            # landmark4 and landmark72 are plain lists; 150 and 201 name every point.
            pairs = enumerate(value) if isinstance(value, list) else value.items()
            landmarks = {str(key): Point(point["x"], point["y"]) for key, point in pairs}
            break
        faces.append(Face(box, landmarks))
    return faces


def parse_error(status: int, body: bytes) -> VendorError:
    """The vendor error in an AILabTools error envelope (or a bare HTTP error)."""
    try:
        document = json.loads(body)
    except ValueError:
        text = body[:200].decode(errors="replace")
        return VendorError("AILabTools", status, f"HTTP_{status}", text)
    if not isinstance(document, dict):
        return VendorError("AILabTools", status, f"HTTP_{status}", str(document)[:200])
    detail = document.get("error_detail") or {}
    code = detail.get("code") or document.get("error_code_str") or str(document.get("error_code"))
    message = (
        detail.get("message") or detail.get("code_message") or document.get("error_msg") or code
    )
    return VendorError("AILabTools", status, code, message)
