"""The live suite's pytest plugin: its options, the session fixture, secrets kept out of
every report, and the drift report (terminal section, JSON file, JUnit properties).

Load it with ``-p face_contracts.contract_suite.plugin`` (the documented command does), or
from a top-level ``conftest.py`` with ``pytest_plugins = ["face_contracts.contract_suite.plugin"]``
(``contract_tests/`` does): options must be known before pytest reads the command line.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from face_contracts.contract_suite.runner import DEFAULT_CALL_BUDGET, ContractRun, Settings
from face_contracts.contract_suite.targets import resolve_targets
from face_contracts.recordings import DEFAULT_STALE_AFTER_DAYS
from face_contracts.redaction import Redactor

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterator

    from _pytest.terminal import TerminalReporter

__all__ = [
    "contract_run",
    "pytest_addoption",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_make_collect_report",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_unconfigure",
]


class _State:
    """What the plugin keeps for one pytest session; registered as a plugin itself, for
    the report hook that is given no config."""

    def __init__(self, settings: Settings, redactor: Redactor) -> None:
        self.settings = settings
        self.redactor = redactor
        self.run: ContractRun | None = None
        self.previous_factory: Callable[..., logging.LogRecord] | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Note each judged test's outcome (and skip reason) in the drift report."""
        if self.run is None or report.nodeid not in self.run.report.results:
            return
        if report.when == "call" or (report.when == "setup" and not report.passed):
            result = self.run.report.results[report.nodeid]
            result.outcome = report.outcome
            if report.skipped and isinstance(report.longrepr, tuple):
                result.reason = str(report.longrepr[2]).removeprefix("Skipped: ")


_STATE = pytest.StashKey[_State]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """The suite's command-line options."""
    group = parser.getgroup("face-contracts-live", "face-contracts live contract suite")
    group.addoption(
        "--live",
        action="store_true",
        default=False,
        help="allow calls to targets off this machine (the paid vendors); they also need "
        "their FACE_CONTRACTS_* credentials",
    )
    group.addoption(
        "--call-budget",
        type=int,
        default=DEFAULT_CALL_BUDGET,
        metavar="N",
        help=f"at most N paid calls in this session, then skip (default {DEFAULT_CALL_BUDGET})",
    )
    group.addoption(
        "--strict-drift",
        action="store_true",
        default=False,
        help="drift warnings (unknown extra fields, stale recordings, undocumented "
        "behaviour) fail the test",
    )
    group.addoption(
        "--record",
        action="store_true",
        default=False,
        help="save every answer, redacted, under --recordings-dir",
    )
    group.addoption(
        "--recordings-dir",
        default=None,
        metavar="PATH",
        help="where recordings are saved and re-validated (default: fixtures/recordings "
        "under the rootdir)",
    )
    group.addoption(
        "--stale-after-days",
        type=float,
        default=DEFAULT_STALE_AFTER_DAYS,
        metavar="DAYS",
        help=f"a recording older than this is stale (default {DEFAULT_STALE_AFTER_DAYS})",
    )
    group.addoption(
        "--drift-report",
        default=None,
        metavar="PATH",
        help="write the machine-readable drift report (JSON) to PATH",
    )


def _settings(config: pytest.Config) -> Settings:
    recordings = config.getoption("recordings_dir")
    report = config.getoption("drift_report")
    budget = int(config.getoption("call_budget"))
    if budget < 0:
        msg = "--call-budget must be 0 or more"
        raise pytest.UsageError(msg)
    return Settings(
        live=bool(config.getoption("live")),
        call_budget=budget,
        strict=bool(config.getoption("strict_drift")),
        record=bool(config.getoption("record")),
        recordings_dir=(
            Path(recordings).resolve()
            if recordings
            else config.rootpath / "fixtures" / "recordings"
        ),
        stale_after_days=float(config.getoption("stale_after_days")),
        drift_report=Path(report).resolve() if report else None,
    )


def pytest_configure(config: pytest.Config) -> None:
    """Read the options; mask secrets in every log record made from now on."""
    state = _State(_settings(config), Redactor.from_environment())
    config.stash[_STATE] = state
    config.pluginmanager.register(state, "face-contracts-contract-suite-state")
    previous = logging.getLogRecordFactory()
    state.previous_factory = previous
    redactor = state.redactor

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return record
        redacted = redactor.text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return record

    logging.setLogRecordFactory(factory)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Put the log record factory back; stop the session if a fixture did not."""
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    if state.previous_factory is not None:
        logging.setLogRecordFactory(state.previous_factory)
    if state.run is not None:
        state.run.close()
    config.pluginmanager.unregister(state)


@pytest.fixture(scope="session")
def contract_run(pytestconfig: pytest.Config) -> Iterator[ContractRun]:
    """The session of the live suite: targets (the local mock started if needed), the call
    budget and the drift report."""
    state = pytestconfig.stash[_STATE]
    run = ContractRun(state.settings, redactor=state.redactor)
    state.run = run
    try:
        yield run.start()
    finally:
        run.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One ``recording_file`` per recording under --recordings-dir (None when there is none)."""
    if "recording_file" not in metafunc.fixturenames:
        return
    root = metafunc.config.stash[_STATE].settings.recordings_dir
    files = sorted(root.glob("*/*.json")) if root.is_dir() else []
    if files:
        metafunc.parametrize(
            "recording_file", files, ids=[f"{p.parent.name}/{p.stem}" for p in files]
        )
    else:
        metafunc.parametrize("recording_file", [None], ids=["no-recordings"])


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Where each vendor's requests go, and the session's options."""
    state = config.stash[_STATE]
    settings = state.settings
    targets = resolve_targets(_environ(), live=settings.live, local_url=None)
    shown = ", ".join(
        f"{vendor}: {'local mock' if t.where == 'local mock' else t.describe(state.redactor)}"
        for vendor, t in targets.items()
    )
    return [
        f"face-contracts live suite: {shown}",
        f"  live: {'on' if settings.live else 'off'}, call budget: {settings.call_budget} paid "
        f"call(s), strict drift: {'on' if settings.strict else 'off'}, record: "
        f"{'on' if settings.record else 'off'}",
    ]


def _environ() -> dict[str, str]:
    return dict(os.environ)


def _redact_report(report: pytest.TestReport | pytest.CollectReport, redactor: Redactor) -> None:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        path, line, message = longrepr
        report.longrepr = (path, line, redactor.text(str(message)))
    elif longrepr is not None:
        text = str(longrepr)
        redacted = redactor.text(text)
        if redacted != text:
            report.longrepr = redacted
    report.sections = [(title, redactor.text(content)) for title, content in report.sections]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Every test report (failures, skip reasons, captured output) with secrets masked,
    before the terminal, JUnit XML or any other plugin sees it."""
    del call
    report = yield
    state = item.config.stash.get(_STATE, None)
    if state is not None:
        _redact_report(report, state.redactor)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """Collection errors, secrets masked."""
    report = yield
    state = collector.config.stash.get(_STATE, None)
    if state is not None:
        _redact_report(report, state.redactor)
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the JSON drift report, if asked."""
    state = session.config.stash.get(_STATE, None)
    if state is None or state.run is None or state.settings.drift_report is None:
        return
    state.run.report.write(state.settings.drift_report, state.run.meta())


def pytest_terminal_summary(terminalreporter: TerminalReporter, config: pytest.Config) -> None:
    """The readable drift report, one section."""
    state = config.stash.get(_STATE, None)
    if state is None or state.run is None or not state.run.report.results:
        return
    run = state.run
    terminalreporter.section("face-contracts drift report")
    for line in run.report.text():
        terminalreporter.write_line(state.redactor.text(line))
    if any(target.paid for target in run.targets.values()):
        terminalreporter.write_line(
            f"paid calls: {run.paid_calls} of a budget of {run.settings.call_budget}"
        )
    if state.settings.drift_report is not None:
        terminalreporter.write_line(f"JSON drift report: {state.settings.drift_report}")
