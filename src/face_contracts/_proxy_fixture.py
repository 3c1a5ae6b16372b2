"""The ``face_proxy`` pytest fixture: the validation proxy in front of your own target.

For teams whose tests call a staging server (or the vendors) for real: point the client's
base URL at ``face_proxy.url`` and every exchange is forwarded unchanged and judged against
the contract. A test whose traffic drifted fails at teardown with one line per drift.

Where traffic goes: ``FACE_CONTRACTS_PROXY_TARGET`` (the ``--target`` syntax, several
separated by commas: ``https://staging.example`` or ``facepp=https://...,ailab=https://...``),
or override the ``face_proxy_options`` fixture in a ``conftest.py`` to record, write the
drift report or be strict::

    @pytest.fixture(scope="session")
    def face_proxy_options() -> ProxyOptions:
        return ProxyOptions(parse_targets(["https://staging.example"]), port=0,
                            record=Path("fixtures/recordings"), strict_drift=True)

One proxy serves the session (its drift report, if asked, covers the whole session);
``face_proxy`` is each test's view of it. Like the plugin, this module imports only pytest
until a fixture is used.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from face_contracts.proxy import ProxyOptions, ProxyServer

__all__ = ["ProxiedTraffic", "face_proxy", "face_proxy_options", "face_proxy_server"]

TARGET_ENV = "FACE_CONTRACTS_PROXY_TARGET"


class ProxiedTraffic:
    """One test's view of the session's proxy: its URL, the exchanges made during the test
    (journal entries, secrets masked) and their drifts. ``fail_on_drift`` (default True):
    a failing drift seen during the test fails it at teardown."""

    def __init__(self, server: ProxyServer) -> None:
        self.server = server
        self.url = server.url
        self.fail_on_drift = True
        server.app.settle()
        self._since = server.app.last_exchange()

    def url_for(self, path: str) -> str:
        """The proxy's URL for a vendor path, e.g. ``/facepp/v3/detect``."""
        return self.url + path

    def exchanges(self) -> list[dict[str, Any]]:
        """The journal entries of the exchanges made since the test started."""
        self.server.app.settle()
        return self.server.app.journal_view(since=self._since)

    def drifts(self) -> list[dict[str, Any]]:
        """Every drift of those exchanges' answers, and every failure of their requests,
        each with ``operation`` and ``subject`` (``answer`` or ``request``)."""
        found: list[dict[str, Any]] = []
        for entry in self.exchanges():
            found.extend(
                {"operation": entry["operation"], "subject": "answer", **drift}
                for drift in entry["drifts"]
            )
            found.extend(
                {
                    "operation": entry["operation"],
                    "subject": "request",
                    **failure,
                    "fails": failure["severity"] == "failure"
                    or self.server.app.options.strict_drift,
                }
                for failure in entry["request_failures"]
            )
        return found

    def report(self) -> list[str]:
        """One line per failing drift: ``operation subject: at POINTER [rule]: ...``."""
        lines = []
        for drift in self.drifts():
            if not drift["fails"]:
                continue
            where = drift["pointer"] or "(document)"
            lines.append(
                f"{drift['operation']} {drift['subject']}: at {where} [{drift['rule']}]: "
                f"{drift['expected']}; got {drift['got']}"
            )
        return lines

    def assert_no_drift(self) -> None:
        """Fail now if any exchange of this test drifted (failing drifts only)."""
        __tracebackhide__ = True
        lines = self.report()
        if lines:
            pytest.fail(
                "face-contracts proxy: the traffic drifted from the contract:\n  "
                + "\n  ".join(lines),
                pytrace=False,
            )


@pytest.fixture(scope="session")
def face_proxy_options() -> ProxyOptions:
    """The session proxy's options: the targets from ``FACE_CONTRACTS_PROXY_TARGET`` on a
    free loopback port. Override this fixture to record, report or be strict."""
    # Deferred: like the plugin, this module imports only pytest until a fixture is used.
    from face_contracts.proxy import ProxyOptions, TargetError, parse_targets

    given = os.environ.get(TARGET_ENV, "")
    values = [value.strip() for value in given.split(",") if value.strip()]
    if not values:
        msg = (
            f"face_proxy: set {TARGET_ENV} to the target URL (or VENDOR=URL, comma-separated), "
            "or override the face_proxy_options fixture"
        )
        raise pytest.UsageError(msg)
    try:
        return ProxyOptions(parse_targets(values), port=0)
    except TargetError as error:
        msg = f"face_proxy: {TARGET_ENV}: {error}"
        raise pytest.UsageError(msg) from None


@pytest.fixture(scope="session")
def face_proxy_server(face_proxy_options: ProxyOptions) -> Iterator[ProxyServer]:
    """The session's proxy, started once; stopping it writes the reports it was asked for."""
    from face_contracts.proxy import ProxyServer  # deferred: the proxy loads only when used

    with ProxyServer(face_proxy_options) as server:
        yield server


@pytest.fixture
def face_proxy(face_proxy_server: ProxyServer) -> Iterator[ProxiedTraffic]:
    """The validation proxy for this test: send the client to ``face_proxy.url``; a failing
    drift in this test's traffic fails it at teardown (unless ``fail_on_drift`` is False)."""
    traffic = ProxiedTraffic(face_proxy_server)
    yield traffic
    if traffic.fail_on_drift:
        traffic.assert_no_drift()
