"""Reproducible example documents for the command line: the same seed, the same lines.

Request documents carry their picture as base64; by default it is small (the smallest
square the operation's limits accept that still holds a face the vendor reports, at least
64 x 64), so that an example fits on a screen. ``image_size`` asks for another size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from hypothesis import HealthCheck, Phase, given, seed, settings

from face_contracts.contracts import contracts
from face_contracts.strategies import documents, invalid_documents

if TYPE_CHECKING:
    from collections.abc import Iterator

    from hypothesis import strategies as st

__all__ = ["default_image_size", "generate", "parse_image_size"]

_SMALLEST = 64  # pixels: a face at this size is still a face to every detector


def default_image_size(operation: str) -> tuple[int, int]:
    """The pictures of example requests: a square the operation accepts, large enough for
    the smallest face it reports, and no larger."""
    limits = contracts().mock_data[operation].get("image")
    if limits is None:
        return (_SMALLEST, _SMALLEST)
    low = limits["min_pixels"]
    least = max(low["width"], low["height"]) + (0 if low["inclusive"] else 1)
    face = limits.get("min_face_side", {}).get("pixels", 0)
    side = max(_SMALLEST, least, face)
    return (side, side)


def parse_image_size(text: str) -> tuple[int, int]:
    """``WxH`` (for instance ``640x480``) as (width, height); ValueError otherwise."""
    width, separator, height = text.lower().partition("x")
    if not separator or not width.isdigit() or not height.isdigit():
        msg = f"--image-size must be WIDTHxHEIGHT in pixels, such as 640x480, not {text!r}"
        raise ValueError(msg)
    return int(width), int(height)


def generate(
    operation: str,
    kind: str,
    *,
    invalid: bool,
    count: int,
    seed: int,
    variant: str | None = None,
    image_size: tuple[int, int] | None = None,
) -> Iterator[str]:
    """``count`` documents as JSON lines, drawn deterministically from ``seed``. Requests
    carry pictures of ``image_size`` (default: :func:`default_image_size`); without an
    explicit size, invalid requests whose broken rule is the picture's byte limit (megabytes
    of base64 each) are left out."""
    sized = image_size or (default_image_size(operation) if kind == "request" else None)
    strategy: st.SearchStrategy[Any]
    if invalid:
        strategy = invalid_documents(operation, kind, variant=variant, image_size=sized)
        if kind == "request" and image_size is None:
            strategy = strategy.filter(lambda case: case.rule != "image.max_bytes")
    else:
        strategy = documents(operation, kind, variant=variant, image_size=sized)
    drawn: list[Any] = []
    for round_ in range(count * 4):  # Hypothesis may stop a run early; later rounds top it up
        drawn.extend(_draw(strategy, count - len(drawn), seed * 1009 + round_))
        if len(drawn) >= count:
            break
    for item in drawn[:count]:
        data = item.as_json() if invalid else item
        if invalid and variant is not None:
            data["variant"] = variant  # validate it with --variant
        yield orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()


def _draw(strategy: st.SearchStrategy[Any], wanted: int, run_seed: int) -> list[Any]:
    found: list[Any] = []

    # Examples for people, not a test: no shrinking, no database, no per-example deadline.
    @seed(run_seed)
    @settings(
        max_examples=wanted,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(strategy)
    def collect(item: Any) -> None:
        if len(found) < wanted:
            found.append(item)

    collect()
    return found
