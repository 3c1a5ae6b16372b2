"""The state behind every stateful feature, on both backends: counts exact under
concurrency, and, on Redis, several engines (each standing for a process) acting as one mock.

Each engine made by ``engines(n)`` has its own connection pool on the Redis backend, as
separate worker processes would; on the memory backend they are one engine (a process can
share nothing else).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import random
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from face_contracts.images import encode_image
from face_contracts.journal import FileRecord, Journal, JournalEntry
from face_contracts.mock import Deferred, FaceMock, HttpRequest, HttpResponse, encode_request
from face_contracts.recordings import Recording
from face_contracts.settings import SettingsError
from face_contracts.state import MemoryState, State, StateUnavailableError
from face_contracts.state_redis import (
    RedisState,
    _common_prefix,
    _common_suffix,
    _LoopLink,
    default_prefix,
    open_state,
    shown_url,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from .conftest import RedisServer

PICTURE = encode_image("JPEG", 640, 480, seed=3, faces=((200, 100, 220, 250),))
FILE = {
    "filename": "face.jpg",
    "content_type": "image/jpeg",
    "base64": base64.b64encode(PICTURE).decode(),
}


def request_for(operation: str, **body: Any) -> dict[str, Any]:
    if operation.startswith("facepp."):
        base: dict[str, Any] = {"api_key": "key", "api_secret": "secret", "image_file": FILE}
        if operation == "facepp.thousandlandmark":
            base["return_landmark"] = "all"
        return {"body": {**base, **body}}
    if operation.startswith("ailab."):
        return {"headers": {"ailabapi-api-key": "key"}, "body": {"image": FILE, **body}}
    return {
        "headers": {"authorization": "Bearer token"},
        "body": {"image_url": "https://cdn.example.com/a.jpg", **body},
    }


def send(mock: FaceMock, operation: str, **body: Any) -> HttpResponse:
    return mock.handle(encode_request(operation, request_for(operation, **body)))


def by_face_token(token: str) -> HttpRequest:
    """A Face++ dense-landmark request for an issued face_token."""
    body = {"api_key": "k", "api_secret": "s", "face_token": token, "return_landmark": "all"}
    return encode_request("facepp.thousandlandmark", {"body": body})


def in_parallel(
    mocks: list[FaceMock], calls: int, operation: str, **body: Any
) -> list[HttpResponse]:
    """``calls`` calls spread over the engines, 8 at a time; answers completed (sent)."""

    def one(index: int) -> HttpResponse:
        response = send(mocks[index % len(mocks)], operation, **body)
        response.complete()
        return response

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(calls)))


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def redis_engines(request: pytest.FixtureRequest) -> Iterator[Callable[..., list[FaceMock]]]:
    """``redis_engines(n, **settings)``: n engines sharing one Redis, each as its own
    process would be; their connections are closed after the test."""
    states: list[State] = []
    prefix = f"test:{secrets.token_hex(6)}"

    def make(count: int = 1, **settings: Any) -> list[FaceMock]:
        server: RedisServer = request.getfixturevalue("redis_server")
        made = []
        for _ in range(count):
            state = RedisState(server.url, prefix=prefix)
            states.append(state)
            made.append(FaceMock(state=state, **settings))
        return made

    yield make
    for state in states:
        state.close()


@pytest.fixture
def engines(backend: str, request: pytest.FixtureRequest) -> Callable[..., list[FaceMock]]:
    """``engines(n, **settings)``: n engines of one mock, each as its own process would be."""
    if backend == "redis":
        make: Callable[..., list[FaceMock]] = request.getfixturevalue("redis_engines")
        return make

    def one_process(count: int = 1, **settings: Any) -> list[FaceMock]:
        return [FaceMock(**settings)] * count

    return one_process


# --- exact counts ----------------------------------------------------------------------------


def test_credits_are_exact_under_concurrency(engines: Callable[..., list[FaceMock]]) -> None:
    mocks = engines(4, credits=11)  # face key points cost 2 credits: 5 calls fit
    statuses = Counter(r.status for r in in_parallel(mocks, 40, "ailab.face_key_points"))
    assert statuses == {200: 5, 429: 35}
    assert len(mocks[1].journal) == 40


def test_refused_calls_give_their_credits_back(engines: Callable[..., list[FaceMock]]) -> None:
    mocks = engines(2, credits=4)
    bad = [
        send(m, "ailab.face_key_points", image={"base64": "bm90IGEgcGljdHVyZQ=="}) for m in mocks
    ]
    assert all(r.status not in (200, 429) for r in bad)  # refused after paying: refunded
    good = [send(mocks[i % 2], "ailab.face_key_points").status for i in range(3)]
    assert good == [200, 200, 429]


def test_forced_error_times_and_nth_are_exact(engines: Callable[..., list[FaceMock]]) -> None:
    mocks = engines(3)
    mocks[0].force_error("INTERNAL_ERROR", operation="facepp.detect", times=3)
    answers = in_parallel(mocks, 30, "facepp.detect")
    assert Counter(r.status for r in answers) == {200: 27, 500: 3}
    mocks[1].reset()
    mocks[2].force_error("INTERNAL_ERROR", operation="facepp.detect", nth=7)
    statuses = [send(mocks[i % 3], "facepp.detect").status for i in range(10)]
    assert statuses == [200] * 6 + [500] + [200] * 3
    mocks[0].reset()
    mocks[0].force_error("INTERNAL_ERROR", operation="facepp.detect", nth=5)
    assert Counter(r.status for r in in_parallel(mocks, 24, "facepp.detect")) == {200: 23, 500: 1}


def test_faults_and_stubs_count_across_engines(engines: Callable[..., list[FaceMock]]) -> None:
    mocks = engines(2)
    mocks[0].add_fault(operation="facepp.detect", status=503, times=2)
    mocks[1].respond(operation="acedata.face_analyze", body=b"\x00raw\xff", times=1)
    assert Counter(r.status for r in in_parallel(mocks, 10, "facepp.detect")) == {200: 8, 503: 2}
    stubbed = [send(mocks[i % 2], "acedata.face_analyze") for i in range(3)]
    assert stubbed[0].body == b"\x00raw\xff"
    assert [r.status for r in stubbed][1:] == [200, 200]
    assert stubbed[1].body != b"\x00raw\xff"


def test_rate_window_is_shared_and_slides(engines: Callable[..., list[FaceMock]]) -> None:
    mocks = engines(3, rate_per_second=4)
    # 12 calls take a few milliseconds: all within one second.
    assert Counter(r.status for r in in_parallel(mocks, 12, "acedata.face_analyze")) == {
        200: 4,
        429: 8,
    }
    time.sleep(1.05)  # every call admitted so far is now more than a second old
    assert send(mocks[1], "acedata.face_analyze").status == 200


def test_concurrency_slots_span_engines(engines: Callable[..., list[FaceMock]]) -> None:
    first, second, third = engines(3, concurrency=2)
    held = [send(first, "facepp.detect"), send(second, "facepp.detect")]  # in flight
    refused = send(third, "facepp.detect")
    assert [r.status for r in held] == [200, 200]
    assert (refused.status, refused.json()["error_message"]) == (403, "CONCURRENCY_LIMIT_EXCEEDED")
    held[0].complete()
    admitted = send(third, "facepp.detect")
    assert admitted.status == 200
    # A call refused after taking its slot gives it back once, not twice.
    bad = send(first, "facepp.detect", return_attributes="nonsense")
    assert bad.status == 403  # the two slots are held: refused before any option check
    held[1].complete()
    bad = send(first, "facepp.detect", return_attributes="nonsense")
    assert bad.status == 400
    bad.complete()  # the answer is sent: the slot is released no second time
    holder = send(second, "facepp.detect")
    assert holder.status == 200  # admitted holds 1, holder 2
    assert send(third, "facepp.detect").status == 403


# --- face_tokens, journal, settings ----------------------------------------------------------


def test_face_tokens_resolve_in_every_engine(engines: Callable[..., list[FaceMock]]) -> None:
    issuer, resolver = engines(2)
    detected = send(issuer, "facepp.detect")
    token = detected.json()["faces"][0]["face_token"]
    dense = resolver.handle(by_face_token(token))
    assert dense.status == 200, dense.body
    unknown = resolver.handle(by_face_token("0" * 32))
    assert unknown.status == 400
    assert unknown.json()["error_message"] == f"INVALID_FACE_TOKEN: {'0' * 32}"


def test_face_tokens_expire(engines: Callable[..., list[FaceMock]]) -> None:
    (mock,) = engines(1)
    mock.state.put_face_tokens({"a" * 32: b"lasting", "b" * 32: b"brief"}, 3600)
    mock.state.put_face_tokens({"b" * 32: b"brief"}, 0.2)
    time.sleep(0.3)
    assert mock.state.face_token("a" * 32) == b"lasting"
    assert mock.state.face_token("b" * 32) is None


def test_one_journal_in_order(engines: Callable[..., list[FaceMock]]) -> None:
    mocks = engines(2)
    for index in range(6):
        send(mocks[index % 2], "facepp.detect", return_landmark=str(index % 2))
    for mock in mocks:
        journal = mock.journal
        assert [entry.sequence for entry in journal] == [1, 2, 3, 4, 5, 6]
        assert [entry.fields["return_landmark"] for entry in journal] == ["0", "1"] * 3
        assert all(entry.process for entry in journal)
        assert journal[0].files["image_file"].data == PICTURE
        assert journal[0].response["faces"]
        assert journal[0].fields["api_key"] != "key"  # masked before it is stored
    assert len(mocks[0].calls("facepp.detect", limit=2)) == 2
    mocks[1].clear_journal()
    assert mocks[0].journal == []


def entry(sequence: int, body: int, file: int) -> JournalEntry:
    data = bytes([sequence % 3]) * file  # a few pictures, each sent several times
    digest = hashlib.sha256(data).hexdigest()
    files = {"image": FileRecord("a.jpg", "image/jpeg", file, digest, data)} if file else {}
    return JournalEntry(
        sequence, "facepp.detect", "POST", "/p", {}, {"n": sequence}, 200, "application/json",
        b"b" * body if body else None, float(sequence), files, process="p",
    )  # fmt: skip


def test_the_journal_keeps_one_copy_of_an_upload_sent_again() -> None:
    journal = Journal(3, 1 << 20)
    picture = bytes(range(256)) * 40
    digest = hashlib.sha256(picture).hexdigest()
    for sequence in range(1, 6):
        body = b"head" + picture + b"tail"  # each request's own body, as a server reads it
        view = memoryview(body)[4:-4]
        files = {"image_file": FileRecord("f.jpg", "image/jpeg", len(picture), digest, view)}
        journal.append(
            JournalEntry(
                sequence,
                "facepp.detect",
                "POST",
                "/",
                {},
                {},
                200,
                "application/json",
                b"{}",
                0.0,
                files,
            )
        )
    kept = [entry.files["image_file"].data for entry in journal.entries()]
    assert [bytes(data or b"") for data in kept] == [picture] * 3
    assert all(data is kept[0] for data in kept)  # one copy, whichever request brought it
    journal.clear()
    assert journal.entries() == []


@pytest.mark.parametrize(("limit", "budget"), [(5, 10_000), (8, 2_500), (3, 0), (50, 700)])
def test_journal_bounds_match_the_in_memory_journal(
    redis_server: RedisServer, limit: int, budget: int
) -> None:
    """The same entries, limit and byte budget leave the same entries with the same payloads
    kept, in Redis as in journal.Journal (payloads dropped from the oldest first)."""
    rng = random.Random(f"{limit}:{budget}")
    entries = [
        entry(n, rng.choice([0, 1, 300, 900]), rng.choice([0, 0, 500, 1200])) for n in range(1, 30)
    ]
    expected = Journal(limit, budget)
    state = RedisState(
        redis_server.url,
        prefix=f"test:{secrets.token_hex(6)}",
        journal_limit=limit,
        journal_bytes=budget,
    )
    try:
        for item in entries:
            expected.append(item)
            state.record(item)
            kept = [
                (e.sequence, e.body, {n: f.data for n, f in e.files.items()})
                for e in state.journal()
            ]
            assert kept == [
                (e.sequence, e.body, {n: f.data for n, f in e.files.items()})
                for e in expected.entries()
            ]
            assert state.journal_payload_bytes == expected.payload_bytes
        state.configure_journal(2, 100)  # shrinking trims at once, as Journal.resize does
        expected.resize(2, 100)
        assert [(e.sequence, e.body) for e in state.journal()] == [
            (e.sequence, e.body) for e in expected.entries()
        ]
    finally:
        state.close()


def test_admin_changes_reach_every_engine(engines: Callable[..., list[FaceMock]]) -> None:
    first, second = engines(2, faces=1)
    first.set_faces(2)
    assert second.settings.faces == 2
    assert len(send(second, "facepp.detect").json()["faces"]) == 2
    picture = encode_image("PNG", 320, 240, seed=9, faces=((60, 40, 120, 150),))
    first.register_image("https://cdn.example.com/b.png", picture)
    assert second.settings.images["https://cdn.example.com/b.png"] == picture
    handle = first.respond(operation="facepp.detect", body=b"\x89raw bytes\x00", status=200)
    assert second.rule(handle.id) is not None
    assert send(second, "facepp.detect").body == b"\x89raw bytes\x00"
    assert handle.remove()
    assert second.rule(handle.id) is None
    first.configure(credits=2)
    send(second, "ailab.face_key_points")
    assert send(first, "ailab.face_key_points").status == 429
    second.reset()
    assert (first.settings.faces, first.settings.credits, first.settings.images) == (1, None, {})
    assert first.journal == []
    assert send(first, "ailab.face_key_points").status == 200


def test_reset_forgets_every_count(engines: Callable[..., list[FaceMock]]) -> None:
    first, second = engines(2, credits=2, concurrency=1, rate_per_second=1)
    token = send(first, "facepp.detect").json()["faces"][0]["face_token"]  # holds the slot
    assert send(first, "ailab.face_key_points").status == 200
    assert send(first, "acedata.face_analyze").status == 200
    first.force_error("INTERNAL_ERROR", operation="facepp.thousandlandmark", times=1)
    second.reset()
    assert second.state.face_token(token) is None
    assert first.journal == []
    detected = send(second, "facepp.detect")
    assert detected.status == 200  # the slot held before is forgotten
    detected.complete()
    assert send(second, "ailab.face_key_points").status == 200  # credits back to 2
    assert send(second, "acedata.face_analyze").status == 200  # a new window
    assert send(second, "facepp.thousandlandmark").status == 200  # the rule is gone
    assert [e.sequence for e in first.journal] == [1, 2, 3, 4]


# --- Redis only -------------------------------------------------------------------------------


def on_loop(mock: FaceMock, requests: list[HttpRequest]) -> list[HttpResponse | BaseException]:
    """The answers to ``requests`` sent together on one event loop, as the server's loop
    tries them (a Deferred call is returned as its exception)."""

    async def main() -> list[HttpResponse | BaseException]:
        try:
            return await asyncio.gather(
                *(mock.handle_on_loop(request) for request in requests), return_exceptions=True
            )
        finally:
            await mock.leave_loop()

    return asyncio.run(main())


def watch_trips(monkeypatch: pytest.MonkeyPatch, seen: Callable[[list[Any]], None]) -> None:
    """Show ``seen`` each round trip's batch of calls before the loop sends it."""
    exchange = _LoopLink._exchange

    async def watched(link: _LoopLink, batch: list[Any]) -> None:
        seen(batch)
        await exchange(link, batch)

    monkeypatch.setattr(_LoopLink, "_exchange", watched)


def test_calls_on_the_event_loop_share_round_trips_and_stay_exact(
    redis_engines: Callable[..., list[FaceMock]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A blocking round trip would stall a server's every connection: the loop awaits them
    # instead, and the calls in flight share each trip. Nothing of exactness is lost.
    mock, other = redis_engines(2)  # other: another process
    detect = encode_request("facepp.detect", request_for("facepp.detect"))
    with pytest.raises(Deferred) as deferred:  # a blocking caller's on_loop never asks Redis
        mock.handle(detect, on_loop=True)
    assert deferred.value.ticket is None
    assert mock.handle(detect).status == 200  # the picture analysed, the answer rendered
    trips: list[int] = []
    watch_trips(monkeypatch, lambda batch: trips.append(len(batch)))
    answers = on_loop(mock, [detect] * 12)
    assert all(isinstance(a, HttpResponse) and a.status == 200 for a in answers), answers
    assert sum(trips) == 24  # each call's number, then its journal entry
    assert len(trips) < 24  # in fewer round trips than that
    journal = other.journal
    assert sorted(entry.sequence for entry in journal) == list(range(1, 14))
    assert journal[-1].files["image_file"].data == PICTURE
    served = [orjson.loads(a.body) for a in answers if isinstance(a, HttpResponse)]
    assert {entry.body for entry in journal[1:]} == {
        a.body for a in answers if isinstance(a, HttpResponse)
    }
    for answer in served:  # every face_token issued on the loop is known everywhere
        assert other.state.face_token(answer["faces"][0]["face_token"]) is not None
    # The ids of the in-memory mock for the same call numbers.
    memory = FaceMock()
    expected = [orjson.loads(memory.handle(detect).body)["request_id"] for _ in range(13)]
    assert sorted(a["request_id"] for a in served) == sorted(expected[1:])


def test_a_loop_alone_numbers_each_call_with_its_journal_write(
    redis_engines: Callable[..., list[FaceMock]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # While one loop alone numbers calls, it answers each with the number Redis will give
    # next and the journal write numbers it: one operation per call, not two. A number
    # taken elsewhere makes the guess miss: that call is answered again with the number it
    # got, and the loop stops guessing for a while.
    import face_contracts.state_redis

    mock, other = redis_engines(2)  # other: another process
    detect = encode_request("facepp.detect", request_for("facepp.detect"))
    assert mock.handle(detect).status == 200  # 1: the picture analysed, the answer rendered
    operations: list[str] = []
    watch_trips(monkeypatch, lambda batch: operations.extend(a.operation[0] for a in batch))

    def pause(seconds: float) -> None:  # how long a missed guess stops the guessing
        monkeypatch.setattr(face_contracts.state_redis, "_GUESS_PAUSE_SECONDS", seconds)

    async def main() -> list[HttpResponse]:
        try:
            answers = [await mock.handle_on_loop(detect)]  # 2: no number seen on this loop
            answers += await asyncio.gather(*(mock.handle_on_loop(detect) for _ in range(8)))
            assert operations == ["b", "1"] + ["c"] * 8  # 3 to 10: one operation each
            pause(0.0)
            assert other.handle(detect).status == 200  # 11, taken elsewhere
            answers.append(await mock.handle_on_loop(detect))  # guessed 11, got 12
            answers.append(await mock.handle_on_loop(detect))  # 13: guessed again, no pause
            assert operations[10:] == ["c", "1", "c"]
            pause(3600.0)
            other.handle(detect)  # 14
            answers.append(await mock.handle_on_loop(detect))  # guessed 14, got 15
            answers.append(await mock.handle_on_loop(detect))  # 16: not guessed
            assert operations[13:] == ["c", "1", "b", "1"]
            return answers
        finally:
            await mock.leave_loop()

    answers = asyncio.run(main())
    assert all(answer.status == 200 for answer in answers)
    journal = other.journal
    assert [entry.sequence for entry in journal] == list(range(1, 17))
    # Each answer is the one its number gives (the in-memory mock's ids, call by call), and
    # the journal holds what was sent, not an answer dropped after a missed guess.
    memory = FaceMock()
    expected = [orjson.loads(memory.handle(detect).body)["request_id"] for _ in range(16)]
    numbers = [*range(2, 11), 12, 13, 15, 16]
    assert [answer.json()["request_id"] for answer in answers] == [
        expected[number - 1] for number in numbers
    ]
    sent = {answer.body for answer in answers}
    assert {entry.body for entry in journal if entry.sequence in numbers} == sent
    for answer in answers:  # the face_tokens of every answer sent, none of those dropped
        assert other.state.face_token(answer.json()["faces"][0]["face_token"]) is not None


def test_a_guess_made_on_old_settings_misses_and_the_call_gets_the_new_ones(
    redis_engines: Callable[..., list[FaceMock]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # An admin change made elsewhere changes the settings version, not the call numbers: a
    # guess made on the old version is refused by Redis (nothing written), and the call is
    # numbered and answered on the new settings, as every process answers it.
    mock, other = redis_engines(2)  # other: another process
    detect = encode_request("facepp.detect", request_for("facepp.detect"))
    assert mock.handle(detect).status == 200  # 1
    operations: list[str] = []
    watch_trips(monkeypatch, lambda batch: operations.extend(a.operation[0] for a in batch))

    async def main() -> tuple[HttpResponse, HttpResponse | Deferred]:
        try:
            first = await mock.handle_on_loop(detect)  # 2: numbered, then answered
            other.configure(faces=2)
            try:
                return first, await mock.handle_on_loop(detect)  # guessed on the old version
            except Deferred as deferred:
                return first, deferred
        finally:
            await mock.leave_loop()

    first, changed = asyncio.run(main())
    assert operations == ["b", "1", "c"]  # the guess went out, and was refused
    assert len(first.json()["faces"]) == 1
    assert isinstance(changed, Deferred)  # the new settings are read in a thread
    assert changed.ticket is not None
    assert changed.ticket.sequence == 3
    answer = mock.handle(detect, ticket=changed.ticket)
    assert len(answer.json()["faces"]) == 2
    assert [entry.sequence for entry in other.journal] == [1, 2, 3]
    assert other.journal[-1].body == answer.body  # what was sent, not the refused guess


def test_a_call_the_loop_defers_keeps_its_number_and_its_face_tokens(
    redis_engines: Callable[..., list[FaceMock]],
) -> None:
    mock, other = redis_engines(2, credits=100)
    detect = encode_request("facepp.detect", request_for("facepp.detect"))
    assert mock.handle(detect).status == 200
    (quota,) = on_loop(mock, [detect])  # credits count: decided in a thread
    assert isinstance(quota, Deferred)
    assert quota.ticket is not None
    assert quota.ticket.sequence == 2
    answer = mock.handle(detect, ticket=quota.ticket)  # the server's thread, same number
    token = answer.json()["faces"][0]["face_token"]
    assert other.state.face_token(token) is not None
    assert [entry.sequence for entry in other.journal] == [1, 2]
    # A face_token to look up in Redis is a round trip the loop does not make blocking.
    dense = by_face_token(token)
    (plain,) = redis_engines()
    assert plain.settings.credits is None  # read once: the loop answers on known settings
    (lookup,) = on_loop(plain, [dense])
    assert isinstance(lookup, Deferred)
    assert "face_token" in str(lookup)
    assert plain.handle(dense, ticket=lookup.ticket).status == 200


def test_the_loop_sends_a_picture_again_that_redis_lost(redis_server: RedisServer) -> None:
    # A process sends a picture's bytes once; when Redis no longer has them (an eviction),
    # the journal write on the loop names them and they are sent again, not lost.
    import redis

    prefix = f"test:{secrets.token_hex(6)}"
    mock = FaceMock(state=RedisState(redis_server.url, prefix=prefix))
    detect = encode_request("facepp.detect", request_for("facepp.detect"))
    assert mock.handle(detect).status == 200  # the picture stored, this process knows it
    client = redis.Redis.from_url(redis_server.url)
    digest = hashlib.sha256(PICTURE).hexdigest()
    assert client.delete(f"{prefix}:file:{digest}") == 1
    (answer,) = on_loop(mock, [detect])
    assert isinstance(answer, HttpResponse)
    assert answer.status == 200
    assert [entry.files["image_file"].data for entry in mock.journal] == [PICTURE, PICTURE]
    client.close()
    mock.state.close()


def test_an_operation_that_fails_in_a_shared_trip_fails_alone(redis_server: RedisServer) -> None:
    # The calls in one round trip are one script; an error in one call's part is that
    # call's alone (the vendor's internal error for it), and the others still count.
    state = RedisState(redis_server.url, prefix=f"test:{secrets.token_hex(6)}")

    async def main() -> tuple[bytes | BaseException, ...]:
        link = state._loop_link()
        try:
            return await asyncio.gather(
                link.ask("begin", "b"),
                link.ask("record", "7", [b"not a control"]),  # its script part fails
                link.ask("begin", "b"),
                return_exceptions=True,
            )
        finally:
            await state.leave_loop()

    first, broken, second = asyncio.run(main())
    assert isinstance(broken, StateUnavailableError)
    assert "(record)" in str(broken)
    assert isinstance(first, bytes)
    assert isinstance(second, bytes)
    assert [first.split()[0], second.split()[0]] == [b"1", b"2"]
    state.close()


def test_the_event_loop_path_outlives_a_redis_that_goes_away_or_stalls(
    own_redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    state = RedisState(own_redis_server.url + "?socket_timeout=0.5", prefix="test:loop-lost")
    mock = FaceMock(state=state)
    detect = encode_request("facepp.detect", request_for("facepp.detect"))
    assert mock.handle(detect).status == 200
    caplog.set_level(logging.ERROR, "face_contracts")

    async def answer() -> HttpResponse:
        try:
            return await mock.handle_on_loop(detect)
        except Deferred as deferred:  # as the server does: the thread goes on with it
            return mock.handle(detect, ticket=deferred.ticket)

    async def main() -> None:
        try:
            assert (await answer()).status == 200
            own_redis_server.stop()
            lost = await answer()
            assert lost.status == 500
            assert b"INTERNAL_ERROR" in lost.body
            own_redis_server.start()  # empty: its scripts, counters and version are gone
            assert (await answer()).status == 200  # reconnected; the version read in a thread
            assert (await mock.handle_on_loop(detect)).status == 200  # scripts loaded again
            assert own_redis_server.process is not None
            own_redis_server.process.send_signal(signal.SIGSTOP)  # Redis stops answering
            try:
                started = time.monotonic()
                assert (await mock.handle_on_loop(detect)).status == 500
                assert time.monotonic() - started < 10  # bounded by the socket timeout
            finally:
                own_redis_server.process.send_signal(signal.SIGCONT)
            assert (await mock.handle_on_loop(detect)).status == 200
        finally:
            await mock.leave_loop()

    asyncio.run(main())
    assert "shared state unavailable" in caplog.text
    assert "Traceback" not in caplog.text
    # 3 stalled: answered with its guessed number, it was numbered by its journal write,
    # which Redis carried out once it went on (a write out at the deadline may land).
    assert [entry.sequence for entry in mock.journal] == [1, 2, 3, 4]
    state.close()


def test_the_loop_reconnects_once_redis_restarted_between_its_calls(
    own_redis_server: RedisServer,
) -> None:
    # Redis restarts while the loop's connection is idle: the next trip finds the old socket
    # closed before anything of it was read, so it is sent again on a new connection (and
    # the scripts loaded again), never answered with the vendor's internal error.
    state = RedisState(own_redis_server.url, prefix="test:loop-restart")
    mock = FaceMock(state=state)
    detect = encode_request("facepp.detect", request_for("facepp.detect"))
    assert mock.handle(detect).status == 200

    async def answer() -> int:
        try:
            return (await mock.handle_on_loop(detect)).status
        except Deferred as deferred:  # as the server does: the thread goes on with it
            return mock.handle(detect, ticket=deferred.ticket).status

    async def main() -> list[int]:
        try:
            before = await answer()
            own_redis_server.stop()
            own_redis_server.start()  # empty: the settings version is read again, in a thread
            return [before, await answer(), await answer()]
        finally:
            await mock.leave_loop()

    assert asyncio.run(main()) == [200, 200, 200]
    assert [entry.sequence for entry in mock.journal] == [1, 2]  # Redis started over
    state.close()


def test_recordings_and_objects_cannot_cross_processes(redis_server: RedisServer) -> None:
    mock = FaceMock(state=RedisState(redis_server.url, prefix=f"test:{secrets.token_hex(6)}"))
    recording = Recording(
        operation="facepp.detect",
        recorded_at=datetime(2025, 11, 1, tzinfo=UTC),
        host="api-us.faceplusplus.com",
        case="facepp.detect/x",
        request={},
        status=200,
        content_type="application/json",
        body={},
    )
    with pytest.raises(SettingsError, match="name the recordings folder in the settings file"):
        mock.configure(recordings=recording, replay_drift=True)
    assert mock.settings.recordings == ()
    mock.state.close()


def test_slots_of_a_dead_process_expire_and_live_ones_are_renewed(
    redis_server: RedisServer,
) -> None:
    prefix = f"test:{secrets.token_hex(6)}"
    dead = RedisState(redis_server.url, prefix=prefix, slot_lease=0.6)
    alive = RedisState(redis_server.url, prefix=prefix, slot_lease=3.0)  # renewed each second
    other = RedisState(redis_server.url, prefix=prefix)
    try:
        assert dead.acquire_slot("key", 2) is not None
        handle = alive.acquire_slot("key", 2)
        assert handle is not None
        assert other.acquire_slot("key", 2) is None
        dead.close()  # stops renewing, as a killed process would
        slots, member = handle.split("\n")
        client = alive._client
        first_lease = client.zscore(slots, member)
        deadline = time.monotonic() + 20
        taken = None
        while taken is None and time.monotonic() < deadline:
            time.sleep(0.1)
            taken = other.acquire_slot("key", 2)
        assert taken is not None  # the dead process's slot expired
        while client.zscore(slots, member) == first_lease and time.monotonic() < deadline:
            time.sleep(0.1)
        renewed = client.zscore(slots, member)
        assert renewed is not None
        assert first_lease is not None
        assert renewed > first_lease  # the live one was renewed
        assert other.acquire_slot("key", 2) is None
        alive.release_slot(handle)
        alive.release_slot(handle)  # a second release is ignored
        assert other.acquire_slot("key", 2) is not None
    finally:
        alive.close()
        other.close()


def test_changes_of_any_kind_survive_the_trip(redis_server: RedisServer) -> None:
    state = RedisState(redis_server.url, prefix=f"test:{secrets.token_hex(6)}")
    change = {
        "set": {
            "images": {"https://x.example/a.png": b"\x89PNG", "https://x.example/b": "path.png"},
            "responses": [{"operation": "facepp.detect", "body": b"\x00\x01", "id": "r"}],
            "credentials": {"facepp": [("k", "s")]},
        }
    }
    state.add_settings_change(change)
    state.add_settings_change({"remove": "r"})
    _, log = state.settings_log()
    assert log == [
        {
            "set": {
                "images": {
                    "https://x.example/a.png": {"base64": "iVBORw=="},
                    "https://x.example/b": "path.png",
                },
                "responses": [{"operation": "facepp.detect", "body": b"\x00\x01", "id": "r"}],
                "credentials": {"facepp": [["k", "s"]]},
            }
        },
        {"remove": "r"},
    ]
    with pytest.raises(SettingsError, match=r"faces: a Python object cannot be shared"):
        state.add_settings_change({"set": {"faces": object()}})
    state.close()


def test_url_and_prefix_helpers() -> None:
    assert (
        shown_url("redis://user:hunter2@db.example:6380/1") == "redis://user:***@db.example:6380/1"
    )
    assert shown_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert default_prefix(b"a", b"b") == default_prefix(b"a", b"b") != default_prefix(b"ab", b"")
    assert open_state(None) is None
    assert open_state("memory") is None
    with pytest.raises(ValueError, match="give redis://host:port/db"):
        open_state("http://127.0.0.1:6379")
    with pytest.raises(
        StateUnavailableError, match=r"Redis at redis://:\*\*\*@127.0.0.1:1/0 \(connect\)"
    ):
        RedisState("redis://:hunter2@127.0.0.1:1/0")


def test_redis_lost_while_serving_then_back(
    own_redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    # A short socket timeout (a URL parameter, as users may give) keeps the paused case quick.
    state = RedisState(own_redis_server.url + "?socket_timeout=0.5", prefix="test:lost")
    mock = FaceMock(state=state, credits=10)
    assert send(mock, "facepp.detect").status == 200
    own_redis_server.stop()
    caplog.set_level(logging.ERROR, "face_contracts")
    for operation, status, code in [
        ("facepp.detect", 500, "INTERNAL_ERROR"),
        ("ailab.face_key_points", 500, "SERVICE_INTERNAL_ERROR"),
        ("acedata.face_analyze", 500, "api_error"),
    ]:
        answer = send(mock, operation)
        assert answer.status == status
        assert code in answer.body.decode()
    assert "shared state unavailable" in caplog.text
    assert "Traceback" not in caplog.text
    with pytest.raises(StateUnavailableError):
        mock.configure(faces=2)
    own_redis_server.start()  # empty: Redis lost everything (no persistence)
    assert send(mock, "facepp.detect").status == 200
    mock.configure(faces=2)
    assert len(send(mock, "facepp.detect").json()["faces"]) == 2
    # A Redis that stops answering (not gone): each call ends at the socket timeout.
    assert own_redis_server.process is not None
    own_redis_server.process.send_signal(signal.SIGSTOP)
    try:
        assert send(mock, "facepp.detect").status == 500
    finally:
        own_redis_server.process.send_signal(signal.SIGCONT)
    assert send(mock, "facepp.detect").status == 200
    state.close()


def test_the_memory_state_needs_no_redis() -> None:
    assert isinstance(FaceMock().state, MemoryState)
    code = (
        "import sys, face_contracts.mock, face_contracts.server, face_contracts.state_redis\n"
        "face_contracts.mock.FaceMock()\n"
        "print('redis' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_each_thread_connection_closes_with_its_thread(redis_server: RedisServer) -> None:
    state = RedisState(redis_server.url, prefix=f"test:{secrets.token_hex(6)}")
    mock = FaceMock(state=state)
    for _ in range(3):
        assert {r.status for r in in_parallel([mock], 16, "facepp.detect")} == {200}
    # The pool's eight threads have ended: their connections with them (this thread's stays).
    assert len(state._connections) == 1
    state.close()


def shared(one: bytes, other: bytes) -> int:
    """How many leading bytes two strings share, counted one by one."""
    count = 0
    for mine, theirs in zip(one, other, strict=False):
        if mine != theirs:
            break
        count += 1
    return count


@given(st.binary(max_size=64), st.binary(max_size=64), st.binary(max_size=64))
def test_common_prefix_and_suffix_match_the_naive_count(
    head: bytes, one: bytes, other: bytes
) -> None:
    first, second = head + one, head + other
    naive = shared(first, second)
    assert _common_prefix(first, second) == naive
    limit = min(len(first), len(second)) - naive
    reversed_naive = shared(first[::-1], second[::-1])
    assert _common_suffix(first, second, limit) == min(limit, reversed_naive)


def test_answers_stored_as_differences_come_back_whole(redis_server: RedisServer) -> None:
    state = RedisState(redis_server.url, prefix=f"test:{secrets.token_hex(6)}")
    rng = random.Random(7)
    base = bytes(rng.randrange(256) for _ in range(5000))
    bodies = [
        base,
        b"1" + base[1:],  # differs at the start
        b"2" + base[1:],  # the same split as the last answer's (not searched again)
        base,  # the same split holds, though not the longest
        base[:2500] + b"xyz" + base[2500:],  # longer, in the middle
        base[:-1] + b"!",  # at the end
        bytes(rng.randrange(256) for _ in range(3000)),  # unrelated: a new reference
        base[:4000],  # shorter
        b"short",
    ]
    for number, body in enumerate(bodies, 1):
        item = entry(number, 0, 0)
        item.body = body
        state.record(item)
    assert [e.body for e in state.journal()] == bodies
    state.close()
