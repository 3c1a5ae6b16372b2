"""Scenario control (issue 15): stubbed and drifted answers, conditions on errors, faults
and stubs, removal one by one, the queryable journal and random latency, through the
Python API, the ``face_mock`` marker and the admin API, in-process and on a socket."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import orjson
import pytest

from face_contracts import validate
from face_contracts.errors import UnknownOperationError
from face_contracts.images import encode_image
from face_contracts.mock import FaceMock, HttpRequest, SettingsError, encode_request
from face_contracts.server import MockApp
from face_contracts.settings import DRIFT_LABELS

from .conftest import ROOT
from .test_server import AsgiClient, serving

if TYPE_CHECKING:
    from collections.abc import Callable

    from face_contracts.mock import JournalEntry

pytest_plugins = ["pytester"]

PICTURE = (ROOT / "mocks" / "images" / "default-face.jpg").read_bytes()
PICTURE_SHA256 = hashlib.sha256(PICTURE).hexdigest()
OTHER_PICTURE = encode_image("JPEG", 320, 240, seed=5, faces=((100, 50, 120, 140),))
HOSTS = {
    "ailab": "https://www.ailabapi.com",
    "acedata": "https://api.acedata.cloud",
    "facepp": "https://api-us.faceplusplus.com",
}
OPERATIONS = (
    "ailab.face_key_points",
    "ailab.face_analyzer_advanced",
    "acedata.face_analyze",
    "facepp.thousandlandmark",
    "facepp.detect",
)
LEFT_PUPIL = "/face/landmark/left_eye/left_eye_pupil_center"


# --- clients of the vendors, at a base URL -------------------------------------------------


@dataclass
class Target:
    """A mock fixture and where each vendor is reached through it."""

    mock: FaceMock
    bases: dict[str, str]

    def detect(self, *, key: str = "k", picture: bytes = PICTURE, **fields: str) -> httpx.Response:
        return httpx.post(
            self.bases["facepp"] + "/facepp/v3/detect",
            data={"api_key": key, "api_secret": "s", **fields},
            files={"image_file": ("face.jpg", picture, "image/jpeg")},
        )

    def dense(self, **fields: str) -> httpx.Response:
        return httpx.post(
            self.bases["facepp"] + "/facepp/v1/face/thousandlandmark",
            data={"api_key": "k", "api_secret": "s", "return_landmark": "all", **fields},
            files={"image_file": ("face.jpg", PICTURE, "image/jpeg")},
        )

    def key_points(self, *, key: str = "k", **fields: str) -> httpx.Response:
        return httpx.post(
            self.bases["ailab"] + "/api/portrait/analysis/face-key-points",
            headers={"ailabapi-api-key": key},
            data=fields,
            files={"image": ("face.jpg", PICTURE, "image/jpeg")},
        )

    def analyze(self, *, token: str = "t", **headers: str) -> httpx.Response:
        return httpx.post(
            self.bases["acedata"] + "/face/analyze",
            headers={"authorization": f"Bearer {token}", **headers},
            json={"image_url": "https://cdn.example.com/me.jpg"},
        )


@pytest.fixture(params=["in-process", "socket"])
def target(request: pytest.FixtureRequest) -> Target:
    """The same scenario in-process (respx, at the vendors' hosts) and on a real socket
    (pytest-httpserver, at face_mock.url)."""
    if request.param == "socket":
        served = request.getfixturevalue("face_mock")
        return Target(served, dict.fromkeys(HOSTS, served.url))
    return Target(request.getfixturevalue("face_mock_respx"), dict(HOSTS))


def _file(data: bytes) -> dict[str, str]:
    return {
        "filename": "face.jpg",
        "content_type": "image/jpeg",
        "base64": base64.b64encode(data).decode(),
    }


# Request documents of each operation (mock.handle(encode_request(...)): no transport).
REQUESTS: dict[str, dict[str, Any]] = {
    "ailab.face_key_points": {
        "headers": {"ailabapi-api-key": "k"},
        "body": {"image": _file(PICTURE), "face_field": "age,gender,landmark72,landmark201"},
    },
    "ailab.face_analyzer_advanced": {
        "headers": {"ailabapi-api-key": "k"},
        "body": {"image": _file(PICTURE)},
    },
    "acedata.face_analyze": {
        "headers": {"authorization": "Bearer t"},
        "body": {"image_url": "https://cdn.example.com/a.jpg"},
    },
    "facepp.thousandlandmark": {
        "body": {
            "api_key": "k",
            "api_secret": "s",
            "return_landmark": "all",
            "image_file": _file(PICTURE),
        },
    },
    "facepp.detect": {
        "body": {
            "api_key": "k",
            "api_secret": "s",
            "return_landmark": "1",
            "return_attributes": "gender,age,headpose,beauty",
            "image_file": _file(PICTURE),
        },
    },
}


def answer(mock: FaceMock, operation: str, **body: Any) -> tuple[int, Any, JournalEntry]:
    """Send ``operation``'s request document (fields overridden by ``body``) to the engine;
    the status, the parsed answer (or its text) and the journal entry."""
    document = {**REQUESTS[operation], "body": {**REQUESTS[operation]["body"], **body}}
    response = mock.handle(encode_request(operation, document))
    try:
        parsed = orjson.loads(response.body)
    except orjson.JSONDecodeError:
        parsed = response.body.decode()
    return response.status, parsed, mock.journal[-1]


# --- stubbed answers -----------------------------------------------------------------------


def test_a_stub_answers_with_its_json_body_status_and_headers(target: Target) -> None:
    body = {"request_id": "stubbed", "faces": [], "face_num": 0, "time_used": 1}
    handle = target.mock.respond("facepp.detect", body, status=202, headers={"x-stub": "yes"})
    stubbed = target.detect()
    assert (stubbed.status_code, stubbed.json()) == (202, body)
    assert stubbed.headers["content-type"] == "application/json"
    assert stubbed.headers["x-stub"] == "yes"
    entry = target.mock.calls("facepp.detect")[-1]
    assert (entry.status, entry.notes) == (202, (f"stub {handle.id}",))
    assert handle.remove() is True
    real = target.detect()
    assert real.status_code == 200
    assert validate("facepp.detect", "response", real.content).valid


def test_a_stub_answers_text_or_bytes_with_its_content_type(target: Target) -> None:
    target.mock.respond("acedata.face_analyze", "upstream melted", status=502, times=1)
    target.mock.respond("acedata.face_analyze", b"\x89PNG\r\n", content_type="image/png", times=1)
    target.mock.respond("acedata.face_analyze", b"\x00\x01", times=1)
    text = target.analyze()
    assert (text.status_code, text.text) == (502, "upstream melted")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    png = target.analyze()
    assert (png.status_code, png.content, png.headers["content-type"]) == (
        200,
        b"\x89PNG\r\n",
        "image/png",
    )
    raw = target.analyze()
    assert (raw.content, raw.headers["content-type"]) == (b"\x00\x01", "application/octet-stream")
    real = target.analyze()  # each stub answered its one time
    assert real.status_code == 200
    assert validate("acedata.face_analyze", "response", real.content).valid


# --- conditions ------------------------------------------------------------------------------


def test_a_field_condition_matches_the_whole_value_or_items_of_a_comma_list(
    target: Target,
) -> None:
    mock = target.mock
    mock.respond(
        "ailab.face_key_points",
        {"matched": "exact"},
        when={"fields": {"face_field": "age,landmark72"}},
    )
    mock.respond(
        "ailab.face_key_points", {"matched": "item"}, when={"fields": {"face_field": "landmark201"}}
    )
    mock.respond(
        "ailab.face_key_points",
        {"matched": "items"},
        when={"fields": {"face_field": ["gender", "landmark150"]}},
    )
    assert target.key_points(face_field="age,landmark72").json() == {"matched": "exact"}
    assert target.key_points(face_field="age, landmark201").json() == {"matched": "item"}
    assert target.key_points(face_field="landmark150,age,gender").json() == {"matched": "items"}
    for unmatched in ("gender", "age,landmark72,landmark150", "landmark150"):
        real = target.key_points(face_field=unmatched)
        assert real.status_code == 200
        assert "result" in real.json(), unmatched
    no_field = target.key_points()
    assert "result" in no_field.json()


def test_header_credential_and_picture_conditions(target: Target) -> None:
    mock = target.mock
    mock.force_error("used_up", when={"headers": {"X-Client": "batch"}})
    mock.force_error("INSUFFICIENT_PERMISSION", operation="facepp.detect", credential="blocked-key")
    mock.force_error("ERROR_USER_LOCKED", when={"credential": "locked-key"})
    mock.respond("facepp.detect", {"picture": "known"}, when={"image_sha256": PICTURE_SHA256})
    assert target.analyze(**{"x-client": "batch"}).json()["error"]["code"] == "used_up"
    assert target.analyze(**{"x-client": "interactive"}).status_code == 200
    assert target.analyze().status_code == 200
    # Stubs come before forced errors: this picture is not the stubbed one.
    blocked = target.detect(key="blocked-key", picture=OTHER_PICTURE)
    assert blocked.status_code == 403
    assert blocked.json()["error_message"].startswith("INSUFFICIENT_PERMISSION")
    assert target.key_points(key="locked-key").json()["error_code_str"] == "ERROR_USER_LOCKED"
    assert target.key_points(key="other-key").status_code == 200
    assert target.detect(key="other-key").json() == {"picture": "known"}
    other = target.detect(key="other-key", picture=OTHER_PICTURE)
    assert other.status_code == 200
    assert validate("facepp.detect", "response", other.content).valid
    # The credential never shows: not in the rules listed, not in the journal.
    shown = orjson.dumps(mock.settings.to_json()).decode()
    assert "blocked-key" not in shown
    assert "locked-key" not in shown
    assert all("blocked-key" not in entry.summary() for entry in mock.journal)


def test_only_matching_calls_count_toward_nth_and_times(target: Target) -> None:
    mock = target.mock
    target.detect(return_landmark="1")  # before the rule: never counted
    mock.force_error(
        "INSUFFICIENT_PERMISSION",
        operation="facepp.detect",
        when={"fields": {"return_landmark": "1"}},
        nth=2,
    )
    statuses = [
        target.detect(return_landmark=value).status_code for value in ("1", "2", "2", "1", "1")
    ]
    assert statuses == [200, 200, 200, 403, 200]
    mock.add_fault(operation="facepp.detect", status=503, when={"credential": "flaky"}, times=2)
    keys = ("steady", "steady", "flaky", "steady", "flaky", "flaky")
    assert [target.detect(key=key).status_code for key in keys] == [200, 200, 503, 200, 503, 200]


# --- ids, listing, removal ------------------------------------------------------------------


def test_every_rule_has_an_id_a_handle_removes_it_and_the_settings_list_it() -> None:
    mock = FaceMock()
    error = mock.force_error("INTERNAL_ERROR", operation="facepp.detect")
    fault = mock.add_fault(operation="facepp.detect", status=503)
    stub = mock.respond("facepp.detect", {"ok": True})
    assert [r.id for r in mock.settings.errors] == [error.id]
    assert [r.id for r in mock.settings.faults] == [fault.id]
    assert [r.id for r in mock.settings.responses] == [stub.id]
    assert len({error.id, fault.id, stub.id}) == 3
    assert mock.rule(fault.id) is mock.settings.faults[0]
    assert fault.remove() is True
    assert fault.remove() is False  # already gone
    assert mock.remove("no-such-id") is False
    assert mock.settings.faults == ()
    assert [r.id for r in mock.settings.errors] == [error.id]
    mock.reset()
    assert stub.remove() is False  # the reset took it
    assert mock.settings.responses == ()


# --- the journal ----------------------------------------------------------------------------


def test_the_journal_is_queried_by_operation_status_time_and_limit(
    face_mock_respx: FaceMock,
) -> None:
    target = Target(face_mock_respx, dict(HOSTS))
    target.detect()
    target.detect(key="")  # refused: 400
    target.analyze()
    target.key_points()
    mock = face_mock_respx
    assert [e.operation for e in mock.calls("facepp.detect")] == ["facepp.detect"] * 2
    assert [e.status for e in mock.calls("facepp.detect", status=200)] == [200]
    assert [e.operation for e in mock.calls(status=400)] == ["facepp.detect"]
    since = mock.journal[2].at
    assert [e.operation for e in mock.calls(since=since)] == [
        "acedata.face_analyze",
        "ailab.face_key_points",
    ]
    assert [e.operation for e in mock.calls(limit=1)] == ["ailab.face_key_points"]
    assert mock.calls(limit=0) == []
    assert len(mock.calls(limit=10)) == 4
    with pytest.raises(ValueError, match="limit must be 0 or more"):
        mock.calls(limit=-1)
    assert len(mock.assert_called("facepp.detect", times=2)) == 2


def test_unknown_operations_are_refused_everywhere_naming_the_known_ones() -> None:
    mock = FaceMock()
    known = ", ".join(OPERATIONS)
    queries: tuple[Callable[[], object], ...] = (
        lambda: mock.calls("facepp.detekt"),
        lambda: mock.calls(operation="facepp.detekt", status=200),
        lambda: mock.assert_called("facepp.detekt"),
    )
    for call in queries:
        with pytest.raises(UnknownOperationError) as unknown:
            call()
        assert str(unknown.value) == f"unknown operation 'facepp.detekt'; known: {known}"
    rules: tuple[Callable[[], object], ...] = (
        lambda: mock.force_error("INTERNAL_ERROR", operation="facepp.detekt"),
        lambda: mock.add_fault(operation="facepp.detekt", delay=0.1),
        lambda: mock.respond("facepp.detekt", {}),
        lambda: mock.respond("facepp.detekt", invalid="missing_key"),
    )
    for call in rules:
        with pytest.raises(SettingsError) as refused:
            call()
        assert "'facepp.detekt'" in str(refused.value)
        assert "facepp.thousandlandmark" in str(refused.value)
    client = AsgiClient(MockApp(FaceMock()))
    for path in ("/__admin/requests", "/__admin/requests/count"):
        refused_http = client.get(path, params={"operation": "facepp.detekt"})
        assert refused_http.status_code == 400
        assert refused_http.json() == {
            "error": f"unknown operation 'facepp.detekt'; known: {known}"
        }
    for kind, item in (
        ("errors", {"code": "INTERNAL_ERROR", "operation": "facepp.detekt"}),
        ("faults", {"operation": "facepp.detekt"}),
        ("responses", {"operation": "facepp.detekt", "body": {}}),
    ):
        refused_http = client.post(f"/__admin/{kind}", json=item)
        assert refused_http.status_code == 400
        assert "'facepp.detekt'" in refused_http.json()["error"]
        assert "facepp.thousandlandmark" in refused_http.json()["error"]


# --- random latency -------------------------------------------------------------------------


def _delays(delay: float | dict[str, Any], *, seed: int, calls: int = 12) -> list[float]:
    """The delays a fresh mock asks for, call after call (sampled, never slept here)."""
    mock = FaceMock(seed=seed)
    mock.add_fault(operation="facepp.detect", delay=delay)
    request = HttpRequest("POST", "/facepp/v3/detect", {}, b"")
    return [mock.handle(request).delay for _ in range(calls)]


def test_random_latency_is_reproducible_by_seed_and_within_its_bounds() -> None:
    uniform = {"distribution": "uniform", "low": 0.05, "high": 0.25}
    first, again = _delays(uniform, seed=7), _delays(uniform, seed=7)
    assert first == again
    assert all(0.05 <= value <= 0.25 for value in first)
    assert len(set(first)) == len(first)  # drawn, not constant
    assert _delays(uniform, seed=8) != first
    lognormal = {"distribution": "lognormal", "median": 0.1, "sigma": 0.5}
    drawn = _delays(lognormal, seed=3, calls=200)
    assert drawn == _delays(lognormal, seed=3, calls=200)
    assert all(value > 0 for value in drawn)
    assert sorted(drawn)[100] == pytest.approx(0.1, rel=0.35)  # its median, roughly
    assert _delays(0.125, seed=1, calls=3) == [0.125] * 3


def test_latency_settings_from_the_admin_api_are_the_same_draws() -> None:
    def delays_after_admin() -> list[float]:
        mock = FaceMock(seed=11)
        client = AsgiClient(MockApp(mock))
        posted = client.post(
            "/__admin/faults",
            json={
                "operation": "facepp.detect",
                "delay": {"distribution": "uniform", "low": 0.01, "high": 0.02},
            },
        )
        assert posted.status_code == 200
        listed = client.get("/__admin/faults").json()
        assert listed[0]["delay"] == {"distribution": "uniform", "low": 0.01, "high": 0.02}
        request = HttpRequest("POST", "/facepp/v3/detect", {}, b"")
        return [mock.handle(request).delay for _ in range(5)]

    first = delays_after_admin()
    assert (
        first
        == delays_after_admin()
        == _delays({"distribution": "uniform", "low": 0.01, "high": 0.02}, seed=11, calls=5)
    )


# --- drifted answers ------------------------------------------------------------------------

# One operation where each label is possible, and the rules validate reports for it.
DRIFTS: dict[str, tuple[str, set[frozenset[str]]]] = {
    "missing_key": ("acedata.face_analyze", {frozenset({"required"})}),
    "misnamed_key": ("acedata.face_analyze", {frozenset({"required", "additionalProperties"})}),
    "extra_key": ("acedata.face_analyze", {frozenset({"additionalProperties"})}),
    "misplaced_key": (
        "facepp.thousandlandmark",
        {frozenset({"required", "additionalProperties"})},
    ),
    "wrong_type": ("acedata.face_analyze", {frozenset({"type"})}),
    "wrong_enum": ("facepp.detect", {frozenset({"enum"}), frozenset({"const"})}),
    "out_of_range": (
        "acedata.face_analyze",
        {frozenset({"minimum"}), frozenset({"maximum"})},
    ),
    "wrong_count": ("acedata.face_analyze", {frozenset({"minItems"}), frozenset({"maxItems"})}),
    "bad_pattern": ("facepp.detect", {frozenset({"pattern"})}),
    "too_short": ("facepp.detect", {frozenset({"minLength"})}),
    "broken_invariant": ("ailab.face_key_points", set()),  # the invariant the note names
}
NOTE = re.compile(r"^drift (?P<label>\w+): (?P<rule>\S+) at (?P<pointer>\S+) \(.+\)$")


def test_every_drift_label_is_covered() -> None:
    assert set(DRIFTS) == set(DRIFT_LABELS)


@pytest.mark.parametrize("label", sorted(DRIFTS))
def test_a_drifted_answer_breaks_exactly_the_named_rule(label: str) -> None:
    operation, rule_sets = DRIFTS[label]
    mock = FaceMock()
    handle = mock.respond(operation, invalid=label)
    status, document, entry = answer(mock, operation)
    assert status == 200
    assert entry.notes[0] == f"stub {handle.id}"
    note = NOTE.match(entry.notes[1])
    assert note is not None, entry.notes
    assert note["label"] == label
    report = validate(operation, "response", document, request=REQUESTS[operation])
    assert not report.valid
    found = report.rules()
    assert (note["rule"], note["pointer"]) in found
    rules = frozenset(rule for rule, _ in found)
    assert rules in (rule_sets or {frozenset({note["rule"]})}), report
    # The same request without the stub is the vendor's valid answer.
    handle.remove()
    status, real, _ = answer(mock, operation)
    assert validate(operation, "response", real, request=REQUESTS[operation]).valid


def test_the_same_seed_gives_the_same_drift_and_seeds_vary_it() -> None:
    def note(seed: int) -> str:
        mock = FaceMock()
        mock.respond("acedata.face_analyze", invalid="wrong_type", seed=seed)
        return answer(mock, "acedata.face_analyze")[2].notes[1]

    assert note(4) == note(4)
    assert len({note(seed) for seed in range(6)}) > 1


def test_misnamed_key_at_a_pointer_renames_exactly_that_key(target: Target) -> None:
    real = target.dense().json()
    target.mock.respond("facepp.thousandlandmark", invalid="misnamed_key", at=LEFT_PUPIL)
    drifted = target.dense()
    assert drifted.status_code == 200
    left_eye = drifted.json()["face"]["landmark"]["left_eye"]
    renamed = set(left_eye) - set(real["face"]["landmark"]["left_eye"])
    assert "left_eye_pupil_center" not in left_eye
    assert len(renamed) == 1
    (new_name,) = renamed
    assert left_eye[new_name] == real["face"]["landmark"]["left_eye"]["left_eye_pupil_center"]
    others = {k: v for k, v in drifted.json()["face"]["landmark"].items() if k != "left_eye"}
    assert others == {k: v for k, v in real["face"]["landmark"].items() if k != "left_eye"}
    report = validate("facepp.thousandlandmark", "response", drifted.content)
    assert report.rules() == {
        ("required", LEFT_PUPIL),
        ("additionalProperties", f"/face/landmark/left_eye/{new_name}"),
    }
    entry = target.mock.calls("facepp.thousandlandmark")[-1]
    assert entry.notes[1] == (
        f"drift misnamed_key: required at {LEFT_PUPIL} "
        f"(key 'left_eye_pupil_center' is renamed {new_name!r})"
    )


def test_a_drift_at_a_place_reaches_below_it_when_the_place_itself_cannot_take_it() -> None:
    mock = FaceMock()
    mock.respond("facepp.thousandlandmark", invalid="wrong_type", at="/face/landmark/nose")
    status, document, entry = answer(mock, "facepp.thousandlandmark")
    assert status == 200
    note = NOTE.match(entry.notes[1])
    assert note is not None
    assert note["pointer"] == "/face/landmark/nose" or note["pointer"].startswith(
        "/face/landmark/nose/"
    )
    assert validate("facepp.thousandlandmark", "response", document).rules() == {
        ("type", note["pointer"])
    }


def test_a_drift_impossible_at_its_place_names_the_places_where_it_is_possible() -> None:
    mock = FaceMock()
    mock.respond("facepp.detect", invalid="wrong_enum", at="/faces/0/landmark/nose_tip")
    status, text, entry = answer(mock, "facepp.detect")
    assert status == 500
    assert text.startswith(
        "face-contracts: no 'wrong_enum' drift at '/faces/0/landmark/nose_tip' in this answer "
        "of facepp.detect.\nLabels possible at /faces/0/landmark/nose_tip: extra_key,"
    )
    assert "Pointers where wrong_enum is possible, nearest first: /faces/0/" in text
    assert "/faces/0/attributes/gender/value" in text
    assert (
        entry.notes[1]
        == "drift wrong_enum at /faces/0/landmark/nose_tip impossible for this answer"
    )
    mock.reset()
    mock.respond("facepp.detect", invalid="wrong_count")
    status, text, _ = answer(mock, "facepp.detect")
    assert status == 500
    labels = text.split("labels that do: ", 1)[1].strip().split(", ")
    assert "wrong_count" not in labels
    assert {"missing_key", "misnamed_key", "wrong_type"} <= set(labels)


def test_a_drift_leaves_a_refused_request_to_the_vendor() -> None:
    mock = FaceMock()
    mock.respond("facepp.detect", invalid="missing_key")
    response = mock.handle(encode_request("facepp.detect", {"body": {"api_key": "k"}}))
    assert response.status == 400
    assert orjson.loads(response.body)["error_message"] == "MISSING_ARGUMENTS: api_secret"
    assert mock.journal[-1].notes[1] == (
        "drift missing_key not applied: the vendor refuses this request"
    )


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        (
            {"invalid": "renamed"},
            "responses[0].invalid: 'renamed' is not an allowed value; allowed: missing_key, "
            "misnamed_key, extra_key",
        ),
        ({"invalid": "missing_key", "at": "face"}, "responses[0].at: 'face' does not match"),
        (
            {"invalid": "misnamed_key", "at": "/face/landmark/left_eye/left_eye_pupil_centre"},
            "responses[0].at: '/face/landmark/left_eye/left_eye_pupil_centre' is no place in a "
            "success answer of facepp.thousandlandmark: 'left_eye_pupil_centre' is not under "
            "/face/landmark/left_eye; keys there: left_eye_pupil_center,",
        ),
        (
            {"invalid": "misnamed_key", "at": "/face/landmarks"},
            "'landmarks' is not under /face; keys there: landmark, face_rectangle",
        ),
        ({"invalid": "misnamed_key", "body": {}}, "unknown key(s) 'body'"),
        ({"body": {}, "when": {"colour": "red"}}, "responses[0].when: unknown key(s) 'colour'"),
        ({"body": {}, "when": {"image_sha256": "abc"}}, "responses[0].when.image_sha256: 'abc'"),
        ({"body": {}, "nth": 0}, "responses[0].nth: 0 is not null or an integer >= 1"),
    ],
)
def test_bad_stubs_are_refused_alike_by_methods_and_the_admin_api(
    changes: dict[str, Any], words: str
) -> None:
    item = {"operation": "facepp.thousandlandmark", **changes}
    with pytest.raises(SettingsError) as refused:
        FaceMock().configure(responses=[item])
    assert words in str(refused.value)
    answer_ = AsgiClient(MockApp(FaceMock())).post("/__admin/responses", json=item)
    assert answer_.status_code == 400
    assert answer_.json()["error"] == str(refused.value)


def test_respond_refuses_what_it_cannot_mean() -> None:
    mock = FaceMock()
    with pytest.raises(SettingsError, match="give a body or an invalid label, not both"):
        mock.respond("facepp.detect", {"a": 1}, invalid="missing_key")
    with pytest.raises(SettingsError, match="at= places a drift: give it with invalid="):
        mock.respond("facepp.detect", {"a": 1}, at="/faces")
    with pytest.raises(SettingsError, match=r"faults\[0\].delay: \{'distribution': 'pareto'"):
        mock.add_fault(delay={"distribution": "pareto", "alpha": 1})
    assert mock.settings.responses == ()
    assert mock.settings.faults == ()


# --- the admin API, in-process and on a real socket -----------------------------------------


def _detect_over(http: Any, base: str = "", **fields: str) -> httpx.Response:
    answer: httpx.Response = http.post(
        base + "/facepp/v3/detect",
        data={"api_key": "k", "api_secret": "s", **fields},
        files={"image_file": ("face.jpg", PICTURE, "image/jpeg")},
    )
    return answer


def test_the_admin_api_adds_lists_and_removes_each_rule_by_id() -> None:
    client = AsgiClient(MockApp(FaceMock()))
    ids = {}
    for kind, item in (
        (
            "errors",
            {
                "code": "INSUFFICIENT_PERMISSION",
                "operation": "facepp.detect",
                "when": {"credential": "blocked"},
            },
        ),
        (
            "faults",
            {
                "operation": "facepp.detect",
                "status": 503,
                "when": {"fields": {"return_landmark": "2"}},
            },
        ),
        (
            "responses",
            {
                "operation": "facepp.detect",
                "body": {"stub": True},
                "when": {"headers": {"x-stub": "1"}},
            },
        ),
    ):
        posted = client.post(f"/__admin/{kind}", json=item)
        assert posted.status_code == 200
        ids[kind] = posted.json()["id"]
        assert [rule["id"] for rule in posted.json()[kind]] == [ids[kind]]
        assert [rule["id"] for rule in client.get(f"/__admin/{kind}").json()] == [ids[kind]]
    listed = client.get("/__admin/errors").json()[0]
    assert listed["when"] == {"credential": "<redacted>"}
    assert _detect_over(client, api_key="blocked").status_code == 403
    assert _detect_over(client, return_landmark="2").status_code == 503
    stubbed = client.post(
        "/facepp/v3/detect",
        headers={"x-stub": "1"},
        data={"api_key": "k", "api_secret": "s"},
        files={"image_file": ("face.jpg", PICTURE, "image/jpeg")},
    )
    assert stubbed.json() == {"stub": True}
    # A rule of another kind is not removed by the wrong route.
    wrong = client.delete(f"/__admin/faults/{ids['errors']}")
    assert wrong.status_code == 404
    assert wrong.json()["error"] == (
        f"no fault with id {ids['errors']!r}; faults in force: {ids['faults']}"
    )
    for kind, rule_id in ids.items():
        removed = client.delete(f"/__admin/{kind}/{rule_id}")
        assert removed.json() == {"removed": rule_id, kind: []}
        again = client.delete(f"/__admin/{kind}/{rule_id}")
        assert again.status_code == 404
        assert repr(rule_id) in again.json()["error"]
    assert _detect_over(client, api_key="blocked", return_landmark="2").status_code == 200
    missing = client.delete("/__admin/rules/x")
    assert missing.status_code == 404
    assert "DELETE /__admin/responses/{id}" in missing.json()["routes"]


def test_the_admin_api_serves_drifts_and_the_journal_records_the_broken_rule() -> None:
    client = AsgiClient(MockApp(FaceMock()))
    posted = client.post(
        "/__admin/responses",
        json={
            "operation": "facepp.thousandlandmark",
            "invalid": "misnamed_key",
            "at": LEFT_PUPIL,
            "times": 1,
        },
    )
    assert posted.status_code == 200
    assert posted.json()["responses"][0] == {
        "id": posted.json()["id"],
        "operation": "facepp.thousandlandmark",
        "invalid": "misnamed_key",
        "seed": 0,
        "at": LEFT_PUPIL,
        "when": {},
        "nth": None,
        "times": 1,
    }
    drifted = client.post(
        "/facepp/v1/face/thousandlandmark",
        data={"api_key": "k", "api_secret": "s", "return_landmark": "all"},
        files={"image_file": ("face.jpg", PICTURE, "image/jpeg")},
    )
    assert ("required", LEFT_PUPIL) in validate(
        "facepp.thousandlandmark", "response", drifted.content
    ).rules()
    (entry,) = client.get(
        "/__admin/requests", params={"operation": "facepp.thousandlandmark"}
    ).json()
    assert entry["notes"][1].startswith(f"drift misnamed_key: required at {LEFT_PUPIL} (key ")


def test_the_admin_journal_query_and_count() -> None:
    client = AsgiClient(MockApp(FaceMock()))
    _detect_over(client)
    _detect_over(client, api_key="")
    client.post(
        "/face/analyze",
        headers={"authorization": "Bearer t"},
        json={"image_url": "https://x.example/a.jpg"},
    )
    everything = client.get("/__admin/requests").json()
    assert [e["status"] for e in everything] == [200, 400, 200]

    def count(**query: Any) -> int:
        counted = client.get("/__admin/requests/count", params=query)
        assert counted.status_code == 200, counted.text
        listed = client.get("/__admin/requests", params=query).json()
        assert counted.json()["count"] == len(listed)
        return int(counted.json()["count"])

    assert count() == 3
    assert count(operation="facepp.detect") == 2
    assert count(operation="facepp.detect", status=400) == 1
    assert count(status=200) == 2
    assert count(since=everything[2]["at"]) == 1
    assert count(since=everything[2]["at"] + 3600) == 0
    limited = client.get("/__admin/requests", params={"limit": 1}).json()
    assert [e["operation"] for e in limited] == ["acedata.face_analyze"]
    assert client.get("/__admin/requests", params={"limit": 0}).json() == []
    for query, words in (
        ({"colour": "red"}, "unknown query parameter(s) colour; known: limit, operation, since"),
        ({"status": "ok"}, "status and limit are integers, since is a Unix time in seconds"),
        ({"limit": -1}, "limit must be 0 or more, not -1"),
    ):
        refused = client.get("/__admin/requests/count", params=query)
        assert refused.status_code == 400
        assert words in refused.json()["error"]


def test_scenarios_over_the_standalone_server_socket() -> None:
    with serving() as (url, _):
        stub = httpx.post(
            f"{url}/__admin/responses",
            json={
                "operation": "facepp.detect",
                "body": "maintenance",
                "status": 503,
                "when": {"credential": "old-key"},
            },
        )
        assert stub.status_code == 200
        with httpx.Client() as http:
            maintenance = _detect_over(http, url, api_key="old-key")
            assert (maintenance.status_code, maintenance.text) == (503, "maintenance")
            assert _detect_over(http, url).status_code == 200
        count = httpx.get(
            f"{url}/__admin/requests/count", params={"operation": "facepp.detect", "status": 503}
        )
        assert count.json() == {"count": 1}
        removed = httpx.delete(f"{url}/__admin/responses/{stub.json()['id']}")
        assert removed.json() == {"removed": stub.json()["id"], "responses": []}
        with httpx.Client() as http:
            assert _detect_over(http, url, api_key="old-key").status_code == 200
        assert httpx.delete(f"{url}/__admin/responses/{stub.json()['id']}").status_code == 404


# --- the marker and the plugin's errors -------------------------------------------------------

MARKED = """
import httpx
import pytest
import respx

from face_contracts import validate

from pathlib import Path

PICTURE = Path(PICTURE_PATH).read_bytes()
FACEPP = "https://api-us.faceplusplus.com"


def detect(base, key="k", **fields):
    return httpx.post(
        base + "/facepp/v3/detect",
        data={"api_key": key, "api_secret": "s", **fields},
        files={"image_file": ("face.jpg", PICTURE, "image/jpeg")},
    )


pytestmark = pytest.mark.face_mock(
    errors=[{"code": "INSUFFICIENT_PERMISSION", "operation": "facepp.detect",
             "when": {"credential": "blocked"}}],
)


@pytest.mark.face_mock(
    responses=[{"operation": "facepp.detect", "body": {"stub": 1}, "times": 1,
                "when": {"fields": {"return_landmark": "2"}}}],
    faults=[{"operation": "facepp.detect", "status": 503, "nth": 2,
             "when": {"fields": {"return_landmark": "1"}}}],
)
@pytest.mark.parametrize("fixture", ["face_mock", "face_mock_respx"])
def test_marker_rules(fixture, request):
    mock = request.getfixturevalue(fixture)
    base = mock.url if fixture == "face_mock" else FACEPP
    assert detect(base, key="blocked").status_code == 403
    assert detect(base, return_landmark="2").json() == {"stub": 1}
    assert detect(base, return_landmark="2").status_code == 200
    assert [detect(base, return_landmark="1").status_code for _ in range(3)] == [200, 503, 200]
    # The module's marker and the function's stack: one rule of each kind.
    settings = mock.settings
    assert (len(settings.errors), len(settings.faults), len(settings.responses)) == (1, 1, 1)
    assert len(mock.calls("facepp.detect", status=503)) == 1


@pytest.mark.face_mock(
    responses=[{"operation": "facepp.thousandlandmark", "invalid": "misnamed_key",
                "at": "/face/landmark/left_eye/left_eye_pupil_center"}],
)
def test_marker_drift(face_mock):
    answer = httpx.post(
        face_mock.url + "/facepp/v1/face/thousandlandmark",
        data={"api_key": "k", "api_secret": "s", "return_landmark": "all"},
        files={"image_file": ("face.jpg", PICTURE, "image/jpeg")},
    )
    assert "left_eye_pupil_center" not in answer.json()["face"]["landmark"]["left_eye"]
    report = validate("facepp.thousandlandmark", "response", answer.content)
    assert ("required", "/face/landmark/left_eye/left_eye_pupil_center") in report.rules()


def test_unknown_host_says_how_to_add_it(face_mock_respx):
    with pytest.raises(respx.models.AllMockedAssertionError) as refused:
        httpx.get("https://faces.internal.example/facepp/v3/detect")
    message = str(refused.value)
    assert "face_mock_respx.add_host('faces.internal.example')" in message
    assert "@pytest.mark.face_mock(hosts=['faces.internal.example'])" in message
    assert "face_mock_hosts" in message


def test_unknown_path_fails_the_test(face_mock):
    httpx.post(face_mock.url + "/facepp/v3/detekt")


@pytest.mark.face_mock(responses=[{"operation": "facepp.detect", "invalid": "renamed"}])
def test_bad_label(face_mock):
    pass
"""


def test_the_marker_configures_every_scenario_and_failures_belong_to_the_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_marked=MARKED.replace(
            "PICTURE_PATH", repr(str(ROOT / "mocks/images/default-face.jpg"))
        )
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=4, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_unknown_path_fails_the_test _*",
            "face-contracts: 1 request(s) reached no operation of the mock*",
            "  POST /facepp/v3/detekt -> 404",
            "    near miss: POST /facepp/v3/detect (facepp.detect): similar path",
        ]
    )
    assert "ERROR at teardown" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_bad_label*",
            "face-contracts: @pytest.mark.face_mock: responses[[]0[]].invalid: 'renamed' is not "
            "an allowed value; allowed: missing_key, misnamed_key, extra_key*",
        ]
    )


def test_an_unknown_path_in_a_failing_test_is_reported_with_its_failure(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_both=textwrap.dedent(
            """
            import httpx

            def test_fails_anyway(face_mock):
                httpx.get(face_mock.url + "/nowhere")
                assert False, "the client gave up"
            """
        )
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*the client gave up*",
            "*face-contracts unknown paths*",
            "  GET /nowhere -> 404",
        ]
    )
    assert "ERROR at teardown" not in result.stdout.str()


# --- the small things: --version, example --variant, small example pictures ----------------


def _example(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, list[Any], str]:
    from face_contracts.cli import main

    code = main(["example", *arguments])
    out, err = capsys.readouterr()
    return code, [orjson.loads(line) for line in out.splitlines()], err


def _picture_sizes(requests: list[dict[str, Any]]) -> set[tuple[int, int]]:
    """The sizes of the pictures the requests carry (a request by image URL carries none)."""
    from PIL import Image

    sizes = set()
    for request in requests:
        body = request["body"]
        part = body.get("image") or body.get("image_file") or body.get("image_base64")
        if part is None:
            continue
        data = base64.b64decode(part["base64"] if isinstance(part, dict) else part)
        with Image.open(io.BytesIO(data)) as picture:
            sizes.add(picture.size)
    return sizes


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    from face_contracts.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"face-contracts {version('face-contracts')}\n"


def test_example_requests_carry_small_pictures_unless_asked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, documents, _ = _example(capsys, "facepp.thousandlandmark", "request", "--count", "6")
    assert code == 0
    assert _picture_sizes(documents) == {(100, 100)}  # its minimum
    code, documents, _ = _example(capsys, "ailab.face_key_points", "request", "--count", "3")
    assert _picture_sizes(documents) == {(64, 64)}
    code, documents, _ = _example(
        capsys, "facepp.detect", "request", "--image-size", "640x480", "--count", "6"
    )
    assert _picture_sizes(documents) == {(640, 480)}
    for document in documents:
        assert validate("facepp.detect", "request", document).valid
    code, cases, _ = _example(
        capsys, "ailab.face_key_points", "request", "--invalid", "--count", "12", "--seed", "5"
    )
    assert code == 0
    assert all(case["rule"] != "image.max_bytes" for case in cases)
    assert max(len(orjson.dumps(case)) for case in cases) < 200_000
    for size, words in (
        ("40x40", "image_size 40x40 is outside what facepp.detect accepts: 48x48 to 4096x4096"),
        ("wide", "--image-size must be WIDTHxHEIGHT in pixels, such as 640x480, not 'wide'"),
    ):
        code, _, err = _example(capsys, "facepp.detect", "request", "--image-size", size)
        assert (code, err) == (2, f"face-contracts: error: {words}\n")


def test_example_and_strategies_draw_the_documented_variant(
    capsys: pytest.CaptureFixture[str],
) -> None:
    arguments = ("ailab.face_analyzer_advanced", "response", "--variant", "face_detail_infos")
    code, documents, _ = _example(capsys, *arguments, "--count", "3", "--seed", "4")
    assert code == 0
    for document in documents:
        assert "face_detail_infos" in document
        assert validate(
            "ailab.face_analyzer_advanced", "response", document, variant="face_detail_infos"
        ).valid
        assert not validate("ailab.face_analyzer_advanced", "response", document).valid
    code, cases, _ = _example(capsys, *arguments, "--invalid", "--count", "4", "--seed", "4")
    for case in cases:
        assert case["variant"] == "face_detail_infos"
        report = validate(
            "ailab.face_analyzer_advanced", "response", case["document"], variant=case["variant"]
        )
        assert report.rules() == {(e["rule"], e["pointer"]) for e in case["expected"]}
    code, _, err = _example(capsys, "ailab.face_analyzer_advanced", "response", "--variant", "x")
    assert (code, err) == (
        2,
        "face-contracts: error: unknown kind 'response:x'; known: response:face_detail_infos\n",
    )
