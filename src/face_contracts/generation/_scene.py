"""Scenes: an image size and the faces in it, the common ground of every renderer.

A scene is drawn by Hypothesis for property tests, or derived from the image bytes by the
mock engine; either way the renderers turn the same scene into each vendor's answer, so
one picture gives consistent face boxes across vendors.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from hypothesis import strategies as st

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Chooser", "DrawChooser", "Face", "RandomChooser", "Scene", "scenes"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Face:
    """One face: its box in pixels (inside the image) and its pose in degrees.

    A face the detector found also carries ``anchors``, measured points in pixels
    (``(name, x, y)``: ``image_left_eye``, ``image_right_eye``, ``nose_tip``,
    ``image_left_mouth_corner``, ``image_right_mouth_corner``) that the renderers fit every
    landmark template to, and the detector's ``score``. A face known only by its box (drawn
    by Hypothesis, set by the user) has neither: its templates are fitted to the box.
    """

    left: int
    top: int
    width: int
    height: int
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    anchors: tuple[tuple[str, float, float], ...] = ()
    score: float | None = None

    @property
    def area(self) -> int:
        return self.width * self.height


@dataclass(frozen=True, slots=True)
class Scene:
    """An image's size and its faces, largest first. ``note`` says how the faces were
    found when that is worth a journal line: declared by the picture, placed by digest
    because no detector is available, or why the detector failed (then there are none)."""

    width: int
    height: int
    faces: tuple[Face, ...]
    note: str | None = None


class Chooser(Protocol):
    """Where renderers get the values a scene does not fix (ids, scores, jitter)."""

    def integer(self, low: int, high: int) -> int: ...
    def number(self, low: float, high: float) -> float: ...
    def choice(self, options: Sequence[T]) -> T: ...
    def token(self, alphabet: str, size: int) -> str: ...


class DrawChooser:
    """Values drawn by Hypothesis, so failing examples shrink."""

    def __init__(self, draw: st.DrawFn) -> None:
        self._draw = draw

    def integer(self, low: int, high: int) -> int:
        return self._draw(st.integers(low, high))

    def number(self, low: float, high: float) -> float:
        return self._draw(st.floats(low, high, allow_nan=False, allow_infinity=False))

    def choice(self, options: Sequence[T]) -> T:
        return self._draw(st.sampled_from(options))

    def token(self, alphabet: str, size: int) -> str:
        return self._draw(st.text(alphabet, min_size=size, max_size=size))


class RandomChooser:
    """Values from a seeded generator: the same seed gives the same answer everywhere."""

    def __init__(self, seed: int | str) -> None:
        self._random = random.Random(seed)  # noqa: S311 - determinism, not secrecy

    def integer(self, low: int, high: int) -> int:
        return self._random.randint(low, high)

    def number(self, low: float, high: float) -> float:
        return self._random.uniform(low, high)

    def choice(self, options: Sequence[T]) -> T:
        return self._random.choice(options)

    def token(self, alphabet: str, size: int) -> str:
        return "".join(self._random.choice(alphabet) for _ in range(size))


HEX = string.hexdigits[:16]


def _overlaps(a: Face, b: Face) -> bool:
    return not (
        a.left + a.width <= b.left
        or b.left + b.width <= a.left
        or a.top + a.height <= b.top
        or b.top + b.height <= a.top
    )


@st.composite
def scenes(
    draw: st.DrawFn,
    *,
    min_faces: int = 0,
    max_faces: int = 5,
    min_side: int = 100,
    max_side: int = 1024,
    min_face: int = 64,
) -> Scene:
    """Scenes with image sides in [min_side, max_side] and non-overlapping faces at least
    ``min_face`` pixels wide, sorted largest first."""
    width = draw(st.integers(min_side, max_side))
    height = draw(st.integers(min_side, max_side))
    wanted = draw(st.integers(min_faces, max_faces))
    faces: list[Face] = []
    largest = max(min_face, min(width, height) * 3 // 4)
    for _ in range(wanted):
        if min(width, height) < min_face:
            break
        side = draw(st.integers(min_face, max(min_face, largest)))
        box_height = min(height, side + side // 8)
        box_width = min(width, side)
        left = draw(st.integers(0, width - box_width))
        top = draw(st.integers(0, height - box_height))
        face = Face(
            left,
            top,
            box_width,
            box_height,
            yaw=round(draw(st.floats(-30, 30)), 2),
            pitch=round(draw(st.floats(-20, 20)), 2),
            roll=round(draw(st.floats(-15, 15)), 2),
        )
        if any(_overlaps(face, other) for other in faces):
            continue  # a crowded picture keeps the faces that fit
        faces.append(face)
    if len(faces) < min_faces:
        # Fall back to a grid that always fits: shrinking then reaches small, tidy scenes.
        faces = _grid(width, height, min_faces, min_face)
    faces.sort(key=lambda face: (-face.area, face.top, face.left))
    return Scene(width, height, tuple(faces))


def _grid(width: int, height: int, count: int, min_face: int) -> list[Face]:
    columns = max(1, width // (min_face + 2))
    faces = []
    for index in range(count):
        row, column = divmod(index, columns)
        left, top = column * (min_face + 2), row * (min_face + 2)
        if left + min_face > width or top + min_face > height:
            break
        faces.append(Face(left, top, min_face, min_face))
    return faces
