"""What the validation proxy adds to a call: the Face++ dense workload sent straight to the
mock server, through a raw TCP relay (the floor), through the proxy with judging switched off
and through ``face-contracts proxy``, side by side.

Workload (the server benchmark's): a multipart POST of a real face photo of about 160 KB with
return_landmark=all to /facepp/v1/face/thousandlandmark, answered with the full 975-key
document. The upstream is ``face-contracts serve``; every path in front of it is a subprocess
on a free loopback port. One client sends the calls one after another over a kept-alive
connection, the four paths in rotating order round after round, and times each call.

- the floor: an asyncio (uvloop) TCP relay that copies bytes both ways and understands no
  HTTP: what any proxy written in Python on this machine must at least add (two more
  loopback hops and two more process wake-ups per call);
- forwarding only: the proxy with judging switched off (this script starts it with
  ``--forward-only``; a measuring device, not a feature): what forwarding costs;
- ``face-contracts proxy``: judging every exchange in a process of its own, as the command
  does.

The judging of one exchange (request and answer against the contract, done after the answer
has gone out) is timed separately, in-process. Goal (issue 16): the proxy adds at most 1 ms
to the median call plus the judging cost.

    python benchmarks/bench_proxy.py [--write] [--rounds 41] [--calls 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from _report import README, machine, today, write_section
from bench_server import LANDMARK_KEYS, OPERATION, PATH, face_photo, landmark_keys

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

COMMAND = "python benchmarks/bench_proxy.py --write"
CLI = [sys.executable, "-m", "face_contracts"]
GOAL_MS = 1.0
PATHS = {
    "direct": "straight to `face-contracts serve`",
    "relay": "through a raw asyncio TCP relay (the floor)",
    "forwarded": "through the proxy with judging switched off (measurement only)",
    "proxied": "through `face-contracts proxy` (judging every exchange)",
}


def log(message: str) -> None:
    print(f"[bench_proxy] {message}", file=sys.stderr, flush=True)


def forward_only(target: str) -> None:
    """Serve the proxy with judging switched off until SIGTERM (the forwarding-only path)."""
    import threading

    from face_contracts.proxy import ProxyApp, ProxyOptions, ProxyServer, parse_targets

    def unjudged(self: ProxyApp, exchange: Any) -> None:
        done = self._pending.pop(exchange.seq, None)
        if done is not None:
            done.set_result(None)

    ProxyApp._submit = unjudged  # type: ignore[method-assign]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    options = ProxyOptions(parse_targets([target]), port=0)
    with ProxyServer(options, judging="process") as server:
        print(f"forward-only proxy listening on {server.url} ", flush=True)
        stop.wait()


class _Pipe(asyncio.Protocol):
    """One side of the relay: what it reads goes to the other side as it comes."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.peer: _Pipe | None = None
        self.early: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.peer is None or self.peer.transport is None:
            self.early.append(data)  # the other side is still connecting
        else:
            self.peer.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.close()


def relay(target: str) -> None:
    """A raw TCP relay to ``target`` (no HTTP at all): the floor a Python proxy stands on."""
    import uvloop

    host, port = target.removeprefix("http://").rsplit(":", 1)

    async def serve() -> None:
        loop = asyncio.get_running_loop()

        linking: set[asyncio.Task[None]] = set()

        def front() -> _Pipe:
            side = _Pipe()

            async def link() -> None:
                _, back = await loop.create_connection(_Pipe, host, int(port))
                back.peer, side.peer = side, back
                assert back.transport is not None
                back.transport.writelines(side.early)

            task = loop.create_task(link())
            linking.add(task)
            task.add_done_callback(linking.discard)
            return side

        server = await loop.create_server(front, "127.0.0.1", 0)
        print(f"relay listening on http://127.0.0.1:{server.sockets[0].getsockname()[1]} ")
        sys.stdout.flush()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()

    uvloop.run(serve())


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user and system) a process and its children (the judging process) have
    used so far, from /proc; None where there is no /proc."""
    total = 0.0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child)) or 0.0
    except OSError:
        return None
    return total


@contextlib.contextmanager
def started(arguments: Sequence[str], command: Sequence[str] = CLI) -> Iterator[tuple[str, int]]:
    """Run a command that prints 'listening on URL'; yield the URL and its process id;
    stop it."""
    process = subprocess.Popen(
        [*command, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"listening on (http://[^ ,]+)", line)
        if not found:
            sys.exit(f"bench_proxy: {' '.join(arguments[:1])} did not start: {line!r}")
        yield found.group(1), process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def workload() -> tuple[bytes, dict[str, str], int]:
    """The request body, its headers and the size of the photo in it."""
    photo = face_photo()
    request = httpx.Request(
        "POST",
        f"http://workload{PATH}",
        data={"api_key": "bench-key", "api_secret": "bench-secret", "return_landmark": "all"},
        files={"image_file": ("face.jpg", photo, "image/jpeg")},
    )
    body = request.read()
    return body, {"content-type": request.headers["content-type"]}, len(photo)


def timed_calls(
    client: httpx.Client, url: str, body: bytes, headers: dict[str, str], calls: int
) -> list[float]:
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        answer = client.post(url, content=body, headers=headers)
        samples.append(time.perf_counter() - start)
        if answer.status_code != 200:
            sys.exit(f"bench_proxy: {url} answered {answer.status_code}: {answer.text[:200]}")
    return samples


def judging_cost(body: bytes, headers: dict[str, str], answer: bytes, runs: int) -> float:
    """Median seconds the proxy spends judging this exchange (off the client's path)."""
    from face_contracts.proxy import ProxyOptions, _base_secrets, _Exchange, _Judge

    options = ProxyOptions({"facepp": "http://127.0.0.1:9"})
    judge = _Judge(options, _base_secrets(options), lazy_answers=False)
    raw_headers = [(name.encode(), value.encode()) for name, value in headers.items()]
    samples = []
    for seq in range(runs):
        exchange = _Exchange(
            seq,
            time.time(),
            "POST",
            PATH,
            "",
            raw_headers,
            OPERATION,
            "facepp",
            "http://127.0.0.1:9",
            body=body,
            body_bytes=len(body),
            status=200,
            raw_response_headers=[(b"content-type", b"application/json")],
            answer=answer,
            answer_bytes=len(answer),
        )
        start = time.perf_counter()
        entry = judge.verdict(exchange, 0).entry
        samples.append(time.perf_counter() - start)
        if entry["drifts"] or not entry["judged"]:
            sys.exit(f"bench_proxy: the mock's answer was judged drifted: {entry['drifts'][:3]}")
    return statistics.median(samples)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="record in benchmarks/README.md")
    parser.add_argument("--rounds", type=int, default=41, help="rotating rounds (41)")
    parser.add_argument("--calls", type=int, default=30, help="calls per round and path (30)")
    parser.add_argument("--forward-only", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--relay", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.forward_only:
        forward_only(args.forward_only)
        return
    if args.relay:
        relay(args.relay)
        return

    load = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    body, headers, photo_bytes = workload()
    log(f"workload: {len(body):,}-byte multipart request")
    this = [sys.executable, __file__]
    with (
        started(["serve", "--port", "0"]) as (upstream, upstream_pid),
        started(["--relay", upstream], this) as (relayed, relay_pid),
        started(["--forward-only", upstream], this) as (forwarder, forwarder_pid),
        started(["proxy", "--target", upstream, "--port", "0"]) as (proxy, proxy_pid),
        httpx.Client(trust_env=False, timeout=60) as client,
    ):
        urls = {
            "direct": upstream + PATH,
            "relay": relayed + PATH,
            "forwarded": forwarder + PATH,
            "proxied": proxy + PATH,
        }
        # The process each path adds in front of the upstream (the upstream's own for direct).
        pids = {
            "direct": upstream_pid,
            "relay": relay_pid,
            "forwarded": forwarder_pid,
            "proxied": proxy_pid,
        }
        answer = client.post(urls["direct"], content=body, headers=headers).content
        if landmark_keys(answer) != LANDMARK_KEYS:
            sys.exit("bench_proxy: the mock did not answer the dense workload")
        for name in ("relay", "forwarded", "proxied"):
            through = client.post(urls[name], content=body, headers=headers)
            if through.status_code != 200 or landmark_keys(through.content) != LANDMARK_KEYS:
                sys.exit(f"bench_proxy: the {name} path did not pass the answer through")
        for url in urls.values():  # warm-up: caches, connections
            timed_calls(client, url, body, headers, 30)
        client.get(proxy + "/__admin/drift")  # waits until the warm-up calls are judged
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        samples: dict[str, list[float]] = {name: [] for name in urls}
        rounds: dict[str, list[float]] = {name: [] for name in urls}  # each round's median
        order = list(urls)
        for round_number in range(args.rounds):
            for name in order:
                taken = timed_calls(client, urls[name], body, headers, args.calls)
                samples[name] += taken
                rounds[name].append(statistics.median(taken))
            order = order[1:] + order[:1]  # rotate: no path always follows the same one
            if (round_number + 1) % 10 == 0 or round_number + 1 == args.rounds:
                log(f"round {round_number + 1}/{args.rounds}")
        drift = client.get(proxy + "/__admin/drift").json()  # waits for judging to finish
        cpu_after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    load_after = os.getloadavg()[0]
    judging = judging_cost(body, headers, answer, 50)

    ms = 1000.0
    medians = {name: statistics.median(values) for name, values in samples.items()}

    def adds(name: str) -> tuple[float, float]:
        """What a path adds to the direct call: the difference of the medians of all calls,
        and the median of the rounds' differences (each round's paths ran back to back)."""
        paired = [a - b for a, b in zip(rounds[name], rounds["direct"], strict=True)]
        return medians[name] - medians["direct"], statistics.median(paired)

    forwarding, forwarding_paired = adds("forwarded")
    floor, floor_paired = adds("relay")
    overhead, overhead_paired = adds("proxied")
    budget = GOAL_MS / ms + judging

    def cpu(name: str) -> str:
        """CPU per call of the process the path adds (judging process included); for the
        direct path, the upstream's own (it serves every path's calls)."""
        before, after = cpu_before[name], cpu_after[name]
        if before is None or after is None:
            return "n/a"
        calls = sum(map(len, samples.values())) if name == "direct" else len(samples[name])
        return f"{(after - before) / calls * 1e6:,.0f}"

    def row(name: str) -> str:
        values = samples[name]
        return (
            f"| {PATHS[name]} | {medians[name] * ms:.2f} | {percentile(values, 0.9) * ms:.2f} | "
            f"{medians[name] / medians['direct']:.2f} | {cpu(name)} |"
        )

    def figure(label: str, pair: tuple[float, float]) -> str:
        return f"| {label} | {pair[0] * ms:.2f} | {pair[1] * ms:.2f} |"

    calls = len(samples["direct"])
    met = overhead <= budget and overhead_paired <= budget
    lines = [
        f"Face++ dense landmarks, return_landmark=all: a {len(body):,}-byte multipart request "
        f"(a {photo_bytes:,}-byte JPEG), a {len(answer):,}-byte answer with {LANDMARK_KEYS} "
        f"landmark keys. {today()}, {machine()}. {args.rounds} rounds of {args.calls} "
        f"sequential calls per path over one kept-alive connection, the paths in rotating "
        f"order ({calls} calls each); load average {load:.1f} when it started, "
        f"{load_after:.1f} when it ended. Command: `{COMMAND}`.",
        "",
        "| call | median ms | p90 ms | × direct | CPU µs per call |",
        "|---|---:|---:|---:|---:|",
        *(row(name) for name in urls),
        "",
        "| what it adds to the direct call | ms (difference of medians) | ms (median of the "
        "rounds' differences) |",
        "|---|---:|---:|",
        figure("the raw TCP relay (floor)", (floor, floor_paired)),
        figure("the proxy's forwarding", (forwarding, forwarding_paired)),
        figure(
            "the proxy's forwarding above the floor",
            (forwarding - floor, forwarding_paired - floor_paired),
        ),
        figure("`face-contracts proxy`, judging included", (overhead, overhead_paired)),
        "",
        "| figure | ms |",
        "|---|---:|",
        f"| judging one exchange (request and answer, in-process) | {judging * ms:.2f} |",
        f"| goal: at most 1 ms plus the judging | {budget * ms:.2f} |",
        "",
        f"Goal (issue 16): {'met' if met else 'NOT met'}: the proxy adds "
        f"{overhead * ms:.2f} ms to the median call ({overhead_paired * ms:.2f} ms paired by "
        f"round) against {budget * ms:.2f} ms. Forwarding alone adds {forwarding * ms:.2f} ms "
        f"({forwarding_paired * ms:.2f} ms paired), "
        f"{'within' if max(forwarding, forwarding_paired) <= GOAL_MS / ms else 'over'} the "
        f"1 ms; the floor, a relay that only copies bytes, adds {floor * ms:.2f} ms. The "
        f"proxy judged {drift['summary']['judged_answers']:,} answers in the run, "
        f"{drift['summary']['drifted_answers']} drifted.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        readme = README.read_text(encoding="utf-8")
        if "<!-- proxy:start -->" not in readme:
            README.write_text(
                readme.rstrip() + "\n\n## Validation proxy (issue 16)\n\n" + f"`{COMMAND}`\n",
                encoding="utf-8",
            )
        write_section("proxy", text)
        log(f"written to {README}")


if __name__ == "__main__":
    main()
