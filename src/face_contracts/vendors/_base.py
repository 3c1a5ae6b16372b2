"""The vendor interface, and the picture limits every vendor reads from its ``mocks/`` data.

Each vendor module defines one :class:`Vendor` subclass; the engine, transports, server,
strategies, draw and the live suite ask it through this small interface and never name a
vendor's fields themselves. Adding a sixth operation means adding its schemas, its data in
``mocks/`` and its branch in one vendor module (``docs/layout.md``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from face_contracts.contracts import contracts
from face_contracts.generation._scene import Scene

if TYPE_CHECKING:
    from collections.abc import Mapping

    from face_contracts.generation._scene import Chooser
    from face_contracts.mock._engine import Call
    from face_contracts.mock._http import BodyError

__all__ = [
    "Answer",
    "Refusal",
    "Vendor",
    "big_enough",
    "field_is_valid",
    "request_fields",
    "within",
]


@dataclass
class Answer:
    """What the engine sends back: a status, a media type and a body (a JSON value, text,
    or bytes already encoded), plus extra headers."""

    status: int
    content_type: str
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class Refusal(Exception):  # noqa: N818 - control flow inside the engine, never raised out of it
    """The vendor refuses the call with this answer (one of its documented errors)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.status)
        self.answer = answer


class Vendor(ABC):
    """One vendor's behaviour. Subclasses set ``name`` and the codes below and implement
    :meth:`handle` and :meth:`error`; the rest has defaults most vendors keep."""

    name: ClassVar[str]
    internal_error_code: ClassVar[str]
    # JSON paths (tuples of keys, "*" for every array item) of the values a vendor issues
    # afresh for every call (request ids, face_tokens, timings): see fresh_value.
    fresh_paths: ClassVar[Mapping[str, tuple[tuple[str, ...], ...]]] = {}

    @property
    def operations(self) -> tuple[str, ...]:
        """The ids of this vendor's operations."""
        return tuple(op.id for op in contracts().operations.values() if op.vendor == self.name)

    def data(self, operation: str) -> Mapping[str, Any]:
        """The operation's behaviour data, ``mocks/<vendor>/<operation>.json``."""
        found: Mapping[str, Any] = contracts().mock_data[operation]
        return found

    def documents(self, operation: str, code: str) -> bool:
        """Whether ``code`` is in the operation's error catalogue."""
        return any(entry["code"] == code for entry in self.data(operation)["errors"])

    def catalogue_entry(self, operation: str, code: str) -> Mapping[str, Any]:
        """The catalogue entry of ``code`` (KeyError naming the documented codes)."""
        entry: Mapping[str, Any]
        for entry in self.data(operation)["errors"]:
            if entry["code"] == code:
                return entry
        known = ", ".join(entry["code"] for entry in self.data(operation)["errors"])
        msg = f"{operation} documents no error {code!r}; documented: {known}"
        raise KeyError(msg)

    # --- what every vendor implements --------------------------------------------------------

    @abstractmethod
    def credential(self, call: Call) -> str | None:
        """The caller's credential as the vendor reads it (a key or token), if any."""

    @abstractmethod
    def credential_state(self, call: Call) -> str:
        """``valid``, ``wrong`` or ``missing``: whether the call carries credentials the
        mock accepts (for matching recordings)."""

    @abstractmethod
    def handle(self, call: Call) -> Answer:
        """The vendor's own answer to a routed call; raises :class:`Refusal` for an error."""

    @abstractmethod
    def error(self, operation: str, code: str, chooser: Chooser, **details: str) -> Answer:
        """The documented error ``code`` in the vendor's envelope; ``details`` fill the
        message placeholders."""

    @abstractmethod
    def error_code(self, operation: str, document: Any) -> str | None:
        """The error code an error document carries (None if it carries none)."""

    @abstractmethod
    def fresh_value(self, name: str, chooser: Chooser, index: int) -> Any:
        """A new value for the per-call field ``name`` (the last key of a fresh path)."""

    # --- answers the engine needs outside the vendor's own logic -------------------------------

    @abstractmethod
    def not_found(self, path: str, chooser: Chooser) -> Answer | None:
        """The vendor's answer to an unknown path under its prefix, or None if not its path."""

    @abstractmethod
    def bad_body(self, operation: str, error: BodyError, chooser: Chooser) -> Answer:
        """The answer to a body that cannot be parsed."""

    @abstractmethod
    def too_large(self, operation: str, chooser: Chooser) -> Answer:
        """The answer to a body over :meth:`body_limit`, given without reading it."""

    @abstractmethod
    def download_failure(self, operation: str, chooser: Chooser, *, timeout: bool) -> Answer:
        """The answer when the picture behind an image URL cannot be fetched."""

    def invalid_url(self, operation: str, chooser: Chooser) -> Answer:
        """The answer to an image URL that is not a URL at all."""
        return self.download_failure(operation, chooser, timeout=False)

    def body_limit(self, operation: str) -> int:
        """How many body bytes a transport reads before answering :meth:`too_large` unread:
        the picture limit plus room for the form around it, or 1 MiB for a body that
        carries only a URL."""
        image = self.data(operation).get("image")
        return int(image["max_bytes"]) + (1 << 20) if image else 1 << 20

    def face_token_lifetime(self, operation: str) -> float | None:
        """Seconds an issued face_token resolves, if the vendor issues them."""
        return None


def within(size: tuple[int, int], bound: Mapping[str, Any], *, upper: bool) -> bool:
    """Whether a picture's (width, height) meets a limit of ``mocks/`` data: a
    ``{width, height, inclusive, rotatable?}`` bound, upper or lower."""
    width, height = size
    limit_w: int = bound["width"]
    limit_h: int = bound["height"]
    if bound.get("rotatable"):
        width, height = max(size), min(size)
        limit_w, limit_h = max(limit_w, limit_h), min(limit_w, limit_h)
    if upper:
        if bound["inclusive"]:
            return width <= limit_w and height <= limit_h
        return width < limit_w and height < limit_h
    if bound["inclusive"]:
        return width >= limit_w and height >= limit_h
    return width > limit_w and height > limit_h


def big_enough(scene: Scene, limits: Mapping[str, Any]) -> Scene:
    """The scene without the faces smaller than the vendor detects (its documented
    ``min_face_side``: at least ``pixels`` and ``fraction_of_short_side`` of the picture)."""
    rule = limits.get("min_face_side")
    if not rule:
        return scene
    minimum = max(
        rule.get("pixels", 0),
        min(scene.width, scene.height) * rule.get("fraction_of_short_side", 0),
    )
    return Scene(
        scene.width,
        scene.height,
        tuple(f for f in scene.faces if min(f.width, f.height) >= minimum),
    )


@cache
def request_fields(operation: str) -> frozenset[str]:
    """The body members an operation's request schema documents."""
    return frozenset(_body_schema(operation).get("properties", {}))


def _body_schema(operation: str) -> Mapping[str, Any]:
    op = contracts().operation(operation)
    schema = contracts().schemas[op.schema_id("request")]
    body = schema["properties"]["body"]
    if isinstance(body, dict) and str(body.get("$ref", "")).startswith("#/"):
        node: Any = schema
        for part in body["$ref"][2:].split("/"):
            node = node[part]
        return node  # type: ignore[no-any-return]
    return body  # type: ignore[no-any-return]


def field_is_valid(operation: str, name: str, value: Any) -> bool:
    """Whether a request body member is valid under its schema (the documented values)."""
    op = contracts().operation(operation)
    schema_id = op.schema_id("request")
    body = contracts().schemas[schema_id]["properties"]["body"]
    base = body["$ref"] if isinstance(body, dict) and "$ref" in body else "#/properties/body"
    valid: bool = contracts().validator_at(f"{schema_id}{base}/properties/{name}").is_valid(value)
    return valid
