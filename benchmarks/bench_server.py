"""The standalone server against a floor and two peer mock servers, side by side, on loopback.

Workload: the Face++ dense-landmark call, a multipart POST of a real face photo of about
160 KB with return_landmark=all, answered with the full 975-key document. One after another,
each on a free loopback port: the floor (a raw ASGI app on uvicorn that reads the body and
answers fixed bytes) on three HTTP stacks (uvicorn's httptools protocol as before issue 12;
the same with our limits, which ``face-contracts serve`` runs now; uvicorn's h11 protocol
with a head limit, the alternative), ``face-contracts serve``, WireMock 3 (npm ``wiremock``,
its bundled jar on Java) and Prism 5 (npm ``@stoplight/prism-cli``) serving the same fixed
answer. Each gets a 10 s warm-up (WireMock's JIT needs it), then wrk (2 threads, 16
connections, 10 s, --latency). Targets (issue 5): face-contracts at least 40% of the
floor's requests per second, 5x WireMock, 100x Prism; issue 12: the limits cost little
against the floor without them.

    python benchmarks/bench_server.py [--write] [--rounds 3] [--only floor,floor-limited,...]

Installs what is missing: wrk (apt-get), the two npm packages into benchmarks/.peers
(git-ignored), uvicorn (pip). A peer that cannot be installed or started is reported in the
table; every process started here is stopped on exit. --write records the table in
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import io
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from _report import README, machine, today, write_section

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / ".peers"
PATH = "/facepp/v1/face/thousandlandmark"
OPERATION = "facepp.thousandlandmark"
FACE = ROOT / "mocks" / "images" / "default-face.jpg"
PHOTO_SIZE = (1280, 960)
PHOTO_BYTES = 160_000
PHOTO_QUALITY = 90
LANDMARK_KEYS = 975
SERVERS = (
    "floor",
    "floor-limited",
    "floor-h11",
    "face-contracts",
    "face-contracts-workers",
    "wiremock",
    "prism",
)
COMMAND = "python benchmarks/bench_server.py --rounds 5 --duration 5 --warmup 5 --write"
TARGETS = {"floor": 0.40, "wiremock": 5.0, "prism": 100.0}
WORKERS = [2]  # the face-contracts-workers row: serve --workers N; set from the command line
JIT_WARMUP = 10.0  # seconds of warm-up WireMock always gets
LOAD = [0.0]  # the 1-minute load average when the run started (other work on the machine)


def log(message: str) -> None:
    print(f"[bench_server] {message}", file=sys.stderr, flush=True)


# -- installing --------------------------------------------------------------------------


def _run(command: Sequence[str], *, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(command), capture_output=True, text=True, check=False, timeout=timeout
    )


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = (result.stderr or result.stdout or "").strip().splitlines()
    return lines[-1][:200] if lines else f"exit status {result.returncode}"


def apt_install(package: str) -> str | None:
    """Install a Debian package; None on success, else why not."""
    if shutil.which("apt-get") is None:
        return "apt-get not found"
    log(f"apt-get install -y {package}")
    result = _run(["apt-get", "install", "-y", "-q", package])
    if result.returncode != 0:
        log("apt-get update")
        _run(["apt-get", "update", "-q"])
        result = _run(["apt-get", "install", "-y", "-q", package])
    return None if result.returncode == 0 else f"apt-get install {package}: {_last_line(result)}"


def ensure_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        problem = apt_install("wrk")
        wrk = shutil.which("wrk")
        if wrk is None:
            sys.exit(f"bench_server: wrk is needed and could not be installed ({problem})")
    return wrk


def ensure_uvicorn() -> None:
    try:
        import uvicorn  # noqa: F401
    except ImportError:
        log("pip install uvicorn[standard]")
        result = _run([sys.executable, "-m", "pip", "install", "uvicorn[standard]"])
        if result.returncode != 0:
            sys.exit(f"bench_server: uvicorn could not be installed: {_last_line(result)}")


def _wiremock_jar() -> Path | None:
    jars = sorted((PEERS / "node_modules" / "wiremock" / "build").glob("wiremock-standalone-*.jar"))
    return jars[-1] if jars else None


def _prism_bin() -> Path | None:
    path = PEERS / "node_modules" / ".bin" / "prism"
    return path if path.exists() else None


def ensure_npm_peers() -> str | None:
    """Install the npm packages of both peers into benchmarks/.peers; None on success."""
    if _wiremock_jar() and _prism_bin():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "npm not found"
    PEERS.mkdir(parents=True, exist_ok=True)
    manifest = PEERS / "package.json"
    if not manifest.exists():
        manifest.write_text('{"name": "bench-server-peers", "private": true}\n')
    log("npm install wiremock@3 @stoplight/prism-cli@5 into benchmarks/.peers")
    result = _run(
        [
            npm,
            "install",
            "--prefix",
            str(PEERS),
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "wiremock@3",
            "@stoplight/prism-cli@5",
        ]
    )
    if result.returncode != 0:
        return f"npm install failed: {_last_line(result)}"
    return None


def java_version() -> tuple[str | None, str | None]:
    """(java executable, version text) or (None, why not), installing Java 17 if missing."""
    java = shutil.which("java")
    if java is None:
        problem = apt_install("openjdk-17-jre-headless")
        java = shutil.which("java")
        if java is None:
            return None, f"no Java ({problem})"
    result = _run([java, "-version"], timeout=60)
    match = re.search(r'version "([^"]+)"', result.stderr + result.stdout)
    version = match.group(1) if match else "?"
    major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
    if major < 11:
        return None, f"Java {version} is too old for WireMock 3 (needs 11+)"
    return java, version


# -- the workload --------------------------------------------------------------------------


def face_photo() -> bytes:
    """The default face photo at 1280x960 with a film grain, JPEG quality 90, the grain's
    strength searched so the file lands just under 160 KB (no padding: every byte is
    picture). Deterministic."""
    from PIL import Image, ImageFilter

    photo = Image.open(FACE).convert("RGB").resize(PHOTO_SIZE, Image.Resampling.LANCZOS)
    width, height = PHOTO_SIZE
    grain = (
        Image.frombytes("L", PHOTO_SIZE, random.Random(5).randbytes(width * height))
        .filter(ImageFilter.GaussianBlur(0.6))
        .convert("RGB")
    )

    def encoded(alpha: float) -> bytes:
        out = io.BytesIO()
        Image.blend(photo, grain, alpha).save(out, "JPEG", quality=PHOTO_QUALITY)
        return out.getvalue()

    low, high = 0.0, 0.2
    best = encoded(low)
    for _ in range(14):
        middle = (low + high) / 2
        data = encoded(middle)
        if len(data) <= PHOTO_BYTES:
            low, best = middle, data
        else:
            high = middle
    return best


@dataclass(frozen=True)
class Workload:
    photo: bytes
    body: Path
    content_type: str
    answer: Path
    lua: Path

    def request(self, port: int) -> urllib.request.Request:
        return urllib.request.Request(
            f"http://127.0.0.1:{port}{PATH}",
            data=self.body.read_bytes(),
            headers={"Content-Type": self.content_type},
            method="POST",
        )


def build_workload(directory: Path) -> Workload:
    from face_contracts.mock import FaceMock, encode_request

    photo = face_photo()
    document = {
        "body": {
            "api_key": "bench-key",
            "api_secret": "bench-secret",
            "return_landmark": "all",
            "image_file": {
                "filename": "face.jpg",
                "content_type": "image/jpeg",
                "base64": base64.b64encode(photo).decode(),
            },
        }
    }
    request = encode_request(OPERATION, document, multipart=True)
    answer = FaceMock().handle(request)
    if answer.status != 200 or landmark_keys(answer.body) != LANDMARK_KEYS:
        sys.exit(f"bench_server: the mock engine did not answer the workload: {answer.status}")
    body = directory / "body.bin"
    body.write_bytes(request.body)
    answer_path = directory / "answer.json"
    answer_path.write_bytes(answer.body)
    content_type = request.headers["content-type"]
    lua = directory / "post.lua"
    lua.write_text(
        "-- generated by benchmarks/bench_server.py\n"
        'wrk.method = "POST"\n'
        f'wrk.headers["Content-Type"] = "{content_type}"\n'
        f'local file = assert(io.open("{body}", "rb"))\n'
        'wrk.body = file:read("*a")\n'
        "file:close()\n"
    )
    return Workload(photo, body, content_type, answer_path, lua)


def landmark_keys(raw: bytes) -> int:
    try:
        document = json.loads(raw)
        return sum(len(group) for group in document["face"]["landmark"].values())
    except (ValueError, KeyError, TypeError, AttributeError):
        return 0


# -- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Result:
    name: str
    label: str
    does: str
    problem: str | None = None
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    requests: int | None = None
    non_2xx: int = 0
    socket_errors: int = 0
    samples: list[Result] = field(default_factory=list)

    def settle(self) -> None:
        """Take the figures of the median round (by requests per second); errors add up."""
        if not self.samples:
            return
        ranked = sorted(self.samples, key=lambda sample: sample.rps or 0.0)
        median = ranked[len(ranked) // 2]
        self.rps, self.p50_ms, self.p99_ms = median.rps, median.p50_ms, median.p99_ms
        self.requests = median.requests
        self.non_2xx = sum(sample.non_2xx for sample in self.samples)
        self.socket_errors = sum(sample.socket_errors for sample in self.samples)


class Server:
    """One server process in its own process group; stop() ends the group."""

    def __init__(self, name: str, command: Sequence[str], log_path: Path, cwd: Path) -> None:
        self.name = name
        self.log_path = log_path
        self.log_file = log_path.open("wb")
        self.process = subprocess.Popen(
            list(command),
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            start_new_session=True,
        )

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
            return " | ".join(lines[-3:])[:300]
        return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        else:
            # The leader is gone; make sure no child it left behind keeps the port.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log_file.close()


@contextlib.contextmanager
def running(name: str, command: Sequence[str], directory: Path) -> Iterator[Server]:
    server = Server(name, command, directory / f"{name}.log", directory)
    try:
        yield server
    finally:
        server.stop()


def wait_ready(server: Server, workload: Workload, port: int, timeout: float) -> None:
    """Until the server answers the workload with 200 and the full document."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            msg = f"exited with status {server.process.returncode}: {server.log_tail()}"
            raise RuntimeError(msg)
        try:
            with urllib.request.urlopen(workload.request(port), timeout=30) as response:
                body = response.read()
                keys = landmark_keys(body)
                if response.status == 200 and keys == LANDMARK_KEYS:
                    return
                last = f"answered {response.status} with {keys} landmark keys"
                raise RuntimeError(last)
        except urllib.error.HTTPError as error:
            last = f"answered {error.code}: {error.read()[:200]!r}"
            raise RuntimeError(last) from None
        except (OSError, urllib.error.URLError) as error:
            last = str(error)
        time.sleep(0.25)
    msg = f"not ready after {timeout:.0f} s ({last})"
    raise RuntimeError(msg)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(output: str, result: Result) -> None:
    def latency(percent: str) -> float | None:
        match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        return float(match.group(1)) * _UNITS[match.group(2)] if match else None

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rps is None:
        msg = f"wrk printed no rate: {output.strip()[-300:]}"
        raise RuntimeError(msg)
    result.rps = float(rps.group(1))
    result.p50_ms, result.p99_ms = latency("50"), latency("99")
    total = re.search(r"(\d+) requests in", output)
    result.requests = int(total.group(1)) if total else None
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result.non_2xx = int(non_2xx.group(1)) if non_2xx else 0
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result.socket_errors = sum(int(n) for n in errors.groups()) if errors else 0


def run_wrk(wrk: str, args: argparse.Namespace, lua: Path, port: int, seconds: float) -> str:
    command = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(lua),
        f"http://127.0.0.1:{port}{PATH}",
    ]
    result = _run(command, timeout=seconds + 60)
    if result.returncode != 0:
        msg = f"wrk failed: {_last_line(result)}"
        raise RuntimeError(msg)
    return result.stdout


def bench_one(
    result: Result,
    command: Sequence[str] | None,
    *,
    port: int,
    workload: Workload,
    directory: Path,
    wrk: str,
    args: argparse.Namespace,
    ready_timeout: float,
) -> None:
    if command is None:
        return
    log(f"{result.name}: starting on 127.0.0.1:{port}")
    try:
        with running(result.name, command, directory) as server:
            wait_ready(server, workload, port, ready_timeout)
            # The JVM's JIT needs its 10 s whatever the others get.
            warmup = max(args.warmup, JIT_WARMUP) if result.name == "wiremock" else args.warmup
            if warmup > 0:
                log(f"{result.name}: warm-up {warmup:g} s")
                run_wrk(wrk, args, workload.lua, port, warmup)
            log(f"{result.name}: measuring {args.duration:g} s")
            sample = Result(result.name, result.label, result.does)
            parse_wrk(run_wrk(wrk, args, workload.lua, port, args.duration), sample)
            result.samples.append(sample)
            log(f"{result.name}: {sample.rps:,.1f} req/s, p99 {sample.p99_ms} ms")
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        result.problem = f"did not run: {error}"
        log(f"{result.name}: {result.problem}")


def prism_document(workload: Workload, directory: Path) -> Path:
    """The generated OpenAPI document with the fixed answer as the 200 example."""
    from face_contracts.openapi import openapi_document

    document = copy.deepcopy(openapi_document())
    media = document["paths"][PATH]["post"]["responses"]["200"]["content"]["application/json"]
    media["examples"] = {
        "full": {
            "summary": "the full dense-landmark answer (975 keys)",
            "value": json.loads(workload.answer.read_bytes()),
        }
    }
    path = directory / "openapi.json"
    path.write_text(json.dumps(document))
    return path


def wiremock_root(workload: Workload, directory: Path) -> Path:
    root = directory / "wiremock"
    (root / "mappings").mkdir(parents=True, exist_ok=True)
    (root / "__files").mkdir(exist_ok=True)
    shutil.copy(HERE / "peers" / "wiremock-thousandlandmark.json", root / "mappings")
    shutil.copy(workload.answer, root / "__files" / "thousandlandmark.json")
    return root


# -- the report ----------------------------------------------------------------------------


def _number(value: float | None, digits: int = 0) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def report(results: dict[str, Result], workload: Workload, args: argparse.Namespace) -> str:
    from PIL import Image

    ours = results.get("face-contracts")
    with Image.open(io.BytesIO(workload.photo)) as image:
        width, height = image.size
    answer = workload.answer.read_bytes()
    lines = [
        f"Workload: POST {PATH}, multipart/form-data with api_key, api_secret, "
        f"return_landmark=all and image_file, a {width}x{height} JPEG face photo of "
        f"{len(workload.photo):,} bytes (request body {workload.body.stat().st_size:,} bytes); "
        f"the answer is the full Face++ document, {len(answer):,} bytes, "
        f"{landmark_keys(answer)} landmark keys. wrk, {args.threads} threads, "
        f"{args.connections} connections, {args.duration:g} s after a {args.warmup:g} s "
        f"warm-up (WireMock at least {JIT_WARMUP:g} s), each server alone on loopback"
        + (
            f", the servers interleaved over {args.rounds} rounds, the median round shown"
            if args.rounds > 1
            else ""
        )
        + f". {today()}, {machine()}, load average {LOAD[0]:.1f} at the start. "
        f"Command: `{COMMAND}`.",
        "",
        "| server | work per request | req/s | p50 ms | p99 ms | non-2xx | face-contracts ÷ it |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for result in results.values():
        if result.problem is not None or result.rps is None:
            lines.append(
                f"| {result.label} | {result.does} | {result.problem or 'not run'} | | | | |"
            )
            continue
        ratio = ""
        if ours is not None and ours.rps is not None and result.rps:
            ratio = f"{ours.rps / result.rps:,.2f}"
        non_2xx = f"{result.non_2xx:,}"
        if result.socket_errors:
            non_2xx += f" ({result.socket_errors:,} socket errors)"
        lines.append(
            f"| {result.label} | {result.does} | {_number(result.rps)} | "
            f"{_number(result.p50_ms, 2)} | {_number(result.p99_ms, 2)} | {non_2xx} | {ratio} |"
        )
    verdicts = []
    for name, target in TARGETS.items():
        other = results.get(name)
        if ours is None or ours.rps is None or other is None or not other.rps:
            verdicts.append(f"{name}: not measured")
            continue
        ratio = ours.rps / other.rps
        met = "met" if ratio >= target else "NOT met"
        if name == "floor":
            verdicts.append(f"at least 40% of the floor: {ratio:.0%} ({met})")
        else:
            verdicts.append(f"at least {target:g}× {other.label}: {ratio:,.1f}× ({met})")
    lines += ["", "Targets (issue 5): " + "; ".join(verdicts) + "."]
    floor = results.get("floor")
    stacks = []
    for other in (results.get("floor-limited"), results.get("floor-h11")):
        if floor is None or other is None or not floor.samples or not other.samples:
            continue
        # Paired by round: each ratio compares two runs made minutes apart at most, so a
        # machine whose load drifts over the run skews them less than the medians above.
        ratios = sorted(
            mine.rps / base.rps
            for base, mine in zip(floor.samples, other.samples, strict=False)
            if base.rps and mine.rps
        )
        if ratios:
            stacks.append(
                f"{other.label}: {ratios[len(ratios) // 2]:.2f}× the floor's requests per "
                f"second (median of {len(ratios)} rounds, {ratios[0]:.2f} to {ratios[-1]:.2f})"
            )
    if stacks:
        lines.append(
            "HTTP stack (issue 12), against uvicorn's httptools protocol without limits, "
            "round by round: "
            + "; ".join(stacks)
            + ". serve runs the first: heads bounded in bytes, fields and time, connections "
            "bounded, drop without a status line; h11 would bound heads alone, for the price "
            "shown."
        )
    scaled = results.get("face-contracts-workers")
    if scaled is not None and scaled.rps:
        peers = [
            f"{scaled.rps / other.rps:,.1f}× {other.label}"
            for other in (results.get("wiremock"), results.get("prism"))
            if other is not None and other.rps
        ]
        lines.append(
            f"With `--workers {WORKERS[0]}` (WireMock serves from a thread pool on both cores, "
            f"the floor and face-contracts above from one process): {_number(scaled.rps)} "
            f"req/s, " + ", ".join(peers) + "."
        )
    lines.append(
        "Only face-contracts reads the form, checks the credentials and the picture and "
        "builds the answer; the floor, WireMock and Prism answer the same fixed bytes "
        "(Prism after checking the request against the generated OpenAPI document). "
        "WireMock runs with --no-request-journal so that 160 KB bodies do not pile up in "
        "its heap; Prism with -v error so that it does not log every request."
    )
    return "\n".join(lines)


def ensure_readme_heading() -> None:
    text = README.read_text(encoding="utf-8")
    if "<!-- server:start -->" not in text:
        text = (
            text.rstrip()
            + "\n\n## Standalone server (issues 5 and 12)\n\n"
            + f"`{COMMAND.removesuffix(' --write')} --write`\n"
        )
        README.write_text(text, encoding="utf-8")


# -- main ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help="record the results in benchmarks/README.md"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run (10)")
    parser.add_argument(
        "--warmup", type=float, default=10.0, help="warm-up seconds (10: the JVM's JIT needs it)"
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="workers of the extra face-contracts row (2: one per core)",
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure every server this many times, interleaved; report the median round",
    )
    parser.add_argument(
        "--only",
        default=",".join(SERVERS),
        help=f"comma-separated subset of {', '.join(SERVERS)}",
    )
    args = parser.parse_args()
    WORKERS[0] = args.workers
    LOAD[0] = os.getloadavg()[0]
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SERVERS))
    if unknown:
        parser.error(f"unknown servers: {', '.join(unknown)}")

    # A SIGTERM unwinds like Ctrl-C, so the finally blocks stop every server started here.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    wrk = ensure_wrk()
    ensure_uvicorn()
    npm_problem = ensure_npm_peers() if {"wiremock", "prism"} & set(chosen) else None
    java, java_text = java_version() if "wiremock" in chosen else (None, None)

    jar, prism = _wiremock_jar(), _prism_bin()
    wiremock_version = jar.stem.removeprefix("wiremock-standalone-") if jar else "3"
    prism_version = "5"
    if prism is not None:
        result = _run([str(prism), "--version"], timeout=120)
        prism_version = result.stdout.strip() or prism_version

    results: dict[str, Result] = {
        "floor": Result(
            "floor",
            "floor: raw ASGI app on uvicorn (httptools, no limits)",
            "reads the body, answers fixed bytes",
        ),
        "floor-limited": Result(
            "floor-limited",
            "floor on our limited httptools protocol",
            "the same, with the head, time and connection limits of serve",
        ),
        "floor-h11": Result(
            "floor-h11",
            "floor on uvicorn's h11 protocol",
            "the same, heads limited to 32 KiB by h11",
        ),
        "face-contracts": Result(
            "face-contracts",
            "face-contracts serve",
            "parses the form, checks credentials and picture (its bytes compared with the "
            "pictures seen before; decoded and hashed once per distinct picture), answers "
            "the full document",
        ),
        "face-contracts-workers": Result(
            "face-contracts-workers",
            f"face-contracts serve --workers {WORKERS[0]}",
            "the same, in worker processes sharing the port",
        ),
        "wiremock": Result(
            "wiremock",
            f"WireMock {wiremock_version} (Java {java_text or '?'})",
            "matches method and path, answers fixed bytes",
        ),
        "prism": Result(
            "prism",
            f"Prism {prism_version}",
            "validates the request against the OpenAPI document, answers the example",
        ),
    }
    results = {name: result for name, result in results.items() if name in chosen}

    with tempfile.TemporaryDirectory(prefix="bench-server-") as temp:
        directory = Path(temp)
        log("building the workload")
        workload = build_workload(directory)
        log(
            f"photo {len(workload.photo):,} bytes, body {workload.body.stat().st_size:,} bytes, "
            f"answer {workload.answer.stat().st_size:,} bytes"
        )
        for name, result in [
            (name, result) for _ in range(args.rounds) for name, result in results.items()
        ]:
            if result.problem is not None:
                continue
            port = free_port()
            command: list[str] | None = None
            ready = 60.0
            if name.startswith("floor"):
                command = [
                    sys.executable,
                    str(HERE / "_floor_app.py"),
                    "--port",
                    str(port),
                    "--body",
                    str(workload.answer),
                    "--protocol",
                    {"floor": "httptools", "floor-limited": "limited", "floor-h11": "h11"}[name],
                ]
            elif name in ("face-contracts", "face-contracts-workers"):
                command = [sys.executable, "-m", "face_contracts", "serve", "--port", str(port)]
                command += ["--workers", str(WORKERS[0] if name.endswith("workers") else 1)]
                probe = _run([*command[:4], "--help"], timeout=60)
                if probe.returncode != 0:
                    result.problem = "did not run: 'face-contracts serve' is not available"
                    command = None
            elif name == "wiremock":
                if npm_problem or jar is None:
                    result.problem = f"not installed: {npm_problem or 'no jar in wiremock'}"
                elif java is None:
                    result.problem = f"not installed: {java_text}"
                else:
                    root = wiremock_root(workload, directory)
                    command = [
                        java,
                        "-jar",
                        str(jar),
                        "--port",
                        str(port),
                        "--bind-address",
                        "127.0.0.1",
                        "--root-dir",
                        str(root),
                        "--disable-banner",
                        "--no-request-journal",
                    ]
                    ready = 120.0
            elif name == "prism":
                if npm_problem or prism is None:
                    result.problem = f"not installed: {npm_problem or 'no prism binary'}"
                else:
                    document = prism_document(workload, directory)
                    command = [
                        str(prism),
                        "mock",
                        "-h",
                        "127.0.0.1",
                        "-p",
                        str(port),
                        "-v",
                        "error",
                        str(document),
                    ]
                    ready = 120.0
            bench_one(
                result,
                command,
                port=port,
                workload=workload,
                directory=directory,
                wrk=wrk,
                args=args,
                ready_timeout=ready,
            )
        for result in results.values():
            result.settle()
        text = report(results, workload, args)
    print(text)
    if args.write:
        ensure_readme_heading()
        write_section("server", text)
        log("written to benchmarks/README.md")


if __name__ == "__main__":
    main()
