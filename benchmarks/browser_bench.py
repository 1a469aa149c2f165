"""Ten people at once in real browsers: the portfolio and a case file, each opened repeatedly
by ten concurrent Chromium sessions against `govern serve`; p95 page time and the server's
peak memory."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path

from benchmarks.common import Measure
from benchmarks.pages_bench import _a_declined_decision
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS, SERVER_PIDS, serving

SESSIONS = int(os.environ.get("BENCH_SESSIONS", "10"))
VISITS = 3  # per session and page
SETTLED = "[data-testid='stStatusWidget']"


def run(home: Path) -> list[Measure]:
    if not Path(CHROMIUM).exists():
        return [Measure("concurrent browser sessions", float("nan"), "s", note=f"{CHROMIUM} "
                        "is missing: `apt-get install -y chromium`")]
    decision = _a_declined_decision(home)
    with serving(home) as url:
        times, wall, server_cpu = asyncio.run(_sessions(url, decision))
        peak = _peak_memory_mib(url)
    measures = []
    for page, seconds in times.items():
        p95 = statistics.quantiles(seconds, n=20)[-1]
        measures.append(Measure(
            f"{page}, {SESSIONS} concurrent Chromium sessions: p95 page time", p95, "s", "", None,
            f"median {statistics.median(seconds):.2f} s over {len(seconds)} loads, from "
            "navigation to the page drawn with no run in progress; the server used "
            f"{server_cpu / wall:.0%} of one core, the browsers the rest of the machine"))
    measures.append(Measure("app server peak memory (resident) after the sessions", peak, "MiB",
                            note="VmHWM of the Streamlit server process"))
    return measures


async def _sessions(url: str, decision: str) -> tuple[dict[str, list[float]], float, float]:
    from playwright.async_api import async_playwright

    pages = {"portfolio": (f"{url}/", "Status by pillar"),
             "case file": (f"{url}/case?decision={decision}", "Replay check")}
    times: dict[str, list[float]] = {name: [] for name in pages}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                   args=CHROMIUM_FLAGS)

        async def person(warm_up: bool = False) -> None:
            context = await browser.new_context(viewport={"width": 1400, "height": 1000})
            tab = await context.new_page()
            tab.set_default_timeout(120_000)
            for _ in range(1 if warm_up else VISITS):
                for name, (address, marker) in pages.items():
                    started = time.perf_counter()
                    await tab.goto(address)
                    await tab.get_by_text(marker).first.wait_for()
                    await tab.wait_for_selector(SETTLED, state="detached")
                    if not warm_up:
                        times[name].append(time.perf_counter() - started)
            await context.close()

        await person(warm_up=True)  # imports and the model's first load: once per server
        cpu, started = _cpu_seconds(SERVER_PIDS[url]), time.perf_counter()
        await asyncio.gather(*(person() for _ in range(SESSIONS)))
        wall, cpu = time.perf_counter() - started, _cpu_seconds(SERVER_PIDS[url]) - cpu
        await browser.close()
    return times, wall, cpu


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_memory_mib(url: str) -> float:
    """The serving process's high-water resident memory (VmHWM), in MiB."""
    status = Path(f"/proc/{SERVER_PIDS[url]}/status").read_text()
    line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024
