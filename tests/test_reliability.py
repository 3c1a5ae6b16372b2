"""A bounded load test on loopback, part of the suite: the same checks as
`python benchmarks/soak.py`, with fewer requests."""

from __future__ import annotations

import sys

from .conftest import ROOT


def test_bounded_load_has_no_errors_and_exact_quotas() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import soak  # type: ignore[import-not-found]  # benchmarks/ is not a package
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    # Slow clients wait out the server's timeouts: tests/test_server_limits.py covers them.
    figures = soak.run(total=400, connections=32, slow=0, large=0)
    assert figures.requests == 400
    assert figures.transport_errors == 0
    assert figures.invalid_answers == 0
    assert figures.problems == []
    assert set(figures.statuses) == {200, 400}
