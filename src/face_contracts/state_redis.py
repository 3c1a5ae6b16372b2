"""The state on Redis: every worker and replica that shares it behaves as one mock.

Each decision that counts is one Lua script, run atomically by Redis: numbering a call
(with the settings version, one round trip), forced-error/fault/stub counters over all the
rules a call matches, credit reservations and refunds, one-second sliding rate windows,
concurrency slots, and the journal write with its trimming. Time comes from the Redis
server (``TIME``), so replicas on machines with different clocks share one window.

Keys live under a prefix (``--state-prefix``) so that differently configured mocks can share
one Redis. Credentials never appear in key names (they are hashed). face_tokens expire after
the vendor's documented lifetime; rate windows and slot sets expire when idle; a concurrency
slot is a lease its process renews while the call is in flight, so the slots of a process
that died free themselves within :data:`SLOT_LEASE_SECONDS`.

The journal keeps the same bounds as :class:`face_contracts.journal.Journal`: at most
``journal_limit`` entries; payloads (uploaded files, answer bodies) dropped from the oldest
entry first once they exceed ``journal_bytes``, metadata kept. Payloads are stored as raw
bytes, not base64, and an uploaded file once per content (by its SHA-256, counted by the
entries holding it): a suite sends the same few pictures again and again, and each process
sends a picture's bytes to Redis only the first time. An answer is stored as the bytes
between the prefix and suffix it shares with a reference answer of its operation (stored
once the same way): answers differ call to call only in their ids and timings.

A call's face_tokens are written in the same round trip as its journal entry, which the
engine writes before the answer leaves: a client can never hold a face_token that another
replica does not know.

A server's event loop makes the round trips of a call that counts nothing else (its
number, then its journal entry) without blocking: the calls in flight share one connection
and each trip carries every call that asked while the previous one was out
(:class:`~face_contracts.state.LoopState`). While no other process or thread numbers calls,
the loop answers a call with the number Redis will give next and its journal write numbers
it, one trip instead of two; a guess that missed (Redis gave another number, and wrote
nothing) has the call answered again with its number, and guessing pauses a second.

Any Redis failure is raised as :class:`~face_contracts.state.StateUnavailableError`; the
engine answers it with the vendor's documented internal error. The client reconnects (and
reloads its scripts) on the next call once Redis is back. Socket timeouts bound every wait.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import logging
import math
import os
import secrets
import threading
import time
import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

import orjson

from face_contracts.journal import FileRecord, JournalEntry, JournalQuery
from face_contracts.settings import SettingsError
from face_contracts.state import CallTicket, StateUnavailableError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import redis

    from face_contracts.state import RuleCount

__all__ = [
    "SLOT_LEASE_SECONDS",
    "STATE_VARIABLE",
    "PreparedRecord",
    "RedisState",
    "default_prefix",
    "open_state",
    "served_state",
    "shown_url",
]

SLOT_LEASE_SECONDS = 15.0
"""How long a concurrency slot outlives a process that stopped renewing it (one that died)."""
SOCKET_TIMEOUT = 2.0  # seconds; a request's deadline is 30 s by default, a Redis call is ~0.1 ms
CONNECT_TIMEOUT = 1.0
MAX_CONNECTIONS = 64  # per process; the server runs at most 256 engine threads

_STORED_DIGESTS = 4096  # file digests a process remembers having stored
_DELTA_MIN_BYTES = 1024  # answers shorter than this are stored whole
_INLINE_BODY_BYTES = 16 << 10  # bodies up to this size go in the journal script's arguments
_SWEEP_SECONDS = 0.02  # how often an event loop's calls waiting on Redis check their deadline
_GUESS_PAUSE_SECONDS = 1.0  # no guessed numbers for this long after one missed (_LoopLink.guess)
_LOG = logging.getLogger("face_contracts.state")

# The settings version starts from Redis's clock (microseconds), never from 0: after Redis
# lost its data, a process that remembers version N must not mistake a new version N for it.
_VERSION = """
local function version(key)
  local v = redis.call('GET', key)
  if not v then
    local t = redis.call('TIME')
    v = t[1] .. string.format('%06d', tonumber(t[2]))
    redis.call('SET', key, v)
  end
  return v
end
"""

_BEGIN = (
    _VERSION
    + """
return redis.call('INCR', KEYS[1]) .. ' ' .. version(KEYS[2])
"""
)

_SETTINGS_VERSION = _VERSION + "return version(KEYS[1])"

_SETTINGS_LOG = (
    _VERSION
    + """
local v = version(KEYS[1])
return {v, redis.call('LRANGE', KEYS[2], 0, -1)}
"""
)

_ADD_SETTINGS = (
    _VERSION
    + """
version(KEYS[1])
redis.call('RPUSH', KEYS[2], ARGV[1])
return redis.call('INCR', KEYS[1])
"""
)

_RESET = (
    _VERSION
    + """
version(KEYS[1])
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
return redis.call('INCR', KEYS[1])
"""
)

# KEYS: matches, fired; ARGV: (rule id, nth or '', times or '') for each rule, in order.
_FIRST_FIRING = """
local chosen = -1
for i = 0, #ARGV / 3 - 1 do
  local id, nth, times = ARGV[3 * i + 1], ARGV[3 * i + 2], ARGV[3 * i + 3]
  local matched = redis.call('HINCRBY', KEYS[1], id, 1)
  if chosen < 0 then
    local fires = nth == '' or matched == tonumber(nth)
    if fires and times ~= '' then
      fires = tonumber(redis.call('HGET', KEYS[2], id) or '0') < tonumber(times)
    end
    if fires then
      redis.call('HINCRBY', KEYS[2], id, 1)
      chosen = i
    end
  end
end
return chosen
"""

# KEYS: credits; ARGV: key, cost, initial balance.
_RESERVE = """
local balance = redis.call('HGET', KEYS[1], ARGV[1])
if balance then balance = tonumber(balance) else
  balance = tonumber(ARGV[3])
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
end
if balance < tonumber(ARGV[2]) then return {0, balance} end
redis.call('HINCRBY', KEYS[1], ARGV[1], -tonumber(ARGV[2]))
return {1, balance}
"""

_REFUND = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
end
return 0
"""

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""

# KEYS: the key's window (a sorted set of call times), the member counter; ARGV: per second.
# A call is in the window while less than a second old (as the in-memory state counts).
_TAKE_RATE = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1000000)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now, redis.call('INCR', KEYS[2]))
redis.call('PEXPIRE', KEYS[1], 2000)
return 1
"""
)

# KEYS: the key's slots (member -> lease end); ARGV: limit, member, lease in microseconds.
_ACQUIRE_SLOT = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], math.floor(tonumber(ARGV[3]) / 500))
return 1
"""
)

# KEYS: slot sets; ARGV: lease in microseconds, then one member per key. Only slots still
# held are renewed (XX): a reset or an expiry took the others back.
_RENEW_SLOTS = (
    _NOW
    + """
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', now + tonumber(ARGV[1]), ARGV[i + 1])
  redis.call('PEXPIRE', KEYS[i], math.floor(tonumber(ARGV[1]) / 500))
end
return 0
"""
)

# The journal: ``J`` holds its keys (ids: list; meta: hash id -> metadata JSON; data: hash
# id -> answer body; heavy: list of "id size digest..." for entries still holding their
# payload, oldest first; bytes: the payload byte count; refs: hash file digest -> entries
# holding it), ``F`` the prefix of the file keys (``F .. digest``: each uploaded file, stored
# once per content, as a suite sends the same few pictures again and again). The same
# trimming as journal.Journal: entries over the limit go first, then payloads from the
# oldest entry on while over the budget (sizes count each entry's files in full, as
# Journal does).
_TRIM = """
local function release(head)
  local parts = {}
  for word in string.gmatch(head, '%S+') do parts[#parts + 1] = word end
  redis.call('HDEL', J[3], parts[1])
  for i = 3, #parts do
    if redis.call('HINCRBY', J[6], parts[i], -1) <= 0 then
      redis.call('HDEL', J[6], parts[i])
      redis.call('DEL', F .. parts[i])
    end
  end
  return tonumber(parts[2])
end

local function trim(limit, budget)
  local held = tonumber(redis.call('GET', J[5]) or '0')
  while redis.call('LLEN', J[1]) > limit do
    local old = redis.call('LPOP', J[1])
    redis.call('HDEL', J[2], old)
    local head = redis.call('LINDEX', J[4], 0)
    if head and string.match(head, '^(%S+)') == old then
      redis.call('LPOP', J[4])
      held = held - release(head)
    end
  end
  while held > budget do
    local head = redis.call('LPOP', J[4])
    if not head then break end
    held = held - release(head)
  end
  redis.call('SET', J[5], held)
end
"""

# KEYS: the six journal keys; ARGV: limit, budget, the file key prefix.
_TRIM_JOURNAL = (
    "local J, F = KEYS, ARGV[3]\n" + _TRIM + "trim(tonumber(ARGV[1]), tonumber(ARGV[2]))\nreturn 0"
)

# One call's journal entry with the face_tokens it issued, in few arguments: packing each
# costs the client more than Redis's work on it. A[1]: "limit budget payload-size inline id
# files prefix", where inline is 1 when the answer body kept is A[3] (0: it was sent just
# before, as ``HSET data id body``: a large body goes in as a plain command, as through a
# script's arguments Redis would copy it twice more), files is "digest:1,digest:0..." (1:
# its bytes follow, 0: this process stored it before; '-': no file) and prefix the state's
# prefix with its colon, from which every key is derived (``P``, ``J``, ``F`` below). A[2]:
# the entry's metadata; A[3]: its body; then the bytes of each file sent, in order; then
# (face_token, value, milliseconds to live) per face_token. A file said stored but gone (a
# reset, an eviction) is named in the reply and nothing is kept: the caller sends it again.
_JOURNAL_KEYS = """
local J = {}
for i, name in ipairs({'ids', 'meta', 'data', 'heavy', 'bytes', 'refs'}) do
  J[i] = P .. 'j:' .. name
end
local F = P .. 'file:'
"""

_RECORD_FUNCTION = """
local function record(A)
  local limit, budget, size, inline, id, spec =
    string.match(A[1], '^(%d+) (%d+) (%d+) (%d) (%S+) (%S+) ')
  local digests, sent = {}, {}
  for digest, flag in string.gmatch(spec, '([^:,]+):(%d)') do
    digests[#digests + 1] = digest
    sent[#sent + 1] = flag == '1'
  end
  local files = #digests
  local missing = {}
  for i = 1, files do
    if not sent[i] and redis.call('EXISTS', F .. digests[i]) == 0 then
      missing[#missing + 1] = digests[i]
    end
  end
  if #missing > 0 then
    redis.call('HDEL', J[3], id)
    return missing
  end
  local head, at = '', 4
  for i = 1, files do
    if sent[i] then
      redis.call('SET', F .. digests[i], A[at], 'NX')
      at = at + 1
    end
    redis.call('HINCRBY', J[6], digests[i], 1)
    head = head .. ' ' .. digests[i]
  end
  for t = at, #A, 3 do
    redis.call('SET', P .. 'ft:' .. A[t], A[t + 1], 'PX', A[t + 2])
  end
  redis.call('RPUSH', J[1], id)
  redis.call('HSET', J[2], id, A[2])
  if tonumber(size) > 0 or files > 0 then
    if inline == '1' then redis.call('HSET', J[3], id, A[3]) end
    redis.call('RPUSH', J[4], id .. ' ' .. size .. head)
    redis.call('INCRBY', J[5], size)
  end
  trim(tonumber(limit), tonumber(budget))
  return 0
end
"""

_RECORD = (
    "local P = string.match(ARGV[1], '^%d+ %d+ %d+ %d %S+ %S+ (.*)$')\n"
    + _JOURNAL_KEYS
    + _TRIM
    + _RECORD_FUNCTION
    + "return record(ARGV)"
)

# The round trip of an event loop's calls (_LoopLink): every call that asked while the last
# trip was out, in one script with one reply, so that per trip (not per call) Redis parses
# one command and the client packs one and reads one reply (redis-py spends microseconds on
# each argument and each reply). ARGV: the state's prefix with its colon, the sequence key,
# the settings version key, the operations, and the bytes of their arguments, one after
# another. Operations are separated by spaces: 'b' numbers a call (as _BEGIN); a list of
# sizes "12,345,..." is a journal write whose arguments (as _RECORD's) are the next pieces of
# the bytes, of those sizes; "c<sequence>:<version>:<sizes>" is a claimed journal write: it
# numbers the call, and writes only if the number and the settings version are the ones the
# call was answered with (guessed, _LoopLink.guess). The reply: one line per operation, in
# order: "sequence version", '+' (written), '?' and the digests of files to send again (as
# _RECORD), '=' and "sequence version" (a claim that missed: the call holds that number,
# nothing was written), or '!' and the error of an operation that failed (the others still
# count).
_LOOP_TRIP = (
    _VERSION
    + "local P = ARGV[1]\n"
    + _JOURNAL_KEYS
    + _TRIM
    + _RECORD_FUNCTION
    + """
local lines, settings, data, at = {}, nil, ARGV[5], 1
for operation in string.gmatch(ARGV[4], '%S+') do
  local line
  if operation == 'b' then
    settings = settings or version(ARGV[3])
    line = redis.call('INCR', ARGV[2]) .. ' ' .. settings
  else
    local claim, claimed, sizes = string.match(operation, '^c(%d+):(%d+):(.*)$')
    if claim then
      settings = settings or version(ARGV[3])
      local number = redis.call('INCR', ARGV[2])
      operation = sizes
      if tostring(number) ~= claim or settings ~= claimed then
        line = '=' .. number .. ' ' .. settings
      end
    end
    local A = {}
    for size in string.gmatch(operation, '%d+') do
      if not line then A[#A + 1] = string.sub(data, at, at + tonumber(size) - 1) end
      at = at + tonumber(size)
    end
    if not line then
      local ok, reply = pcall(record, A)
      if not ok then
        local message = type(reply) == 'table' and reply.err or reply
        line = '!' .. string.gsub(tostring(message), '\\n', ' ')
      elseif type(reply) == 'table' then
        line = '?' .. table.concat(reply, ' ')
      else
        line = '+'
      end
    end
  end
  lines[#lines + 1] = line
end
return table.concat(lines, '\\n')
"""
)

# KEYS: ids, meta, data, refs; ARGV: the file key prefix. One consistent reading: the
# entries in order, their metadata, the bodies kept, and every stored file by digest.
_READ_JOURNAL = """
local files = {}
for _, digest in ipairs(redis.call('HKEYS', KEYS[4])) do
  local data = redis.call('GET', ARGV[1] .. digest)
  if data then
    files[#files + 1] = digest
    files[#files + 1] = data
  end
end
return {
  redis.call('LRANGE', KEYS[1], 0, -1),
  redis.call('HGETALL', KEYS[2]),
  redis.call('HGETALL', KEYS[3]),
  files,
}
"""


def shown_url(url: str) -> str:
    """A Redis URL fit for messages and logs: any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def default_prefix(*sources: bytes) -> str:
    """The key prefix of a mock configured by ``sources`` (the settings file's bytes, the
    command-line settings): equal configurations share their state, different ones do not."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(len(source).to_bytes(8, "big") + source)
    return f"face-contracts:{digest.hexdigest()[:16]}"


STATE_VARIABLE = "FACE_CONTRACTS_STATE"
_SCHEMES = ("redis://", "rediss://", "unix://")


def open_state(url: str | None, prefix: str | None = None) -> RedisState | None:
    """The shared state ``url`` names (None or ``memory``: None, each process keeps its own).
    Raises ValueError for a URL that is not Redis's, StateUnavailableError when Redis
    cannot be reached."""
    if url is None or url == "memory":
        return None
    if not url.startswith(_SCHEMES):
        msg = (
            f"state {shown_url(url)!r}: give redis://host:port/db (also rediss://, unix://) "
            "or 'memory'"
        )
        raise ValueError(msg)
    return RedisState(url, prefix=prefix or "face-contracts")


def served_state(
    url: str | None,
    prefix: str | None,
    sources: Sequence[bytes],
    environ: Mapping[str, str] | None = None,
) -> tuple[str | None, str | None, RedisState | None]:
    """What ``face-contracts serve`` shares: the state URL (``url``, from the command line
    or the settings file, else $FACE_CONTRACTS_STATE), its prefix (given, else derived from
    ``sources``: the settings file's bytes and the command line's settings), and the state,
    opened once so that an unreachable Redis stops the server before it starts."""
    if url is None:
        url = (os.environ if environ is None else environ).get(STATE_VARIABLE) or None
    if url is None or url == "memory":
        return None, None, None
    prefix = prefix or default_prefix(*sources)
    return url, prefix, open_state(url, prefix)


def _hashed(key: str) -> str:
    """A credential as it appears in key names and fields: hashed, never in clear."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class _Holder:
    """A thread's own connection: when the thread ends, so does the holder, and the
    connection is closed."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection


class _Pinned(threading.local):
    holder: _Holder | None = None


def _sha1(text: str) -> str:
    """A script's SHA-1, as Redis names it (EVALSHA)."""
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


class _CallLocal(threading.local):
    """What this thread's call in progress holds: its ticket and the face_tokens it issued
    (written with its journal entry)."""

    ticket: CallTicket | None = None
    tokens: list[tuple[str, bytes, int]] | None = None


class RedisState:
    """The state in Redis, shared by every process that opens it with the same prefix.

    ``url``: ``redis://[[user]:password@]host[:port][/db]`` (also ``rediss://``,
    ``unix://``); query parameters such as ``?socket_timeout=5`` are passed to redis-py.
    ``slot_lease``: seconds a concurrency slot outlives a process that stopped renewing it.
    Raises :class:`StateUnavailableError` when Redis cannot be reached now."""

    backend = "redis"

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "face-contracts",
        journal_limit: int = 256,
        journal_bytes: int = 64 << 20,
        slot_lease: float = SLOT_LEASE_SECONDS,
    ) -> None:
        # Deferred: the redis client loads only for a shared state, not with every server.
        import redis
        from redis.backoff import NoBackoff  # deferred with redis (above)
        from redis.retry import Retry  # deferred with redis (above)

        self.url = shown_url(url)
        self.prefix = prefix
        self._secret_url = url  # for the event loop's connection; never shown (self.url is)
        self._link: _LoopLink | None = None
        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)
        try:
            # One retry on a connection error: a pooled connection that Redis closed (a
            # restart) is replaced at once. Timeouts are not retried (the command may have run).
            pool = redis.BlockingConnectionPool.from_url(
                url,
                max_connections=MAX_CONNECTIONS,
                timeout=SOCKET_TIMEOUT,
                socket_timeout=SOCKET_TIMEOUT,
                socket_connect_timeout=CONNECT_TIMEOUT,
                retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
            )
        except ValueError as error:
            msg = f"state {self.url}: not a Redis URL ({error})"
            raise StateUnavailableError(msg) from None
        self._client: redis.Redis = redis.Redis(connection_pool=pool)
        self._pool = pool
        self._retryable = redis.ConnectionError
        self._no_script = redis.exceptions.NoScriptError
        self._timeout = redis.TimeoutError
        self._response_error = redis.ResponseError
        self._pinned = _Pinned()
        self._connections: set[Any] = set()
        self._connections_lock = threading.Lock()
        self._sources = {
            "begin": _BEGIN,
            "version": _SETTINGS_VERSION,
            "log": _SETTINGS_LOG,
            "add": _ADD_SETTINGS,
            "reset": _RESET,
            "first": _FIRST_FIRING,
            "reserve": _RESERVE,
            "refund": _REFUND,
            "rate": _TAKE_RATE,
            "acquire": _ACQUIRE_SLOT,
            "renew": _RENEW_SLOTS,
            "trim": _TRIM_JOURNAL,
            "record": _RECORD,
            "read": _READ_JOURNAL,
            "loop": _LOOP_TRIP,
        }
        self._shas = {name: _sha1(text) for name, text in self._sources.items()}
        p = prefix
        self._seq, self._version, self._log = f"{p}:seq", f"{p}:version", f"{p}:settings"
        self._matches, self._fired, self._credits = f"{p}:matches", f"{p}:fired", f"{p}:credits"
        self._rate_counter = f"{p}:rate-n"
        names = ("ids", "meta", "data", "heavy", "bytes", "refs")
        self._journal_keys = [f"{p}:j:{name}" for name in names]
        self._files = f"{p}:file:"  # + digest: each uploaded file, stored once
        self._stored: OrderedDict[str, None] = OrderedDict()  # digests stored by this process
        self._stored_lock = threading.Lock()
        self._references: dict[str, _Reference] = {}  # operation -> reference answer
        self._limit, self._budget = max(1, journal_limit), max(0, journal_bytes)
        self._local = _CallLocal()
        self._held: dict[str, tuple[str, str]] = {}  # slot handle -> (slot set key, member)
        self._held_lock = threading.Lock()
        self._renewer: threading.Thread | None = None
        self._closed = threading.Event()
        self._member = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._slot_number = 0
        self._entries = itertools.count(1)  # journal entry ids: this process's, numbered
        self._lease = int(slot_lease * 1_000_000)  # microseconds, as the scripts count
        self._command("connect", "PING")

    # --- plumbing -----------------------------------------------------------------------------

    def _guard(self, what: str) -> _Guard:
        return _Guard(self, what)

    def _run(
        self,
        name: str,
        keys: Sequence[str],
        args: Sequence[Any],
        *,
        before: Sequence[tuple[Any, ...]] = (),
    ) -> Any:
        """Run a script, after the plain commands ``before``, in one round trip; the
        script's reply."""
        script = ("EVALSHA", self._shas[name], len(keys), *keys, *args)
        return self._round_trip(name, [*before, script], script=name)[-1]

    def _command(self, what: str, *command: Any) -> Any:
        """One plain command's reply."""
        return self._round_trip(what, [command])[0]

    def _round_trip(
        self, what: str, commands: Sequence[tuple[Any, ...]], *, script: str | None = None
    ) -> list[Any]:
        """Send ``commands`` on this thread's connection in one buffer and read every
        reply. A script Redis does not know (after a restart) is loaded and everything sent
        again; a connection error (a connection Redis closed) is retried once, a timeout
        never (the commands may have run). Raises StateUnavailableError."""
        with self._guard(what):
            connection = self._holder().connection
            retried = loaded = False
            while True:
                try:
                    # One buffer, one system call (redis-py sends a large value apart).
                    packed = b"".join(connection.pack_commands(commands))
                    connection.send_packed_command([packed])
                    replies = [self._reply(connection) for _ in commands]
                except self._timeout:
                    connection.disconnect()
                    raise
                except self._retryable:
                    connection.disconnect()
                    if retried:
                        raise
                    retried = True
                    continue
                failure = next((r for r in replies if isinstance(r, Exception)), None)
                if isinstance(failure, self._no_script) and script is not None and not loaded:
                    connection.send_command("SCRIPT", "LOAD", self._sources[script])
                    connection.read_response()
                    loaded = True
                    continue
                if failure is not None:
                    raise failure
                return replies

    def _reply(self, connection: Any) -> Any:
        """The next reply, an error reply returned (not raised), so that every reply of a
        round trip is read before any is acted on."""
        try:
            return connection.read_response()
        except self._response_error as error:
            return error

    def _holder(self) -> _Holder:
        """This thread's connection. The hot path skips redis-py's client layer (pool,
        retries, metrics: about 35 µs a command, more than the round trip itself) and
        talks through a redis-py Connection of its own; it closes when the thread ends."""
        holder = self._pinned.holder
        if holder is None:
            connection = self._pool.connection_class(**self._pool.connection_kwargs)
            holder = self._pinned.holder = _Holder(connection)
            with self._connections_lock:
                self._connections.add(connection)
            weakref.finalize(holder, self._forget, connection)
        return holder

    def _forget(self, connection: Any) -> None:
        with self._connections_lock:
            self._connections.discard(connection)
        connection.disconnect()

    # --- calls --------------------------------------------------------------------------------

    def begin_call(self) -> CallTicket:
        self._local.tokens = None
        self._local.ticket = None
        ticket = _ticket(self._run("begin", (self._seq, self._version), ()))
        self._local.ticket = ticket
        return ticket

    def resume_call(self, ticket: CallTicket | None) -> None:
        # The call's face_tokens wait for its journal entry; its settings are the ticket's.
        self._local.tokens = None
        self._local.ticket = ticket

    async def begin_call_on_loop(self, deadline: float | None = None) -> CallTicket:
        """:meth:`begin_call` from an event loop, without blocking it: the calls that
        begin together share one round trip (this does not enter the call on this thread;
        :meth:`resume_call` does)."""
        return _ticket(await self._loop_link().ask("begin", "b", claim=0, deadline=deadline))

    def guess_ticket_on_loop(self, settings_version: int) -> CallTicket | None:
        """The ticket the running event loop's next call will most likely get, if it
        numbers its call with its journal write (:meth:`write_record_on_loop`, ``claim``):
        while no other process or thread numbers calls, one round trip per call instead of
        two. None: no good guess (no call numbered yet on this loop, other settings, or a
        guess missed less than a second ago: numbers are being taken elsewhere)."""
        return self._loop_link().guess(settings_version)

    def first_firing(self, rules: Sequence[RuleCount]) -> int | None:
        args: list[Any] = []
        for rule_id, nth, times in rules:
            args += [rule_id, "" if nth is None else nth, "" if times is None else times]
        chosen = int(self._run("first", (self._matches, self._fired), args))
        return None if chosen < 0 else chosen

    def reserve_credits(self, key: str, cost: int, initial: int) -> tuple[bool, int]:
        taken, balance = self._run("reserve", (self._credits,), (_hashed(key), cost, initial))
        return bool(taken), int(balance)

    def refund_credits(self, key: str, cost: int) -> None:
        self._run("refund", (self._credits,), (_hashed(key), cost))

    def take_rate(self, key: str, per_second: float) -> bool:
        window = f"{self.prefix}:rate:{_hashed(key)}"
        return bool(self._run("rate", (window, self._rate_counter), (repr(float(per_second)),)))

    def acquire_slot(self, key: str, limit: int) -> str | None:
        slots = f"{self.prefix}:slots:{_hashed(key)}"
        with self._held_lock:
            self._slot_number += 1
            member = f"{self._member}-{self._slot_number}"
        if not self._run("acquire", (slots,), (limit, member, self._lease)):
            return None
        handle = f"{slots}\n{member}"
        with self._held_lock:
            self._held[handle] = (slots, member)
            if self._renewer is None:
                self._renewer = threading.Thread(
                    target=self._renew, name="face-contracts-slot-leases", daemon=True
                )
                self._renewer.start()
        return handle

    def release_slot(self, handle: str) -> None:
        with self._held_lock:
            held = self._held.pop(handle, None)
        if held is None:
            return
        try:
            self._command("release slot", "ZREM", *held)
        except StateUnavailableError as error:  # its lease ends it within SLOT_LEASE_SECONDS
            _LOG.error("face-contracts: concurrency slot not released: %s", error)

    def _renew(self) -> None:
        """Renew the leases of the slots this process holds, until closed."""
        failing = False
        while not self._closed.wait(self._lease / 3_000_000):
            with self._held_lock:
                held = list(self._held.values())
            if not held:
                continue
            try:
                self._run("renew", [k for k, _ in held], [self._lease] + [m for _, m in held])
                failing = False
            except StateUnavailableError as error:
                if not failing:  # one line per outage, not one per tick
                    _LOG.error("face-contracts: cannot renew concurrency slots: %s", error)
                failing = True

    # --- face_tokens --------------------------------------------------------------------------

    def put_face_tokens(self, tokens: Mapping[str, bytes], ttl_seconds: float) -> None:
        milliseconds = max(1, int(ttl_seconds * 1000))
        items = [(token, payload, milliseconds) for token, payload in tokens.items()]
        if self._local.ticket is not None:  # a call in progress: written with its journal entry
            self._local.tokens = (self._local.tokens or []) + items
            return
        commands = [("SET", f"{self.prefix}:ft:{t}", data, "PX", ttl) for t, data, ttl in items]
        self._round_trip("face_tokens", commands)

    def face_token(self, token: str) -> bytes | None:
        for pending, payload, _ in self._local.tokens or ():
            if pending == token:
                return payload
        found = self._command("face_token", "GET", f"{self.prefix}:ft:{token}")
        return found if isinstance(found, bytes) else None

    # --- the journal --------------------------------------------------------------------------

    def record(self, entry: JournalEntry) -> None:
        self.write_record(self.prepare_record(entry))

    def prepare_record(self, entry: JournalEntry) -> PreparedRecord:
        """The journal write of ``entry`` with the face_tokens its call issued on this
        thread, ready to send (:meth:`write_record`, or :meth:`write_record_on_loop`)."""
        tokens = self._local.tokens or []
        self._local.tokens = None
        self._local.ticket = None
        # Views into the request, copied only if sent (a process sends a picture once).
        files = {f.sha256: f.data for f in entry.files.values() if f.data is not None}
        body, delta = self._delta(entry, files)
        number = f"{self._member}.{next(self._entries)}"
        inline = len(body) <= _INLINE_BODY_BYTES
        before = [] if inline else [("HSET", self._journal_keys[2], number, body)]
        return PreparedRecord(
            number,
            _encoded_entry(entry, delta),
            body if inline else b"",
            entry.payload_bytes,
            files,
            [part for t, value, ttl in tokens for part in (t.encode(), value, b"%d" % ttl)],
            before,
        )

    def _record_arguments(self, prepared: PreparedRecord, resend: set[str]) -> tuple[Any, ...]:
        """The journal script's arguments for ``prepared``, the files in ``resend`` sent
        again whether or not this process stored them before."""
        spec, sent = [], []
        for digest, data in prepared.files.items():
            if digest in self._stored and digest not in resend:
                spec.append(f"{digest}:0")
            else:
                spec.append(f"{digest}:1")
                sent.append(bytes(data))
        inline = 0 if prepared.before else 1
        control = (
            f"{self._limit} {self._budget} {prepared.size} {inline} {prepared.number} "
            f"{','.join(spec) or '-'} {self.prefix}:"
        )
        return (control.encode(), prepared.meta, prepared.body, *sent, *prepared.tokens)

    def write_record(self, prepared: PreparedRecord) -> None:
        """Send a prepared journal write (a blocking round trip)."""
        resend: set[str] = set()
        while True:
            arguments = self._record_arguments(prepared, resend)
            reply = self._run("record", (), arguments, before=prepared.before)
            if not isinstance(reply, list):
                break
            resend = {digest.decode() for digest in reply}  # gone since (a reset): send again
        self._stored_now(prepared.files)

    async def write_record_on_loop(
        self,
        prepared: PreparedRecord,
        deadline: float | None = None,
        claim: CallTicket | None = None,
    ) -> CallTicket | None:
        """:meth:`write_record` from an event loop, without blocking it: the writes sent
        together share one round trip. With ``claim`` (a guessed ticket, the call not
        numbered yet), the same trip numbers the call and writes only if it got that
        ticket: None when written, else the ticket it got (nothing written: the call must
        be answered again with it)."""
        link = self._loop_link()
        before = link.pack(prepared.before) if prepared.before else b""
        resend: set[str] = set()
        while True:
            arguments = self._record_arguments(prepared, resend)
            sizes = ",".join([str(len(part)) for part in arguments])
            if claim is None:
                reply = await link.ask(
                    "record", sizes, arguments, before, len(prepared.before), deadline
                )
            else:
                guessed = f"c{claim.sequence}:{claim.settings_version}:{sizes}"
                reply = await link.ask(
                    "record", guessed, arguments, before, len(prepared.before), deadline,
                    claim=claim.sequence,
                )  # fmt: skip
                claim = None  # numbered now: a file to send again is sent as a plain write
                if reply.startswith(b"="):
                    return _ticket(reply[1:])
            if not reply.startswith(b"?"):
                break
            resend = set(reply[1:].decode().split())  # gone since (a reset): send again
        self._stored_now(prepared.files)
        return None

    def _stored_now(self, files: Mapping[str, bytes | memoryview]) -> None:
        with self._stored_lock:
            for digest in files:
                self._stored[digest] = None
                self._stored.move_to_end(digest)
            while len(self._stored) > _STORED_DIGESTS:
                self._stored.popitem(last=False)

    async def leave_loop(self) -> None:
        """Close the connection the running event loop holds: the loop is ending."""
        link = self._link
        if link is not None and link.loop is asyncio.get_running_loop():
            self._link = None
            await link.leave()

    def _loop_link(self) -> _LoopLink:
        loop = asyncio.get_running_loop()
        link = self._link
        if link is None or link.loop is not loop:
            if link is not None:
                link.close()
            link = self._link = _LoopLink(self, loop)
        return link

    def _delta(
        self, entry: JournalEntry, files: dict[str, bytes | memoryview]
    ) -> tuple[bytes, Any]:
        """What to store of an entry's answer body: an answer differs from the previous
        one of its operation only in its per-call values (ids, timings), so it is stored as
        the bytes between the prefix and the suffix it shares with a reference answer,
        stored once like a file (added to ``files``). The body to store and how to rebuild
        it (None: stored whole)."""
        body = entry.body
        if body is None or len(body) < _DELTA_MIN_BYTES:
            return body or b"", None
        operation = entry.operation or ""
        found = self._references.get(operation)
        if found is not None:
            # The last split of this operation's answers usually holds for the next one:
            # two comparisons instead of a search (a split shorter than the longest is
            # still exact).
            head, tail = len(found.head), len(found.tail)
            if not (
                len(body) // 2 <= head + tail <= len(body)
                and body.startswith(found.head)
                and body.endswith(found.tail)
            ):
                reference = found.body
                head = _common_prefix(body, reference)
                tail = _common_suffix(body, reference, min(len(body), len(reference)) - head)
                split = _Reference(
                    found.digest, reference, reference[:head], body[len(body) - tail :]
                )
                self._references[operation] = split
            if head + tail >= len(body) // 2:
                files[found.digest] = found.body
                return body[head : len(body) - tail], {
                    "ref": found.digest,
                    "head": head,
                    "tail": tail,
                }
        digest = hashlib.sha256(body).hexdigest()  # this answer becomes the reference
        self._references[operation] = _Reference(digest, body, b"", b"")
        files[digest] = body
        return b"", {"ref": digest, "head": len(body), "tail": 0}

    def journal(self, query: JournalQuery | None = None) -> list[JournalEntry]:
        self._local.ticket = None
        keys = [self._journal_keys[n] for n in (0, 1, 2, 5)]
        order, metas, bodies, stored = self._run("read", keys, (self._files,))
        metas, bodies = _pairs(metas), _pairs(bodies)
        files = {digest.decode(): data for digest, data in _pairs(stored).items()}
        entries = [
            _decoded_entry(metas[number], bodies.get(number), files)
            for number in order
            if number in metas
        ]
        return entries if query is None else query.select(entries)

    def clear_journal(self) -> None:
        self._local.ticket = None
        self._run("trim", self._journal_keys, (0, 0, self._files))  # stored files released
        self._command("clear journal", "DEL", *self._journal_keys)

    def configure_journal(self, limit: int, max_bytes: int) -> None:
        limit, max_bytes = max(1, limit), max(0, max_bytes)
        if (limit, max_bytes) == (self._limit, self._budget):
            return
        self._limit, self._budget = limit, max_bytes
        self._run("trim", self._journal_keys, (limit, max_bytes, self._files))

    @property
    def journal_payload_bytes(self) -> int:
        """Payload bytes the journal holds now."""
        return int(self._command("journal", "GET", self._journal_keys[4]) or 0)

    # --- run-time settings --------------------------------------------------------------------

    def settings_version(self) -> int:
        ticket = self._local.ticket
        if ticket is not None:  # inside a call: the settings it began with
            return ticket.settings_version
        return int(self._run("version", (self._version,), ()))

    def settings_log(self) -> tuple[int, list[dict[str, Any]]]:
        version, log = self._run("log", (self._version, self._log), ())
        return int(version), [_decoded_change(item) for item in log]

    def add_settings_change(self, change: dict[str, Any]) -> int:
        self._local.ticket = None
        return int(self._run("add", (self._version, self._log), (_encoded_change(change),)))

    def reset(self) -> None:
        self._local.ticket = None
        self._local.tokens = None
        fixed = [
            self._seq,
            self._log,
            self._matches,
            self._fired,
            self._credits,
            self._rate_counter,
            *self._journal_keys,
        ]
        self._run("reset", [self._version, *fixed], ())
        # face_tokens, rate windows and slot sets: one key each, found by their prefixes.
        with self._guard("reset"):
            for kind in ("ft", "rate", "slots", "file"):
                batch: list[Any] = []
                for key in self._client.scan_iter(
                    match=f"{_glob(self.prefix)}:{kind}:*", count=1000
                ):
                    batch.append(key)
                    if len(batch) >= 1000:
                        self._client.unlink(*batch)
                        batch = []
                if batch:
                    self._client.unlink(*batch)
        with self._held_lock:
            self._held.clear()
        with self._stored_lock:  # what this process stored is gone (others find out on use)
            self._stored.clear()
            self._references.clear()

    def close(self) -> None:
        self._closed.set()
        link, self._link = self._link, None
        if link is not None:
            link.close()
        with self._connections_lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            connection.disconnect()
        self._client.close()
        self._client.connection_pool.disconnect()


class _Reference(NamedTuple):
    """An operation's reference answer (stored once, by digest) and the prefix and suffix
    the last answer shared with it."""

    digest: str
    body: bytes
    head: bytes
    tail: bytes


class PreparedRecord:
    """One call's journal write, built on the call's thread: the entry's id, metadata,
    answer body kept (b"" when sent before the script, by ``before``), payload size and
    files (by digest), and the face_tokens' (token, value, milliseconds to live)."""

    __slots__ = ("before", "body", "files", "meta", "number", "size", "tokens")

    def __init__(
        self,
        number: str,
        meta: bytes,
        body: bytes,
        size: int,
        files: dict[str, bytes | memoryview],
        tokens: list[Any],
        before: list[tuple[Any, ...]],
    ) -> None:
        self.number, self.meta, self.body, self.size = number, meta, body, size
        self.files, self.tokens, self.before = files, tokens, before


class _LoopLink:
    """A state's round trips from one event loop, which must never wait on a socket: the
    calls in flight share one redis-py asyncio connection, and every call that asks while a
    round trip is out goes in the next one, as one script (_LOOP_TRIP): one command to
    pack, one reply to read. Under load one round trip serves many calls, which is what
    makes Redis cheap enough to share (benchmarks/README.md, "Shared state")."""

    def __init__(self, state: RedisState, loop: asyncio.AbstractEventLoop) -> None:
        import redis.asyncio  # deferred with redis (RedisState)

        self.loop = loop
        self.state = state
        pool = redis.asyncio.ConnectionPool.from_url(
            state._secret_url, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=CONNECT_TIMEOUT
        )
        options = dict(pool.connection_kwargs)
        # One deadline for a whole round trip (below), instead of redis-py's per read and
        # per write (each write would start a task for it).
        self.timeout: float = options.pop("socket_timeout", None) or SOCKET_TIMEOUT
        self.connection: Any = pool.connection_class(**options, socket_timeout=None)
        self.script: tuple[Any, ...] = ("EVALSHA", state._shas["loop"], 0, f"{state.prefix}:")
        self.script += (state._seq, state._version)
        self.queue: list[_Asked] = []
        self.sent: list[_Asked] = []  # the batch of the round trip out now
        self.sender: asyncio.Task[None] | None = None
        self.sweep: asyncio.TimerHandle | None = None
        self.closed = False
        self.failures: tuple[type[BaseException], ...] = (*state._errors, OSError, TimeoutError)
        # For guessing the next call's ticket: the last number and settings version Redis
        # gave (None: unknown, after a failure), and until when not to guess (loop time).
        self.seen: int | None = None
        self.seen_version = 0
        self.quiet_until = 0.0

    def pack(self, commands: Sequence[tuple[Any, ...]]) -> bytes:
        return b"".join(self.connection.pack_commands(commands))

    def guess(self, settings_version: int) -> CallTicket | None:
        """The next number Redis gives, if only this loop takes numbers: one more than the
        last it gave, plus the numbering operations asked and not answered yet (which Redis
        runs in order, on this one connection). See RedisState.guess_ticket_on_loop."""
        if (
            self.seen is None
            or settings_version != self.seen_version
            or self.loop.time() < self.quiet_until
        ):
            return None
        pending = sum(1 for asked in self.sent if asked.claim >= 0)
        pending += sum(1 for a in self.queue if a.claim >= 0 and not a.future.done())
        return CallTicket(self.seen + 1 + pending, settings_version)

    async def ask(
        self,
        what: str,
        operation: str,
        arguments: Sequence[bytes] = (),
        before: bytes = b"",
        plain: int = 0,
        deadline: float | None = None,
        claim: int = -1,
    ) -> bytes:
        """The reply line of one operation of _LOOP_TRIP (``"b"``, a journal write's
        argument sizes, with its ``arguments``, or a claimed one) in the next round trip,
        sent after the ``plain`` commands packed in ``before``. ``claim``: the number
        claimed (0: ``"b"``; -1: the operation numbers nothing). Raises
        StateUnavailableError, also when there is no answer by ``deadline``
        (``time.monotonic()``)."""
        future: asyncio.Future[Any] = self.loop.create_future()
        asked = _Asked(operation, arguments, before, plain, future, deadline or math.inf, claim)
        self.queue.append(asked)
        if self.sender is None:
            self.sender = self.loop.create_task(self._send())
        if deadline is not None and self.sweep is None:
            self.sweep = self.loop.call_later(_SWEEP_SECONDS, self._sweep)
        try:
            reply = await future
        except self.failures as error:
            msg = f"Redis at {self.state.url} ({what}): {str(error) or 'no answer in time'}"
            raise StateUnavailableError(msg) from None
        if isinstance(reply, Exception) or reply.startswith(b"!"):
            failure = reply.decode(errors="replace")[1:] if isinstance(reply, bytes) else reply
            raise StateUnavailableError(f"Redis at {self.state.url} ({what}): {failure}")
        return bytes(reply)

    def _sweep(self) -> None:
        """End the waits past their deadline (checked every _SWEEP_SECONDS while some are
        bounded: one timer for all the calls, not one each)."""
        self.sweep = None
        now = time.monotonic()
        bounded = False
        for asked in (*self.sent, *self.queue):
            if asked.future.done() or asked.deadline == math.inf:
                continue
            if asked.deadline <= now:
                asked.future.set_exception(TimeoutError("no answer within the request deadline"))
            else:
                bounded = True
        if bounded and not self.closed:
            self.sweep = self.loop.call_later(_SWEEP_SECONDS, self._sweep)

    async def _send(self) -> None:
        try:
            while self.queue and not self.closed:
                # Let the calls the last trip woke run first: each takes its turn on the
                # loop and asks again (its journal entry), and they all go in the next
                # trip (measured: about twice the calls per trip, less CPU per call).
                await asyncio.sleep(0)
                # Calls already ended (their deadline passed) are not sent.
                batch = [asked for asked in self.queue if not asked.future.done()]
                self.queue, self.sent = [], batch
                try:
                    if batch:
                        await self._exchange(batch)
                finally:
                    self.sent = []
                    self._abandon(batch)  # cancelled (the loop is stopping) or closed
        finally:
            self.sender, self.sent = None, []
            batch, self.queue = self.queue, []
            self._abandon(batch)

    def _abandon(self, batch: list[_Asked]) -> None:
        for asked in batch:
            if not asked.future.done():
                asked.future.set_exception(self.state._retryable("the state was closed"))

    async def _exchange(self, batch: list[_Asked]) -> None:
        """One write of the batch (the plain commands, then the script), then every reply,
        within the deadline. A script Redis forgot (a restart) is loaded and the batch sent
        again; a connection Redis closed is replaced and the batch sent again, once, if
        nothing of it was read; any other failure fails every call of the batch."""
        connection = self.connection
        operations = " ".join([asked.operation for asked in batch])
        data = b"".join([part for asked in batch for part in asked.arguments])
        packed = b"".join([asked.before for asked in batch]) + self.pack(
            [(*self.script, operations, data)]
        )
        plain = sum(asked.plain for asked in batch)
        retried = loaded = False
        while True:
            replies: list[Any] = []  # a reply read: the trip reached Redis, never resent
            try:
                async with asyncio.timeout(self.timeout):
                    await connection.send_packed_command([packed], check_health=False)
                    while len(replies) < plain:
                        replies.append(await self._reply())
                    reply = await self._reply()
            except self.failures as error:
                await connection.disconnect(nowait=True)
                if isinstance(error, self.state._retryable) and not replies and not retried:
                    retried = True
                    continue
                self.seen = None  # which numbers the trip took is unknown
                for asked in batch:
                    if not asked.future.done():
                        asked.future.set_exception(error)
                return
            if isinstance(reply, self.state._no_script) and not loaded:
                load = self.pack([("SCRIPT", "LOAD", self.state._sources["loop"])])
                packed, plain, loaded = load + packed, plain + 1, True
                continue
            break
        if loaded:
            learnt, replies = replies[0], replies[1:]
            if isinstance(learnt, Exception):  # the script itself failed to load
                reply = learnt
        lines: list[Any] = reply.split(b"\n") if isinstance(reply, bytes) else []
        if len(lines) != len(batch):
            failure = reply if isinstance(reply, Exception) else ValueError(f"{reply!r:.80}")
            lines = [failure] * len(batch)
        start = 0
        for asked, line in zip(batch, lines, strict=True):
            own = replies[start : start + asked.plain] if asked.plain else ()
            start += asked.plain
            failed = next((r for r in own if isinstance(r, Exception)), None)
            if asked.claim >= 0:
                self._numbered(asked.claim, line)
            if not asked.future.done():
                asked.future.set_result(line if failed is None else failed)

    def _numbered(self, claim: int, line: Any) -> None:
        """Learn from a numbering operation's reply line the last number given (for
        :meth:`guess`)."""
        if isinstance(line, bytes) and line[:1] in (b"+", b"?"):  # the claim held
            self.seen = claim
        elif isinstance(line, bytes) and (line[:1].isdigit() or line.startswith(b"=")):
            ticket = _ticket(line.lstrip(b"="))
            self.seen, self.seen_version = ticket.sequence, ticket.settings_version
            if claim:  # a guess missed: another process or thread takes numbers too
                self.quiet_until = self.loop.time() + _GUESS_PAUSE_SECONDS
        else:
            self.seen = None

    async def _reply(self) -> Any:
        """The next reply; an error reply returned, not raised (as RedisState._reply)."""
        try:
            return await self.connection.read_response(timeout=math.inf)
        except self.state._response_error as error:
            return error

    async def leave(self) -> None:
        """Close, on its own loop, which is ending: a trip still out ends now (its calls
        fail)."""
        self._stop_timer()
        if self.sender is not None:
            self.sender.cancel()
        await self.connection.disconnect(nowait=True)

    def _stop_timer(self) -> None:
        self.closed = True
        if self.sweep is not None:
            self.sweep.cancel()

    def close(self) -> None:
        """Close the connection, from any thread (its loop may have ended already)."""
        self.closed = True

        def disconnect() -> None:
            self._stop_timer()
            self.loop.create_task(self.connection.disconnect(nowait=True))

        try:
            if self.loop.is_running():
                self.loop.call_soon_threadsafe(disconnect)
        except RuntimeError:  # the loop closed meanwhile: its sockets went with it
            pass


class _Asked(NamedTuple):
    """One call's part of a loop's round trip: its operation of _LOOP_TRIP and the bytes of
    its arguments, the plain commands sent before the script (packed) and their count, and
    where its reply goes."""

    operation: str
    arguments: Sequence[bytes]
    before: bytes
    plain: int
    future: asyncio.Future[Any]
    deadline: float  # time.monotonic(); math.inf: none
    claim: int  # the number a claimed write claims; 0: "b"; -1: numbers nothing


class _Guard:
    """Turns every Redis failure into StateUnavailableError (and forgets the call's ticket,
    so nothing of a failed call lingers on its thread)."""

    def __init__(self, state: RedisState, what: str) -> None:
        self.state = state
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: Any
    ) -> None:
        if error is not None and isinstance(error, self.state._errors):
            self.state._local.ticket = None
            self.state._local.tokens = None
            msg = f"Redis at {self.state.url} ({self.what}): {error}"
            raise StateUnavailableError(msg) from None


def _ticket(reply: bytes) -> CallTicket:
    """A call's ticket from the numbering script's reply: ``b"sequence version"``."""
    sequence, _, version = reply.partition(b" ")
    return CallTicket(int(sequence), int(version))


def _glob(text: str) -> str:
    """``text`` matched literally by a Redis glob pattern."""
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)


# --- entries and settings changes as Redis stores them ---------------------------------------


def _encoded_entry(entry: JournalEntry, delta: Any) -> bytes:
    """An entry's metadata (JSON): which payload pieces are kept (the body, each file:
    files are stored apart, by digest) and how the body is rebuilt (``delta``)."""
    meta = entry.to_json(with_payload=False)
    meta["kept"] = [entry.body is not None] + [f.data is not None for f in entry.files.values()]
    meta["payload_bytes"] = entry.payload_bytes
    if delta is not None:
        meta["delta"] = delta
    return orjson.dumps(meta)


def _common_prefix(one: bytes, other: bytes) -> int:
    """The length of the prefix two byte strings share: windows doubling from the start
    (per-call values sit near an answer's ends), then halving in the first window that
    differs; slices compare at memory speed, a byte-by-byte loop would not."""
    return _shared(one, other, min(len(one), len(other)), lambda x, start, end: x[start:end])


def _common_suffix(one: bytes, other: bytes, limit: int) -> int:
    """The length, at most ``limit``, of the suffix two byte strings share."""
    return _shared(one, other, limit, lambda x, start, end: x[len(x) - end : len(x) - start])


def _shared(
    one: bytes, other: bytes, limit: int, window: Callable[[bytes, int, int], bytes]
) -> int:
    """How far from one end ``one`` and ``other`` agree, at most ``limit`` bytes;
    ``window(x, start, end)`` is the part of ``x`` from ``start`` to ``end`` bytes from
    that end."""
    low, step = 0, 64
    while low < limit:
        end = min(low + step, limit)
        if window(one, low, end) != window(other, low, end):
            break
        low, step = end, step * 2
    else:
        return limit
    high = end - 1  # the window [low, end) differs: the answer is in [low, end - 1]
    while low < high:
        middle = (low + high + 1) // 2
        if window(one, low, middle) == window(other, low, middle):
            low = middle
        else:
            high = middle - 1
    return low


def _decoded_entry(
    meta_json: bytes, body: bytes | None, files: Mapping[str, bytes]
) -> JournalEntry:
    meta = orjson.loads(meta_json)
    entry = JournalEntry.from_json(meta)
    kept: list[bool] = meta.get("kept", [])
    if body is None:  # the byte budget dropped the payload, or there was none
        if kept[:1] == [True] and not meta.get("payload_bytes"):
            entry.body = b""  # an empty answer (a dropped connection): nothing to drop
        return entry
    delta = meta.get("delta")
    if delta is not None:  # the bytes between a reference answer's prefix and suffix
        reference = files.get(delta["ref"])
        if reference is None:
            body = None
        else:
            end = len(reference) - delta["tail"]
            body = reference[: delta["head"]] + body + reference[end:]
    entry.body = body if kept and kept[0] else None
    entry.files = {
        name: FileRecord(
            f.filename,
            f.content_type,
            f.size,
            f.sha256,
            files.get(f.sha256) if index + 1 < len(kept) and kept[index + 1] else None,
        )
        for index, (name, f) in enumerate(entry.files.items())
    }
    return entry


def _pairs(flat: list[Any]) -> dict[Any, Any]:
    """A Redis flat reply [key, value, key, value...] as a dict."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _encoded_change(change: dict[str, Any]) -> bytes:
    """A settings change as JSON. Pictures (``images``) become ``{"base64": ...}``, which
    the settings accept; other bytes (a stubbed body) are base64 with their places listed."""
    found: list[list[str | int]] = []

    def plain(value: Any, path: list[str | int]) -> Any:
        if isinstance(value, bytes | bytearray | memoryview):
            if len(path) == 3 and path[:2] == ["set", "images"]:
                return {"base64": base64.b64encode(value).decode()}
            found.append(path)
            return base64.b64encode(value).decode()
        if isinstance(value, dict):
            return {str(key): plain(item, [*path, str(key)]) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [plain(item, [*path, index]) for index, item in enumerate(value)]
        if value is None or isinstance(value, str | int | float | bool):
            return value
        where = ".".join(str(part) for part in path[1:]) or "(settings)"
        if type(value).__name__ == "Recording" or path[1:2] == ["recordings"]:
            msg = (
                "recordings: loaded Recording objects stay in the process that loaded them; "
                "with a shared state (Redis), name the recordings folder in the settings file"
            )
        else:
            msg = (
                f"{where}: a Python {type(value).__name__} cannot be shared through the Redis "
                "state; "
                "give plain data (text, numbers, lists, tables, bytes)"
            )
        raise SettingsError(msg)

    document = plain(change, [])
    if found:
        document = {**document, "bytes_at": found}
    return orjson.dumps(document)


def _decoded_change(raw: bytes) -> dict[str, Any]:
    change: dict[str, Any] = orjson.loads(raw)
    for path in change.pop("bytes_at", []):
        parent: Any = change
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = base64.b64decode(parent[path[-1]])
    return change
