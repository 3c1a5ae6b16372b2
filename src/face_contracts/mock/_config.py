"""What a mock is told to do: credentials, faces, forced errors, faults, quotas, images.

Everything is off by default: any non-empty credential works, faces come from the picture,
no error is forced, nothing is slow, nothing runs out. The same settings come from keyword
arguments, the ``face_mock`` marker, fixture methods, the admin API and a TOML file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

__all__ = ["Box", "Fault", "ForcedError", "MockConfig"]

Box = tuple[int, int, int, int]  # left, top, width, height


@dataclass(frozen=True)
class ForcedError:
    """Answer ``code`` (a code of the operation's error catalogue) instead of the real
    answer: for ``operation`` (None: every operation that documents the code), only for
    calls made with ``credential`` if given, on the ``nth`` call (1-based) or on every call
    from the first, at most ``times`` times (None: always). ``details`` fill the message
    (``field``, ``face_token``, ``reason``, ``message``)."""

    code: str
    operation: str | None = None
    credential: str | None = None
    nth: int | None = None
    times: int | None = None
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Fault:
    """Misbehave like a network or a server does: wait ``delay`` seconds, ``drop`` the
    connection without answering, or answer a bare HTTP ``status`` (5xx), for ``operation``
    (None: all), on the ``nth`` call or on every call, at most ``times`` times."""

    operation: str | None = None
    delay: float = 0.0
    drop: bool = False
    status: int | None = None
    nth: int | None = None
    times: int | None = None


@dataclass(frozen=True)
class MockConfig:
    """The whole configuration of a mock.

    - ``credentials``: per vendor, the credentials that work; empty means any non-empty
      one does. ``ailab``: API keys; ``acedata``: bearer tokens; ``facepp``: ``key:secret``.
    - ``faces``: the faces every picture has, as a count or as boxes (None: derived from the
      picture, a uniform picture has none); ``operation_faces`` overrides it per operation.
    - ``strict_urls``: an image URL that is neither registered nor on loopback gets the
      vendor's download failure instead of the bundled face picture.
    - ``images``: URL -> picture bytes, served for image_url requests.
    - ``errors``, ``faults``: see :class:`ForcedError` and :class:`Fault`.
    - ``credits``: AILabTools credits per key (None: unlimited); each successful call costs
      the documented price. ``rate_per_second``: Ace Data requests per token per second
      (None: unlimited). ``concurrency``: Face++ calls in flight per api_key (None: unlimited).
    """

    credentials: dict[str, tuple[str, ...]] = field(default_factory=dict)
    faces: int | tuple[Box, ...] | None = None
    operation_faces: dict[str, int | tuple[Box, ...]] = field(default_factory=dict)
    strict_urls: bool = False
    images: dict[str, bytes] = field(default_factory=dict)
    errors: tuple[ForcedError, ...] = ()
    faults: tuple[Fault, ...] = ()
    credits: int | None = None
    rate_per_second: float | None = None
    concurrency: int | None = None

    def merged(self, **changes: Any) -> MockConfig:
        """A copy with ``changes`` applied; errors and faults are appended, dictionaries merged."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            msg = f"unknown mock setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            raise TypeError(msg)
        values: dict[str, Any] = {}
        for name, value in changes.items():
            current = getattr(self, name)
            if name in ("errors", "faults"):
                values[name] = current + tuple(value)
            elif name in ("credentials", "operation_faces", "images"):
                values[name] = {**current, **value}
            else:
                values[name] = value
        return replace(self, **values)
