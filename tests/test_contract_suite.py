"""The live contract suite, run as its users run it: against the local mock from this
repository, against drifting servers from another folder (the installed package), with
fake secrets that must appear in no output or artifact; and its gating, budget and cases
in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from face_contracts import validate
from face_contracts.contract_suite.cases import CASES, Case, Expect
from face_contracts.contract_suite.runner import ContractRun, Settings, fixture_image
from face_contracts.contract_suite.targets import ServerThread, is_loopback, resolve_targets
from face_contracts.mock import FaceMock, HttpRequest
from face_contracts.recordings import load_recordings
from face_contracts.server import MockApp
from face_contracts.settings import Settings as MockSettings

from .conftest import ROOT

FAKE = {
    "FACE_CONTRACTS_AILAB_API_KEY": "fc-fake-ailab-key-7Qm2Vx9L",
    "FACE_CONTRACTS_ACEDATA_TOKEN": "fc-fake-acedata-token-3Rt8Kp1Z",
    "FACE_CONTRACTS_FACEPP_API_KEY": "fc-fake-facepp-key-5Wn4Hj6D",
    "FACE_CONTRACTS_FACEPP_API_SECRET": "fc-fake-facepp-secret-8Yc2Bf0S",
}
BASES = (
    "FACE_CONTRACTS_AILAB_BASE_URL",
    "FACE_CONTRACTS_ACEDATA_BASE_URL",
    "FACE_CONTRACTS_FACEPP_BASE_URL",
)
SUITE = [
    "--pyargs",
    "face_contracts.contract_suite",
    "-p",
    "face_contracts.contract_suite.plugin",
]


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACE_CONTRACTS_")}
    env.update(extra)
    return env


def _pytest(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _leaks(texts: dict[str, str], folder: Path) -> list[str]:
    """Every (secret, place) where a fake secret shows: outputs, then every file."""
    places = dict(texts)
    for path in folder.rglob("*"):
        if path.is_file():
            places[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    return [
        f"{name} in {place}"
        for place, text in places.items()
        for name, secret in FAKE.items()
        if secret in text
    ]


# --- the drifting servers --------------------------------------------------------------------


Drift = Callable[[str, int, str, bytes], tuple[int, str, bytes]]


class DriftingApp:
    """The mock behind a layer that changes its vendor answers (never the admin API's)."""

    def __init__(self, drift: Drift) -> None:
        self.app = MockApp(FaceMock())
        self.drift = drift

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/__admin"):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            headers = dict(start.get("headers", []))
            status, content_type, body = self.drift(
                scope["path"],
                start["status"],
                headers.get(b"content-type", b"").decode(),
                b"".join(chunks),
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", content_type.encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


def _everything_drifts(
    path: str, status: int, content_type: str, body: bytes
) -> tuple[int, str, bytes]:
    """A landmark key renamed, an unknown field (echoing a secret), uppercase X, a wrong
    error status and a wrong content type: one drift per kind."""
    if status == 200 and path == "/facepp/v1/face/thousandlandmark":
        answer = orjson.loads(body)
        landmark = answer["face"].get("landmark", {})
        if "left_eye" in landmark:
            landmark["left_eye_x"] = landmark.pop("left_eye")
        return status, content_type, orjson.dumps(answer)
    if status == 200 and path == "/face/analyze":
        text = body.replace(b'"x":', b'"X":')
        return status, content_type, text
    if status == 200 and path == "/facepp/v3/detect":
        answer = orjson.loads(body)
        answer["debug_info"] = {"seen_key": FAKE["FACE_CONTRACTS_FACEPP_API_KEY"]}
        return status, content_type, orjson.dumps(answer)
    if status == 400 and path == "/api/portrait/analysis/face-key-points":
        return 500, content_type, body
    if status == 200 and path == "/api/portrait/analysis/face-analyzer-advanced":
        return status, "text/html; charset=utf-8", body
    return status, content_type, body


def _unknown_field(
    path: str, status: int, content_type: str, body: bytes
) -> tuple[int, str, bytes]:
    """Only an extra field in every success answer: a warning, not a failure."""
    if status == 200 and content_type.startswith("application/json"):
        answer = orjson.loads(body)
        answer["served_by"] = "edge-7"
        return status, content_type, orjson.dumps(answer)
    return status, content_type, body


@pytest.fixture
def drifting_server(request: pytest.FixtureRequest) -> Iterator[str]:
    with ServerThread(DriftingApp(request.param)) as server:
        yield server.url


# --- end to end ------------------------------------------------------------------------------


def test_in_repo_suite_passes_against_the_local_mock_and_leaks_no_secret(tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    result = _pytest(
        [
            "contract_tests",
            "-v",
            "-l",
            "-rA",
            "--record",
            "--recordings-dir",
            str(recordings),
            "--junitxml",
            str(tmp_path / "junit.xml"),
            "--drift-report",
            str(tmp_path / "drift.json"),
        ],
        ROOT,
        _environment(**FAKE),
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    report = orjson.loads((tmp_path / "drift.json").read_bytes())
    assert report["summary"]["passed"] == len(CASES)
    assert report["summary"]["failed"] == 0
    assert "face-contracts drift report" in result.stdout
    assert "acedata.face_analyze: no drift" in result.stdout
    # Every answer was recorded, redacted, and passes the contract when loaded again.
    loaded = load_recordings(recordings)
    assert len(loaded) == len(CASES)  # one per case: the face_token case records its own call
    assert all(r.report is not None and r.report.valid for r in loaded), [
        str(r.report) for r in loaded if r.report is not None and not r.report.valid
    ]
    assert not any(r.stale for r in loaded)
    ailab = next(r for r in loaded if r.case == "ailab.face_key_points/happy")
    assert ailab.request["credentials"] == "valid"
    assert ailab.request["files"]["image"]["bytes"] == len(fixture_image("astronaut.png"))
    assert _leaks({"stdout": result.stdout, "stderr": result.stderr}, tmp_path) == []


@pytest.mark.parametrize("drifting_server", [_everything_drifts], indirect=True)
def test_suite_from_another_folder_fails_and_names_each_drift(
    drifting_server: str, tmp_path: Path
) -> None:
    env = _environment(**FAKE, **dict.fromkeys(BASES, drifting_server))
    result = _pytest(
        [
            *SUITE,
            "--record",
            "--recordings-dir",
            str(tmp_path / "recordings"),
            "--junitxml",
            str(tmp_path / "junit.xml"),
            "--drift-report",
            str(tmp_path / "drift.json"),
        ],
        tmp_path,
        env,
    )
    assert result.returncode == 1, result.stdout[-4000:]
    report = orjson.loads((tmp_path / "drift.json").read_bytes())
    found = {
        (case["case"], drift["rule"], drift["pointer"], drift["fails"]): case["outcome"]
        for cases in report["operations"].values()
        for case in cases
        for drift in case["drifts"]
    }
    expected = {
        (
            "facepp.thousandlandmark/happy",
            "landmark.groups_match_request",
            "/face/landmark/left_eye",
            True,
        ),
        (
            "facepp.thousandlandmark/happy",
            "additionalProperties",
            "/face/landmark/left_eye_x",
            False,
        ),
        ("acedata.face_analyze/happy", "required", "/face_shape_set/0/face_profile/0/x", True),
        ("facepp.detect/happy", "additionalProperties", "/debug_info", False),
        ("ailab.face_key_points/missing-image", "error.status", "/error_detail/code", True),
        ("ailab.face_analyzer_advanced/happy", "content_type", "", True),
    }
    assert expected <= set(found), sorted(expected - set(found))
    assert found[("facepp.detect/happy", "additionalProperties", "/debug_info", False)] == "passed"
    assert (
        found[
            ("acedata.face_analyze/happy", "required", "/face_shape_set/0/face_profile/0/x", True)
        ]
        == "failed"
    )
    # The readable report names each drift with its pointer, and so does the JUnit XML.
    assert "FAIL at /face/landmark/left_eye [landmark.groups_match_request]" in result.stdout
    assert "WARN at /debug_info [additionalProperties]" in result.stdout
    assert "at (document) [content_type]: expected Content-Type application/json" in result.stdout
    junit = (tmp_path / "junit.xml").read_text()
    assert "at /face_shape_set/0/face_profile/0/x [required]" in junit
    assert 'name="drift" value="WARN at /debug_info [additionalProperties]' in junit
    # The drifting server echoed a secret into its answers: it is masked everywhere.
    assert "<redacted>" in (tmp_path / "drift.json").read_text()
    assert _leaks({"stdout": result.stdout, "stderr": result.stderr}, tmp_path) == []


@pytest.mark.parametrize("drifting_server", [_unknown_field], indirect=True)
def test_unknown_fields_are_warnings_unless_strict(drifting_server: str, tmp_path: Path) -> None:
    env = _environment(**dict.fromkeys(BASES, drifting_server))
    lenient = _pytest([*SUITE, "-k", "happy", "--drift-report", "lenient.json"], tmp_path, env)
    assert lenient.returncode == 0, lenient.stdout[-3000:]
    assert "WARN at /served_by [additionalProperties]" in lenient.stdout
    summary = orjson.loads((tmp_path / "lenient.json").read_bytes())["summary"]
    assert summary["drift_warnings"] == summary["passed"] == 5
    # --strict-drift makes the same warning a failure (in-process: the same runner).
    run = ContractRun(Settings(strict=True), dict.fromkeys(BASES, drifting_server)).start()
    try:
        happy = next(case for case in CASES if case.id == "facepp.detect/happy")
        outcome, message = _outcome(run, happy)
    finally:
        run.close()
    assert outcome == "failed"
    assert "FAIL at /served_by [additionalProperties]" in message


# --- in-process: targets, budget, cases --------------------------------------------------------


class _Node:
    """What the runner needs of a pytest item."""

    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid
        self.user_properties: list[tuple[str, object]] = []


def _engine_transport(mock: FaceMock, calls: list[str]) -> httpx.MockTransport:
    """A fake network: every request answered by the engine in-process, and counted."""

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        answer = mock.handle(
            HttpRequest(
                request.method,
                request.url.path,
                {k.lower(): v for k, v in request.headers.items()},
                request.read(),
            )
        )
        return httpx.Response(
            answer.status, content=answer.body, headers={"content-type": answer.content_type}
        )

    return httpx.MockTransport(handle)


def _remote_run(settings: Settings, *, credentials: bool = True) -> tuple[ContractRun, list[str]]:
    env = dict.fromkeys(BASES, "https://vendor.face-contracts.invalid")
    if credentials:
        env.update(FAKE)
    calls: list[str] = []
    transport = _engine_transport(FaceMock(), calls)
    return ContractRun(settings, env, transport=transport).start(), calls


def _outcome(run: ContractRun, case: Case) -> tuple[str, str]:
    try:
        run.check(case, _Node(case.id))  # type: ignore[arg-type]
    except pytest.skip.Exception as skipped:
        return "skipped", str(skipped.msg)
    except pytest.fail.Exception as failed:
        return "failed", str(failed.msg)
    return "passed", ""


def test_targets_come_from_the_environment() -> None:
    env = {
        "FACE_CONTRACTS_AILAB_BASE_URL": "http://127.0.0.1:9/",
        "FACE_CONTRACTS_FACEPP_BASE_URL": "https://api-us.faceplusplus.com",
        **FAKE,
    }
    targets = resolve_targets(env, live=False, local_url="http://127.0.0.1:5")
    assert (targets["ailab"].where, targets["ailab"].base_url) == ("loopback", "http://127.0.0.1:9")
    assert targets["acedata"].where == "local mock"
    assert targets["acedata"].credentials == (FAKE["FACE_CONTRACTS_ACEDATA_TOKEN"],)
    assert targets["facepp"].paid
    assert "add --live" in (targets["facepp"].skip_reason or "")
    assert FAKE["FACE_CONTRACTS_FACEPP_API_KEY"] not in repr(targets["facepp"])
    assert is_loopback("http://localhost:1")
    assert is_loopback("http://[::1]:1")
    assert not is_loopback("http://127.0.0.1.example.com")


def test_a_paid_target_needs_live_and_credentials() -> None:
    happy = next(case for case in CASES if case.id == "facepp.detect/happy")
    run, calls = _remote_run(Settings(live=False))
    try:
        outcome, reason = _outcome(run, happy)
    finally:
        run.close()
    assert outcome == "skipped"
    assert reason == (
        "FACE_CONTRACTS_FACEPP_BASE_URL is off this machine and calls may cost money: "
        "add --live to call it"
    )
    run, calls = _remote_run(Settings(live=True), credentials=False)
    try:
        outcome, reason = _outcome(run, happy)
    finally:
        run.close()
    assert (outcome, "\n" in reason) == ("skipped", False)
    assert "set FACE_CONTRACTS_FACEPP_API_KEY, FACE_CONTRACTS_FACEPP_API_SECRET" in reason
    assert calls == []


def test_the_call_budget_caps_paid_calls() -> None:
    run, calls = _remote_run(Settings(live=True, call_budget=3))
    chosen = [c for c in CASES if c.operation == "facepp.detect" and c.expect.outcome == "success"]
    try:
        outcomes = [_outcome(run, case) for case in chosen[:5]]
    finally:
        run.close()
    assert [outcome for outcome, _ in outcomes] == ["passed"] * 3 + ["skipped"] * 2
    assert outcomes[-1][1] == (
        "call budget spent: 3 of 3 paid call(s) made; raise --call-budget to run more"
    )
    assert run.paid_calls == len(calls) == 3


def test_every_request_the_suite_sends_for_a_success_is_a_valid_request() -> None:
    """The suite's own requests follow the request schemas (checked by the mock's journal),
    so a drift it reports is the vendor's, not the suite's."""
    mock = FaceMock(MockSettings(credentials={"facepp": ("k:s",)}))
    with ServerThread(MockApp(mock)) as server:
        env = {
            **dict.fromkeys(BASES, server.url),
            "FACE_CONTRACTS_FACEPP_API_KEY": "k",
            "FACE_CONTRACTS_FACEPP_API_SECRET": "s",
        }
        run = ContractRun(Settings(), env).start()
        try:
            for case in CASES:
                if case.expect.outcome != "success":
                    continue
                assert _outcome(run, case) == ("passed", ""), case.id
                entry = mock.journal[-1]
                assert entry.verdict is not None
                assert entry.verdict.valid, f"{case.id}: {entry.verdict}"
        finally:
            run.close()


def test_an_inferred_expectation_that_misses_is_a_warning() -> None:
    with ServerThread(MockApp(FaceMock())) as server:
        run = ContractRun(Settings(), dict.fromkeys(BASES, server.url)).start()
        try:
            inferred = Case(
                "ailab.face_key_points",
                "inferred",
                "",
                Expect("error", frozenset({"X"}), inferred=True),
            )
            assert _outcome(run, inferred) == ("passed", "")
            documented = Case("ailab.face_key_points", "documented", "", Expect("error"))
            outcome, message = _outcome(run, documented)
        finally:
            run.close()
    assert outcome == "failed"
    assert "FAIL at (document) [outcome]: expected an error answer" in message
    result = run.report.results[inferred.id]
    assert [(d.severity, d.rule) for d in result.drifts] == [("warning", "outcome")]


def test_cases_cover_every_operation_and_mistake() -> None:
    names: dict[str, set[str]] = {}
    for case in CASES:
        names.setdefault(case.operation, set()).add(case.name)
    for operation, found in names.items():
        assert {
            "happy",
            "wrong-credential",
            "missing-credential",
            "missing-image",
            "no-face",
        } <= found
        assert any(name.startswith("several-faces") for name in found), operation
    for operation in ("ailab.face_key_points", "facepp.thousandlandmark", "facepp.detect"):
        assert {
            "unsupported-format-gif",
            "truncated-jpeg",
            "huge-5000x5000",
            "over-byte-limit",
        } <= names[operation]
    assert {f"face-field-{item}" for item in ("age", "landmark201")} <= names[
        "ailab.face_key_points"
    ]
    assert "return-landmark-left_eye_eyelid" in names["facepp.thousandlandmark"]
    assert {"mode-0", "mode-1", "face-model-version-3.0"} <= names["acedata.face_analyze"]


def test_fixture_pictures_are_what_their_readme_says() -> None:
    from face_contracts.images import read_header

    expected = {
        "astronaut.png": ("PNG", 512, 512),
        "group.jpg": ("JPEG", 1264, 480),
        "uniform.png": ("PNG", 640, 480),
        "tiny.png": ("PNG", 20, 20),
        "huge.png": ("PNG", 5000, 5000),
        "wrong-format.gif": ("GIF", 256, 256),
    }
    for name, (image_format, width, height) in expected.items():
        info = read_header(fixture_image(name))
        assert (info.format, info.width, info.height) == (image_format, width, height), name
    assert validate(
        "facepp.detect",
        "request",
        {
            "body": {
                "api_key": "k",
                "api_secret": "s",
                "image_file": {"path": str(ROOT / "fixtures/images/truncated.jpg")},
            }
        },
    ).rules() == {("image.decodable", "/body/image_file")}
    with pytest.raises(ValueError, match="not a fixture picture"):
        fixture_image("../README.md")


def test_recordings_are_revalidated_and_stale_ones_flagged(tmp_path: Path) -> None:
    with ServerThread(MockApp(FaceMock())) as server:
        recorder = ContractRun(
            Settings(record=True, recordings_dir=tmp_path), dict.fromkeys(BASES, server.url)
        ).start()
        try:
            happy = next(case for case in CASES if case.id == "facepp.detect/happy")
            assert _outcome(recorder, happy) == ("passed", "")
        finally:
            recorder.close()
    (path,) = tmp_path.glob("facepp.detect/*.json")
    fresh = ContractRun(Settings(recordings_dir=tmp_path))
    fresh.check_recording(path, _Node("fresh"))  # type: ignore[arg-type]
    assert fresh.report.results["fresh"].drifts == []
    for strict, expected in ((False, "passed"), (True, "failed")):
        aged = ContractRun(Settings(recordings_dir=tmp_path, stale_after_days=0, strict=strict))
        outcome, message = _recording_outcome(aged, path)
        assert outcome == expected
        assert [d.rule for d in aged.report.results["recording"].drifts] == ["recording.stale"]
        assert ("[recording.stale]" in message) is strict
    path.write_text(path.read_text().replace('"request_id"', '"request_ref"'))
    outcome, message = _recording_outcome(ContractRun(Settings(recordings_dir=tmp_path)), path)
    assert outcome == "failed"
    assert "FAIL at /request_id [required]" in message
    assert "WARN at /request_ref [additionalProperties]" in message


def _recording_outcome(run: ContractRun, path: Path) -> tuple[str, str]:
    try:
        run.check_recording(path, _Node("recording"))  # type: ignore[arg-type]
    except pytest.fail.Exception as failed:
        return "failed", str(failed.msg)
    return "passed", ""


def test_an_unreachable_target_fails_in_one_redacted_line() -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://user:{FAKE['FACE_CONTRACTS_AILAB_API_KEY']}@127.0.0.1:{port}"
    env = {"FACE_CONTRACTS_AILAB_BASE_URL": url, **FAKE}
    run = ContractRun(Settings(), env).start()
    try:
        assert not run.targets["ailab"].admin
        outcome, message = _outcome(run, CASES[0])
    finally:
        run.close()
    assert outcome == "failed"
    assert message.startswith("ailab.face_key_points/happy: the request failed: ConnectError")
    assert FAKE["FACE_CONTRACTS_AILAB_API_KEY"] not in message
    assert FAKE["FACE_CONTRACTS_AILAB_API_KEY"] not in str(run.describe_targets())
    assert run.report.results[CASES[0].id].outcome == "failed"
