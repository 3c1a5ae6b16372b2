"""Scenes: an image size and the faces in it, the common ground of every renderer.

A scene is drawn by Hypothesis for property tests (:func:`face_contracts.strategies.scenes`,
whose values come from a ``DrawChooser``), or derived from the image bytes by the mock
engine; either way the renderers turn the same scene into each vendor's answer, so one
picture gives consistent face boxes across vendors. Nothing here imports Hypothesis: the
engine renders with a :class:`RandomChooser`.
"""

from __future__ import annotations

import hashlib
import random
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "HEX",
    "Chooser",
    "Face",
    "HashChooser",
    "RandomChooser",
    "Scene",
]

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
        if alphabet == HEX:  # ids and face_tokens: one draw instead of one per digit
            return f"{self._random.getrandbits(4 * size):0{size}x}"
        return "".join(self._random.choices(alphabet, k=size))


class HashChooser:
    """Values drawn from BLAKE2 of a seed and a counter: the same seed gives the same
    values, and a call that needs a few (its ids) does not pay for seeding a Mersenne
    Twister. One digest gives 512 bits, drawn from until they run out."""

    def __init__(self, seed: str) -> None:
        self._seed = seed.encode()
        self._counter = 0
        self._pool = 0
        self._pool_bits = 0

    def _bits(self, bits: int) -> int:
        while self._pool_bits < bits:
            self._counter += 1
            digest = hashlib.blake2b(self._seed + self._counter.to_bytes(8, "little")).digest()
            self._pool |= int.from_bytes(digest, "little") << self._pool_bits
            self._pool_bits += 512
        value = self._pool & ((1 << bits) - 1)
        self._pool >>= bits
        self._pool_bits -= bits
        return value

    def integer(self, low: int, high: int) -> int:
        span = high - low + 1
        return low + self._bits(max(8, span.bit_length() + 32)) % span

    def number(self, low: float, high: float) -> float:
        return low + (high - low) * self._bits(53) / (1 << 53)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.integer(0, len(options) - 1)]

    def token(self, alphabet: str, size: int) -> str:
        if alphabet == HEX:
            return f"{self._bits(4 * size):0{size}x}"
        return "".join(self.choice(alphabet) for _ in range(size))


HEX = string.hexdigits[:16]
