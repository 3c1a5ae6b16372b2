"""This checkout against an earlier revision: `face-contracts serve` throughput and the
engine's own cost on the server benchmark's workload, side by side in one run.

Workload (bench_server.py's): a multipart POST of a 160 KB face photo to the Face++
dense-landmark path, answered with the full 975-key document. Each revision's server is
started from its own source tree (the revision is checked out in a temporary git worktree,
removed at the end), one after the other on a free loopback port, the order repeated for
every round; wrk with 2 threads and 16 connections. The engine alone (``FaceMock.handle`` of
the same request, one thread, no HTTP) is timed in a subprocess per revision, interleaved.

    python benchmarks/bench_baseline.py [--ref 146940d] [--rounds 5] [--duration 8] [--write]

The default revision is the one the issues 11 to 17 were filed against (their "today").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from _report import README, machine, today, write_section
from bench_server import (
    Result,
    build_workload,
    ensure_wrk,
    free_port,
    log,
    parse_wrk,
    run_wrk,
    running,
    wait_ready,
)
from bench_state import cpu_seconds

if TYPE_CHECKING:
    from collections.abc import Iterator

    from bench_server import Workload

REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_REF = "146940d"
COMMAND = "python benchmarks/bench_baseline.py --rounds 5 --write"

# Run in a subprocess with the revision's source first on the path: µs of CPU per call of
# FaceMock.handle on the workload, one number per round, as JSON.
ENGINE_PROBE = """
import json, sys, time
from face_contracts.mock import FaceMock, HttpRequest
body = open(sys.argv[1], "rb").read()
request = HttpRequest("POST", sys.argv[2], {"content-type": sys.argv[3]}, body, "")
mock = FaceMock()
# A long warm-up: the first seconds also carry the face model's loading threads.
for _ in range(600):
    assert mock.handle(request).status == 200
rounds = []
for _ in range(int(sys.argv[4])):
    start = time.process_time()
    for _ in range(200):
        mock.handle(request)
    rounds.append((time.process_time() - start) / 200 * 1e6)
print(json.dumps(rounds))
"""


@contextlib.contextmanager
def worktree(ref: str) -> Iterator[Path]:
    """The revision ``ref`` checked out in a temporary directory (a detached git worktree,
    removed afterwards: the checkout's own files are untouched)."""
    with tempfile.TemporaryDirectory(prefix="face-contracts-baseline-") as parent:
        path = Path(parent) / "tree"
        subprocess.run(
            ["git", "-C", str(REPOSITORY), "worktree", "add", "--detach", "-q", str(path), ref],
            check=True,
        )
        try:
            yield path
        finally:
            subprocess.run(
                ["git", "-C", str(REPOSITORY), "worktree", "remove", "--force", str(path)],
                check=False,
            )


def serve(source: Path, port: int) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ, PYTHONPATH=str(source))
    return [sys.executable, "-m", "face_contracts", "serve", "--port", str(port)], env


def measure_server(
    name: str, source: Path, workload: Workload, args: argparse.Namespace, into: Result
) -> float:
    """One wrk run against the revision's server; CPU µs the server spent per request."""
    port = free_port()
    command, env = serve(source, port)
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = env["PYTHONPATH"]  # bench_server's Server inherits it
    try:
        with running(name, command, workload.body.parent) as server:
            wait_ready(server, workload, port, 180)
            run_wrk(args.wrk, args, workload.lua, port, args.warmup)
            before = cpu_seconds(server.process.pid)
            output = run_wrk(args.wrk, args, workload.lua, port, args.duration)
            after = cpu_seconds(server.process.pid)
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    sample = Result(name, name, "")
    parse_wrk(output, sample)
    into.samples.append(sample)
    log(f"{name}: {sample.rps:,.0f} req/s, p99 {sample.p99_ms} ms")
    return (after - before) / max(1, sample.requests or 1) * 1e6


def engine_rounds(source: Path, workload: Workload, rounds: int) -> list[float]:
    from bench_server import PATH

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            ENGINE_PROBE,
            str(workload.body),
            PATH,
            workload.content_type,
            str(rounds),
        ],
        env=dict(os.environ, PYTHONPATH=str(source)),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"bench_baseline: the engine probe failed: {result.stderr.strip()[-400:]}")
    rounds_taken: list[float] = json.loads(result.stdout.strip().splitlines()[-1])
    return rounds_taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default=DEFAULT_REF, help=f"the earlier revision ({DEFAULT_REF})")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per run (8)")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds (3)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--write", action="store_true", help="record in benchmarks/README.md")
    args = parser.parse_args()
    args.wrk = ensure_wrk()
    load = os.getloadavg()[0]
    described = subprocess.run(
        ["git", "-C", str(REPOSITORY), "log", "-1", "--format=%h %cs", args.ref],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    head = subprocess.run(
        ["git", "-C", str(REPOSITORY), "log", "-1", "--format=%h", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as scratch, worktree(args.ref) as earlier:
        workload = build_workload(Path(scratch))
        sources = {"earlier": earlier / "src", "now": REPOSITORY / "src"}
        results = {name: Result(name, name, "") for name in sources}
        cpu: dict[str, list[float]] = {name: [] for name in sources}
        engine: dict[str, list[float]] = {name: [] for name in sources}
        for number in range(args.rounds):
            log(f"round {number + 1}/{args.rounds}")
            for name, source in sources.items():
                cpu[name].append(measure_server(name, source, workload, args, results[name]))
            for name, source in sources.items():
                engine[name] += engine_rounds(source, workload, 4)
    rps = {name: [s.rps or 0.0 for s in result.samples] for name, result in results.items()}
    ratios = [now / before for now, before in zip(rps["now"], rps["earlier"], strict=True)]
    p99 = {
        name: statistics.median(s.p99_ms or 0.0 for s in result.samples)
        for name, result in results.items()
    }
    engine_us = {name: statistics.median(values) for name, values in engine.items()}
    cpu_us = {name: statistics.median(values) for name, values in cpu.items()}
    ratio = statistics.median(ratios)
    lines = [
        "Workload: bench_server.py's (POST /facepp/v1/face/thousandlandmark, a 160 KB JPEG "
        "face photo as multipart, the full 975-key answer). wrk, "
        f"{args.threads} threads, {args.connections} connections, {args.duration:g} s after a "
        f"{args.warmup:g} s warm-up; the two servers alternate over {args.rounds} rounds. "
        f"Earlier: {described}; now: {head}. {today()}, {machine()}, load average "
        f"{load:.1f} at the start. Command: `{COMMAND}`.",
        "",
        "| | earlier | now | now ÷ earlier |",
        "|---|---:|---:|---:|",
        f"| `serve`, req/s (median of the rounds) | {statistics.median(rps['earlier']):,.0f} | "
        f"{statistics.median(rps['now']):,.0f} | {ratio:.2f} |",
        f"| `serve`, server CPU µs per request | {cpu_us['earlier']:,.0f} | "
        f"{cpu_us['now']:,.0f} | {cpu_us['now'] / cpu_us['earlier']:.2f} |",
        f"| `serve`, p99 ms | {p99['earlier']:.1f} | {p99['now']:.1f} | "
        f"{p99['now'] / p99['earlier']:.2f} |",
        f"| the engine alone (`FaceMock.handle`, one thread), CPU µs per call | "
        f"{engine_us['earlier']:,.0f} | {engine_us['now']:,.0f} | "
        f"{engine_us['now'] / engine_us['earlier']:.2f} |",
        "",
        "Round by round, now ÷ earlier req/s: "
        + ", ".join(f"{value:.2f}" for value in ratios)
        + ".",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        if "<!-- baseline:start -->" not in README.read_text(encoding="utf-8"):
            README.write_text(
                README.read_text(encoding="utf-8").rstrip()
                + "\n\n## Against an earlier revision\n\n"
                + f"`{COMMAND}`\n\n<!-- baseline:start -->\n<!-- baseline:end -->\n",
                encoding="utf-8",
            )
        write_section("baseline", text)
        log(f"written to {README}")


if __name__ == "__main__":
    main()
