"""Face detection (issue 11): accuracy per operation, detection time, cached cost, memory.

- Accuracy: on every picture of ``fixtures/faces/truth.json`` (hand-measured truth), the
  real mock engine's answer for each operation, read by that operation's own landmark
  names: mean and worst eye-centre error and mean mouth error, in inter-ocular distances.
- Detection of a new 1280x960 JPEG (``fixtures/faces/crowd.jpg``, three faces), on one core
  (the process is pinned to CPU 0, MediaPipe's threads with it): the detector's cache is
  emptied before each call, so every call decodes, detects and measures.
- The cached path, side by side in one run, interleaved, in CPU time (the machine is
  shared): the in-process mock answering
  Face++ Detect (83 points) for a picture whose faces were detected (templates fitted to
  the anchors) against the same request with the face given as a box (``faces=``, the
  box-fitted placement the mock used before detection); and ``detect()`` of a known picture.
- Memory: RSS of a fresh process before and after the model loads and detects once.

    python benchmarks/bench_faces.py [--write]
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from _report import machine, today, write_section

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parent.parent
CROWD = ROOT / "fixtures" / "faces" / "crowd.jpg"
PORTRAIT = ROOT / "fixtures" / "images" / "astronaut.png"


def _evaluate():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "face_evaluation", ROOT / "fixtures" / "faces" / "evaluate.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def accuracy() -> list[tuple[str, str, int, float, float, float]]:
    """(operation, label, faces, mean eye error, worst eye error, mean mouth error)."""
    evaluate = _evaluate()
    truth = evaluate.truth()
    rows = []
    for operation, label, extra in evaluate.CASES:
        eyes, mouths = [], []
        for name, faces in truth.items():
            status, body = evaluate.answer(operation, (ROOT / name).read_bytes(), extra)
            for found, true in zip(
                evaluate.faces_of(operation, label, status, body), faces, strict=False
            ):
                errors = evaluate.errors(found, true)
                eyes += [errors.left_eye, errors.right_eye]
                mouths.append(errors.mouth)
        rows.append(
            (
                operation,
                label,
                len(mouths),
                statistics.mean(eyes),
                max(eyes),
                statistics.mean(mouths),
            )
        )
    return rows


def detection_ms(rounds: int) -> tuple[float, float, float]:
    """Median and best wall-clock milliseconds, and median CPU milliseconds (this process,
    every thread: the work itself, whatever else shares the core), to detect crowd.jpg
    anew on one core."""
    from face_contracts import faces

    data = CROWD.read_bytes()
    faces.detect(data)  # the model loads once per process: not part of a detection
    wall, cpu = [], []
    for _ in range(rounds):
        faces.clear_cache()
        start, start_cpu = time.perf_counter(), time.process_time()
        faces.detect(data)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), min(wall), statistics.median(cpu)


def interleaved_cpu(
    cases: dict[str, Callable[[], object]], *, rounds: int, loops: int
) -> dict[str, float]:
    """Like _report.interleaved, in CPU seconds of this process per call: on a shared
    machine, what other processes do does not count."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, call in cases.items():
            start = time.process_time()
            for _ in range(loops):
                call()
            samples[name].append((time.process_time() - start) / loops)
    return {name: statistics.median(values) for name, values in samples.items()}


def cached_path(rounds: int, loops: int) -> dict[str, float]:
    from face_contracts import faces
    from face_contracts.mock import FaceMock, encode_request
    from face_contracts.mock._pictures import analyse, faces_for

    picture = PORTRAIT.read_bytes()
    (face,) = faces_for(analyse(picture), None).faces
    part = {
        "filename": "a.png",
        "content_type": "image/png",
        "base64": base64.b64encode(picture).decode(),
    }
    request = encode_request(
        "facepp.detect",
        {"body": {"api_key": "k", "api_secret": "s", "image_file": part, "return_landmark": "1"}},
    )
    detected, boxed = FaceMock(), FaceMock()
    boxed.set_faces([(face.left, face.top, face.width, face.height)])
    for mock in (detected, boxed):
        assert mock.handle(request).status == 200
    digest = analyse(picture).digest
    return interleaved_cpu(
        {
            "detected": lambda: detected.handle(request),
            "boxed": lambda: boxed.handle(request),
            "detect_cached": lambda: faces.detect(picture, digest),
        },
        rounds=rounds,
        loops=loops,
    )


_RSS = """
import resource, sys
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20
from face_contracts import faces
from face_contracts.mock import FaceMock
before = rss()
faces.detect(open(sys.argv[1], "rb").read())
after = rss()
print(f"{before:.1f} {after:.1f}")
"""


def rss_mib() -> tuple[float, float]:
    """RSS (MiB) of a fresh process with the package imported, before and after the
    detector loads and detects once."""
    out = subprocess.run(
        [sys.executable, "-c", _RSS, str(CROWD)], capture_output=True, text=True, check=True
    )
    before, after = (float(value) for value in out.stdout.split())
    return before, after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="record in benchmarks/README.md")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--loops", type=int, default=200)
    args = parser.parse_args()

    os.sched_setaffinity(0, {0})  # one core, for this process and the threads it starts
    rows = accuracy()
    median_ms, best_ms, cpu_ms = detection_ms(args.rounds * 2)
    cached = cached_path(args.rounds, args.loops)
    before, after = rss_mib()

    from face_contracts.faces import detector_status

    load = os.getloadavg()[0]  # the machine is shared: say how busy it was
    lines = [
        f"{detector_status().line}. {today()}, {machine()}, one core (CPU 0), load average "
        f"{load:.1f} at the end. Command: `python benchmarks/bench_faces.py --write`.",
        "",
        "Accuracy on fixtures/faces/ (7 pictures, hand-measured truth; errors in "
        "inter-ocular distances; the evaluation test's limits: eyes 0.35, mouth 0.5):",
        "",
        "| operation | landmarks | faces | mean eye error | worst eye error | mean mouth error |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for operation, label, count, mean_eye, worst_eye, mean_mouth in rows:
        lines.append(
            f"| {operation} | {label} | {count} | {mean_eye:.3f} | {worst_eye:.3f} | "
            f"{mean_mouth:.3f} |"
        )
    ratio = cached["detected"] / cached["boxed"]
    lines += [
        "",
        "| cost | value |",
        "|---|---:|",
        f"| detect a new 1280x960 JPEG, three faces: CPU time, median of {args.rounds * 2} | "
        f"{cpu_ms:.0f} ms |",
        f"| the same, wall clock: median, best | {median_ms:.0f} ms, {best_ms:.0f} ms |",
        f"| detect() of a known picture (cache hit), CPU | "
        f"{cached['detect_cached'] * 1e6:.1f} µs |",
        f"| Face++ Detect answered in-process, detected face, CPU | "
        f"{cached['detected'] * 1e6:.1f} µs |",
        f"| the same with the face given as a box (placement before detection) | "
        f"{cached['boxed'] * 1e6:.1f} µs |",
        f"| detected / boxed | {ratio:.2f}× |",
        f"| RSS of a fresh process, package imported | {before:.0f} MiB |",
        f"| RSS after the model loads and detects once | {after:.0f} MiB "
        f"(+{after - before:.0f} MiB) |",
        "",
        "Targets (issue 11): a new 1280x960 JPEG detected in at most 150 ms on one core; "
        "the cached path within 10% of the box-fitted one. Detection runs once per distinct "
        "picture and process (cache keyed by SHA-256, bounded in bytes), so a server pays it "
        "once per picture; the model loads lazily, on the first picture that needs it. What "
        "a detected face adds to a cached call is the engine writing its 12 measured anchors "
        "per call: dataclasses.asdict for the face_token store (about 125 µs; orjson "
        "serialises the dataclass itself in 6) and repr for the answer-cache key (about 30 "
        "µs).",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section("faces", text)


if __name__ == "__main__":
    main()
