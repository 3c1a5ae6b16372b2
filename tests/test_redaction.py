"""Secrets are masked in headers, form fields, JSON bodies, URLs, free text and logs."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from face_contracts.redaction import MASK, MIN_SECRET_LENGTH, SECRET_ENVIRONMENT, Redactor

SECRET = "fc-Secret/with+odd=chars 42"
redactor = Redactor([SECRET])


@pytest.mark.parametrize(
    "form",
    [
        SECRET,
        quote(SECRET, safe=""),
        quote(SECRET, safe="").replace("%20", "+"),
        base64.b64encode(SECRET.encode()).decode().rstrip("="),
    ],
    ids=["plain", "url-quoted", "form-encoded", "base64"],
)
def test_a_known_secret_is_masked_in_every_encoding(form: str) -> None:
    text = f"request failed: {form}; retry later"
    assert redactor.text(text) == f"request failed: {MASK}; retry later"


def test_credential_names_are_masked_whatever_their_value() -> None:
    anonymous = Redactor()
    assert anonymous.text("GET /x?api_key=abc&api_secret=def&x=1") == (
        f"GET /x?api_key={MASK}&api_secret={MASK}&x=1"
    )
    assert anonymous.text("ailabapi-api-key: k-123") == f"ailabapi-api-key: {MASK}"
    assert (
        anonymous.text("{'authorization': 'Bearer tok'}") == f"{{'authorization': 'Bearer {MASK}'}}"
    )
    assert anonymous.text('{"token": "t0k3n", "face_token": "abc"}') == (
        f'{{"token": "{MASK}", "face_token": "abc"}}'
    )
    # Words that merely look like names are left alone.
    message = "INVALID_FACE_TOKEN: abc; required key 'api_key' is missing"
    assert anonymous.text(message) == message


def test_headers_fields_json_and_urls() -> None:
    assert redactor.headers({"Authorization": "Bearer x", "Accept": SECRET}) == {
        "Authorization": f"Bearer {MASK}",
        "Accept": MASK,
    }
    assert redactor.fields({"api_key": "k", "return_landmark": "all"}) == {
        "api_key": MASK,
        "return_landmark": "all",
    }
    assert redactor.json({"a": [{"api_secret": 1}, f"x {SECRET}"]}) == {
        "a": [{"api_secret": MASK}, f"x {MASK}"]
    }
    assert redactor.url("https://user:pw@host.example/p?api_key=k&q=1") == (
        f"https://user:{MASK}@host.example/p?api_key={MASK}&q=1"
    )


def test_secrets_come_from_the_environment_and_short_ones_are_not_searched() -> None:
    env = dict.fromkeys(SECRET_ENVIRONMENT, "")
    env["FACE_CONTRACTS_FACEPP_API_SECRET"] = "env-secret-value"
    env["FACE_CONTRACTS_AILAB_API_KEY"] = "x" * (MIN_SECRET_LENGTH - 1)
    from_env = Redactor.from_environment(env)
    assert from_env.text("env-secret-value and xxx") == f"{MASK} and xxx"
    assert from_env.contains_secret("..env-secret-value..")
    assert not from_env.contains_secret("nothing here")
    assert from_env.with_secrets(["another-one"]).text("another-one env-secret-value") == (
        f"{MASK} {MASK}"
    )


def test_the_suite_masks_log_records() -> None:
    """The plugin's log record factory, installed by its pytest_configure and removed by its
    pytest_unconfigure (driven here with a stand-in config)."""
    from face_contracts.contract_suite import plugin

    previous = logging.getLogRecordFactory()
    config = _Config()
    plugin.pytest_configure(config)  # type: ignore[arg-type]
    try:
        record = logging.getLogger("httpx").makeRecord(
            "httpx", logging.INFO, __file__, 1, "POST %s?api_key=%s", ("/x", "k"), None
        )
        assert record.getMessage() == f"POST /x?api_key={MASK}"
        settings = config.stash[plugin._STATE].settings  # type: ignore[attr-defined]
        assert (settings.live, settings.call_budget, settings.strict) == (False, 50, False)
    finally:
        plugin.pytest_unconfigure(config)  # type: ignore[arg-type]
    assert logging.getLogRecordFactory() is previous
    assert config.registered == []


class _Config:
    """Just enough of a pytest.Config: every option at its default, a stash, a plugin list."""

    rootpath = Path(".")

    def __init__(self) -> None:
        self.stash: dict[object, object] = {}
        self.registered: list[object] = []
        self.pluginmanager = self

    def getoption(self, name: str) -> object:
        return {"call_budget": 50, "stale_after_days": 30.0}.get(name)

    def register(self, plugin: object, name: str) -> None:
        del name
        self.registered.append(plugin)

    def unregister(self, plugin: object) -> None:
        self.registered.remove(plugin)


_PIECES = st.sampled_from(
    [
        "api_key", "API-KEY", "x-amz-signature", "client_secret", "Token", "Bearer", "basic",
        "password", "sig", "face_token", "boundary", "multipart/form-data", "=", ": ", "&",
        "; ", '"', " ", "abcdef0123456789", "ſecret", "\u212aey", "İ", "é", "/", "://u:p@h",
    ]
)  # fmt: skip


@given(st.lists(_PIECES, max_size=12).map("".join))
@example("Bearer abcdef0123456789")
@example("multipart/form-data; boundary=abcdef0123456789; Token abcdef0123456789")
@example("API-KEY=abcdef0123456789&x=1")
@example("\u017fecret=abcdef0123456789")
@example("\u212aey: abcdef0123456789")
@example("https://u:p@h/a.jpg?X-Amz-Signature=abcdef0123456789")
def test_screening_texts_for_secret_words_never_changes_what_is_masked(text: str) -> None:
    # The masking skips its slow searches when a text holds no credential word; the result
    # must be what the searches give when always run.
    from face_contracts import redaction

    expected = text
    if "://" in expected:
        expected = redaction._USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:{MASK}@", expected)
    expected = redaction._ASSIGNMENT.sub(redaction._mask_assignment, expected)
    expected = redaction._AUTH_SCHEME.sub(lambda m: f"{m.group(1)} {MASK}", expected)
    assert Redactor([])._masked(text) == expected
