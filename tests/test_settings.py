"""One settings model: the TOML file, the admin API, the marker and the methods refuse the same
bad settings with the same message, naming the key and what is allowed."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest

from face_contracts.mock import FaceMock
from face_contracts.server import MockApp
from face_contracts.settings import Settings, SettingsError, parse_settings, settings_schema

from .test_server import AsgiClient

# (settings, the words the refusal must contain)
BAD_SETTINGS: list[tuple[dict[str, object], str]] = [
    ({"errors": [{"code": "NOPE"}]}, "errors[0].code: 'NOPE' is not a documented error code"),
    (
        {"errors": [{"code": "INVALID_FACE_TOKEN", "operation": "ailab.face_key_points"}]},
        "errors[0].code: 'INVALID_FACE_TOKEN' is not a documented error code; allowed: "
        "ERROR_PARAMETERS",
    ),
    ({"errors": [{"code": "INTERNAL_ERROR", "times": "x"}]}, "errors[0].times: 'x' is not null"),
    ({"errors": [{"code": "INTERNAL_ERROR", "nth": 0}]}, "errors[0].nth: 0 is not null"),
    ({"errors": [{"code": "INTERNAL_ERROR", "details": [1]}]}, "errors[0].details: [1] is not"),
    ({"errors": [{"code": "INTERNAL_ERROR", "colour": 1}]}, "unknown key(s) 'colour'"),
    ({"faults": [{"delay": math.nan}]}, "faults[0].delay: nan is not a finite number"),
    ({"faults": [{"delay": math.inf}]}, "faults[0].delay: inf is not a finite number"),
    ({"faults": [{"delay": -1}]}, "faults[0].delay: -1 is not a number >= 0"),
    ({"faults": [{"status": 404}]}, "faults[0].status: 404 is not null or an integer >= 500"),
    (
        {"faults": [{"delay": {"distribution": "uniform", "low": 2, "high": 1}}]},
        "faults[0].delay: high must be at least low",
    ),
    ({"faults": [{"delay": {"distribution": "pareto"}}]}, "faults[0].delay: {'distribution'"),
    ({"rate_per_second": math.nan}, "rate_per_second: nan is not a finite number"),
    ({"rate_per_second": 0}, "rate_per_second: 0 is not null or a number > 0"),
    ({"credits": -1}, "credits: -1 is not null or an integer >= 0"),
    ({"concurrency": 0}, "concurrency: 0 is not null or an integer >= 1"),
    ({"journal_limit": True}, "journal_limit: True is not of type 'integer'"),
    ({"credentials": {"facepp": ["no-colon"]}}, "credentials.facepp[0]: 'no-colon': a Face++"),
    ({"credentials": {"vendorx": ["k"]}}, "credentials: unknown key(s) 'vendorx'"),
    ({"operation_faces": {"x.y": 1}}, "operation_faces: 'x.y' is not an allowed value"),
    ({"faces": [[1, 2, 3]]}, "faces: [[1, 2, 3]] is not null or an integer"),
    ({"responses": [{"operation": "facepp.detect"}]}, "required key(s) 'body' missing"),
    ({"responses": [{"operation": "facepp.detect", "invalid": "x"}]}, "'x' is not an allowed"),
    ({"colour": "red"}, "(settings): unknown key(s) 'colour'; known: concurrency, credentials"),
]


@pytest.mark.parametrize(("settings", "words"), BAD_SETTINGS)
def test_a_bad_setting_is_refused_with_the_key_and_what_is_allowed(
    settings: dict[str, object], words: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        parse_settings(settings)
    assert words in str(refused.value)
    with pytest.raises(SettingsError) as by_method:
        FaceMock(**settings)  # type: ignore[arg-type]  # deliberately bad
    assert str(by_method.value) == str(refused.value)


# JSON has no NaN or infinity (orjson writes null), so those stay with the methods and files.
@pytest.mark.parametrize(
    ("settings", "words"), [case for case in BAD_SETTINGS if "finite" not in case[1]]
)
def test_the_admin_api_answers_400_with_the_same_message(
    settings: dict[str, object], words: str
) -> None:
    client = AsgiClient(MockApp(FaceMock()))
    answer = client.post("/__admin/config", content=orjson.dumps(settings))
    assert answer.status_code == 400
    assert words in answer.json()["error"]
    assert client.get("/__admin/config").json()["errors"] == []  # nothing half-applied


def test_a_bad_settings_file_stops_serve_with_one_line(tmp_path: Path) -> None:
    settings = tmp_path / "mock.toml"
    settings.write_text(
        textwrap.dedent(
            """
            [[errors]]
            code = "NOPE"
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "face_contracts", "serve", "--config", str(settings), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "errors[0].code: 'NOPE' is not a documented error code" in lines[0]
    assert str(settings) in lines[0]
    assert "Traceback" not in done.stderr


def test_the_convenient_python_forms_mean_the_plain_ones() -> None:
    pairs = FaceMock(credentials={"facepp": [("key", "secret")]})
    strings = FaceMock(credentials={"facepp": ["key:secret"]})
    assert pairs.settings.credentials == strings.settings.credentials == {"facepp": ("key:secret",)}
    mock = FaceMock()
    mock.set_credentials(facepp=["key:secret", ("k2", "s2")])
    assert mock.settings.credentials == {"facepp": ("key:secret", "k2:s2")}
    by_code = FaceMock(errors="INTERNAL_ERROR").settings.errors
    assert [error.code for error in by_code] == ["INTERNAL_ERROR"]


def test_reset_returns_to_the_base_settings_and_forgets_the_rest() -> None:
    mock = FaceMock(credits=5)
    mock.configure(credits=1, errors=[{"code": "INTERNAL_ERROR"}])
    handle = mock.add_fault(delay=0.1)
    assert (mock.settings.credits, len(mock.settings.errors), len(mock.settings.faults)) == (
        1,
        1,
        1,
    )
    mock.reset()
    assert (mock.settings.credits, mock.settings.errors, mock.settings.faults) == (5, (), ())
    assert handle.remove() is False  # already gone


def test_paths_resolve_in_the_settings_folder_and_never_from_the_admin_api(tmp_path: Path) -> None:
    (tmp_path / "face.jpg").write_bytes(b"picture")
    assert parse_settings({"images": {"u": "face.jpg"}}, base_dir=tmp_path).images == {
        "u": b"picture"
    }
    with pytest.raises(SettingsError, match="is outside"):
        parse_settings({"images": {"u": "../face.jpg"}}, base_dir=tmp_path / "sub")
    with pytest.raises(SettingsError, match="paths are read only from a settings file"):
        parse_settings({"images": {"u": "face.jpg"}})


def test_the_settings_schema_names_every_setting() -> None:
    schema = settings_schema()
    assert set(schema["properties"]) == set(Settings.__dataclass_fields__)
    codes = schema["properties"]["errors"]["items"]["properties"]["code"]["enum"]
    assert "INVALID_FACE_TOKEN" in codes
    assert "ERROR_NO_FACE_IN_FILE" in codes


def test_a_rule_id_already_in_force_is_refused() -> None:
    mock = FaceMock()
    mock.force_error("INTERNAL_ERROR", when=None)
    (first,) = mock.configure(faults=[{"id": "slow", "delay": 0.1}])
    assert first == "slow"
    with pytest.raises(SettingsError, match="rule id\\(s\\) 'slow' already in force"):
        mock.configure(errors=[{"id": "slow", "code": "INTERNAL_ERROR"}])
    assert [rule.id for rule in mock.settings.faults] == ["slow"]
