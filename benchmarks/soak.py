"""Load and soak on loopback: thousands of requests at 64 concurrent connections across all
five operations against `face-contracts serve`, then the quota checks under concurrency.

    python benchmarks/soak.py [--requests 4000] [--connections 64] [--write]

Checks (exit status 1 if any fails): zero transport errors, every answer valid under
schemas/ for its status, bounded RSS growth of the server, Face++ concurrency and AILabTools
credits exact under concurrency (the number of 403/429 answers is what the settings imply).
--write records the figures in the reliability section of benchmarks/README.md.
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
        await _send(client, url, *workload(0))  # warm the caches before measuring RSS
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


def run(total: int, connections: int) -> Figures:
    figures = Figures()
    with server() as (url, pid):
        asyncio.run(load(url, pid, total, connections, figures))
        figures.problems += asyncio.run(quotas(url, connections))
    growth = figures.rss_end_kib - figures.rss_start_kib
    if growth > 64 * 1024:  # the journal keeps 256 requests; caches are bounded too
        figures.problems.append(f"RSS grew by {growth} KiB")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    figures = run(args.requests, args.connections)
    rss_start, rss_end = figures.rss_start_kib / 1024, figures.rss_end_kib / 1024
    rate = figures.requests / figures.seconds
    quota = "WRONG" if any("gave" in problem for problem in figures.problems) else "exact"
    lines = [
        f"{today()}, {machine()}. Command: `python benchmarks/soak.py --requests {args.requests} "
        f"--connections {args.connections} --write`.",
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
        f"| quota counts under {args.connections} parallel calls | {quota} |",
    ]
    if figures.problems:
        lines += ["", "Problems:", *(f"- {problem}" for problem in figures.problems[:20])]
    print("\n".join(lines))
    if args.write:
        write_section("soak", "\n".join(lines))
    raise SystemExit(1 if figures.problems else 0)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
