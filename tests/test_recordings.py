"""Recordings: saved redacted, re-validated and age-checked when loaded, replayed by the mock
for a matching request."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from face_contracts.mock import FaceMock, HttpRequest, encode_request
from face_contracts.mock._http import parse_body
from face_contracts.recordings import (
    Recording,
    RecordingError,
    load_recording,
    load_recordings,
    recording_path,
    request_summary,
    save_recording,
)
from face_contracts.settings import Settings, SettingsError, parse_settings

from .conftest import ROOT

PICTURE = (ROOT / "fixtures" / "images" / "astronaut.png").read_bytes()
KEY, SECRET = "recording-test-key-1f2e", "recording-test-secret-9a8b"


def _detect(key: str = KEY, secret: str = SECRET, landmark: str = "1") -> HttpRequest:
    import base64

    document = {
        "body": {
            "api_key": key,
            "api_secret": secret,
            "return_landmark": landmark,
            "image_file": {"base64": base64.b64encode(PICTURE).decode(), "filename": "a.png"},
        }
    }
    return encode_request("facepp.detect", document)


def _recording(request: HttpRequest, credentials: str = "valid", **changes: object) -> Recording:
    answer = FaceMock().handle(request)
    parsed = parse_body(request.headers["content-type"], request.body)
    recording = Recording(
        operation="facepp.detect",
        recorded_at=datetime(2025, 11, 1, 12, 0, tzinfo=UTC),
        host="api-us.faceplusplus.com",
        case="facepp.detect/return-landmark-1",
        request=request_summary("facepp.detect", request, parsed, credentials),  # type: ignore[arg-type]
        status=answer.status,
        content_type=answer.content_type,
        body=orjson.loads(answer.body),
    )
    return replace(recording, **changes)  # type: ignore[arg-type]


def test_a_recording_round_trips_without_secrets(tmp_path: Path) -> None:
    recording = _recording(_detect())
    path = save_recording(tmp_path, recording)
    assert path.parent == tmp_path / "facepp.detect"
    assert path.name.startswith("facepp-detect-return-landmark-1-")
    text = path.read_text()
    assert KEY not in text
    assert SECRET not in text
    assert '"api_key": "<redacted>"' in text
    now = datetime(2025, 11, 10, tzinfo=UTC)
    loaded = load_recording(path, now=now)
    assert loaded == recording
    assert loaded.report is not None
    assert loaded.report.valid
    assert not loaded.stale
    assert loaded.request["files"]["image_file"]["bytes"] == len(PICTURE)
    assert load_recordings(tmp_path, now=now) == (loaded,)


def test_an_old_recording_is_stale(tmp_path: Path) -> None:
    path = save_recording(tmp_path, _recording(_detect()))
    later = datetime(2025, 11, 1, 12, 0, tzinfo=UTC) + timedelta(days=31)
    assert load_recording(path, now=later).stale
    assert not load_recording(path, now=later, stale_after_days=60).stale


def test_a_drifted_recording_fails_validation_when_loaded(tmp_path: Path) -> None:
    good = _recording(_detect())
    body = dict(good.body)
    del body["request_id"]
    path = save_recording(tmp_path, replace(good, body=body))
    report = load_recording(path).report
    assert report is not None
    assert ("required", "/request_id") in report.rules()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"not json", "not JSON"),
        (b'{"format": "other"}', "not a recording"),
        (b'{"format": "face-contracts recording 1", "status": "200"}', "missing or malformed"),
    ],
)
def test_a_file_that_is_not_a_recording_is_refused(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(RecordingError, match=problem):
        load_recording(path)


def test_names_cannot_leave_the_recordings_folder(tmp_path: Path) -> None:
    path = recording_path(tmp_path, "facepp.detect", "../../etc/passwd", "key")
    assert path.parent == tmp_path / "facepp.detect"
    assert ".." not in path.name
    with pytest.raises(RecordingError, match="not an operation id"):
        recording_path(tmp_path, "../facepp.detect", "case", "key")
    outside = tmp_path / "outside"
    outside.mkdir()
    save_recording(outside, _recording(_detect()))
    root = tmp_path / "recordings"
    (root / "facepp.detect").mkdir(parents=True)
    target = next((outside / "facepp.detect").glob("*.json"))
    os.symlink(target, root / "facepp.detect" / "link.json")
    with pytest.raises(RecordingError, match="points outside"):
        load_recordings(root)


def test_the_mock_replays_a_recording_for_a_matching_request() -> None:
    recorded = _recording(_detect())
    body = dict(recorded.body)
    body["request_id"] = "1700000000,replayed-from-a-recording"
    mock = FaceMock(Settings(recordings=(replace(recorded, body=body),)))
    answer = mock.handle(_detect())
    assert answer.json()["request_id"] == "1700000000,replayed-from-a-recording"
    assert mock.journal[-1].status == 200
    # Other options, or a refused credential, are answered by the engine itself.
    assert "replayed" not in mock.handle(_detect(landmark="2")).json()["request_id"]
    mock.set_credentials(facepp=[("someone-else", "other-secret")])
    refused = mock.handle(_detect())
    assert refused.status == 401


def test_a_refusal_is_replayed_for_refused_credentials() -> None:
    refusal = _recording(
        _detect(),
        credentials="wrong",
        status=401,
        body={"error_message": "AUTHENTICATION_ERROR", "request_id": "1,recorded", "time_used": 1},
    )
    mock = FaceMock(Settings(credentials={"facepp": ("good:pair",)}, recordings=(refusal,)))
    answer = mock.handle(_detect())
    assert (answer.status, answer.json()["request_id"]) == (401, "1,recorded")
    assert mock.handle(_detect("good", "pair")).status == 200


def test_settings_load_a_recordings_folder(tmp_path: Path) -> None:
    save_recording(tmp_path / "recs", _recording(_detect()))
    config = parse_settings({"recordings": "recs"}, base_dir=tmp_path)
    assert len(config.recordings) == 1
    listed = config.to_json()["recordings"]
    assert listed == [
        {
            "operation": "facepp.detect",
            "case": "facepp.detect/return-landmark-1",
            "host": "api-us.faceplusplus.com",
            "recorded_at": "2025-11-01T12:00:00Z",
            "status": 200,
            "stale": config.recordings[0].stale,
        }
    ]
    assert config.merged({"recordings": config.recordings}).recordings == config.recordings * 2
    with pytest.raises(SettingsError, match="outside"):
        parse_settings({"recordings": "../elsewhere"}, base_dir=tmp_path)
    with pytest.raises(SettingsError, match="not a folder"):
        parse_settings({"recordings": "missing"}, base_dir=tmp_path)
    broken = _recording(_detect())
    body = dict(broken.body)
    body["unexpected"] = 1
    save_recording(tmp_path / "bad", replace(broken, body=body))
    with pytest.raises(SettingsError, match="breaks the contract"):
        parse_settings({"recordings": "bad"}, base_dir=tmp_path)
