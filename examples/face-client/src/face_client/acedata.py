"""Ace Data Cloud Facial Feature Localization (face/analyze), with httpx."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx

from face_client.models import Face, Point, ServiceUnavailableError, VendorError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

__all__ = ["AceDataClient", "parse_analysis", "parse_error"]

BASE_URL = "https://api.acedata.cloud"
PATH = "/face/analyze"


class AceDataClient:
    """A client of Ace Data Cloud's face analysis: the picture is given by URL, the token
    travels as ``authorization: Bearer TOKEN``."""

    def __init__(self, token: str, *, base_url: str = BASE_URL, timeout: float = 30.0) -> None:
        self._http = httpx.Client(
            base_url=base_url, headers={"authorization": f"Bearer {token}"}, timeout=timeout
        )

    def analyze(self, image_url: str, *, largest_only: bool = False) -> list[Face]:
        """The faces in the picture at ``image_url`` (only the largest with
        ``largest_only``), each with 90 landmarks named ``<group>_<index>``."""
        try:
            answer = self._http.post(
                PATH, json={"image_url": image_url, "mode": 1 if largest_only else 0}
            )
        except httpx.TransportError as error:
            raise ServiceUnavailableError(f"Ace Data Cloud: {error!r}") from error
        if answer.status_code != 200:
            raise parse_error(answer.status_code, answer.content)
        return parse_analysis(answer.json())

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> AceDataClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def parse_analysis(document: Mapping[str, Any]) -> list[Face]:
    """The faces of a success answer. Ace Data gives no face box, only landmark groups."""
    return [
        Face(
            None,
            {
                f"{group}_{index}": Point(point["x"], point["y"])
                for group, points in shape.items()
                for index, point in enumerate(points)
            },
        )
        for shape in document["face_shape_set"]
    ]


def parse_error(status: int, body: bytes) -> VendorError:
    """The vendor error in an Ace Data error envelope ``{error: {code, message}}``."""
    try:
        error = json.loads(body)["error"]
        return VendorError("Ace Data Cloud", status, error["code"], error["message"])
    except (ValueError, KeyError, TypeError):
        text = body[:200].decode(errors="replace")
        return VendorError("Ace Data Cloud", status, f"HTTP_{status}", text)
