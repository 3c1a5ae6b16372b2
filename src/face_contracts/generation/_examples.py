"""Reproducible example documents for the command line: the same seed, the same lines."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from hypothesis import HealthCheck, Phase, given, seed, settings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from hypothesis import strategies as st

__all__ = ["generate"]


def generate(operation: str, kind: str, *, invalid: bool, count: int, seed: int) -> Iterator[str]:
    """``count`` documents as JSON lines, drawn deterministically from ``seed``."""
    from face_contracts.strategies import documents, invalid_documents

    strategy: st.SearchStrategy[Any] = (
        invalid_documents(operation, kind) if invalid else documents(operation, kind)
    )
    drawn: list[Any] = []
    for round_ in range(count * 4):  # Hypothesis may stop a run early; later rounds top it up
        drawn.extend(_draw(strategy, count - len(drawn), seed * 1009 + round_))
        if len(drawn) >= count:
            break
    for item in drawn[:count]:
        yield orjson.dumps(
            item.as_json() if invalid else item, option=orjson.OPT_SORT_KEYS
        ).decode()


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
