"""The vendor interface, and the small things every vendor module shares.

Each vendor module defines one :class:`Vendor` subclass; the engine, transports, server,
strategies, draw and the live suite ask it through this interface and never name a
vendor's fields themselves. Its documents (answers, invariants, special invalid documents,
request options, landmark readers, live-suite cases) sit in the vendor's documents module
and reach the rest through the same object. Adding a sixth operation means adding its
schemas, its data in ``mocks/`` and its branch in one vendor's two modules
(``docs/layout.md``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from face_contracts._invariants.requests import within
from face_contracts.contracts import contracts
from face_contracts.generation._scene import Scene
from face_contracts.generation._schema import flatten

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from face_contracts._invariants._registry import Context, Rule
    from face_contracts.contract_suite.cases import Case
    from face_contracts.generation._mutations import Invalid
    from face_contracts.generation._scene import Chooser
    from face_contracts.mock._engine import Call
    from face_contracts.mock._http import BodyError

__all__ = [
    "Answer",
    "Circle",
    "FaceMarks",
    "Group",
    "Reader",
    "Refusal",
    "Renderer",
    "Vendor",
    "big_enough",
    "by_prefix",
    "comma_subset",
    "documented_status",
    "field_is_valid",
    "request_fields",
    "within",
    "xy",
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


# --- what an answer says about where faces are (read for drawing) ---------------------------

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Group:
    """One landmark group of one face: its name (the vendor's, or a name prefix) and
    points in image pixels."""

    name: str
    points: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class Circle:
    """A pupil the vendor gives as a centre and a radius, drawn in its group's colour."""

    group: str
    x: float
    y: float
    radius: float


@dataclass(frozen=True, slots=True)
class FaceMarks:
    """One face: its box (left, top, width, height) when the vendor gives one, its landmark
    groups and pupil circles."""

    box: tuple[float, float, float, float] | None
    groups: tuple[Group, ...]
    circles: tuple[Circle, ...] = ()

    @property
    def point_count(self) -> int:
        """How many landmark points the face has."""
        return sum(len(group.points) for group in self.groups)


def xy(value: Mapping[str, Any]) -> Point:
    """An ``{x, y}`` point."""
    return float(value["x"]), float(value["y"])


def by_prefix(
    named: Iterable[tuple[str, Point]], table: Sequence[tuple[str, tuple[str, ...]]]
) -> tuple[Group, ...]:
    """Named points sorted into groups by name prefix, groups in table order; a name no
    prefix matches goes to ``other``. Longer prefixes must come first in the table."""
    found: dict[str, list[Point]] = {name: [] for name, _ in table}
    found["other"] = []
    for name, point in named:
        group = next(
            (group for group, prefixes in table if name.startswith(prefixes)),
            "other",
        )
        found[group].append(point)
    return tuple(Group(name, tuple(points)) for name, points in found.items() if points)


Renderer = Callable[[Scene, "Mapping[str, Any] | None", "Chooser"], dict[str, Any]]
"""A success answer from a scene, the request document it answers (None: options drawn
from the chooser) and a chooser."""
Reader = Callable[[Mapping[str, Any]], tuple[str, list[FaceMarks]]]
"""A success answer read into its landmark set's label and its faces."""


class Vendor(ABC):
    """One vendor's behaviour. Subclasses set the class variables and implement the
    abstract methods; the rest has defaults most vendors keep."""

    name: ClassVar[str]
    title: ClassVar[str]
    internal_error_code: ClassVar[str]
    # Where an error document carries its catalogue code (a JSON pointer).
    error_code_at: ClassVar[str]
    # The (rule, pointer) failures an error document breaks besides error.status when it
    # comes with a status its catalogue does not document.
    wrong_status_breaks: ClassVar[frozenset[tuple[str, str]]] = frozenset()
    # The environment variables the live suite reads this vendor's credentials from, in
    # the order the credential's parts are written (Face++: key, then secret).
    credential_env: ClassVar[tuple[str, ...]]
    # JSON paths (tuples of keys, "*" for every array item) of the values a vendor issues
    # afresh for every call (request ids, face_tokens, timings): see fresh_value.
    fresh_paths: ClassVar[Mapping[str, tuple[tuple[str, ...], ...]]] = {}
    # The vendor's documents: success answers by operation, and by (operation, variant)
    # for the documented alternative shapes; landmark readers by operation.
    renderers: ClassVar[Mapping[str, Renderer]]
    variant_renderers: ClassVar[Mapping[tuple[str, str], Renderer]] = {}
    readers: ClassVar[Mapping[str, Reader]] = {}

    @property
    def operations(self) -> tuple[str, ...]:
        """The ids of this vendor's operations."""
        return tuple(op.id for op in contracts().operations.values() if op.vendor == self.name)

    def data(self, operation: str) -> Mapping[str, Any]:
        """The operation's behaviour data, ``mocks/<vendor>/<operation>.json``."""
        found: Mapping[str, Any] = contracts().mock_data[operation]
        return found

    def catalogue(self, operation: str) -> list[Mapping[str, Any]]:
        """The operation's documented errors (its catalogue in ``mocks/``)."""
        errors: list[Mapping[str, Any]] = self.data(operation)["errors"]
        return errors

    def documents(self, operation: str, code: str) -> bool:
        """Whether ``code`` is in the operation's error catalogue."""
        return any(entry["code"] == code for entry in self.catalogue(operation))

    def catalogue_entry(self, operation: str, code: str) -> Mapping[str, Any]:
        """The catalogue entry of ``code`` (KeyError naming the documented codes)."""
        for entry in self.catalogue(operation):
            if entry["code"] == code:
                return entry
        known = ", ".join(entry["code"] for entry in self.catalogue(operation))
        msg = f"{operation} documents no error {code!r}; documented: {known}"
        raise KeyError(msg)

    # --- credentials, as the contract's ``auth`` places them ---------------------------------

    def placeholder_credentials(self, kind: str) -> tuple[str, ...]:
        """Made-up credentials, one per part: ``face-contracts-<kind>-<vendor>-<part>``
        (``key``, ``secret``, ``token``: the last word of each environment variable)."""
        parts = (env.rsplit("_", 1)[-1].lower() for env in self.credential_env)
        return tuple(f"face-contracts-{kind}-{self.name}-{part}" for part in parts)

    def request_document(
        self, operation: str, credentials: Sequence[str], body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A request document carrying ``credentials`` where the contract's ``auth`` puts
        them (a header, with its scheme, or body fields before ``body``'s own); none are
        sent for an empty sequence. A JSON operation declares its content type."""
        op = contracts().operation(operation)
        auth = op.auth
        headers: dict[str, str] = {}
        fields: dict[str, Any] = {}
        if auth["in"] == "header":
            if credentials:
                scheme = auth.get("scheme")
                headers[auth["name"]] = f"{scheme} {credentials[0]}" if scheme else credentials[0]
        else:
            fields = dict(zip(auth["fields"], credentials, strict=False))
        if op.request_content_types == ("application/json",):
            headers["content-type"] = "application/json"
        document: dict[str, Any] = {"body": {**fields, **body}}
        if headers:
            document = {"headers": headers, **document}
        return document

    def picture_field(self, operation: str, source: str) -> str | None:
        """The request field a picture travels in by ``source`` (``file``, ``base64``,
        ``url`` or ``token``), from the operation's ``image.sources`` in ``mocks/``; None if
        the operation takes none that way."""
        image = self.data(operation).get("image") or {}
        for name in image.get("sources", ()):
            if _source_kind(name) == source:
                return str(name)
        return None

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

    # --- documents -----------------------------------------------------------------------------

    def render(
        self,
        operation: str,
        scene: Scene,
        request: Mapping[str, Any] | None,
        chooser: Chooser,
        variant: str | None = None,
    ) -> dict[str, Any]:
        """The success answer for a scene: answering the request document ``request``, or
        with options from the chooser; ``variant`` names a documented alternative shape
        (NotImplementedError for one without a renderer)."""
        if variant is None:
            return self.renderers[operation](scene, request, chooser)
        renderer = self.variant_renderers.get((operation, variant))
        if renderer is None:
            msg = f"no documents are generated for {operation} response variant {variant!r}"
            raise NotImplementedError(msg)
        return renderer(scene, request, chooser)

    def landmarks(self, operation: str, document: Mapping[str, Any]) -> tuple[str, list[FaceMarks]]:
        """A valid success answer read into its landmark set's label and its faces
        (KeyError for an operation that answers no landmarks)."""
        return self.readers[operation](document)

    def legend_notes(self, operation: str) -> Mapping[str, str]:
        """What a drawing's legend adds to a group's name (which side of the picture)."""
        return {}

    @abstractmethod
    def richest_request(
        self, operation: str, picture: Mapping[str, str], image_url: str
    ) -> dict[str, Any]:
        """The request body asking for every landmark and face the operation can return,
        for a picture given as a file part (or, for a vendor that takes URLs only, at
        ``image_url``)."""

    @abstractmethod
    def request_options(self, operation: str, chooser: Chooser) -> dict[str, Any]:
        """Documented request options (everything but credentials and the picture), drawn
        from the chooser."""

    def min_faces(self, operation: str) -> int:
        """The fewest faces a success answer holds (1 where no face is an error)."""
        return 0

    @abstractmethod
    def face_count(self, operation: str, document: Any) -> int | None:
        """How many faces a success answer reports (None when it cannot be read)."""

    def invalid_documents(
        self,
        operation: str,
        kind: str,
        valid: Any,
        request: Any,
        status: int | None,
        chooser: Chooser,
    ) -> list[Invalid]:
        """The vendor's own ways to break a valid response or error document (keys moved
        between groups, broken invariants), beyond what the schema alone makes."""
        return []

    @abstractmethod
    def contract_cases(self, operation: str) -> list[Case]:
        """The live suite's documented requests of ``operation`` and their answers."""


def comma_subset(chooser: Chooser, options: Sequence[str]) -> str:
    """Some of ``options`` (at least one, in their order) as a comma-separated value."""
    chosen = [option for option in options if chooser.choice((False, True))]
    return ",".join(chosen or [chooser.choice(options)])


def _source_kind(name: str) -> str:
    if name == "face_token":
        return "token"
    if name.endswith("_url"):
        return "url"
    if name.endswith("_base64"):
        return "base64"
    return "file"


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
def _body(operation: str) -> tuple[str, dict[str, Any]]:
    """Where an operation's request body schema is (a ``$ref``: ``<$id>#/pointer``) and
    that schema, flattened (references resolved through the registry)."""
    schema_id = contracts().operation(operation).schema_id("request")
    body = contracts().schemas[schema_id]["properties"]["body"]
    ref = body.get("$ref") if isinstance(body, dict) else None
    if ref is None:
        where = f"{schema_id}#/properties/body"
    else:
        where = f"{schema_id}{ref}" if ref.startswith("#") else ref
    return where, flatten(body, schema_id)


def request_fields(operation: str) -> frozenset[str]:
    """The body members an operation's request schema documents."""
    return frozenset(_body(operation)[1].get("properties", {}))


def field_is_valid(operation: str, name: str, value: Any) -> bool:
    """Whether a request body member is valid under its schema (the documented values)."""
    valid: bool = _field_validator(operation, name).is_valid(value)
    return valid


@cache
def _field_validator(operation: str, name: str) -> Any:
    where, _ = _body(operation)
    return contracts().validator_at(f"{where}/properties/{name}")


def documented_status(code_of: Callable[[Any], str | None], code_at: str) -> Rule:
    """The rule ``error.status``: an error comes with an HTTP status its catalogue entry
    documents. ``code_of`` reads the code from an error document; ``code_at`` is where it
    sits (a plain-text error is the whole document)."""

    def rule(document: Any, context: Context) -> Iterator[tuple[str, str]]:
        code = code_of(document)
        if context.status is None or not code:
            return
        statuses = {
            status
            for entry in contracts().mock_data[context.operation.id]["errors"]
            if entry["code"] == code
            for status in entry.get("statuses", [entry["status"]])
        }
        if statuses and context.status not in statuses:
            where = "" if isinstance(document, str) else code_at
            documented = " or ".join(str(s) for s in sorted(statuses))
            yield where, f"{code} is documented with HTTP {documented}, not {context.status}"

    return rule
