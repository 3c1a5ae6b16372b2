"""The state behind every stateful mock feature, in one interface with two backends.

Credits, rate windows, concurrency slots, the counters of forced errors, faults and stubs
(``nth``, ``times``), the face_tokens issued (with the face each resolves to), the journal,
the call sequence that ids are drawn from, and the settings changed at run time all live
behind :class:`State`. :class:`MemoryState` (the default) keeps them in this process;
``face_contracts.state_redis.RedisState`` keeps them in Redis so that workers and replicas
behave as one mock. Every operation that decides a call is atomic.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, defaultdict, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from face_contracts.journal import Journal, JournalEntry, JournalQuery

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

RuleCount = tuple[str, "int | None", "int | None"]
"""A rule as the state counts it: its id, its ``nth`` and its ``times``."""

__all__ = ["CallTicket", "LoopState", "MemoryState", "RuleCount", "State", "StateUnavailableError"]

_MAX_FACE_TOKENS = 100_000  # per process; the oldest go first (they expire after 72 h anyway)


class StateUnavailableError(RuntimeError):
    """The shared state cannot be reached; the engine answers the vendor's internal error."""


@dataclass(frozen=True, slots=True)
class CallTicket:
    """What the state hands each call: its sequence number (ids and latency are drawn from
    it) and the version of the run-time settings, so a process sees others' changes."""

    sequence: int
    settings_version: int


class State(Protocol):
    """Where a mock keeps what changes while it serves. Implementations are thread-safe."""

    backend: str

    def begin_call(self) -> CallTicket:
        """Number this call (1, 2, 3... across every process sharing the state)."""
        ...

    def resume_call(self, ticket: CallTicket | None) -> None:
        """Go on, on this thread, with a call numbered elsewhere (``begin_call`` on another
        thread, or :meth:`LoopState.begin_call_on_loop`); None: no call in progress here."""
        ...

    def first_firing(self, rules: Sequence[RuleCount]) -> int | None:
        """Count one call for each rule it matches (``(id, nth, times)``, in order) and
        return the index of the first that fires on it: this is its ``nth`` matching call
        (any, if None) and it fired fewer than ``times`` times. Only that rule's firing is
        counted; every rule's matching is."""
        ...

    def reserve_credits(self, key: str, cost: int, initial: int) -> tuple[bool, int]:
        """Take ``cost`` from the key's balance (starting at ``initial``) if it suffices;
        (taken, balance before)."""
        ...

    def refund_credits(self, key: str, cost: int) -> None:
        """Give back credits taken for a call that was refused after all."""
        ...

    def take_rate(self, key: str, per_second: float) -> bool:
        """Admit one more call of ``key`` in the current one-second window, if under limit."""
        ...

    def acquire_slot(self, key: str, limit: int) -> str | None:
        """Take one of ``limit`` in-flight slots of ``key``; a release handle, or None."""
        ...

    def release_slot(self, handle: str) -> None:
        """Give back a slot (a handle from an older generation, before a reset, is ignored)."""
        ...

    def put_face_tokens(self, tokens: Mapping[str, bytes], ttl_seconds: float) -> None:
        """Remember what each issued face_token resolves to, for ``ttl_seconds``."""
        ...

    def face_token(self, token: str) -> bytes | None:
        """What a face_token resolves to, or None if never issued (or expired)."""
        ...

    def record(self, entry: JournalEntry) -> None:
        """Add one entry to the journal."""
        ...

    def journal(self, query: JournalQuery | None = None) -> list[JournalEntry]:
        """The journal, oldest first, optionally filtered."""
        ...

    def clear_journal(self) -> None:
        """Forget the journal."""
        ...

    def configure_journal(self, limit: int, max_bytes: int) -> None:
        """Bound the journal: entries kept, and payload bytes (files, bodies) kept."""
        ...

    def settings_version(self) -> int:
        """The version of the run-time settings (changes with every change and reset)."""
        ...

    def settings_log(self) -> tuple[int, list[dict[str, Any]]]:
        """The run-time settings changes, oldest first, and their version."""
        ...

    def add_settings_change(self, change: dict[str, Any]) -> int:
        """Append one change (``{"set": {...}}`` or ``{"remove": rule_id}``); the new version."""
        ...

    def reset(self) -> None:
        """Forget counters, credits, rates, slots, face_tokens, journal and run-time settings."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class LoopState(State, Protocol):
    """A shared state that an event loop can use without blocking: the round trips of a
    call that changes nothing else (its number and settings version, its journal entry
    with its face_tokens; one trip when its number is guessed right) are awaited, and the
    calls in flight share them."""

    async def begin_call_on_loop(self, deadline: float | None = None) -> CallTicket:
        """:meth:`State.begin_call`, awaited; :meth:`State.resume_call` enters the call.
        ``deadline`` (``time.monotonic()``): StateUnavailableError if no answer by then."""
        ...

    def prepare_record(self, entry: JournalEntry) -> Any:
        """The journal write of ``entry`` with the face_tokens its call issued on this
        thread (built now, on the thread, sent by :meth:`write_record_on_loop`)."""
        ...

    def guess_ticket_on_loop(self, settings_version: int) -> CallTicket | None:
        """The ticket the running event loop's next call will most likely get (None: no
        good guess); a call answered with it is numbered by its journal write."""
        ...

    async def write_record_on_loop(
        self, prepared: Any, deadline: float | None = None, claim: CallTicket | None = None
    ) -> CallTicket | None:
        """Send a prepared journal write, awaited (``deadline`` as above). With ``claim``
        (a guessed ticket), the write numbers the call and is kept only if the call got that
        ticket: None when kept, else the ticket it got."""
        ...

    async def leave_loop(self) -> None:
        """Close what the running event loop holds (its connection): the loop is ending."""
        ...


class MemoryState:
    """The state in this process (the default): nothing to install, nothing shared."""

    backend = "memory"

    def __init__(self, journal_limit: int = 256, journal_bytes: int = 64 << 20) -> None:
        self._lock = threading.Lock()
        self._journal = Journal(journal_limit, journal_bytes)
        self._generation = 0
        self._settings: list[dict[str, Any]] = []
        self._settings_version = 0
        self._sequence = 0
        self._clear()

    def _clear(self) -> None:
        self._matches: dict[str, int] = defaultdict(int)
        self._fired: dict[str, int] = defaultdict(int)
        self._credits: dict[str, int] = {}
        self._rates: dict[str, deque[float]] = defaultdict(deque)
        self._slots: dict[str, int] = defaultdict(int)
        self._tokens: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def begin_call(self) -> CallTicket:
        with self._lock:
            self._sequence += 1
            return CallTicket(self._sequence, self._settings_version)

    def resume_call(self, ticket: CallTicket | None) -> None:
        return None  # nothing waits on a call here: face_tokens are stored at once

    def first_firing(self, rules: Sequence[RuleCount]) -> int | None:
        chosen = None
        with self._lock:
            for index, (rule_id, nth, times) in enumerate(rules):
                self._matches[rule_id] += 1
                if chosen is not None:
                    continue
                if nth is not None and self._matches[rule_id] != nth:
                    continue
                if times is not None and self._fired[rule_id] >= times:
                    continue
                self._fired[rule_id] += 1
                chosen = index
        return chosen

    def reserve_credits(self, key: str, cost: int, initial: int) -> tuple[bool, int]:
        with self._lock:
            balance = self._credits.setdefault(key, initial)
            if balance < cost:
                return False, balance
            self._credits[key] = balance - cost
            return True, balance

    def refund_credits(self, key: str, cost: int) -> None:
        with self._lock:
            if key in self._credits:
                self._credits[key] += cost

    def take_rate(self, key: str, per_second: float) -> bool:
        now = time.monotonic()
        with self._lock:
            window = self._rates[key]
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= per_second:
                return False
            window.append(now)
            return True

    def acquire_slot(self, key: str, limit: int) -> str | None:
        with self._lock:
            if self._slots[key] >= limit:
                return None
            self._slots[key] += 1
            return f"{self._generation}\n{key}"

    def release_slot(self, handle: str) -> None:
        generation, _, key = handle.partition("\n")
        with self._lock:
            if int(generation) == self._generation and self._slots[key] > 0:
                self._slots[key] -= 1

    def put_face_tokens(self, tokens: Mapping[str, bytes], ttl_seconds: float) -> None:
        expires = time.monotonic() + ttl_seconds
        with self._lock:
            for token, payload in tokens.items():
                self._tokens[token] = (expires, payload)
            while len(self._tokens) > _MAX_FACE_TOKENS:
                self._tokens.popitem(last=False)

    def face_token(self, token: str) -> bytes | None:
        with self._lock:
            found = self._tokens.get(token)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self._tokens[token]
                return None
            return found[1]

    def record(self, entry: JournalEntry) -> None:
        self._journal.append(entry)

    def journal(self, query: JournalQuery | None = None) -> list[JournalEntry]:
        entries = self._journal.entries()
        return entries if query is None else query.select(entries)

    def clear_journal(self) -> None:
        self._journal.clear()

    def configure_journal(self, limit: int, max_bytes: int) -> None:
        self._journal.resize(limit, max_bytes)

    @property
    def journal_payload_bytes(self) -> int:
        """Payload bytes the journal holds now."""
        return self._journal.payload_bytes

    def settings_version(self) -> int:
        return self._settings_version

    def settings_log(self) -> tuple[int, list[dict[str, Any]]]:
        with self._lock:
            return self._settings_version, list(self._settings)

    def add_settings_change(self, change: dict[str, Any]) -> int:
        with self._lock:
            self._settings.append(change)
            self._settings_version += 1
            return self._settings_version

    def reset(self) -> None:
        with self._lock:
            self._generation += 1
            self._sequence = 0
            self._settings.clear()
            self._settings_version += 1
            self._clear()
        self._journal.clear()

    def close(self) -> None:
        return None
