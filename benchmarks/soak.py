"""Load and soak on loopback: thousands of requests at 64 concurrent connections across all
five operations against `face-contracts serve`, with slow clients among them, then large
pictures, then the quota checks under concurrency.

    python benchmarks/soak.py [--requests 4000] [--connections 64] [--slow 8] [--large 40]
                              [--write]

Slow clients (``--slow`` of each kind, during the load): a head sent a byte a second, a body
sent a byte a second, a connection that sends nothing; each must be cut by the server
(408, or a silent close for the idle one) within its ``[server]`` timeout plus a margin.
Large pictures (``--large``): 20 MiB AILabTools uploads (the vendor's limit), four at a time;
the server's RSS must stay within the journal's byte budget plus a few uploads in flight.

Checks (exit status 1 if any fails): zero transport errors, every answer valid under
schemas/ for its status, bounded RSS growth of the server, slow clients cut, Face++
concurrency and AILabTools credits exact under concurrency (the number of 403/429 answers
is what the settings imply). --write records the figures in the reliability section of
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from _report import machine, today, write_section

from face_contracts import operations, validate
from face_contracts.images import encode_image
from face_contracts.mock import encode_request

if TYPE_CHECKING:
    from collections.abc import Iterator

PICTURES = [
    encode_image("JPEG", 480, 360, seed=seed, faces=((120 + seed, 60, 180, 200),))
    for seed in range(4)
]


@dataclass
class Figures:
    """What one run measured."""

    requests: int = 0
    transport_errors: int = 0
    invalid_answers: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    rss_start_kib: int = 0
    rss_end_kib: int = 0
    seconds: float = 0.0
    slow: dict[str, Counter[str]] = field(default_factory=dict)
    slow_cut_after: dict[str, float] = field(default_factory=dict)
    large_uploads: int = 0
    large_bytes: int = 0
    large_statuses: Counter[int] = field(default_factory=Counter)
    large_seconds: float = 0.0
    rss_before_large_kib: int = 0
    rss_peak_large_kib: int = 0
    rss_after_large_kib: int = 0
    rss_after_reset_kib: int = 0
    journal_bytes: int = 0
    problems: list[str] = field(default_factory=list)


def _part(data: bytes) -> dict[str, str]:
    return {
        "filename": "face.jpg",
        "content_type": "image/jpeg",
        "base64": base64.b64encode(data).decode(),
    }


def workload(index: int) -> tuple[str, dict[str, Any]]:
    """A request document: valid ones mostly, every tenth one a client mistake."""
    op = [o.id for o in operations()][index % 5]
    picture = _part(PICTURES[index % len(PICTURES)])
    broken = (index // 5) % 10 == 9  # every tenth round of the five operations
    if op == "acedata.face_analyze":
        body: dict[str, Any] = {
            "image_url": f"https://cdn.example.com/{index % 7}.jpg",
            "mode": index % 2,
        }
        if broken:
            body["mode"] = 7
        return op, {"headers": {"authorization": "Bearer soak-token"}, "body": body}
    if op.startswith("ailab."):
        body = {"image": picture}
        if op == "ailab.face_key_points":
            body["face_field"] = "age,gender,landmark150"
            body["max_face_num"] = "11" if broken else str(1 + index % 3)
        return op, {"headers": {"ailabapi-api-key": "soak-key"}, "body": body}
    body = {"api_key": "soak-key", "api_secret": "soak-secret", "image_file": picture}
    if op == "facepp.thousandlandmark":
        body["return_landmark"] = "bogus" if broken else "all"
    else:
        body["return_landmark"] = "1"
        body["return_attributes"] = "gender,age,emotion"
    return op, {"body": body}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def server() -> Iterator[tuple[str, int]]:
    port = free_port()
    command = [sys.executable, "-m", "face_contracts", "serve", "--port", str(port)]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as process:
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    httpx.get(f"{url}/__admin/health", timeout=1)
                    break
                except httpx.TransportError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the server did not start") from None
                    time.sleep(0.05)
            yield url, process.pid
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)


async def _send(
    client: httpx.AsyncClient, url: str, op: str, document: dict[str, Any]
) -> httpx.Response:
    request = encode_request(op, document)
    return await client.post(
        url + request.path, content=request.body, headers=dict(request.headers)
    )


async def load(url: str, pid: int, total: int, connections: int, figures: Figures) -> None:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(total):
        queue.put_nowait(index)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        for index in range(5):  # each operation once: caches and models loaded before RSS
            await _send(client, url, *workload(index))
        figures.rss_start_kib = rss_kib(pid)

        async def worker() -> None:
            while not queue.empty():
                index = queue.get_nowait()
                op, document = workload(index)
                figures.requests += 1
                try:
                    answer = await _send(client, url, op, document)
                except httpx.TransportError as error:
                    figures.transport_errors += 1
                    figures.problems.append(f"{op}: {type(error).__name__}")
                    continue
                figures.statuses[answer.status_code] += 1
                kind = "response" if answer.status_code == 200 else "error"
                report = validate(op, kind, answer.content, status=answer.status_code)
                if not report.valid:
                    figures.invalid_answers += 1
                    figures.problems.append(str(report).splitlines()[0])

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        figures.seconds = time.perf_counter() - start
        figures.rss_end_kib = rss_kib(pid)


# -- slow clients --------------------------------------------------------------------------

SLOW_HEAD = b"GET /__admin/health HTTP/1.1\r\nHost: soak\r\nX-Slow: "
SLOW_BODY = (
    b"POST /face/analyze HTTP/1.1\r\nHost: soak\r\nAuthorization: Bearer soak-token\r\n"
    b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
)


async def slow_client(port: int, kind: str, give_up: float) -> tuple[str, float]:
    """One slow client; (what the server did, seconds until it did it)."""
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    first = {"head": SLOW_HEAD, "body": SLOW_BODY, "idle": b""}[kind]
    received = b""
    try:
        if first:
            writer.write(first)
            await writer.drain()
        while time.perf_counter() - start < give_up:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), timeout=1.0)
            except TimeoutError:
                if kind != "idle":  # one more byte a second: never finishing
                    writer.write(b"a")
                    await writer.drain()
                continue
            if not chunk:
                break
            received += chunk
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
    seconds = time.perf_counter() - start
    if time.perf_counter() - start >= give_up:
        return "still open", seconds
    if received.startswith(b"HTTP/1.1 408"):
        return "408 and closed", seconds
    if not received:
        return "closed, nothing sent", seconds
    return f"answered {received[:12]!r}", seconds


async def slow_clients(port: int, count: int, figures: Figures) -> None:
    limits = {"head": 10.0, "body": 30.0, "idle": 10.0}  # the [server] defaults
    runs = [
        (kind, slow_client(port, kind, limits[kind] + 30.0))
        for kind in limits
        for _ in range(count)
    ]
    outcomes = await asyncio.gather(*(run for _, run in runs))
    for (kind, _), (outcome, seconds) in zip(runs, outcomes, strict=True):
        figures.slow.setdefault(kind, Counter())[outcome] += 1
        figures.slow_cut_after[kind] = max(figures.slow_cut_after.get(kind, 0.0), seconds)
        expected = "closed, nothing sent" if kind == "idle" else "408 and closed"
        if outcome != expected:
            figures.problems.append(f"slow client ({kind}): {outcome}")


# -- large pictures ------------------------------------------------------------------------

LARGE_BYTES = 20 * 1024 * 1024 - 65536  # AILabTools face_analyzer_advanced: 20 MiB
LOAD = [0.0]  # the 1-minute load average when the run started (other work on the machine)


async def large_uploads(url: str, pid: int, count: int, figures: Figures) -> None:
    op = "ailab.face_analyzer_advanced"
    path = next(o.path for o in operations() if o.id == op)
    async with httpx.AsyncClient(timeout=120) as client:
        config = (await client.get(f"{url}/__admin/config")).json()
        figures.journal_bytes = int(config.get("journal_bytes", 0))
        figures.rss_before_large_kib = rss_kib(pid)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(count):
            queue.put_nowait(index)

        async def uploader() -> None:
            while not queue.empty():
                index = queue.get_nowait()
                picture = await asyncio.to_thread(
                    encode_image,
                    "JPEG",
                    2000,
                    1500,
                    seed=100 + index,
                    faces=((700, 400, 500, 600),),
                    byte_size=LARGE_BYTES,
                )
                files = {"image": ("face.jpg", picture, "image/jpeg")}
                try:
                    answer = await client.post(
                        url + path, files=files, headers={"ailabapi-api-key": "soak-key"}
                    )
                except httpx.TransportError as error:
                    figures.transport_errors += 1
                    figures.problems.append(f"large upload: {type(error).__name__}")
                    continue
                figures.large_uploads += 1
                figures.large_bytes += len(picture)
                figures.large_statuses[answer.status_code] += 1
                figures.rss_peak_large_kib = max(figures.rss_peak_large_kib, rss_kib(pid))
                kind = "response" if answer.status_code == 200 else "error"
                if not validate(op, kind, answer.content, status=answer.status_code).valid:
                    figures.invalid_answers += 1

        start = time.perf_counter()
        await asyncio.gather(*(uploader() for _ in range(4)))
        figures.large_seconds = time.perf_counter() - start
        figures.rss_after_large_kib = rss_kib(pid)
        await client.post(f"{url}/__admin/reset")
        figures.rss_after_reset_kib = rss_kib(pid)
    bound_kib = (figures.journal_bytes + 6 * LARGE_BYTES) // 1024
    growth = figures.rss_after_large_kib - figures.rss_before_large_kib
    if growth > bound_kib:
        figures.problems.append(
            f"RSS grew by {growth // 1024} MiB over {count} large uploads "
            f"(journal budget {figures.journal_bytes >> 20} MiB + 6 uploads in flight)"
        )


async def quotas(url: str, connections: int) -> list[str]:
    """Concurrency and credits under concurrent load: the counts must be exact."""
    problems = []
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        await client.post(f"{url}/__admin/reset")
        await client.post(f"{url}/__admin/config", json={"concurrency": 2})
        await client.post(
            f"{url}/__admin/faults", json={"operation": "facepp.detect", "delay": 3.0}
        )
        op, document = "facepp.detect", workload(4)[1]
        answers = await asyncio.gather(
            *(_send(client, url, op, document) for _ in range(connections))
        )
        got = Counter(a.status_code for a in answers)
        if got != Counter({200: 2, 403: connections - 2}):
            problems.append(
                f"Face++ concurrency 2 under {connections} parallel calls gave {dict(got)}"
            )
        await client.post(f"{url}/__admin/reset")
        await client.post(
            f"{url}/__admin/config", json={"credits": 2 * 25}
        )  # 25 calls at 2 credits
        op, document = "ailab.face_key_points", workload(0)[1]
        document["body"].pop("max_face_num", None)
        answers = await asyncio.gather(
            *(_send(client, url, op, document) for _ in range(connections))
        )
        got = Counter(a.status_code for a in answers)
        if got != Counter({200: 25, 429: connections - 25}):
            problems.append(
                f"AILabTools 50 credits under {connections} parallel calls gave {dict(got)}"
            )
        await client.post(f"{url}/__admin/reset")
    return problems


def run(total: int, connections: int, slow: int, large: int) -> Figures:
    figures = Figures()
    with server() as (url, pid):
        port = int(url.rsplit(":", 1)[1])

        async def load_with_slow_clients() -> None:
            await asyncio.gather(
                load(url, pid, total, connections, figures), slow_clients(port, slow, figures)
            )

        asyncio.run(load_with_slow_clients())
        if large:
            asyncio.run(large_uploads(url, pid, large, figures))
        figures.problems += asyncio.run(quotas(url, connections))
    growth = figures.rss_end_kib - figures.rss_start_kib
    if growth > 64 * 1024:  # the journal's byte budget; caches are bounded too
        figures.problems.append(f"RSS grew by {growth} KiB")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--slow", type=int, default=8, help="slow clients of each kind (8)")
    parser.add_argument("--large", type=int, default=40, help="20 MiB uploads (40)")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    LOAD[0] = os.getloadavg()[0]
    figures = run(args.requests, args.connections, args.slow, args.large)
    rss_start, rss_end = figures.rss_start_kib / 1024, figures.rss_end_kib / 1024
    rate = figures.requests / figures.seconds
    quota = "WRONG" if any("gave" in problem for problem in figures.problems) else "exact"
    command = (
        f"python benchmarks/soak.py --requests {args.requests} --connections "
        f"{args.connections} --slow {args.slow} --large {args.large} --write"
    )
    lines = [
        f"{today()}, {machine()}, load average {LOAD[0]:.1f} at the start. Command: `{command}`.",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| requests served | {figures.requests:,} |",
        f"| concurrent connections | {args.connections} |",
        f"| transport errors | {figures.transport_errors} |",
        f"| answers invalid under schemas/ | {figures.invalid_answers} |",
        f"| statuses | {', '.join(f'{k}: {v}' for k, v in sorted(figures.statuses.items()))} |",
        f"| requests per second (client validates too) | {rate:,.0f} |",
        f"| server RSS after warm-up, after the run | {rss_start:,.1f} MiB, {rss_end:,.1f} MiB |",
    ]
    for kind, label in (
        ("head", "slow heads (a byte a second)"),
        ("body", "slow bodies (a byte a second)"),
        ("idle", "idle connections (nothing sent)"),
    ):
        outcomes = figures.slow.get(kind, Counter())
        shown = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        after = figures.slow_cut_after.get(kind, 0.0)
        lines.append(f"| {label}, during the load | {shown}, the last after {after:.1f} s |")
    if args.large:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(figures.large_statuses.items()))
        lines += [
            f"| 20 MiB AILabTools uploads, 4 at a time | {figures.large_uploads} "
            f"({figures.large_bytes / 2**20:,.0f} MiB in {figures.large_seconds:.1f} s; "
            f"{statuses}) |",
            f"| server RSS before, peak, after the uploads, after reset | "
            f"{figures.rss_before_large_kib / 1024:,.0f}, {figures.rss_peak_large_kib / 1024:,.0f}"
            f", {figures.rss_after_large_kib / 1024:,.0f}, "
            f"{figures.rss_after_reset_kib / 1024:,.0f} MiB (journal budget "
            f"{figures.journal_bytes / 2**20:,.0f} MiB) |",
        ]
    lines.append(f"| quota counts under {args.connections} parallel calls | {quota} |")
    if figures.problems:
        lines += ["", "Problems:", *(f"- {problem}" for problem in figures.problems[:20])]
    print("\n".join(lines))
    if args.write:
        write_section("soak", "\n".join(lines))
    raise SystemExit(1 if figures.problems else 0)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
