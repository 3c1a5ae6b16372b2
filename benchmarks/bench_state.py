"""The shared state's cost: ``face-contracts serve`` with ``--state redis://`` against the
in-memory state, at 1, 2 and 4 workers, side by side in one run.

Workload: the one of bench_server.py (the Face++ dense-landmark call, a multipart POST of a
160 KB face photo, answered with the full 975-key document), whose helpers this reuses. On
Redis every call takes its sequence number and settings version and writes its journal
entry, with the photo and the answer, and its face_token: round trips awaited on the
server's event loop (one per call while a worker alone numbers calls), each shared by the
calls in flight; the in-memory state does the same in the process. For each worker count
the two servers run side by side on free loopback ports and are measured in turn, slice
after slice, the order swapped every round, so that each Redis slice has a memory slice
seconds away (this shared machine's speed drifts by more than the difference measured); the
ratio is the median of the rounds' pairs. Redis (redis-server, no persistence) is emptied
before each worker count. wrk: 2 threads, 16 connections. Goal (issue 17): at one worker,
Redis costs at most 15% of the requests per second.

    python benchmarks/bench_state.py [--write] [--rounds 8] [--duration 5]

Installs wrk and redis-server (apt-get) when missing; every process started here is
stopped on exit. --write records the table in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from _report import README, interleaved, machine, today, write_section
from bench_server import (
    PATH,
    Result,
    apt_install,
    build_workload,
    ensure_wrk,
    free_port,
    log,
    parse_wrk,
    run_wrk,
    running,
    wait_ready,
)

if TYPE_CHECKING:
    from bench_server import Workload

COMMAND = "python benchmarks/bench_state.py --rounds 8 --write"
DEFAULT_DURATION = 5.0  # seconds per slice
WORKERS = (1, 2, 4)
GOAL = 0.15  # at most this fraction of the in-memory requests per second lost to Redis


def ensure_redis() -> str:
    import shutil

    binary = shutil.which("redis-server")
    if binary is None:
        problem = apt_install("redis-server")
        binary = shutil.which("redis-server")
        if binary is None:
            sys.exit(f"bench_state: redis-server is needed and could not be installed ({problem})")
    return binary


def serve_command(port: int, workers: int, state: str | None) -> list[str]:
    command = [sys.executable, "-m", "face_contracts", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    if state is not None:
        command += ["--state", state, "--state-prefix", "bench"]
    return command


def cpu_seconds(group: int) -> float:
    """CPU seconds (user and system) used so far by the processes of a process group (a
    server and its workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) == group:  # pgrp; utime and stime follow at 11 and 12
            total += int(fields[11]) + int(fields[12])
    return total / tick


CPU: dict[str, list[tuple[float, float]]] = {}  # name -> (server, Redis) µs per request


def report(results: dict[tuple[str, int], Result], args: argparse.Namespace, load: float) -> str:
    def rps(backend: str, workers: int) -> float | None:
        found = results.get((backend, workers))
        return None if found is None else found.rps

    lines = [
        "Workload: bench_server.py's (POST /facepp/v1/face/thousandlandmark, a 160 KB JPEG "
        "face photo as multipart, the full 975-key answer). wrk, "
        f"{args.threads} threads, {args.connections} connections. For each worker count both "
        f"servers run side by side (each warmed up {args.warmup:g} s), then are measured in "
        f"turn for {args.duration:g} s each over {args.rounds} round(s), the order swapped "
        "every round; req/s and CPU are the median round's, Redis ÷ memory the median of "
        f"the rounds' pairs. Redis {REDIS_VERSION[0]} on loopback, emptied before each "
        f"worker count. {today()}, {machine()}, load average {load:.1f} at the start. "
        f"Command: `{command(args)}`.",
        "",
        "| workers | in-memory state req/s | `--state redis://` req/s | Redis ÷ memory "
        "| server CPU µs per request, memory / Redis | Redis's own CPU µs per request "
        "| p99 ms memory / Redis | non-2xx |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for workers in WORKERS:
        memory, shared = results.get(("memory", workers)), results.get(("redis", workers))
        if memory is None or shared is None:
            continue
        if memory.rps is None or shared.rps is None:
            lines.append(
                f"| {workers} | {memory.problem or ''} | {shared.problem or ''} | | | | | |"
            )
            continue
        memory_cpu, _ = median_cpu(memory.name)
        shared_cpu, redis_cpu = median_cpu(shared.name)
        lines.append(
            f"| {workers} | {memory.rps:,.0f} | {shared.rps:,.0f} | "
            f"{paired_ratio(results, workers) or 0:.2f} | {memory_cpu:,.0f} / {shared_cpu:,.0f} | "
            f"{redis_cpu:,.0f} | {memory.p99_ms or 0:.1f} / {shared.p99_ms or 0:.1f} | "
            f"{memory.non_2xx + shared.non_2xx} |"
        )
    shared_one = rps("redis", 1)
    ratio_one = paired_ratio(results, 1)
    if ratio_one:
        cost = 1 - ratio_one
        verdict = "met" if cost <= GOAL else "NOT met"
        lines += [
            "",
            f"Goal (issue 17): Redis costs at most {GOAL:.0%} at one worker: it costs "
            f"{cost:.0%} ({verdict}).",
        ]
        ratios = pair_ratios(results, 1)
        if len(ratios) > 1:
            lines.append(
                "Redis ÷ memory at one worker, round by round (each pair run back to back): "
                + ", ".join(f"{ratio:.2f}" for ratio in ratios)
                + "."
            )
    scaling = [
        f"{workers} workers {value / shared_one:.2f}×"
        for workers in WORKERS[1:]
        if shared_one and (value := rps("redis", workers))
    ]
    if scaling:
        lines.append(
            "With Redis, against one worker: " + ", ".join(scaling) + " (two cores, shared "
            "with wrk and Redis)."
        )
    lines.append(
        "Only the Redis rows are one mock: their credits, counters, face_tokens and journal "
        "are exact across workers; the in-memory rows with several workers keep one state "
        "per worker."
    )
    sharing = [
        f"{workers} worker(s) {statistics.median(SHARING[name]):.1f}"
        for workers in WORKERS
        if (name := f"redis-{workers}") in SHARING
    ]
    if sharing:
        lines.append(
            "Calls per Redis read, median slice (how many calls share a round trip; "
            "Redis's total_reads_processed): " + ", ".join(sharing) + "."
        )
    if ROUND_TRIPS:
        trips = sorted(ROUND_TRIPS)
        lines.append(
            f"A Redis round trip (PING, median of 500) took {trips[0]:,.0f}–{trips[-1]:,.0f} "
            f"µs before the rounds (median {trips[len(trips) // 2]:,.0f}): the cost of the "
            "round trips a call shares varies with it (this is a shared virtual machine)."
        )
    if ENGINE:
        lines.append(
            f"The engine alone (FaceMock.handle in one thread, interleaved rounds): "
            f"{ENGINE['memory']:,.0f} µs per call with the in-memory state, "
            f"{ENGINE['redis']:,.0f} µs with Redis, "
            "waits for its two round trips (the threads' path) included "
            f"(+{ENGINE['redis'] - ENGINE['memory']:,.0f} µs)."
        )
    return "\n".join(lines)


REDIS_VERSION = ["?"]


def pair_ratios(results: dict[tuple[str, int], Result], workers: int) -> list[float]:
    """Redis ÷ memory requests per second of each round's pair of slices."""
    memory, shared = results.get(("memory", workers)), results.get(("redis", workers))
    if memory is None or shared is None:
        return []
    return [
        one.rps / other.rps
        for other, one in zip(memory.samples, shared.samples, strict=False)
        if one.rps and other.rps
    ]


def paired_ratio(results: dict[tuple[str, int], Result], workers: int) -> float | None:
    """The median of the rounds' Redis ÷ memory ratios."""
    ratios = sorted(pair_ratios(results, workers))
    return ratios[len(ratios) // 2] if ratios else None


def command(args: argparse.Namespace) -> str:
    """The command line that ran, as recorded."""
    line = f"python benchmarks/bench_state.py --rounds {args.rounds}"
    if args.duration != DEFAULT_DURATION:
        line += f" --duration {args.duration:g}"
    return line + " --write"


def median_cpu(name: str) -> tuple[float, float]:
    """The median run's CPU µs per request: the server's processes, and Redis's."""
    samples = sorted(CPU.get(name, [(0.0, 0.0)]))
    return samples[len(samples) // 2]


def redis_client(port: int) -> Any:
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            REDIS_VERSION[0] = str(client.info("server")["redis_version"])
            return client
        except redis.ConnectionError:
            time.sleep(0.1)
    sys.exit("bench_state: redis-server did not start")


class Run(NamedTuple):
    """What every slice of a run uses: Redis (its port, process and a client), the
    workload, wrk and the command line."""

    redis_port: int
    redis_pid: int
    client: Any
    workload: Workload
    wrk: str
    args: argparse.Namespace


def measure(result: Result, server: Any, port: int, run: Run) -> None:
    """One slice: wrk against a running server; its CPU and Redis's counted."""
    sample = Result(result.name, result.label, result.does)
    reads = run.client.info("stats")["total_reads_processed"]
    before = cpu_seconds(server.process.pid), cpu_seconds(run.redis_pid)
    output = run_wrk(run.wrk, run.args, run.workload.lua, port, run.args.duration)
    after = cpu_seconds(server.process.pid), cpu_seconds(run.redis_pid)
    reads = run.client.info("stats")["total_reads_processed"] - reads
    parse_wrk(output, sample)
    count = max(1, sample.requests or 1)
    server_cpu = (after[0] - before[0]) / count * 1e6
    CPU.setdefault(result.name, []).append((server_cpu, (after[1] - before[1]) / count * 1e6))
    result.samples.append(sample)
    shared = ""
    if result.name.startswith("redis"):
        sharing = count / max(1, reads)
        SHARING.setdefault(result.name, []).append(sharing)
        shared = f", {sharing:.1f} calls per Redis read"
    log(
        f"{result.name}: {sample.rps:,.1f} req/s, p99 {sample.p99_ms} ms, server CPU "
        f"{server_cpu:,.0f} µs per request{shared}"
    )


def compare(workers: int, results: dict[tuple[str, int], Result], url: str, run: Run) -> None:
    """Both servers of a worker count started side by side and warmed up, then measured in
    turn, round after round, the order swapped every round (memory, Redis; Redis, memory;
    ...): each pair of slices is seconds apart, so the machine's drift hits both alike."""
    workload, wrk, args = run.workload, run.wrk, run.args
    memory, shared = results[("memory", workers)], results[("redis", workers)]
    ports = {"memory": free_port(), "redis": free_port()}
    directory = workload.body.parent
    log(f"{workers} worker(s): starting both servers")
    with (
        running(memory.name, serve_command(ports["memory"], workers, None), directory) as one,
        running(shared.name, serve_command(ports["redis"], workers, url), directory) as other,
    ):
        servers = {"memory": (memory, one), "redis": (shared, other)}
        for backend, (_, server) in servers.items():
            wait_ready(server, workload, ports[backend], 120)
            if args.warmup > 0:
                run_wrk(wrk, args, workload.lua, ports[backend], args.warmup)
        for round_number in range(args.rounds):
            ROUND_TRIPS.append(round_trip(run.redis_port))
            log(f"round {round_number + 1} of {args.rounds}: PING {ROUND_TRIPS[-1]:.0f} µs")
            order = ("memory", "redis") if round_number % 2 == 0 else ("redis", "memory")
            for backend in order:
                result, server = servers[backend]
                measure(result, server, ports[backend], run)


def engine_costs(workload: Workload, url: str) -> dict[str, float]:
    """The engine alone, in this process, one call at a time: µs per call (wall, Redis's
    round trips included) with each state, interleaved rounds."""
    from face_contracts.mock import FaceMock, HttpRequest
    from face_contracts.state_redis import RedisState

    request = HttpRequest(
        "POST", PATH, {"content-type": workload.content_type}, workload.body.read_bytes(), ""
    )
    memory = FaceMock()
    shared = FaceMock(state=RedisState(url, prefix="bench-engine"))
    try:
        for mock in (memory, shared):
            for _ in range(20):
                if mock.handle(request).status != 200:
                    sys.exit("bench_state: the engine did not answer the workload")
        seconds = interleaved(
            {"memory": lambda: memory.handle(request), "redis": lambda: shared.handle(request)},
            rounds=21,
            loops=40,
        )
    finally:
        shared.state.close()
    return {name: value * 1e6 for name, value in seconds.items()}


ENGINE: dict[str, float] = {}
SHARING: dict[str, list[float]] = {}  # calls per Redis read (its round trips), per slice
ROUND_TRIPS: list[float] = []  # µs, median PING round trip, measured before each round


def round_trip(port: int) -> float:
    """The median round trip of a PING to Redis, µs, through a redis-py connection: what
    each round trip a call waits for costs at least on this machine, now."""
    from redis.connection import Connection

    connection = Connection(port=port)
    connection.connect()
    samples = []
    for _ in range(500):
        start = time.perf_counter()
        connection.send_command("PING")
        connection.read_response()
        samples.append(time.perf_counter() - start)
    connection.disconnect()
    return sorted(samples)[len(samples) // 2] * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="record in benchmarks/README.md")
    parser.add_argument(
        "--duration", type=float, default=DEFAULT_DURATION, help="seconds per slice (5)"
    )
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds (3)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of paired slices (median)")
    parser.add_argument(
        "--workers", default=",".join(map(str, WORKERS)), help="worker counts (1,2,4)"
    )
    args = parser.parse_args()
    counts = tuple(int(part) for part in args.workers.split(","))
    load = os.getloadavg()[0]
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    wrk = ensure_wrk()
    redis_binary = ensure_redis()

    results: dict[tuple[str, int], Result] = {
        (backend, workers): Result(f"{backend}-{workers}", f"{backend} {workers}", "")
        for workers in counts
        for backend in ("memory", "redis")
    }
    with tempfile.TemporaryDirectory(prefix="bench-state-") as temp:
        directory = Path(temp)
        log("building the workload")
        workload = build_workload(directory)
        redis_port = free_port()
        command = [redis_binary, "--port", str(redis_port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(directory)]
        with running("redis", command, directory) as redis_server:
            client = redis_client(redis_port)
            url = f"redis://127.0.0.1:{redis_port}/0"
            log("the engine alone, in this process")
            ENGINE.update(engine_costs(workload, url))
            run = Run(redis_port, redis_server.process.pid, client, workload, wrk, args)
            for workers in counts:
                client.flushall()
                try:
                    compare(workers, results, url, run)
                except (RuntimeError, OSError) as error:
                    for backend in ("memory", "redis"):
                        results[(backend, workers)].problem = f"did not run: {error}"
                    log(f"{workers} worker(s): did not run: {error}")
            client.close()
    for result in results.values():
        result.settle()
    text = report(results, args, load)
    print(text)
    if args.write:
        if "<!-- state:start -->" not in README.read_text(encoding="utf-8"):
            with README.open("a", encoding="utf-8") as readme:
                readme.write(f"\n## Shared state (issue 17)\n\n`{COMMAND}`\n")
        write_section("state", text)
        log("recorded in benchmarks/README.md")


if __name__ == "__main__":
    main()
