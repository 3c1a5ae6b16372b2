"""Shared by the benchmarks: timing side by side and writing results into README.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

README = Path(__file__).with_name("README.md")


def interleaved(
    cases: dict[str, Callable[[], object]], *, rounds: int, loops: int
) -> dict[str, float]:
    """Median seconds per call of each case, timed in alternating rounds so that machine
    noise hits every case alike."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, call in cases.items():
            start = time.perf_counter()
            for _ in range(loops):
                call()
            samples[name].append((time.perf_counter() - start) / loops)
    return {name: statistics.median(values) for name, values in samples.items()}


def machine() -> str:
    """One line naming the machine the numbers come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def today() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")


def write_section(name: str, text: str) -> None:
    """Replace the README section between <!-- name:start --> and <!-- name:end -->."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    readme = README.read_text(encoding="utf-8")
    block = f"{start}\n{text.rstrip()}\n{end}"
    if start in readme:
        readme = re.sub(
            re.escape(start) + r".*?" + re.escape(end), lambda _: block, readme, flags=re.S
        )
    else:
        readme = readme.rstrip() + "\n\n" + block + "\n"
    README.write_text(readme, encoding="utf-8")
