"""What a mock is told to do: credentials, faces, forced errors, faults, quotas, images.

Everything is off by default: any non-empty credential works, faces come from the picture,
no error is forced, nothing is slow, nothing runs out. The same settings come from keyword
arguments, the ``face_mock`` marker, fixture methods, the admin API and a TOML file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from face_contracts.recordings import Recording

__all__ = [
    "MASK",
    "Box",
    "ConfigError",
    "Fault",
    "ForcedError",
    "MockConfig",
    "config_from_mapping",
    "config_to_json",
    "setting_changes",
]

Box = tuple[int, int, int, int]  # left, top, width, height
MASK = "<redacted>"  # what a secret becomes in journals, reports and the effective config


@dataclass(frozen=True)
class ForcedError:
    """Answer ``code`` (a code of the operation's error catalogue) instead of the real
    answer: for ``operation`` (None: every operation that documents the code), only for
    calls made with ``credential`` if given, on the ``nth`` call (1-based) or on every call
    from the first, at most ``times`` times (None: always). ``details`` fill the message
    (``field``, ``face_token``, ``reason``, ``message``)."""

    code: str
    operation: str | None = None
    credential: str | None = None
    nth: int | None = None
    times: int | None = None
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Fault:
    """Misbehave like a network or a server does: wait ``delay`` seconds, ``drop`` the
    connection without answering, or answer a bare HTTP ``status`` (5xx), for ``operation``
    (None: all), on the ``nth`` call or on every call, at most ``times`` times."""

    operation: str | None = None
    delay: float = 0.0
    drop: bool = False
    status: int | None = None
    nth: int | None = None
    times: int | None = None


@dataclass(frozen=True)
class MockConfig:
    """The whole configuration of a mock.

    - ``credentials``: per vendor, the credentials that work; empty means any non-empty
      one does. ``ailab``: API keys; ``acedata``: bearer tokens; ``facepp``: ``key:secret``.
    - ``faces``: the faces every picture has, as a count or as boxes (None: derived from the
      picture, a uniform picture has none); ``operation_faces`` overrides it per operation.
    - ``strict_urls``: an image URL that is neither registered nor on loopback gets the
      vendor's download failure instead of the bundled face picture.
    - ``images``: URL -> picture bytes, served for image_url requests.
    - ``errors``, ``faults``: see :class:`ForcedError` and :class:`Fault`.
    - ``credits``: AILabTools credits per key (None: unlimited); each successful call costs
      the documented price. ``rate_per_second``: Ace Data requests per token per second
      (None: unlimited). ``concurrency``: Face++ calls in flight per api_key (None: unlimited).
    - ``journal_limit``: how many requests the journal keeps, newest last; each keeps its
      body, so a long-running server's memory stays bounded.
    - ``recordings``: recorded vendor answers (:mod:`face_contracts.recordings`); a request
      whose summary matches one is answered with it instead of the engine's own answer.
    """

    credentials: dict[str, tuple[str, ...]] = field(default_factory=dict)
    faces: int | tuple[Box, ...] | None = None
    operation_faces: dict[str, int | tuple[Box, ...]] = field(default_factory=dict)
    strict_urls: bool = False
    images: dict[str, bytes] = field(default_factory=dict)
    errors: tuple[ForcedError, ...] = ()
    faults: tuple[Fault, ...] = ()
    credits: int | None = None
    rate_per_second: float | None = None
    concurrency: int | None = None
    journal_limit: int = 256
    recordings: tuple[Recording, ...] = ()

    def merged(self, **changes: Any) -> MockConfig:
        """A copy with ``changes`` applied; errors and faults are appended, dictionaries merged."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            msg = f"unknown mock setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            raise TypeError(msg)
        values: dict[str, Any] = {}
        for name, value in changes.items():
            current = getattr(self, name)
            if name in ("errors", "faults", "recordings"):
                values[name] = current + tuple(value)
            elif name in ("credentials", "operation_faces", "images"):
                values[name] = {**current, **value}
            else:
                values[name] = value
        return replace(self, **values)


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the setting."""


_SCALARS: dict[str, tuple[type, ...]] = {
    "strict_urls": (bool,),
    "journal_limit": (int,),
    "credits": (int,),
    "rate_per_second": (int, float),
    "concurrency": (int,),
}


def config_from_mapping(data: Mapping[str, Any], *, base_dir: Path | None = None) -> MockConfig:
    """A :class:`MockConfig` from plain data (a parsed TOML file, a JSON admin request).

    Image values are paths to picture files, resolved against ``base_dir`` and required to
    stay inside it (no ``..`` escapes), or ``{"base64": ...}``. ``recordings`` is a folder
    of recordings (same rule), each re-validated: one whose answer breaks the contract is
    refused. Every problem is reported as a :class:`ConfigError` naming the setting."""
    known = {f.name for f in fields(MockConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        msg = f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        raise ConfigError(msg)
    values: dict[str, Any] = {}
    for name, kinds in _SCALARS.items():
        if name in data and data[name] is not None:
            value = data[name]
            if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
                msg = f"{name} must be {' or '.join(k.__name__ for k in kinds)}, not {value!r}"
                raise ConfigError(msg)
            values[name] = value
    if "faces" in data:
        values["faces"] = _faces("faces", data["faces"])
    if "operation_faces" in data:
        values["operation_faces"] = {
            str(op): _faces(f"operation_faces.{op}", faces)
            for op, faces in _table("operation_faces", data).items()
        }
    if "credentials" in data:
        credentials = {}
        for vendor, items in _table("credentials", data).items():
            if vendor not in ("ailab", "acedata", "facepp") or not isinstance(items, list):
                msg = f"credentials.{vendor}: expected ailab, acedata or facepp, each a list"
                raise ConfigError(msg)
            credentials[vendor] = tuple(str(item) for item in items)
        values["credentials"] = credentials
    if "images" in data:
        values["images"] = {
            str(url): _image(f"images.{url}", source, base_dir)
            for url, source in _table("images", data).items()
        }
    if "errors" in data:
        values["errors"] = tuple(
            _forced(index, item) for index, item in enumerate(_list("errors", data))
        )
    if "faults" in data:
        values["faults"] = tuple(
            _fault(index, item) for index, item in enumerate(_list("faults", data))
        )
    if "recordings" in data:
        values["recordings"] = _recordings(data["recordings"], base_dir)
    return MockConfig(**values)


def _table(name: str, data: Mapping[str, Any]) -> Mapping[str, Any]:
    value = data[name]
    if not isinstance(value, dict):
        msg = f"{name} must be a table"
        raise ConfigError(msg)
    return value


def _list(name: str, data: Mapping[str, Any]) -> list[Any]:
    value = data[name]
    if not isinstance(value, list):
        msg = f"{name} must be a list of tables"
        raise ConfigError(msg)
    return value


def _faces(name: str, value: Any) -> int | tuple[Box, ...] | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    if isinstance(value, list) and all(
        isinstance(box, list) and len(box) == 4 and all(isinstance(n, int) and n >= 0 for n in box)
        for box in value
    ):
        return tuple((box[0], box[1], box[2], box[3]) for box in value)
    msg = f"{name} must be a count or a list of [left, top, width, height] boxes"
    raise ConfigError(msg)


def _image(name: str, source: Any, base_dir: Path | None) -> bytes:
    import base64
    import binascii
    from pathlib import Path

    if isinstance(source, dict) and isinstance(source.get("base64"), str):
        try:
            return base64.b64decode(source["base64"], validate=True)
        except binascii.Error:
            msg = f"{name}: not valid base64"
            raise ConfigError(msg) from None
    if not isinstance(source, str):
        msg = f"{name} must be a path to a picture or {{base64 = ...}}"
        raise ConfigError(msg)
    root = (base_dir or Path.cwd()).resolve()
    path = (root / source).resolve()
    if not path.is_relative_to(root):
        msg = f"{name}: {source!r} is outside {root}"
        raise ConfigError(msg)
    try:
        return path.read_bytes()
    except OSError as error:
        msg = f"{name}: cannot read {source!r}: {error.strerror}"
        raise ConfigError(msg) from None


def _recordings(source: Any, base_dir: Path | None) -> tuple[Recording, ...]:
    from pathlib import Path

    from face_contracts.recordings import RecordingError, load_recordings

    if not isinstance(source, str):
        msg = "recordings must be the path of a recordings folder"
        raise ConfigError(msg)
    root = (base_dir or Path.cwd()).resolve()
    folder = (root / source).resolve()
    if not folder.is_relative_to(root):
        msg = f"recordings: {source!r} is outside {root}"
        raise ConfigError(msg)
    if not folder.is_dir():
        msg = f"recordings: {source!r} is not a folder"
        raise ConfigError(msg)
    try:
        loaded = load_recordings(folder)
    except RecordingError as error:
        raise ConfigError(f"recordings: {error}") from None
    broken = [r for r in loaded if r.report is not None and not r.report.valid]
    if broken:
        first = broken[0]
        msg = f"recordings: {first.source} breaks the contract: {first.report}"
        raise ConfigError(msg)
    return loaded


def _forced(index: int, item: Any) -> ForcedError:
    if not isinstance(item, dict) or not isinstance(item.get("code"), str):
        msg = f"errors[{index}] must be a table with a code"
        raise ConfigError(msg)
    known = {"code", "operation", "credential", "nth", "times", "details"}
    if set(item) - known:
        msg = f"errors[{index}]: unknown key(s) {', '.join(sorted(set(item) - known))}"
        raise ConfigError(msg)
    details = item.get("details", {})
    return ForcedError(
        item["code"],
        item.get("operation"),
        item.get("credential"),
        item.get("nth"),
        item.get("times"),
        tuple((str(k), str(v)) for k, v in details.items()),
    )


def _fault(index: int, item: Any) -> Fault:
    known = {"operation", "delay", "drop", "status", "nth", "times"}
    if not isinstance(item, dict) or set(item) - known:
        msg = f"faults[{index}] must be a table of {', '.join(sorted(known))}"
        raise ConfigError(msg)
    status = item.get("status")
    if status is not None and not (isinstance(status, int) and 500 <= status <= 599):
        msg = f"faults[{index}].status must be a 5xx status"
        raise ConfigError(msg)
    return Fault(
        item.get("operation"),
        float(item.get("delay", 0.0)),
        bool(item.get("drop", False)),
        status,
        item.get("nth"),
        item.get("times"),
    )


def setting_changes(data: Mapping[str, Any], *, base_dir: Path | None = None) -> dict[str, Any]:
    """The settings named in plain data, checked by :func:`config_from_mapping`, as keyword
    arguments for :meth:`MockConfig.merged` (the settings ``data`` does not name stay)."""
    parsed = config_from_mapping(data, base_dir=base_dir)
    return {name: getattr(parsed, name) for name in data}


def config_to_json(config: MockConfig) -> dict[str, Any]:
    """The effective configuration as JSON, credentials masked, pictures summarised."""
    import hashlib
    from dataclasses import asdict

    data = asdict(config)
    data["credentials"] = {
        vendor: [MASK] * len(items) for vendor, items in config.credentials.items()
    }
    data["images"] = {
        url: {"bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}
        for url, blob in config.images.items()
    }
    data["errors"] = [
        {**asdict(forced), "details": dict(forced.details)} for forced in config.errors
    ]
    data["recordings"] = [
        {
            "operation": recording.operation,
            "case": recording.case,
            "host": recording.host,
            "recorded_at": recording.to_json()["recorded_at"],
            "status": recording.status,
            "stale": recording.stale,
        }
        for recording in config.recordings
    ]
    return data
