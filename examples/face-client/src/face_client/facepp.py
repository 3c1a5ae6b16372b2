"""Face++ Dense Facial Landmarks (thousandlandmark) and Detect, with requests."""

from __future__ import annotations

import json
from typing import Any

import requests

from face_client._images import content_type
from face_client.models import (
    Box,
    Face,
    Point,
    ServiceUnavailableError,
    UnexpectedAnswerError,
    VendorError,
)

__all__ = ["FaceppClient", "parse_detect", "parse_error", "parse_thousandlandmark"]

BASE_URL = "https://api-us.faceplusplus.com"
DENSE_PATH = "/facepp/v1/face/thousandlandmark"
DETECT_PATH = "/facepp/v3/detect"
# The dense landmarks this client's callers rely on, by group. A vendor change that loses
# one must surface as an error, not as a face quietly without pupils.
RELIED_ON = {"left_eye": "left_eye_pupil_center", "right_eye": "right_eye_pupil_center"}


class FaceppClient:
    """A client of Face++: the key and secret travel as form fields of every call."""

    def __init__(
        self, api_key: str, api_secret: str, *, base_url: str = BASE_URL, timeout: float = 30.0
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._credentials = {"api_key": api_key, "api_secret": api_secret}
        self._timeout = timeout
        self._http = requests.Session()

    def dense_landmarks(self, image: bytes) -> Face | None:
        """The largest face with its 973 dense landmarks (Face++ analyses only that one),
        or None when the picture has no face."""
        document = self._post(DENSE_PATH, image, return_landmark="all")
        return parse_thousandlandmark(document)

    def detect(self, image: bytes, *, landmarks: int = 2) -> list[Face]:
        """Every face with its box; the five largest also with 83 (``landmarks=1``) or 106
        (``landmarks=2``) landmarks, none with ``landmarks=0``."""
        if landmarks not in (0, 1, 2):
            msg = "landmarks is 0, 1 (83 points) or 2 (106 points)"
            raise ValueError(msg)
        return parse_detect(self._post(DETECT_PATH, image, return_landmark=str(landmarks)))

    def _post(self, path: str, image: bytes, **fields: str) -> Any:
        try:
            answer = self._http.post(
                self._base_url + path,
                data={**self._credentials, **fields},
                files={"image_file": ("face", image, content_type(image))},
                timeout=self._timeout,
            )
        except requests.RequestException as error:
            raise ServiceUnavailableError(f"Face++: {error!r}") from error
        if answer.status_code != 200:
            raise parse_error(answer.status_code, answer.content)
        return answer.json()

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> FaceppClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _box(rect: dict[str, Any]) -> Box:
    return Box(rect["left"], rect["top"], rect["width"], rect["height"])


def parse_thousandlandmark(document: dict[str, Any]) -> Face | None:
    """The face of a dense-landmark answer, every point of every group by its key (the
    pupil radii, bare numbers, are left out), or None for an answer without a face. An
    answer that lost a pupil centre raises :class:`UnexpectedAnswerError`."""
    face = document.get("face") or {}
    if not face:
        return None
    groups = face.get("landmark", {})
    for group, key in RELIED_ON.items():
        if group in groups and key not in groups[group]:
            near = sorted(name for name in groups[group] if "pupil" in name.lower())
            hint = f" (pupil keys present: {', '.join(near)})" if near else ""
            raise UnexpectedAnswerError(
                "Face++", f"landmark {key!r} is missing from {group!r}{hint}"
            )
    landmarks = {
        key: Point(value["x"], value["y"])
        for group in face["landmark"].values()
        for key, value in group.items()
        if isinstance(value, dict)
    }
    return Face(_box(face["face_rectangle"]), landmarks)


def parse_detect(document: dict[str, Any]) -> list[Face]:
    """The faces of a Detect answer."""
    return [
        Face(
            _box(entry["face_rectangle"]),
            {name: Point(p["x"], p["y"]) for name, p in entry.get("landmark", {}).items()},
        )
        for entry in document["faces"]
    ]


def parse_error(status: int, body: bytes) -> VendorError:
    """The vendor error of a Face++ answer: ``error_message`` is ``CODE`` or
    ``CODE: detail``; HTTP 413 comes as plain text, not JSON."""
    try:
        message = json.loads(body)["error_message"]
    except (ValueError, KeyError, TypeError):
        text = body[:200].decode(errors="replace").strip()
        code = "REQUEST_ENTITY_TOO_LARGE" if status == 413 else f"HTTP_{status}"
        return VendorError("Face++", status, code, text)
    code, _, detail = str(message).partition(":")
    return VendorError("Face++", status, code.strip(), detail.strip() or code.strip())
