"""One settings model for the mock: the TOML file, the admin API, the ``face_mock`` marker
and the :class:`~face_contracts.mock.FaceMock` methods all go through :func:`parse_settings`.

Plain data (TOML tables, JSON objects, keyword arguments) is checked against one JSON
Schema, :func:`settings_schema`, built from the contract itself (operation ids and each
operation's documented error codes), then turned into frozen dataclasses. A bad setting is
refused with a :class:`SettingsError` naming the key and, where there is a list, the
allowed values; nothing half-checked reaches the engine.

>>> parse_settings({"credits": 10}).credits
10
>>> parse_settings({"errors": [{"code": "NOPE"}]})
Traceback (most recent call last):
...
face_contracts.settings.SettingsError: errors[0].code: 'NOPE' is not a documented error code; ...
"""

from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
import math
import secrets
import string
import tomllib
from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import jsonschema
import orjson

from face_contracts._report import pointer_parts
from face_contracts.contracts import contracts
from face_contracts.errors import FaceContractsError
from face_contracts.generation._schema import flatten, property_schema, schema_of
from face_contracts.recordings import Recording, RecordingError, load_recordings
from face_contracts.redaction import MASK
from face_contracts.vendors import VENDORS

if TYPE_CHECKING:
    import os
    import random
    from collections.abc import Iterable, Mapping

    from face_contracts.contracts import Contracts

__all__ = [
    "DRIFT_LABELS",
    "SERVER_SCHEMA",
    "Box",
    "Delay",
    "Fault",
    "ForcedError",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "StubbedResponse",
    "When",
    "parse_server_settings",
    "parse_settings",
    "read_toml",
    "settings_file_schema",
    "settings_schema",
]

Box = tuple[int, int, int, int]
"""A face box: left, top, width, height, in pixels."""
Faces = int | tuple[Box, ...] | None

DRIFT_LABELS: tuple[str, ...] = (
    "missing_key",
    "misnamed_key",
    "extra_key",
    "misplaced_key",
    "wrong_type",
    "wrong_enum",
    "out_of_range",
    "wrong_count",
    "bad_pattern",
    "too_short",
    "broken_invariant",
)
"""The ways a drifted answer can break its contract (labels of ``invalid_documents``)."""

_MAX_DELAY = 600.0  # seconds: a fault delay beyond this is a typo, not a test
_MAX_JOURNAL_LIMIT = 1_000_000
DEFAULT_JOURNAL_LIMIT = 256
DEFAULT_JOURNAL_BYTES = 64 << 20


class SettingsError(FaceContractsError, ValueError):
    """A setting that cannot be used; the message names the key and what is allowed."""


# --- the typed model ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class When:
    """The calls a forced error, fault or stub applies to; every given condition must hold.

    ``fields``: form fields or JSON body members; a value matches the whole field value or
    one item of a comma-separated one (``face_field=age,landmark201`` matches
    ``landmark201``); a list of values matches when each is such an item. ``headers``:
    exact values (names in any case). ``credential``: the caller's key or token (Face++:
    ``api_key``). ``image_sha256``: the SHA-256 of the picture sent (uploaded or fetched)."""

    fields: tuple[tuple[str, tuple[str, ...]], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    credential: str | None = None
    image_sha256: str | None = None

    def __bool__(self) -> bool:
        return bool(self.fields or self.headers or self.credential or self.image_sha256)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.fields:
            data["fields"] = {
                name: values[0] if len(values) == 1 else list(values)
                for name, values in self.fields
            }
        if self.headers:
            data["headers"] = dict(self.headers)
        if self.credential is not None:
            data["credential"] = MASK
        if self.image_sha256 is not None:
            data["image_sha256"] = self.image_sha256
        return data


@dataclass(frozen=True, slots=True)
class Delay:
    """Latency before answering: ``seconds`` exactly, or drawn from a seeded distribution
    (``uniform`` between ``low`` and ``high``; ``lognormal`` with ``median`` and ``sigma``)."""

    seconds: float = 0.0
    distribution: Literal["fixed", "uniform", "lognormal"] = "fixed"
    low: float = 0.0
    high: float = 0.0
    median: float = 0.0
    sigma: float = 0.0

    def __bool__(self) -> bool:
        return self.distribution != "fixed" or self.seconds > 0

    def sample(self, rng: random.Random) -> float:
        """One delay in seconds, never negative, never above the 600 s bound."""
        if self.distribution == "uniform":
            value = rng.uniform(self.low, self.high)
        elif self.distribution == "lognormal":
            value = self.median * math.exp(self.sigma * rng.gauss(0.0, 1.0))
        else:
            value = self.seconds
        return min(_MAX_DELAY, max(0.0, value))

    def to_json(self) -> float | dict[str, Any]:
        if self.distribution == "uniform":
            return {"distribution": "uniform", "low": self.low, "high": self.high}
        if self.distribution == "lognormal":
            return {"distribution": "lognormal", "median": self.median, "sigma": self.sigma}
        return self.seconds


@dataclass(frozen=True, slots=True)
class ForcedError:
    """Answer the documented error ``code`` instead of the real answer: for ``operation``
    (None: every operation that documents the code), for calls matching ``when``, on the
    ``nth`` matching call (1-based) or on every one, at most ``times`` times (None: always).
    ``details`` fill the message (``field``, ``fields``, ``face_token``, ``reason``,
    ``message``)."""

    code: str
    operation: str | None = None
    when: When = field(default_factory=When)
    nth: int | None = None
    times: int | None = None
    details: tuple[tuple[str, str], ...] = ()
    id: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "operation": self.operation,
            "when": self.when.to_json(),
            "nth": self.nth,
            "times": self.times,
            "details": dict(self.details),
        }


@dataclass(frozen=True, slots=True)
class Fault:
    """Misbehave like a network or a server: wait ``delay``, ``drop`` the connection
    without answering, or answer a bare HTTP ``status`` (5xx); for ``operation`` (None:
    every path, unknown ones included) and calls matching ``when``, on the ``nth`` matching
    call or every one, at most ``times`` times."""

    operation: str | None = None
    delay: Delay = field(default_factory=Delay)
    drop: bool = False
    status: int | None = None
    when: When = field(default_factory=When)
    nth: int | None = None
    times: int | None = None
    id: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation,
            "delay": self.delay.to_json(),
            "drop": self.drop,
            "status": self.status,
            "when": self.when.to_json(),
            "nth": self.nth,
            "times": self.times,
        }


@dataclass(frozen=True, slots=True)
class StubbedResponse:
    """Answer matching calls of ``operation`` with exactly this (``status``, ``body`` bytes,
    ``content_type``, ``headers``), or, when ``invalid`` names a drift label, with the
    operation's real success answer for that request broken in that one way (seeded by
    ``seed``; at the JSON pointer ``at`` or below it, if given)."""

    operation: str
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    invalid: str | None = None
    seed: int = 0
    at: str | None = None
    when: When = field(default_factory=When)
    nth: int | None = None
    times: int | None = None
    id: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "operation": self.operation}
        if self.invalid is not None:
            data.update(invalid=self.invalid, seed=self.seed, at=self.at)
        else:
            data.update(
                status=self.status,
                content_type=self.content_type,
                headers=dict(self.headers),
                bytes=len(self.body),
            )
        data.update(when=self.when.to_json(), nth=self.nth, times=self.times)
        return data


Rule = ForcedError | Fault | StubbedResponse


@dataclass(frozen=True)
class Settings:
    """Everything a mock is told. Off by default: any non-empty credential works, faces
    come from the picture, nothing is forced, slow or limited.

    - ``credentials``: per vendor, the credentials that work (``ailab``: API keys;
      ``acedata``: bearer tokens; ``facepp``: ``key:secret``); none means any non-empty one.
    - ``faces``: the faces every picture has (a count, or boxes); None: found in the
      picture. ``operation_faces`` overrides it per operation.
    - ``strict_urls``: an image URL neither registered nor on loopback gets the vendor's
      download failure instead of the bundled face picture.
    - ``images``: URL -> picture bytes, served for image_url requests.
    - ``errors``, ``faults``, ``responses``: forced errors, faults and stubbed answers.
    - ``credits`` (AILabTools, per key), ``rate_per_second`` (Ace Data, per token),
      ``concurrency`` (Face++, calls in flight per api_key): None is unlimited.
    - ``journal_limit`` (requests kept) and ``journal_bytes`` (uploaded files and answer
      bodies kept, in bytes; metadata and digests are always kept).
    - ``recordings`` answered for matching requests; ``replay_drift`` lets recordings whose
      answers break the contract be loaded and replayed (the journal marks them).
    - ``seed``: ids, face_tokens and random latency are drawn from it and the call order.
    """

    credentials: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    faces: Faces = None
    operation_faces: Mapping[str, Faces] = field(default_factory=dict)
    strict_urls: bool = False
    images: Mapping[str, bytes] = field(default_factory=dict)
    errors: tuple[ForcedError, ...] = ()
    faults: tuple[Fault, ...] = ()
    responses: tuple[StubbedResponse, ...] = ()
    credits: int | None = None
    rate_per_second: float | None = None
    concurrency: int | None = None
    journal_limit: int = DEFAULT_JOURNAL_LIMIT
    journal_bytes: int = DEFAULT_JOURNAL_BYTES
    recordings: tuple[Recording, ...] = ()
    replay_drift: bool = False
    seed: int = 0

    def merged(self, other: Mapping[str, Any]) -> Settings:
        """A copy with the settings parsed into ``other`` (:func:`parse_changes`) applied:
        errors, faults, responses and recordings appended, tables merged, the rest replaced."""
        values: dict[str, Any] = {}
        for name, value in other.items():
            current = getattr(self, name)
            if name in _APPENDED:
                values[name] = current + tuple(value)
            elif name in _MERGED:
                values[name] = {**current, **value}
            else:
                values[name] = value
        merged = replace(self, **values)
        rules: tuple[Rule, ...] = (*merged.errors, *merged.faults, *merged.responses)
        ids = [rule.id for rule in rules]
        repeated = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
        if repeated:
            msg = f"rule id(s) {', '.join(map(repr, repeated))} already in force: ids are unique"
            raise SettingsError(msg)
        return merged

    def without_rule(self, rule_id: str) -> tuple[Settings, Rule | None]:
        """A copy without the forced error, fault or stub with this id, and that rule."""
        for name in ("errors", "faults", "responses"):
            rules: tuple[Rule, ...] = getattr(self, name)
            for rule in rules:
                if rule.id == rule_id:
                    kept: Any = tuple(r for r in rules if r.id != rule_id)
                    return replace(self, **{name: kept}), rule
        return self, None

    def to_json(self) -> dict[str, Any]:
        """The effective settings as JSON: credentials masked, pictures and recordings
        summarised (what ``GET /__admin/config`` shows)."""
        return {
            "credentials": {
                vendor: [MASK] * len(items) for vendor, items in self.credentials.items()
            },
            "faces": _faces_json(self.faces),
            "operation_faces": {op: _faces_json(f) for op, f in self.operation_faces.items()},
            "strict_urls": self.strict_urls,
            "images": {
                url: {"bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}
                for url, blob in self.images.items()
            },
            "errors": [rule.to_json() for rule in self.errors],
            "faults": [rule.to_json() for rule in self.faults],
            "responses": [rule.to_json() for rule in self.responses],
            "credits": self.credits,
            "rate_per_second": self.rate_per_second,
            "concurrency": self.concurrency,
            "journal_limit": self.journal_limit,
            "journal_bytes": self.journal_bytes,
            "recordings": [
                {
                    "operation": r.operation,
                    "case": r.case,
                    "host": r.host,
                    "recorded_at": r.to_json()["recorded_at"],
                    "status": r.status,
                    "stale": r.stale,
                }
                for r in self.recordings
            ],
            "replay_drift": self.replay_drift,
            "seed": self.seed,
        }

    def secrets(self) -> tuple[str, ...]:
        """Every credential these settings hold (for the redactor)."""
        found: list[str] = []
        for items in self.credentials.values():
            for item in items:
                found.extend(item.split(":", 1) if ":" in item else [item])
        rules: tuple[Rule, ...] = (*self.errors, *self.faults, *self.responses)
        found.extend(rule.when.credential for rule in rules if rule.when.credential)
        return tuple(found)


SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Settings))
_APPENDED = frozenset({"errors", "faults", "responses", "recordings"})
_MERGED = frozenset({"credentials", "operation_faces", "images"})


def _faces_json(faces: Faces) -> Any:
    return [list(box) for box in faces] if isinstance(faces, tuple) else faces


# --- the server's table -----------------------------------------------------------------


@dataclass(frozen=True)
class ServerSettings:
    """The limits and the lifecycle of ``face-contracts serve`` (and the proxy): the
    ``[server]`` table of a settings file, checked by the same schema machinery as the
    rest. Every limit is there so that no client, however slow, large or many, can freeze
    the server, exhaust its memory or file descriptors, or keep it from stopping.

    - ``max_connections``: open connections per process; beyond it the longest-idle one is
      closed to make room, and when none is idle the new connection gets 503 and is closed.
    - ``max_header_bytes`` (request line plus headers) and ``max_headers`` (fields): more
      gets 431.
    - ``header_timeout``: seconds to the end of a request's headers (then 408 and close);
      ``body_timeout``: seconds from there to the end of its body (408 and close);
      ``keep_alive_timeout``: seconds an idle kept-alive connection stays open.
    - ``engine_threads``: threads running the engine and the admin handlers, off the loop;
      ``request_deadline``: seconds a request's engine work may take (then the vendor's
      documented internal error).
    - ``grace``: seconds in-flight requests get after SIGTERM or SIGINT; a second signal
      exits at once.
    - ``state`` (``redis://host:port/db``; None or ``memory``: per process) and
      ``state_prefix`` (default derived from the settings): where workers and replicas share
      credits, rates, slots, counters, face_tokens, the journal and admin changes.
    """

    max_connections: int = 1000
    max_header_bytes: int = 32 * 1024
    max_headers: int = 100
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keep_alive_timeout: float = 5.0
    engine_threads: int = 8
    request_deadline: float = 30.0
    grace: float = 5.0
    state: str | None = None
    state_prefix: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain data (what a worker process is handed)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _seconds(maximum: float) -> dict[str, Any]:
    return {"type": "number", "exclusiveMinimum": 0, "maximum": maximum}


SERVER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "max_connections": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
        "max_header_bytes": {"type": "integer", "minimum": 1024, "maximum": 1 << 20},
        "max_headers": {"type": "integer", "minimum": 8, "maximum": 10_000},
        "header_timeout": _seconds(3600),
        "body_timeout": _seconds(3600),
        "keep_alive_timeout": _seconds(3600),
        "engine_threads": {"type": "integer", "minimum": 1, "maximum": 256},
        "request_deadline": _seconds(3600),
        "grace": {"type": "number", "minimum": 0, "maximum": 300},
        "state": {"anyOf": [{"type": "null"}, {"type": "string", "minLength": 1}]},
        "state_prefix": {"anyOf": [{"type": "null"}, {"type": "string", "minLength": 1}]},
    },
}
"""The JSON Schema of the ``[server]`` table."""


@cache
def _server_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(SERVER_SCHEMA)


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A settings file's TOML (the standard tomllib), for ``serve`` and ``proxy`` alike; a
    file that cannot be read or is not TOML is a SettingsError naming the file."""
    try:
        with Path(path).open("rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        msg = f"{path}: cannot read: {error.strerror}"
        raise SettingsError(msg) from None
    except tomllib.TOMLDecodeError as error:
        msg = f"{path}: not valid TOML: {error}"
        raise SettingsError(msg) from None


def parse_server_settings(
    data: Mapping[str, Any], *, base: ServerSettings | None = None, where: str = "[server]"
) -> ServerSettings:
    """Server settings from plain data (the ``[server]`` table, or command-line values as
    text, read as the numbers the schema asks for), applied on top of ``base``. Raises
    :class:`SettingsError` naming ``where`` and the key."""
    plain = {
        key: _from_text(SERVER_SCHEMA["properties"].get(key, {}), value)
        for key, value in data.items()
    }
    try:
        _finite(plain, ())
    except SettingsError as error:
        raise SettingsError(f"{where} {error}") from None
    errors = sorted(_server_validator().iter_errors(plain), key=lambda e: list(map(str, e.path)))
    if errors:
        problem = _deepest(errors[0])
        key = _where(problem.absolute_path)
        label = where if where.startswith("--") or key == "(settings)" else f"{where} {key}"
        raise SettingsError(f"{label}: {_explain(problem)}")
    return replace(base or ServerSettings(), **plain)


def _from_text(schema: Mapping[str, Any], value: Any) -> Any:
    """A command line's text as the number its key takes (left as text if it is none)."""
    if not isinstance(value, str):
        return value
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value
    return value


def settings_file_schema() -> dict[str, Any]:
    """The JSON Schema of a whole settings file: the mock's settings and the ``[server]``
    table (for editors that check TOML against a schema)."""
    schema = dict(settings_schema())
    schema["properties"] = {**schema["properties"], "server": SERVER_SCHEMA}
    schema["$id"] = "urn:face-contracts:settings-file"
    return schema


# --- the schema -----------------------------------------------------------------------------


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [{"type": "null"}, schema]}


_PYTHON_OBJECT = {
    "$comment": "bytes or loaded objects given from Python: no JSON type",
    "not": {"type": ["null", "boolean", "object", "array", "number", "string"]},
}


@cache
def settings_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of the settings' plain-data form, with the operation ids
    and every operation's documented error codes as enumerations."""
    loaded = contracts()
    operations = list(loaded.operations)
    codes_of = {
        op: [entry["code"] for entry in loaded.mock_data[op]["errors"]] for op in operations
    }
    all_codes = sorted({code for codes in codes_of.values() for code in codes})
    count = {"type": "integer", "minimum": 1}
    faces = {
        "anyOf": [
            {"type": "null"},
            {"type": "integer", "minimum": 0, "maximum": 1000},
            {
                "type": "array",
                "items": {
                    "type": "array",
                    "prefixItems": [
                        {"type": "integer", "minimum": 0},
                        {"type": "integer", "minimum": 0},
                        {"type": "integer", "minimum": 1},
                        {"type": "integer", "minimum": 1},
                    ],
                    "minItems": 4,
                    "maxItems": 4,
                },
                "description": "a list of [left, top, width, height] boxes",
            },
        ]
    }
    when = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "fields": {
                "type": "object",
                "additionalProperties": {
                    "anyOf": [
                        {"type": "string"},
                        {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    ]
                },
            },
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "credential": {"type": "string", "minLength": 1},
            "image_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        },
    }
    rule_common = {
        "id": {"type": "string", "minLength": 1, "maxLength": 64},
        "operation": _nullable({"enum": operations}),
        "when": when,
        "nth": _nullable(count),
        "times": _nullable(count),
    }
    seconds = {"type": "number", "minimum": 0, "maximum": _MAX_DELAY}
    delay = {
        "anyOf": [
            seconds,
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["distribution", "low", "high"],
                "properties": {
                    "distribution": {"const": "uniform"},
                    "low": seconds,
                    "high": seconds,
                },
            },
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["distribution", "median", "sigma"],
                "properties": {
                    "distribution": {"const": "lognormal"},
                    "median": {**seconds, "exclusiveMinimum": 0},
                    "sigma": {"type": "number", "minimum": 0, "maximum": 10},
                },
            },
        ]
    }
    error = {
        "type": "object",
        "additionalProperties": False,
        "required": ["code"],
        "properties": {
            **rule_common,
            "code": {"enum": all_codes},
            "credential": {"type": "string", "minLength": 1},
            "details": {
                "type": "object",
                "additionalProperties": False,
                "properties": {name: {"type": "string"} for name in _detail_names(loaded)},
            },
        },
        "allOf": [
            {
                "if": {"required": ["operation"], "properties": {"operation": {"const": op}}},
                "then": {"properties": {"code": {"enum": codes}}},
            }
            for op, codes in codes_of.items()
        ],
    }
    fault = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            **rule_common,
            "delay": delay,
            "drop": {"type": "boolean"},
            "status": _nullable({"type": "integer", "minimum": 500, "maximum": 599}),
        },
    }
    stub_common = {**rule_common, "operation": {"enum": operations}}
    response = {
        "type": "object",
        "if": {"required": ["invalid"]},
        "then": {
            "additionalProperties": False,
            "required": ["operation", "invalid"],
            "properties": {
                **stub_common,
                "invalid": {"enum": list(DRIFT_LABELS)},
                "seed": {"type": "integer"},
                "at": {
                    "type": "string",
                    "pattern": "^(/.*)?$",
                    "description": "a JSON pointer into the answer: the drift touches it "
                    "or a place below it",
                },
            },
        },
        "else": {
            "additionalProperties": False,
            "required": ["operation", "body"],
            "properties": {
                **stub_common,
                "status": {"type": "integer", "minimum": 100, "maximum": 599},
                "body": {"$comment": "any JSON value, text, or bytes from Python"},
                "content_type": {"type": "string", "minLength": 1},
                "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:face-contracts:settings",
        "title": "face-contracts mock settings",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "credentials": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    op.vendor: _credential_schema(op.auth) for op in loaded.operations.values()
                },
            },
            "faces": faces,
            "operation_faces": {
                "type": "object",
                "propertyNames": {"enum": operations},
                "additionalProperties": faces,
            },
            "strict_urls": {"type": "boolean"},
            "images": {
                "type": "object",
                "propertyNames": {"minLength": 1},
                "additionalProperties": {
                    "anyOf": [
                        {"type": "string", "minLength": 1, "description": "a picture's path"},
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["base64"],
                            "properties": {"base64": {"type": "string", "minLength": 1}},
                        },
                        _PYTHON_OBJECT,
                    ]
                },
            },
            "errors": {"type": "array", "items": error},
            "faults": {"type": "array", "items": fault},
            "responses": {"type": "array", "items": response},
            "credits": _nullable({"type": "integer", "minimum": 0}),
            "rate_per_second": _nullable(
                {"type": "number", "exclusiveMinimum": 0, "maximum": 1_000_000}
            ),
            "concurrency": _nullable(count),
            "journal_limit": {"type": "integer", "minimum": 1, "maximum": _MAX_JOURNAL_LIMIT},
            "journal_bytes": {"type": "integer", "minimum": 0},
            "recordings": {"anyOf": [{"type": "string", "minLength": 1}, _PYTHON_OBJECT]},
            "replay_drift": {"type": "boolean"},
            "seed": {"type": "integer"},
        },
    }


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(settings_schema())


# --- plain data -> the model --------------------------------------------------------------


def parse_settings(
    data: Mapping[str, Any],
    *,
    base_dir: Path | None = None,
    base: Settings | None = None,
    confine: bool = True,
) -> Settings:
    """Settings from plain data (a parsed TOML file, an admin request, keyword arguments),
    applied on top of ``base`` (default: all off). Paths (``images`` values, ``recordings``)
    resolve against ``base_dir`` and, when ``confine``, must stay inside it (a settings
    file); without ``base_dir`` (the admin API) paths are refused. Raises
    :class:`SettingsError`."""
    return (base or Settings()).merged(parse_changes(data, base_dir=base_dir, confine=confine))


def parse_changes(
    data: Mapping[str, Any], *, base_dir: Path | None = None, confine: bool = True
) -> dict[str, Any]:
    """The typed values of the settings named in ``data``, for :meth:`Settings.merged`."""
    plain = normalized(data)
    _check(plain)
    values: dict[str, Any] = {}
    for name, value in plain.items():
        values[name] = _typed(name, value, plain, _Paths(base_dir, confine))
    return values


def normalized(data: Mapping[str, Any]) -> dict[str, Any]:
    """Settings in their plain-data form: Python conveniences (tuples, one rule instead of
    a list, an error given by its code, Face++ ``(key, secret)`` pairs) spelled out."""
    plain: dict[str, Any] = _plain(data)
    for name in ("errors", "faults", "responses"):
        value = plain.get(name)
        if isinstance(value, dict | str):
            plain[name] = value = [value]
        if name == "errors" and isinstance(value, list):
            plain[name] = [{"code": item} if isinstance(item, str) else item for item in value]
    return plain


def _plain(value: Any) -> Any:
    """Python conveniences (tuples, Face++ (key, secret) pairs) in their plain-data form."""
    if isinstance(value, dict):
        plain = {str(k): _plain(v) for k, v in value.items()}
        facepp = plain.get("facepp")
        if isinstance(facepp, list):  # credentials given as (key, secret) pairs
            plain["facepp"] = [
                f"{item[0]}:{item[1]}"
                if isinstance(item, list)
                and len(item) == 2
                and all(isinstance(p, str) for p in item)
                else item
                for item in facepp
            ]
        return plain
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _check(plain: Mapping[str, Any]) -> None:
    _finite(plain, ())
    errors = sorted(
        _validator().iter_errors(plain), key=lambda e: (len(e.path), list(map(str, e.path)))
    )
    if not errors:
        return
    problem = _deepest(errors[0])
    raise SettingsError(f"{_where(problem.absolute_path)}: {_explain(problem)}")


def _finite(value: Any, path: tuple[Any, ...]) -> None:
    """NaN and infinities compare false with every bound, so JSON Schema cannot refuse them."""
    if isinstance(value, float) and not math.isfinite(value):
        raise SettingsError(f"{_where(path)}: {value!r} is not a finite number")
    if isinstance(value, dict):
        for key, item in value.items():
            _finite(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _finite(item, (*path, index))


def _deepest(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """Inside anyOf/allOf, the failure of the branch the value was meant for."""
    if error.context:
        best = jsonschema.exceptions.best_match(error.context)
        if best is not None and len(best.absolute_path) >= len(error.absolute_path):
            if best.validator in ("type", "const") and len(error.context) > 1:
                # Every branch disagreed on the kind of value: say what the kinds are.
                return error
            return _deepest(best)
    return error


def _where(path: Iterable[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(settings)"


def _detail_names(loaded: Contracts) -> list[str]:
    """What a forced error's ``details`` may fill: every placeholder of a catalogue message
    (``{field}``, ``{reason}``...), and ``message``, a message of the caller's own."""
    names = {
        name
        for data in loaded.mock_data.values()
        for entry in data["errors"]
        for _, name, _, _ in string.Formatter().parse(str(entry.get("message", "")))
        if name
    }
    return sorted(names | {"message"})


def _credential_schema(auth: Mapping[str, Any]) -> dict[str, Any]:
    """The settings' credentials of a vendor, from its operations' ``auth``: one string per
    credential, its parts (a key and its secret sent as two fields) joined by ``:``."""
    parts = auth.get("fields") or [auth["name"]]
    if len(parts) == 1:
        return {"type": "array", "items": {"type": "string", "minLength": 1}}
    pattern = "^" + "[^:]+:" * (len(parts) - 1) + ".+$"
    shape = ":".join(parts)
    return {"type": "array", "items": {"type": "string", "pattern": pattern, "description": shape}}


def _explain(error: jsonschema.ValidationError) -> str:
    rule, instance, schema = error.validator, error.instance, error.schema
    if rule == "additionalProperties" and isinstance(instance, dict) and isinstance(schema, dict):
        known = sorted(schema.get("properties", {}))
        unknown = sorted(set(instance) - set(known))
        return f"unknown key(s) {', '.join(map(repr, unknown))}; known: {', '.join(known)}"
    if (
        rule == "required"
        and isinstance(instance, dict)
        and isinstance(error.validator_value, list)
    ):
        missing = [name for name in error.validator_value if name not in instance]
        return f"required key(s) {', '.join(map(repr, missing))} missing"
    if rule == "enum" and isinstance(schema, dict):
        allowed = ", ".join(map(str, schema["enum"]))
        what = "a documented error code" if "code" in error.path else "an allowed value"
        return f"{instance!r} is not {what}; allowed: {allowed}"
    if rule == "propertyNames" and isinstance(schema, dict):
        return f"{error.message}; allowed: {', '.join(schema['propertyNames'].get('enum', []))}"
    if rule == "pattern" and len(error.path) >= 3 and error.path[-3] == "credentials":
        vendor = VENDORS[str(error.path[-2])]
        shape = schema["description"] if isinstance(schema, dict) else "?"
        return f"{instance!r}: a {vendor.title} credential is {shape!r}"
    if rule == "anyOf" and isinstance(schema, dict):
        return f"{_short(instance)} is not {_kinds(schema['anyOf'])}"
    rest = error.message.removeprefix(repr(instance)).strip()
    return f"{_short(instance)} {rest}" if rest else f"{_short(instance)} breaks {rule}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _kinds(branches: list[Any]) -> str:
    names = []
    for branch in branches:
        if not isinstance(branch, dict) or "not" in branch:
            continue
        kind = branch.get("description") or branch.get("type", "value")
        if "enum" in branch and "type" not in branch:
            kind = f"one of {', '.join(map(str, branch['enum']))}"
        if "const" in branch.get("properties", {}).get("distribution", {}):
            kind = f"a {branch['properties']['distribution']['const']} distribution object"
        elif kind == "integer" or kind == "number":
            bounds = [
                f"{word} {branch[key]}"
                for key, word in (
                    ("minimum", ">="),
                    ("exclusiveMinimum", ">"),
                    ("maximum", "<="),
                )
                if key in branch
            ]
            kind = f"{'an' if kind == 'integer' else 'a'} {kind} {' and '.join(bounds)}".strip()
        names.append(str(kind))
    return " or ".join(names) or "allowed here"


@dataclass(frozen=True, slots=True)
class _Paths:
    base_dir: Path | None
    confine: bool


def _typed(name: str, value: Any, plain: Mapping[str, Any], paths: _Paths) -> Any:
    if name == "credentials":
        return {vendor: tuple(items) for vendor, items in value.items()}
    if name == "faces":
        return _faces(value)
    if name == "operation_faces":
        return {op: _faces(faces) for op, faces in value.items()}
    if name == "images":
        return {url: _image(f"images.{url}", source, paths) for url, source in value.items()}
    if name == "errors":
        return tuple(_forced(item) for item in value)
    if name == "faults":
        return tuple(_fault(index, item) for index, item in enumerate(value))
    if name == "responses":
        return tuple(_stub(index, item) for index, item in enumerate(value))
    if name == "recordings":
        return _recordings(value, paths, allow_drift=bool(plain.get("replay_drift")))
    if name == "rate_per_second" and value is not None:
        return float(value)
    return value


def _faces(value: Any) -> Faces:
    if value is None or isinstance(value, int):
        return value
    return tuple((box[0], box[1], box[2], box[3]) for box in value)


def _rule_id() -> str:
    return secrets.token_hex(6)


def _when(value: Mapping[str, Any] | None, credential: str | None = None) -> When:
    value = value or {}
    fields_ = tuple(
        (str(name), (item,) if isinstance(item, str) else tuple(item))
        for name, item in value.get("fields", {}).items()
    )
    headers = tuple(
        (str(name).lower(), str(item)) for name, item in value.get("headers", {}).items()
    )
    return When(fields_, headers, value.get("credential", credential), value.get("image_sha256"))


def _forced(item: Mapping[str, Any]) -> ForcedError:
    if "credential" in item and "credential" in item.get("when", {}):
        raise SettingsError("errors: give the credential once, in when.credential")
    return ForcedError(
        item["code"],
        item.get("operation"),
        _when(item.get("when"), item.get("credential")),
        item.get("nth"),
        item.get("times"),
        tuple(item.get("details", {}).items()),
        item.get("id") or _rule_id(),
    )


def _delay(index: int, value: Any) -> Delay:
    if value is None:
        return Delay()
    if isinstance(value, int | float):
        return Delay(float(value))
    if value["distribution"] == "uniform":
        if value["high"] < value["low"]:
            raise SettingsError(f"faults[{index}].delay: high must be at least low")
        return Delay(distribution="uniform", low=float(value["low"]), high=float(value["high"]))
    return Delay(
        distribution="lognormal", median=float(value["median"]), sigma=float(value["sigma"])
    )


def _fault(index: int, item: Mapping[str, Any]) -> Fault:
    return Fault(
        item.get("operation"),
        _delay(index, item.get("delay")),
        bool(item.get("drop", False)),
        item.get("status"),
        _when(item.get("when")),
        item.get("nth"),
        item.get("times"),
        item.get("id") or _rule_id(),
    )


def _stub(index: int, item: Mapping[str, Any]) -> StubbedResponse:
    common: dict[str, Any] = {
        "when": _when(item.get("when")),
        "nth": item.get("nth"),
        "times": item.get("times"),
        "id": item.get("id") or _rule_id(),
    }
    if "invalid" in item:
        at = item.get("at")
        if at is not None:
            _check_pointer(f"responses[{index}].at", item["operation"], at)
        return StubbedResponse(
            item["operation"],
            invalid=item["invalid"],
            seed=int(item.get("seed", 0)),
            at=at,
            **common,
        )
    body = item["body"]
    if isinstance(body, bytes | bytearray | memoryview):
        raw, media = bytes(body), "application/octet-stream"
    elif isinstance(body, str):
        raw, media = body.encode(), "text/plain; charset=utf-8"
    else:
        raw, media = orjson.dumps(body), "application/json"
    return StubbedResponse(
        item["operation"],
        status=int(item.get("status", 200)),
        body=raw,
        content_type=item.get("content_type", media),
        headers=tuple((str(k), str(v)) for k, v in item.get("headers", {}).items()),
        **common,
    )


def _check_pointer(name: str, operation: str, at: str) -> None:
    """Refuse a pointer that no success answer of ``operation`` can have (its schema has no
    such place), naming the keys possible where it goes astray."""
    parts = pointer_parts(at)
    node, base = schema_of(operation, "response")
    problem = _astray(node, base, parts, 0)
    if problem is not None:
        depth, known = problem
        where = "".join("/" + p for p in at.split("/")[1 : depth + 1]) or "/"
        options = (
            f"; keys there: {_some(parts[depth], known)}" if known else "; nothing is below it"
        )
        msg = (
            f"{name}: {at!r} is no place in a success answer of {operation}: "
            f"{parts[depth]!r} is not under {where}{options}"
        )
        raise SettingsError(msg)


def _some(wanted: str, known: list[str], shown: int = 12) -> str:
    """Known keys, the closest to ``wanted`` first, at most ``shown`` of them."""
    close = difflib.get_close_matches(wanted, known, n=4, cutoff=0.5)
    ordered = [*close, *(key for key in known if key not in close)]
    more = f" ... ({len(known)} in all)" if len(ordered) > shown else ""
    return ", ".join(ordered[:shown]) + more


def _astray(node: Any, base: str, parts: list[str], depth: int) -> tuple[int, list[str]] | None:
    """None if the schema has a place at ``parts[depth:]`` below ``node``; else how deep
    the pointer goes before it leaves the schema, and the keys possible there."""
    if depth == len(parts):
        return None
    flat = flatten(node, base) if node is not True else {}
    branches = flat.get("anyOf", []) + flat.get("oneOf", [])
    deepest: tuple[int, list[str]] | None = None
    for branch in branches:
        found = _astray(branch, base, parts, depth)
        if found is None:
            return None
        if deepest is None or found[0] > deepest[0]:
            deepest = found
    step = parts[depth]
    children: list[tuple[Any, str]] = []
    if step in flat.get("properties", {}):
        children.append(property_schema(flat, step))
    elif isinstance(flat.get("additionalProperties"), dict):
        children.append((flat["additionalProperties"], base))
    if step.isdigit() and isinstance(flat.get("items"), dict):
        children.append((flat["items"], base))
    open_ended = (
        not ({"properties", "items", "type", "enum", "const"} & set(flat) or branches)
        or flat.get("additionalProperties", False) is True
    )
    if open_ended:
        return None
    for child, child_base in children:
        found = _astray(child, child_base, parts, depth + 1)
        if found is None:
            return None
        if deepest is None or found[0] > deepest[0]:
            deepest = found
    if deepest is not None and deepest[0] > depth:
        return deepest
    known = sorted(flat.get("properties", {}))
    if isinstance(flat.get("items"), dict):
        known.append("0, 1, ... (array items)")
    return depth, known


def _inside(name: str, source: str, paths: _Paths) -> Path:
    if paths.base_dir is None:
        msg = f"{name}: paths are read only from a settings file or a test; send the bytes"
        raise SettingsError(msg)
    root = paths.base_dir.resolve()
    path = (root / source).resolve()
    if paths.confine and not path.is_relative_to(root):
        msg = f"{name}: {source!r} is outside {root}"
        raise SettingsError(msg)
    return path


def _image(name: str, source: Any, paths: _Paths) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    if isinstance(source, dict):
        try:
            return base64.b64decode(source["base64"], validate=True)
        except binascii.Error:
            msg = f"{name}: not valid base64"
            raise SettingsError(msg) from None
    if not isinstance(source, str):
        msg = f"{name} must be a path to a picture, {{base64 = ...}} or bytes"
        raise SettingsError(msg)
    path = _inside(name, source, paths)
    try:
        return path.read_bytes()
    except OSError as error:
        msg = f"{name}: cannot read {source!r}: {error.strerror}"
        raise SettingsError(msg) from None


def _recordings(source: Any, paths: _Paths, *, allow_drift: bool) -> tuple[Recording, ...]:
    if not isinstance(source, str):
        items = tuple(source) if isinstance(source, list | tuple) else (source,)
        if not all(isinstance(item, Recording) for item in items):
            msg = "recordings must be a folder or loaded Recording objects"
            raise SettingsError(msg)
        return items
    folder = _inside("recordings", source, paths)
    if not folder.is_dir():
        msg = f"recordings: {source!r} is not a folder"
        raise SettingsError(msg)
    try:
        loaded = load_recordings(folder)
    except RecordingError as error:
        raise SettingsError(f"recordings: {error}") from None
    broken = [r for r in loaded if r.report is not None and not r.report.valid]
    if broken and not allow_drift:
        first = broken[0]
        msg = (
            f"recordings: {first.source} breaks the contract (set replay_drift to replay "
            f"what the vendor really sent): {first.report}"
        )
        raise SettingsError(msg)
    return loaded
