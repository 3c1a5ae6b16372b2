"""The mock engine: one request in, the vendor's answer out.

The engine decides what is common to every vendor: routing, faults, stubbed answers,
recordings, forced errors, the journal, per-call ids, picture analysis and image URLs.
What a vendor does with a call is its module's business (:mod:`face_contracts.vendors`).
Everything that changes while serving sits behind the state interface
(:mod:`face_contracts.state`), so workers and replicas can share it. The transports (respx,
pytest-httpserver, the ASGI server) only translate HTTP.

Answers are pure functions of the picture and the options, so each is rendered once and
kept; the values a vendor issues afresh for every call (request ids, face_tokens, timings)
are stamped into the kept answer per call, drawn from the mock's seed and the call's
sequence number: the same seed and call order give the same ids in every run.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import random
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import orjson

from face_contracts.contracts import contracts
from face_contracts.generation._scene import Chooser, Face, HashChooser, RandomChooser, Scene
from face_contracts.journal import FileRecord, JournalEntry, JournalQuery
from face_contracts.mock._fetch import FetchFailure, fetch_loopback, loopback_url
from face_contracts.mock._http import (
    BodyError,
    HttpRequest,
    HttpResponse,
    ParsedBody,
    PartBudgetError,
    parse_body,
)
from face_contracts.mock._pictures import (
    Picture,
    analyse,
    analysed,
    default_picture,
    faces_for,
    grid_scene,
)
from face_contracts.recordings import replay_key, request_summary
from face_contracts.redaction import Redactor
from face_contracts.settings import (
    Fault,
    ForcedError,
    Settings,
    StubbedResponse,
    When,
    parse_changes,
)
from face_contracts.state import CallTicket, LoopState, MemoryState, State, StateUnavailableError
from face_contracts.vendors import VENDORS, Answer, Refusal, Vendor, vendor_of
from face_contracts.vendors._base import big_enough

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = ["Call", "Deferred", "Engine", "body_limit"]

_LOG = logging.getLogger("face_contracts.mock")
_Rule = TypeVar("_Rule", ForcedError, Fault, StubbedResponse)
_PROCESS = f"{socket.gethostname()}:{os.getpid()}"
# .active: this thread answers a call on the server's event loop; .writes: the journal
# writes of a call on a shared state, sent by the loop once the call is answered.
_ON_LOOP = threading.local()
_ON_LOOP_PARTS = 64  # multipart parts parsed on the loop (1,000 would take it some 20 ms)


class Deferred(Exception):  # noqa: N818 - control flow, not a failure
    """A call the server tried to answer on its event loop needs slow work (a picture not
    analysed yet, an answer not rendered yet, an image URL): answer it in a thread with
    ``handle(request, ticket=deferred.ticket)``, which keeps the call's number (None: the
    call was not numbered yet)."""

    def __init__(self, ticket: CallTicket | None, reason: str) -> None:
        super().__init__(reason)
        self.ticket = ticket


class _SlowWork(Exception):  # noqa: N818 - control flow: caught in Engine.handle
    pass


def _on_loop() -> bool:
    return getattr(_ON_LOOP, "active", False)


def body_limit(operation: str | None) -> int:
    """How many body bytes a transport reads before it answers :meth:`Engine.too_large`
    unread (the vendor's limit, or 1 MiB for an unknown path)."""
    if operation is None:
        return 1 << 20
    return vendor_of(operation).body_limit(operation)


class Call:
    """One call on its way through the engine: the request, its lazily parsed body, its
    credential, the per-call random values, and the services a vendor's logic uses."""

    def __init__(
        self,
        engine: Engine,
        request: HttpRequest,
        operation: str | None,
        sequence: int,
        settings: Settings,
        deadline: float | None,
    ) -> None:
        self.engine = engine
        self.request = request
        self.operation = operation
        self.sequence = sequence
        self.settings = settings
        self.deadline = deadline
        self.vendor: Vendor | None = vendor_of(operation) if operation else None
        self.chooser = HashChooser(f"{settings.seed}:{sequence}")
        self.notes: list[str] = []
        self.digests: dict[int, str] = {}  # id(bytes read as a picture) -> its SHA-256
        self._on_refusal: list[Callable[[], None]] = []
        self._on_complete: list[Callable[[], None]] = []

    @property
    def op(self) -> str:
        """The operation (for vendor code: a routed call always has one)."""
        assert self.operation is not None
        return self.operation

    # --- the request --------------------------------------------------------------------------

    @cached_property
    def parsed(self) -> ParsedBody:
        """The body, parsed by its declared content type (raises BodyError)."""
        content_type = self.request.headers.get("content-type", "")
        if not _on_loop():
            return parse_body(content_type, self.request.body)
        try:
            return parse_body(content_type, self.request.body, part_budget=_ON_LOOP_PARTS)
        except PartBudgetError:
            raise _SlowWork("a form of many parts") from None

    @cached_property
    def fields(self) -> dict[str, Any]:
        """Form fields or JSON object members; empty for a body that does not parse."""
        try:
            parsed = self.parsed
        except BodyError:
            return {}
        if parsed.kind == "json":
            return dict(parsed.json) if isinstance(parsed.json, dict) else {}
        return dict(parsed.fields)

    @cached_property
    def credential(self) -> str | None:
        """The caller's credential as its vendor reads it."""
        return self.vendor.credential(self) if self.vendor else None

    # --- answers ------------------------------------------------------------------------------

    def error(self, code: str, **details: str) -> Answer:
        """The vendor's documented error ``code`` for this call."""
        assert self.vendor is not None
        return self.vendor.error(self.op, code, self.chooser, **details)

    def refuse(self, code: str, **details: str) -> NoReturn:
        """Refuse the call with the documented error ``code``."""
        raise Refusal(self.error(code, **details))

    def on_refusal(self, undo: Callable[[], None]) -> None:
        """Run ``undo`` if the call ends refused (give back credits taken up front)."""
        self._on_refusal.append(undo)

    def on_complete(self, done: Callable[[], None]) -> None:
        """Run ``done`` once the answer is sent (release a concurrency slot)."""
        self._on_complete.append(done)

    # --- pictures -----------------------------------------------------------------------------

    def picture(self, data: bytes | memoryview) -> Picture:
        """The analysis of a picture (format, size, decodability, faces: once per digest)."""
        if _on_loop():
            known = analysed(data)
            if known is None:
                raise _SlowWork("a picture not analysed yet")
            picture = known
        else:
            picture = analyse(data)
        self.digests[id(data)] = picture.digest  # the journal need not hash it again
        return picture

    def fetch(self, url: str) -> bytes:
        """The picture behind an image URL: registered, fetched from loopback, or the
        bundled face; in strict mode any other URL is the vendor's download failure."""
        assert self.vendor is not None
        registered = self.settings.images.get(url)
        if registered is not None:
            return registered
        if _on_loop():
            raise _SlowWork("an image URL")
        try:
            if loopback_url(url):
                return fetch_loopback(url, own=self.engine.own_addresses, deadline=self.deadline)
        except FetchFailure as failure:
            if failure.reason == "invalid_url":
                raise Refusal(self.vendor.invalid_url(self.op, self.chooser)) from None
            self.notes.append(f"image URL not fetched: {failure.reason}")
            answer = self.vendor.download_failure(
                self.op, self.chooser, timeout=failure.reason == "timeout"
            )
            raise Refusal(answer) from None
        if self.settings.strict_urls:
            self.notes.append("image URL not registered (strict_urls)")
            raise Refusal(self.vendor.download_failure(self.op, self.chooser, timeout=False))
        return default_picture()

    def scene(self, picture: Picture) -> Scene:
        """The faces in a picture: the configured ones, or those found in it."""
        override = self.settings.operation_faces.get(self.op, self.settings.faces)
        scene = faces_for(picture, override)
        if scene.note:
            self.notes.append(scene.note)
        return scene

    def reported(self, scene: Scene, limits: Mapping[str, Any]) -> Scene:
        """The faces the vendor reports: those at least its documented minimum size. When
        the settings asked for more faces than fit the picture at that size, the call gets
        a plain-text 500 saying so (a setting the picture cannot honour, never silently
        fewer faces)."""
        kept = big_enough(scene, limits)
        wanted = self.settings.operation_faces.get(self.op, self.settings.faces)
        if isinstance(wanted, int) and len(kept.faces) < wanted:
            fit = next(
                (
                    count
                    for count in range(wanted - 1, 0, -1)
                    if len(big_enough(grid_scene(scene.width, scene.height, count), limits).faces)
                    == count
                ),
                0,
            )
            message = (
                f"face-contracts: faces = {wanted} cannot be placed on this "
                f"{scene.width}x{scene.height} picture: {self.op} reports faces of at least "
                f"{_minimum_side(scene, limits)} px, and at most {fit} of that size fit. "
                "Send a larger picture or ask for fewer faces.\n"
            )
            raise Refusal(Answer(500, "text/plain", message))
        return kept

    def render(
        self, scene: Scene, request_body: Mapping[str, Any]
    ) -> tuple[Answer, dict[str, list[Any]]]:
        """The vendor's success answer for a scene and the request's options, with this
        call's fresh values (ids, face_tokens) stamped in; also those values by name."""
        assert self.vendor is not None
        stamped = _rendered(self.op, scene, request_body)
        body, fresh = stamped.stamp(self.vendor, self.chooser)
        return Answer(200, "application/json", body), fresh

    def remember_face_tokens(
        self, tokens: Iterable[str], scene: Scene, faces: Iterable[Face]
    ) -> None:
        """Make issued face_tokens resolve to their faces (for the vendor's lifetime)."""
        assert self.vendor is not None
        lifetime = self.vendor.face_token_lifetime(self.op) or 72 * 3600.0
        payload = {
            token: orjson.dumps({"width": scene.width, "height": scene.height, "face": face})
            for token, face in zip(tokens, faces, strict=False)
        }
        if payload:
            self.engine.state.put_face_tokens(payload, lifetime)

    def face_token_scene(self, token: str) -> Scene | None:
        """The one-face scene a face_token resolves to, or None if never issued."""
        if self.engine._shared is not None and _on_loop():
            raise _SlowWork("a face_token lookup in the shared state")
        raw = self.engine.state.face_token(token)
        if raw is None:
            return None
        data = orjson.loads(raw)
        face = Face(**{k: _tuples(v) for k, v in data["face"].items()})
        return Scene(int(data["width"]), int(data["height"]), (face,))

    # --- quotas -------------------------------------------------------------------------------

    def spend_credits(self, key: str, cost: int) -> tuple[bool, int]:
        """Take ``cost`` credits from ``key`` (refunded if the call ends refused);
        (taken, balance before). Always taken when credits are unlimited."""
        if self.settings.credits is None:
            return True, -1
        taken, balance = self.engine.state.reserve_credits(key, cost, self.settings.credits)
        if taken:
            self.on_refusal(lambda: self.engine.state.refund_credits(key, cost))
        return taken, balance

    def within_rate(self, key: str) -> bool:
        """Whether one more call of ``key`` fits in the configured rate."""
        rate = self.settings.rate_per_second
        return rate is None or self.engine.state.take_rate(key, rate)

    def take_slot(self, key: str) -> bool:
        """Take an in-flight slot of ``key`` (released once answered); False when full."""
        limit = self.settings.concurrency
        if limit is None:
            return True
        handle = self.engine.state.acquire_slot(key, limit)
        if handle is None:
            return False
        state = self.engine.state
        held = [handle]  # released once: by a refusal or by the answer's completion

        def release() -> None:
            try:
                taken = held.pop()
            except IndexError:
                return
            state.release_slot(taken)

        self.on_complete(release)
        self.on_refusal(release)
        return True


class Engine:
    """One mock: its base settings, the settings changed since, and its state (counters,
    face_tokens, journal). Thread-safe: the transports call :meth:`handle` concurrently.

    ``settings`` is the base (what :meth:`reset` returns to); keyword arguments are
    settings applied on top (the TOML keys, checked by :mod:`face_contracts.settings`)."""

    def __init__(
        self, settings: Settings | None = None, *, state: State | None = None, **changes: Any
    ) -> None:
        base = settings or Settings()
        if changes:
            base = base.merged(parse_changes(changes))
        self.base_settings = base
        self.state: State = state or MemoryState(base.journal_limit, base.journal_bytes)
        # A shared state the server's event loop can use without blocking (Redis).
        self._shared: LoopState | None = (
            state if callable(getattr(state, "begin_call_on_loop", None)) else None  # type: ignore[assignment]
        )
        self.own_addresses: set[tuple[str, int]] = set()
        self._redactor: tuple[Settings, Redactor] | None = None
        self._lock = threading.Lock()
        self._version = -1
        self._settings = base
        self.state.configure_journal(base.journal_limit, base.journal_bytes)

    # --- settings -----------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The settings in force: the base plus every change since the last reset."""
        return self._current(self.state.settings_version())

    @property
    def config(self) -> Settings:
        """Alias of :attr:`settings`."""
        return self.settings

    def _current(self, version: int) -> Settings:
        if version == self._version:
            return self._settings
        with self._lock:
            version, log = self.state.settings_log()
            settings = self.base_settings
            for change in log:
                if "set" in change:
                    settings = settings.merged(parse_changes(change["set"]))
                else:
                    settings, _ = settings.without_rule(change["remove"])
            self._settings, self._version = settings, version
            self.state.configure_journal(settings.journal_limit, settings.journal_bytes)
            return settings

    def configure(self, **changes: Any) -> tuple[str, ...]:
        """Change the settings until the next :meth:`reset` (the TOML keys; errors, faults
        and responses are added). Returns the ids of the rules added. Raises SettingsError."""
        plain = dict(changes)
        for name in ("errors", "faults", "responses"):
            if name in plain:
                plain[name] = [_with_id(item) for item in _listed(plain[name])]
        self.settings.merged(parse_changes(plain))  # refuse a bad change before anyone sees it
        self.state.add_settings_change({"set": plain})
        self._refresh()
        return tuple(
            item["id"] for name in ("errors", "faults", "responses") for item in plain.get(name, ())
        )

    def remove(self, rule_id: str) -> bool:
        """Remove the forced error, fault or stubbed answer with this id; False if none."""
        _, found = self.settings.without_rule(rule_id)
        if found is None:
            return False
        self.state.add_settings_change({"remove": rule_id})
        self._refresh()
        return True

    def rule(self, rule_id: str) -> ForcedError | Fault | StubbedResponse | None:
        """The forced error, fault or stub with this id, if it is in force."""
        return self.settings.without_rule(rule_id)[1]

    def _refresh(self) -> None:
        self._current(self.state.settings_version())

    def reset(self) -> None:
        """Back to the base settings: run-time settings, face_tokens, counters, credits and
        journal are forgotten."""
        self.state.reset()
        self._refresh()

    @property
    def redactor(self) -> Redactor:
        """Masks the credentials in use (settings and environment) wherever they appear;
        built once per settings (it compiles a pattern of every secret)."""
        settings = self.settings
        cached = self._redactor
        if cached is None or cached[0] is not settings:
            cached = (settings, Redactor.from_environment(extra=settings.secrets()))
            self._redactor = cached
        return cached[1]

    # --- the journal --------------------------------------------------------------------------

    @property
    def journal(self) -> list[JournalEntry]:
        """Every call answered since the last reset (within the journal's bounds), oldest
        first."""
        return self.state.journal()

    def calls_matching(self, query: JournalQuery) -> list[JournalEntry]:
        """The journal entries a query selects."""
        if query.operation is not None:
            contracts().operation(query.operation)  # an unknown id names the known ones
        return self.state.journal(query)

    def clear_journal(self) -> None:
        """Forget the journal only."""
        self.state.clear_journal()

    # --- the request path -------------------------------------------------------------------

    def route(self, method: str, path: str) -> str | None:
        """The operation served at this method and path, if any."""
        return _routes().get((method.upper(), path.rstrip("/") or "/"))

    def handle(
        self,
        request: HttpRequest,
        *,
        deadline: float | None = None,
        on_loop: bool = False,
        ticket: CallTicket | None = None,
    ) -> HttpResponse:
        """Answer one request as the vendor would. ``deadline`` (``time.monotonic()``)
        bounds the waiting inside (image URLs).

        ``on_loop``: the caller is an event loop that must not wait; the call is answered
        only if that takes no slow work (its picture analysed and its answer rendered
        before, no image URL to fetch, an in-memory state: :meth:`handle_on_loop` awaits a
        shared one's round trips) and counts toward nothing (no forced errors, faults,
        stubs, credits, rate or concurrency limits); otherwise :class:`Deferred` is raised
        before the call has changed anything but its number, which ``ticket`` then hands
        to the retry."""
        operation = self.route(request.method, request.path)
        if on_loop and not isinstance(self.state, MemoryState):
            # A blocking round trip would stall the loop: handle_on_loop awaits them.
            raise Deferred(None, "a shared state's round trips")
        try:
            if ticket is None:
                ticket = self.state.begin_call()
            else:
                self.state.resume_call(ticket)
            settings = self._current(ticket.settings_version)
        except StateUnavailableError as error:
            return self._state_failure(operation, request, error)
        if not on_loop:
            return self._handle(request, operation, ticket, settings, deadline)
        if not _stateless(settings):
            raise Deferred(ticket, "the call may change a rule's counts or a quota")
        _ON_LOOP.active = True
        try:
            return self._handle(request, operation, ticket, settings, deadline)
        except _SlowWork as slow:
            raise Deferred(ticket, str(slow)) from None
        finally:
            _ON_LOOP.active = False

    async def handle_on_loop(
        self, request: HttpRequest, *, deadline: float | None = None
    ) -> HttpResponse:
        """:meth:`handle` on a server's event loop (``on_loop=True``), for every state: with
        a shared one, the call's round trips (its number, then its journal entry with its
        face_tokens, before the answer leaves) are awaited, not waited for, and share their
        trip with the other calls in flight; while this loop alone numbers calls, the call
        is answered with the number it will most likely get and numbered by its journal
        write, one trip instead of two (answered again, with its number, if the guess
        missed). A call the state has not answered by ``deadline`` (``time.monotonic()``)
        gets the vendor's internal error. Raises :class:`Deferred` as ``handle`` does; a
        call deferred after it was numbered keeps its number."""
        shared = self._shared
        if shared is None:
            return self.handle(request, on_loop=True)
        operation = self.route(request.method, request.path)
        settings = self._settings
        guess = shared.guess_ticket_on_loop(self._version) if _stateless(settings) else None
        if guess is not None:
            try:
                response, writes = self._answer_on_loop(request, operation, guess, settings, True)
            except Deferred as deferred:  # numbered now, as every call the loop defers
                try:
                    ticket = await shared.begin_call_on_loop(deadline)
                except StateUnavailableError as error:
                    return self._state_failure(operation, request, error)
                raise Deferred(ticket, str(deferred)) from None
            try:
                numbered = await self._write_on_loop(shared, writes, deadline, guess)
            except StateUnavailableError as error:
                response.complete()  # the answer is not sent
                return self._state_failure(operation, request, error)
            if numbered is None:
                return response
            response.complete()  # answered with another number: not sent
            ticket = numbered
        else:
            try:
                ticket = await shared.begin_call_on_loop(deadline)
            except StateUnavailableError as error:
                return self._state_failure(operation, request, error)
        if ticket.settings_version != self._version:
            raise Deferred(ticket, "the run-time settings changed (read in a thread)")
        settings = self._settings
        if not _stateless(settings):
            raise Deferred(ticket, "the call may change a rule's counts or a quota")
        response, writes = self._answer_on_loop(request, operation, ticket, settings, False)
        try:
            await self._write_on_loop(shared, writes, deadline, None)
        except StateUnavailableError as error:
            response.complete()  # the answer is not sent
            return self._state_failure(operation, request, error)
        return response

    def _answer_on_loop(
        self,
        request: HttpRequest,
        operation: str | None,
        ticket: CallTicket,
        settings: Settings,
        guessed: bool,
    ) -> tuple[HttpResponse, list[Any]]:
        """The answer to a call with ``ticket`` and its journal writes, to send; Deferred
        when it needs slow work (with the ticket, unless it is only ``guessed``)."""
        assert self._shared is not None
        shared = self._shared
        shared.resume_call(ticket)
        writes: list[Any] = []
        _ON_LOOP.active, _ON_LOOP.writes = True, writes
        try:
            return self._handle(request, operation, ticket, settings, None), writes
        except _SlowWork as slow:
            raise Deferred(None if guessed else ticket, str(slow)) from None
        finally:
            _ON_LOOP.active, _ON_LOOP.writes = False, None
            shared.resume_call(None)

    @staticmethod
    async def _write_on_loop(
        shared: LoopState, writes: list[Any], deadline: float | None, guess: CallTicket | None
    ) -> CallTicket | None:
        """Send a call's journal writes; with ``guess``, the first numbers the call: the
        ticket it got instead (nothing written), or None."""
        if guess is not None and not writes:  # nothing to number it with: number it now
            ticket = await shared.begin_call_on_loop(deadline)
            return None if ticket == guess else ticket
        for prepared in writes:
            numbered = await shared.write_record_on_loop(prepared, deadline, guess)
            if numbered is not None:
                return numbered
            guess = None
        return None

    async def leave_loop(self) -> None:
        """Release what :meth:`handle_on_loop` holds on the running event loop (a shared
        state's connection); call it before the loop ends."""
        if self._shared is not None:
            await self._shared.leave_loop()

    def _handle(
        self,
        request: HttpRequest,
        operation: str | None,
        ticket: CallTicket,
        settings: Settings,
        deadline: float | None,
    ) -> HttpResponse:
        call = Call(self, request, operation, ticket.sequence, settings, deadline)
        delay = 0.0
        try:
            fault = self._first(settings.faults, call)
            if fault is not None:
                # Seeded by the call and the fault's delay (not its id, drawn afresh in each
                # run), so a run's latencies repeat (not secrecy).
                drawn = f"{settings.seed}:{ticket.sequence}:{fault.delay.to_json()}"
                rng = random.Random(drawn)  # noqa: S311
                delay = fault.delay.sample(rng)
                call.notes.append(f"fault {fault.id}")
                if fault.drop or fault.status:
                    text = (
                        f"{fault.status} fault injected by face-contracts" if fault.status else ""
                    )
                    response = HttpResponse(
                        fault.status or 0, "text/plain", text.encode(), delay=delay, drop=fault.drop
                    )
                    return self._recorded(call, response)
            answer = self._answer(call, settings)
        except Refusal as refusal:
            answer = refusal.answer
            failure = _undo(call)
            if failure is not None:
                return self._state_failure(operation, request, failure)
        except StateUnavailableError as error:
            _undo(call)  # give back what the call took before the state failed
            return self._state_failure(operation, request, error)
        response = _encode(answer)
        response.delay = delay
        if call._on_complete:
            response.on_complete = _all(tuple(call._on_complete))
        return self._recorded(call, response)

    def _recorded(self, call: Call, response: HttpResponse) -> HttpResponse:
        """The answer, once journaled; the vendor's internal error when the state cannot
        take the entry (a shared state also stores the call's face_tokens with it)."""
        try:
            self._record(call, response)
        except StateUnavailableError as error:
            response.complete()  # the answer is not sent: release its slots now
            return self._state_failure(call.operation, call.request, error)
        return response

    def _answer(self, call: Call, settings: Settings) -> Answer:
        operation = call.operation
        if operation is None:
            return _not_found(call)
        vendor = vendor_of(operation)
        limit = vendor.body_limit(operation)
        if len(call.request.body) > limit:
            raise Refusal(vendor.too_large(operation, call.chooser))
        try:
            call.parsed  # noqa: B018 - parse now, so a malformed body gets the vendor's answer
        except BodyError as error:
            raise Refusal(vendor.bad_body(operation, error, call.chooser)) from None
        stub = self._first(settings.responses, call)
        if stub is not None:
            call.notes.append(f"stub {stub.id}")
            return self._stubbed(call, stub)
        if settings.recordings:
            replayed = self._replayed(call, settings)
            if replayed is not None:
                return replayed
        forced = self._first(settings.errors, call)
        if forced is not None:
            call.notes.append(f"forced error {forced.id}")
            call.refuse(forced.code, **dict(forced.details))
        return vendor.handle(call)

    def _first(self, rules: tuple[_Rule, ...], call: Call) -> _Rule | None:
        """The first rule that fires on this call; every rule the call matches counts it."""
        matching = [rule for rule in rules if _applies(rule, call)]
        if not matching:
            return None
        index = self.state.first_firing([(r.id, r.nth, r.times) for r in matching])
        return None if index is None else matching[index]

    def _stubbed(self, call: Call, stub: StubbedResponse) -> Answer:
        if stub.invalid is not None:
            # deferred: the mutation machinery (and Pillow) only for stubs that drift
            from face_contracts.mock._drift import drifted_answer

            answer, note = drifted_answer(call, stub)
            call.notes.append(note)
            return answer
        return Answer(stub.status, stub.content_type, stub.body, dict(stub.headers))

    def _replayed(self, call: Call, settings: Settings) -> Answer | None:
        """The recorded answer to a request whose summary (fields, file digests, credential
        state) matches a recording's, or None to answer as usual."""
        assert call.vendor is not None
        state = call.vendor.credential_state(call)
        key = replay_key(
            call.op,
            request_summary(call.op, call.request, call.parsed, state),  # type: ignore[arg-type]
        )
        for recording in settings.recordings:
            if recording.operation == call.op and recording.key == key:
                call.notes.append(f"recording {recording.case}")
                if recording.report is not None and not recording.report.valid:
                    call.notes.append("drifted recording: breaks the contract")
                return Answer(recording.status, recording.content_type, recording.encoded_body())
        return None

    def internal_error(self, operation: str | None, request: HttpRequest) -> HttpResponse:
        """The vendor's documented internal error, for a transport that caught a failure of
        the engine itself (or a call past its deadline)."""
        chooser = HashChooser(f"internal:{time.monotonic_ns()}")
        if operation is None:
            return HttpResponse(500, "text/plain", b"face-contracts mock: internal error")
        vendor = vendor_of(operation)
        response = _encode(vendor.error(operation, vendor.internal_error_code, chooser))
        self._record_quietly(operation, request, response, "internal error")
        return response

    def too_large(self, operation: str | None, request: HttpRequest) -> HttpResponse:
        """The vendor's answer to a body over :func:`body_limit`, given without reading it."""
        chooser = HashChooser(f"too-large:{time.monotonic_ns()}")
        if operation is None:
            answer = _not_found_path(request.path, chooser)
        else:
            answer = vendor_of(operation).too_large(operation, chooser)
        response = _encode(answer)
        self._record_quietly(operation, request, response, "body not read: too large")
        return response

    def _state_failure(
        self, operation: str | None, request: HttpRequest, error: Exception
    ) -> HttpResponse:
        _LOG.error("face-contracts: shared state unavailable: %s", error)
        if operation is None:
            return HttpResponse(503, "text/plain", b"face-contracts mock: state unavailable")
        vendor = vendor_of(operation)
        chooser = HashChooser(f"state:{time.monotonic_ns()}")
        return _encode(vendor.error(operation, vendor.internal_error_code, chooser))

    def _record_quietly(
        self, operation: str | None, request: HttpRequest, response: HttpResponse, note: str
    ) -> None:
        try:
            ticket = self.state.begin_call()
            call = Call(self, request, operation, ticket.sequence, self.settings, None)
            call.notes.append(note)
            call.__dict__["fields"] = {}  # the body was not read
            self._record(call, response, files=False)
        except StateUnavailableError as error:
            _LOG.error("face-contracts: journal unavailable: %s", error)

    def _record(self, call: Call, response: HttpResponse, *, files: bool = True) -> None:
        redactor = self.redactor
        request = call.request
        parts: dict[str, FileRecord] = {}
        if files:
            try:
                parsed_files = call.parsed.files
            except BodyError:
                parsed_files = {}
            for name, part in parsed_files.items():
                data = part.data
                digest = call.digests.get(id(data)) or hashlib.sha256(data).hexdigest()
                parts[name] = FileRecord(
                    redactor.text(part.filename) if part.filename is not None else None,
                    part.content_type,
                    len(data),
                    digest,
                    data,
                )
        entry = JournalEntry(
            call.sequence,
            call.operation,
            request.method,
            request.path,
            redactor.headers(request.headers),
            redactor.fields(call.fields),
            response.status,
            response.content_type,
            response.body,
            time.time(),
            parts,
            redactor.url(f"http://h/?{request.query}").partition("?")[2] if request.query else "",
            _PROCESS,
            tuple(call.notes),
            response.drop,
        )
        writes = getattr(_ON_LOOP, "writes", None)
        if writes is not None and self._shared is not None:
            writes.append(self._shared.prepare_record(entry))  # the loop sends it
        else:
            self.state.record(entry)


# --- helpers -------------------------------------------------------------------------------


def _stateless(settings: Settings) -> bool:
    """Whether a call under these settings changes no state but the journal: no rule
    counts (forced errors, faults, stubs), no credits, rate windows or concurrency slots."""
    return not (
        settings.errors
        or settings.faults
        or settings.responses
        or settings.credits is not None
        or settings.rate_per_second is not None
        or settings.concurrency is not None
    )


def _minimum_side(scene: Scene, limits: Mapping[str, Any]) -> int:
    rule = limits.get("min_face_side") or {}
    short = min(scene.width, scene.height) * rule.get("fraction_of_short_side", 0)
    return int(max(rule.get("pixels", 0), short))


def _all(callbacks: tuple[Callable[[], None], ...]) -> Callable[[], None]:
    def run() -> None:
        for callback in callbacks:
            callback()

    return run


def _undo(call: Call) -> StateUnavailableError | None:
    """Run every undo of a refused call (refunds, slot releases), even past a state
    failure; the first failure, if any."""
    failure = None
    for undo in call._on_refusal:
        try:
            undo()
        except StateUnavailableError as error:
            failure = failure or error
    return failure


def _listed(value: Any) -> list[Any]:
    if isinstance(value, dict | str):
        return [value]
    return list(value)


def _with_id(item: Any) -> Any:
    if isinstance(item, dict) and not item.get("id"):
        return {**item, "id": secrets.token_hex(6)}
    return item


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    return value


_ROUTES: dict[tuple[str, str], str] = {}


def _routes() -> dict[tuple[str, str], str]:
    if not _ROUTES:
        _ROUTES.update({(op.method, op.path): op.id for op in contracts().operations.values()})
    return _ROUTES


def _applies(rule: ForcedError | Fault | StubbedResponse, call: Call) -> bool:
    if rule.operation is not None and rule.operation != call.operation:
        return False
    if isinstance(rule, ForcedError) and (
        call.vendor is None or not call.vendor.documents(call.op, rule.code)
    ):
        return False
    return not rule.when or _matches(rule.when, call)


def _matches(when: When, call: Call) -> bool:
    if when.credential is not None and call.credential != when.credential:
        return False
    for name, value in when.headers:
        if call.request.headers.get(name) != value:
            return False
    for name, wanted in when.fields:
        sent = call.fields.get(name)
        if sent is None:
            return False
        text = sent if isinstance(sent, str) else orjson.dumps(sent).decode()
        items = {item.strip() for item in text.split(",")}
        if len(wanted) == 1 and wanted[0] == text:
            continue
        if not set(wanted) <= items:
            return False
    if when.image_sha256 is not None:
        return when.image_sha256 in _picture_digests(call)
    return True


def _picture_digests(call: Call) -> set[str]:
    """The digests of the pictures a call sends (file parts, base64 fields, image URLs)."""
    digests: set[str] = set()
    try:
        files = call.parsed.files
    except BodyError:
        return digests
    for part in files.values():
        digests.add(hashlib.sha256(part.data).hexdigest())
    for name, value in call.fields.items():
        if not isinstance(value, str):
            continue
        if name.endswith("_base64"):
            try:
                digests.add(hashlib.sha256(base64.b64decode(value)).hexdigest())
            except (binascii.Error, ValueError):
                continue
        elif name.endswith("_url"):
            try:
                digests.add(hashlib.sha256(call.fetch(value)).hexdigest())
            except Refusal:
                continue
    return digests


def _not_found(call: Call) -> Answer:
    return _not_found_path(call.request.path, call.chooser)


def _not_found_path(path: str, chooser: Chooser) -> Answer:
    for vendor in VENDORS.values():
        answer = vendor.not_found(path, chooser)
        if answer is not None:
            return answer
    routes = "\n".join(f"{op.method} {op.path}  {op.id}" for op in contracts().operations.values())
    return Answer(
        404, "text/plain", f"face-contracts mock: no operation at {path}; it serves:\n{routes}\n"
    )


def _encode(answer: Answer) -> HttpResponse:
    if isinstance(answer.body, bytes):
        body = answer.body
    elif isinstance(answer.body, str):
        body = answer.body.encode()
    else:
        body = orjson.dumps(answer.body)
    return HttpResponse(answer.status, answer.content_type, body, dict(answer.headers))


# --- rendered answers, kept, with fresh values stamped per call ------------------------------


@dataclass(frozen=True, slots=True)
class _Stamped:
    """An encoded answer cut where its per-call values go: ``segments`` around ``slots``
    (each the name of the value and its index among values of that name)."""

    segments: tuple[bytes, ...]
    slots: tuple[tuple[str, int], ...]
    size: int = field(default=0)

    def stamp(self, vendor: Vendor, chooser: Chooser) -> tuple[bytes, dict[str, list[Any]]]:
        if not self.slots:
            return self.segments[0], {}
        fresh: dict[str, list[Any]] = {}
        pieces = [self.segments[0]]
        for (name, index), segment in zip(self.slots, self.segments[1:], strict=True):
            value = vendor.fresh_value(name, chooser, index)
            fresh.setdefault(name, []).append(value)
            pieces.append(orjson.dumps(value))
            pieces.append(segment)
        return b"".join(pieces), fresh


_RENDERED: dict[tuple[Any, ...], _Stamped] = {}
_RENDERED_LOCK = threading.Lock()
_RENDERED_BYTES = 0
_RENDERED_MAX_BYTES = 32 << 20
_PLACEHOLDER = "@@face-contracts-fresh-{}@@"


def _rendered(operation: str, scene: Scene, request_body: Mapping[str, Any]) -> _Stamped:
    """The answer for a scene and options, rendered once and kept (bounded in bytes)."""
    global _RENDERED_BYTES
    options = _options(request_body)
    key = (operation, scene.width, scene.height, scene.faces, options)  # hashed in C
    found = _RENDERED.get(key)
    if found is not None:
        return found
    if _on_loop():
        raise _SlowWork("an answer not rendered yet")
    request = {"body": dict(request_body)}
    chooser = RandomChooser(_seed(operation, scene, options))
    document = vendor_of(operation).render(operation, scene, request, chooser)
    stamped = _cut(operation, document)
    with _RENDERED_LOCK:
        while _RENDERED and _RENDERED_BYTES + stamped.size > _RENDERED_MAX_BYTES:
            _RENDERED_BYTES -= _RENDERED.pop(next(iter(_RENDERED))).size
        _RENDERED[key] = stamped
        _RENDERED_BYTES += stamped.size
    return stamped


def _cut(operation: str, document: dict[str, Any]) -> _Stamped:
    vendor = vendor_of(operation)
    slots: list[tuple[str, int]] = []

    def mark(node: Any, path: tuple[str, ...], counts: dict[str, int]) -> None:
        if not path or not isinstance(node, dict | list):
            return
        head, rest = path[0], path[1:]
        if head == "*":
            if isinstance(node, list):
                for item in node:
                    mark(item, rest, counts)
            return
        if not isinstance(node, dict) or head not in node:
            return
        if rest:
            mark(node[head], rest, counts)
            return
        index = counts.get(head, 0)
        counts[head] = index + 1
        node[head] = _PLACEHOLDER.format(len(slots))
        slots.append((head, index))

    counts: dict[str, int] = {}
    for path in vendor.fresh_paths.get(operation, ()):
        mark(document, path, counts)
    encoded = orjson.dumps(document)
    # Cut at each placeholder in the order they appear in the encoded answer.
    found = sorted(
        (encoded.index(orjson.dumps(_PLACEHOLDER.format(number))), number)
        for number in range(len(slots))
    )
    segments: list[bytes] = []
    start = 0
    for position, number in found:
        segments.append(encoded[start:position])
        start = position + len(orjson.dumps(_PLACEHOLDER.format(number)))
    segments.append(encoded[start:])
    slots = [slots[number] for _, number in found]
    return _Stamped(tuple(segments), tuple(slots), len(encoded))


def _options(body: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The options that shape an answer: every field but the picture and long values (a
    key that kept a megabyte of base64 would keep it alive in the cache)."""
    return tuple(
        sorted(
            (k, v if isinstance(v, str) else orjson.dumps(v).decode())
            for k, v in body.items()
            if not k.startswith("image") and not (isinstance(v, str) and len(v) > 256)
        )
    )


def _seed(operation: str, scene: Scene, options: tuple[tuple[str, str], ...]) -> str:
    # orjson writes the faces (dataclasses) a few times faster than repr would.
    faces = orjson.dumps(scene.faces).decode()
    return f"{operation}|{scene.width}x{scene.height}|{faces}|{options}"
