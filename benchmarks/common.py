"""Timing and reporting shared by the benchmarks: medians of repeated runs, one table."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Measure:
    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None
    note: str = ""


def median_seconds(action: Callable[[], object], runs: int = 3) -> float:
    """Median wall time of `runs` calls (the first call is counted: warm-up is explicit)."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{os.cpu_count()} cores ({cpu}){memory}, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


NOTES = {
    "Pages (AppTest, standard demo workspace)":
        "AppTest re-runs the page script after the first run, as a page switch does on the "
        "server; the router's share (workspace check, persona) is cached and not timed here.",
}


def table(measures: list[Measure]) -> list[str]:
    """The measures as the lines of a Markdown table."""
    lines = ["| measure | value | target | met | note |", "|---|---:|---|:-:|---|"]
    for m in measures:
        met = "" if m.met is None else ("yes" if m.met else "**no**")
        lines.append(f"| {m.name} | {m.value:,.3f} {m.unit} | {m.target} | {met} | "
                     f"{m.note} |")
    return lines


def write_results(path: Path, sections: dict[str, list[Measure]]) -> str:
    lines = ["# Benchmark results", "",
             f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}.", "",
             "Each figure is the median of several runs. Regenerate with `make bench`.", ""]
    for title, measures in sections.items():
        lines += [f"## {title}", ""]
        if title in NOTES:
            lines += [NOTES[title], ""]
        lines += [*table(measures), ""]
    text = "\n".join(lines)
    path.write_text(text)
    return text
