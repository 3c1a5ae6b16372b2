"""The pytest plugin (``pytest11`` entry point ``face_contracts``, active once the package is
installed): vendor-faithful mocks of the five operations as fixtures.

- ``face_mock``: a real local HTTP server (pytest-httpserver) serving every vendor at its real
  path; point a client at ``face_mock.url`` instead of the vendor's host. Works with any HTTP
  client (httpx, requests, aiohttp, urllib, a subprocess).
- ``face_mock_respx``: the same engine routed in-process with respx at the vendors' own hosts
  (``www.ailabapi.com``, ``api.acedata.cloud``, ``api-cn``/``api-us.faceplusplus.com``) plus
  any host added, so unchanged httpx client code is mocked.
- ``face_mock_server``: the session's server behind ``face_mock`` (one per xdist worker).

Both mock fixtures are a :class:`~face_contracts.mock.FaceMock` (``set_faces``,
``force_error``, ``add_fault``, ``set_credentials``, ``register_image``, ``configure``,
``calls``, ``assert_called``, ``journal``, ``reset``), fresh for each test and configured by
the ``@pytest.mark.face_mock(...)`` marker. A request that reaches no operation (a wrong
path or method) fails the test with its near misses, unless the marker says
``allow_unmatched=True``; requests that reach an operation are answered as the vendor
answers them, errors included, and never fail a test by themselves. When a test fails, its
report gets a section listing every call the mock answered, and what the contract expected
of each refused request.

Hypothesis: function-scoped fixtures are not reset between the examples ``@given`` runs in
one test. Suppress the health check and call ``face_mock.reset()`` first in each example; it
forgets the journal, counters, issued face_tokens and fixture-method settings, and returns
to the marker's configuration::

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(...)
    def test_client(face_mock, ...):
        face_mock.reset()
        ...

This module imports only pytest: the engine and transports are imported by the fixtures
that need them, so a session that uses no mock does not pay for them.
"""

from __future__ import annotations

import threading
import traceback
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator, Mapping

    from face_contracts.mock import FaceMock
    from face_contracts.mock.transports import MockServer, RoutedFaceMock, ServedFaceMock
    from face_contracts.settings import Settings

__all__ = [
    "face_mock",
    "face_mock_detector",
    "face_mock_respx",
    "face_mock_server",
    "pytest_addoption",
    "pytest_configure",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
]

# The validation proxy's fixture, face_proxy: its module imports only pytest until used.
pytest_plugins = ["face_contracts._proxy_fixture"]

_FIXTURE_SETTINGS = ("hosts", "allow_unmatched")
"""The marker's own keyword arguments; every other one is a mock setting (a TOML key)."""
_FIXTURES = ("face_mock", "face_mock_respx")


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``face-contracts`` option group and the ``face_mock_*`` ini keys."""
    group = parser.getgroup("face-contracts", "face-contracts vendor mocks")
    group.addoption(
        "--face-mock-host",
        dest="face_mock_host",
        default=None,
        metavar="HOST",
        help="address the face_mock server listens on (ini face_mock_host; default 127.0.0.1)",
    )
    group.addoption(
        "--face-mock-port",
        dest="face_mock_port",
        type=int,
        default=None,
        metavar="PORT",
        help="port of the face_mock server; 0 picks a free one (ini face_mock_port; default 0)."
        " Under pytest-xdist worker N listens on PORT+N.",
    )
    parser.addini("face_mock_host", "address the face_mock server listens on", default="127.0.0.1")
    parser.addini("face_mock_port", "port of the face_mock server (0: a free port)", default="0")
    parser.addini(
        "face_mock_strict_urls",
        "an image URL that is neither registered nor on loopback gets the vendor's download "
        "failure instead of the bundled face picture",
        type="bool",
        default=False,
    )
    parser.addini(
        "face_mock_hosts",
        "more hosts (one per line) that face_mock_respx answers, besides the vendors' own",
        type="linelist",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, so that ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers",
        "face_mock(**settings, hosts=[], allow_unmatched=False): configure the face_mock and "
        "face_mock_respx fixtures for this test. settings are the mock's settings (the keys of "
        "a serve settings file: faces, errors, faults, responses, credentials, credits, "
        "rate_per_second, concurrency, strict_urls, images, recordings, seed...), checked as "
        "everywhere; paths are relative to the test file; hosts: more hosts for "
        "face_mock_respx; allow_unmatched: requests to unknown paths do not fail the test.",
    )


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def face_mock_detector() -> None:
    """Loads the face detector in the background, once per session, as soon as a mock
    fixture is first used: the first picture a test sends then does not also wait for the
    model (about a second), and a session without mocks never loads it."""
    from face_contracts import faces  # deferred: the plugin imports only pytest until used

    threading.Thread(target=faces.preload, name="face-contracts detector", daemon=True).start()


@pytest.fixture(scope="session")
def face_mock_server(pytestconfig: pytest.Config, face_mock_detector: None) -> Iterator[MockServer]:
    """The session's mock server (pytest-httpserver, threaded), started once per session,
    which under pytest-xdist means once per worker: each worker process has its own server
    on its own port, so parallel tests never share mock state. ``face_mock`` installs each
    test's fresh mock on it; use ``face_mock`` in tests."""
    del face_mock_detector
    # Deferred: the plugin loads only pytest until a fixture or marker is used.
    from face_contracts.mock.transports import MockServer

    host = pytestconfig.getoption("face_mock_host") or pytestconfig.getini("face_mock_host")
    port_option = pytestconfig.getoption("face_mock_port")
    port_text = pytestconfig.getini("face_mock_port") if port_option is None else port_option
    try:
        port = int(port_text)
    except ValueError:
        msg = f"face-contracts: face_mock_port must be a port number, not {port_text!r}"
        raise pytest.UsageError(msg) from None
    worker = getattr(pytestconfig, "workerinput", {}).get("workerid", "")
    if port and worker.startswith("gw"):
        port += int(worker[2:])  # one fixed port per xdist worker
    server = MockServer(host=host, port=port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def face_mock(
    face_mock_server: MockServer, request: pytest.FixtureRequest
) -> Iterator[ServedFaceMock]:
    """A fresh :class:`~face_contracts.mock.FaceMock` served on the session's local server:
    ``face_mock.url`` is its base URL (``http://127.0.0.1:PORT``). Configured by the
    ``face_mock`` marker; ``reset()`` returns to the marker's configuration. A request that
    reached no operation fails the test once it has run; an error inside the server fails it
    at teardown."""
    # Deferred: the plugin loads only pytest until a fixture or marker is used.
    from face_contracts.mock.transports import ServedFaceMock

    settings = _marker_settings(request)
    mock = ServedFaceMock(face_mock_server, _settings(request, settings))
    watched = _watch(request, mock, settings)
    previous = face_mock_server.mock
    face_mock_server.clear()  # pytest-httpserver's log and errors: bounded per test
    face_mock_server.mock = mock
    try:
        yield mock
    finally:
        face_mock_server.mock = previous
    errors = face_mock_server.errors()
    face_mock_server.clear()
    if errors:
        details = "\n".join("".join(traceback.format_exception(e)).rstrip() for e in errors)
        pytest.fail(f"face-contracts: the mock server failed while answering:\n{details}")
    watched.check()  # requests sent after the test's call (by other fixtures' teardown)


@pytest.fixture
def face_mock_respx(
    request: pytest.FixtureRequest, face_mock_detector: None
) -> Iterator[RoutedFaceMock]:
    """A fresh :class:`~face_contracts.mock.FaceMock` answering httpx requests in-process at
    the vendors' hosts, the ini ``face_mock_hosts`` and the marker's ``hosts``; ``.router``
    is the respx router, ``.add_host(host)`` serves one more host. Other hosts are refused
    as respx refuses them (``AllMockedAssertionError``); loopback hosts pass through, so
    ``face_mock`` and local picture servers still work alongside. Configured by the
    ``face_mock`` marker; ``reset()`` returns to the marker's configuration."""
    # Deferred: the plugin loads only pytest until a fixture or marker is used.
    from face_contracts.mock.transports import VENDOR_HOSTS, RoutedFaceMock

    del face_mock_detector
    settings = _marker_settings(request)
    hosts = [
        *VENDOR_HOSTS,
        *request.config.getini("face_mock_hosts"),
        *_as_list(settings.get("hosts", [])),
    ]
    mock = RoutedFaceMock(_settings(request, settings), hosts=hosts)
    watched = _watch(request, mock, settings)
    with mock.router:
        yield mock
    watched.check()  # requests sent after the test's call (by other fixtures' teardown)


# --- requests no operation serves ----------------------------------------------------------


class _Watched:
    """A mock fixture of one test and the requests to unknown paths already reported."""

    def __init__(self, mock: FaceMock, allowed: bool) -> None:
        self.mock = mock
        self.allowed = allowed
        self.reported: set[tuple[int, str, str, float]] = set()

    def unmatched(self) -> str | None:
        """The report of the requests that reached no operation, not reported before."""
        if self.allowed:
            return None
        # Deferred: the plugin loads only pytest until a fixture or marker is used.
        from face_contracts.mock.transports import unmatched_report

        fresh = [
            entry
            for entry in self.mock.journal
            if entry.operation is None
            and (entry.sequence, entry.method, entry.path, entry.at) not in self.reported
        ]
        self.reported.update((e.sequence, e.method, e.path, e.at) for e in fresh)
        return unmatched_report(fresh)

    def check(self) -> None:
        message = self.unmatched()
        if message is not None:
            hint = (
                "If the test means to call unknown paths, mark it "
                "@pytest.mark.face_mock(allow_unmatched=True)."
            )
            pytest.fail(f"{message}\n{hint}", pytrace=False)


_WATCHED = pytest.StashKey[list[_Watched]]()


def _watch(request: pytest.FixtureRequest, mock: FaceMock, settings: Mapping[str, Any]) -> _Watched:
    watched = _Watched(mock, bool(settings.get("allow_unmatched")))
    request.node.stash.setdefault(_WATCHED, []).append(watched)
    return watched


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """A request to a path no vendor serves fails the test itself, once it has run (not
    its teardown): the failure is the test's, reported with the test's outcome."""
    result = yield  # a test that failed already reports its journal (below)
    for watched in item.stash.get(_WATCHED, []):
        watched.check()
    return result


# --- reports --------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing test that used a mock fixture reports what the mock received."""
    del call
    report = yield
    funcargs: Mapping[str, Any] = getattr(item, "funcargs", {})
    if report.when == "call" and report.failed:
        for name in _FIXTURES:
            mock = funcargs.get(name)
            if mock is not None:
                # Deferred: the plugin loads only pytest until a fixture or marker is used.
                from face_contracts.mock.transports import journal_report

                report.sections.append((f"face-contracts {name}", journal_report(mock.journal)))
        for watched in item.stash.get(_WATCHED, []):
            unmatched = watched.unmatched()  # reported here, not again at teardown
            if unmatched is not None:
                report.sections.append(("face-contracts unknown paths", unmatched))
    return report


# --- the marker -----------------------------------------------------------------------------


def _marker_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The face_mock markers' keyword arguments (module, class, function), the closest last
    so that it wins; errors, faults, responses and hosts accumulate, tables merge."""
    # Deferred: the plugin loads only pytest until a fixture or marker is used.
    from face_contracts.settings import normalized

    settings: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("face_mock"))):
        if marker.args:
            _usage(f"the marker takes keyword arguments only, got {marker.args!r}")
        for name, value in normalized(marker.kwargs).items():
            if name in ("errors", "faults", "responses", "hosts"):
                settings[name] = [*settings.get(name, []), *_as_list(value)]
            elif isinstance(value, dict) and isinstance(settings.get(name), dict):
                settings[name] = {**settings[name], **value}  # credentials, images...
            else:
                settings[name] = value
    return settings


def _usage(message: str) -> None:
    pytest.fail(f"face-contracts: @pytest.mark.face_mock: {message}", pytrace=False)


def _as_list(value: Any) -> list[Any]:
    """One item or several: a string or a mapping is one item."""
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        return [value]
    return list(value)


def _settings(request: pytest.FixtureRequest, marked: Mapping[str, Any]) -> Settings:
    """The mock's base settings: the ini's, then the marker's (checked as the settings file
    is; relative paths start at the test file's folder)."""
    # Deferred: the plugin loads only pytest until a fixture or marker is used.
    from face_contracts.settings import SETTING_NAMES, Settings, SettingsError, parse_settings

    base = Settings(strict_urls=bool(request.config.getini("face_mock_strict_urls")))
    wanted = {name: value for name, value in marked.items() if name not in _FIXTURE_SETTINGS}
    unknown = sorted(set(wanted) - set(SETTING_NAMES))
    if unknown:
        known = ", ".join(sorted((*SETTING_NAMES, *_FIXTURE_SETTINGS)))
        _usage(f"unknown argument(s) {', '.join(unknown)}; known: {known}")
    problem = None
    try:
        return parse_settings(wanted, base_dir=request.path.parent, base=base, confine=False)
    except SettingsError as error:
        problem = str(error)
    _usage(f"{problem}")  # outside the handler: no chained traceback
    return base
