"""Start-up costs, in CPU seconds of the process that does the work (a busy machine stretches
wall time, not CPU time): `govern --help`, `govern gates` against a bare registry read, the
small demo, and the first page after `govern serve`."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Measure
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS, SERVER_PIDS, serving

GOVERN = [sys.executable, "-m", "services.cli.main"]
# What `govern gates` cannot do without: start Python, import MLflow, read the model and the
# version's lineage from the registry.
REGISTRY_READ = """
import sys
from services.registry.adapter import Registry
registry = Registry(sys.argv[1])
registry.get_model("credit-risk")
registry.lineage("credit-risk", "2")
"""


def run(home: Path, runs: int = 3) -> list[Measure]:
    """home: a built demo workspace (its registry and store are read, never written)."""
    env = {**_clean_env(), "GOVERNANCE_HOME": str(home)}
    uri = f"sqlite:///{home / 'mlflow.db'}"
    help_cpu = _median_cpu([*GOVERN, "--help"], env, runs)
    gates_cpu = _median_cpu([*GOVERN, "gates", "credit-risk", "2"], env, runs, check=False)
    read_cpu = _median_cpu([sys.executable, "-c", REGISTRY_READ, uri], env, runs)
    measures = [
        Measure("`govern --help`", help_cpu, "CPU s", "< 1 s", help_cpu < 1),
        Measure("`govern gates credit-risk 2`", gates_cpu, "CPU s",
                f"limited by the registry read ({read_cpu:.2f} CPU s)",
                gates_cpu < read_cpu + 1.0,
                "the read alone: a fresh Python importing MLflow and reading the model and the "
                "version's lineage; within 1 CPU s of it counts as met"),
    ]
    with tempfile.TemporaryDirectory() as folder:
        demo_cpu = _cpu([*GOVERN, "demo", "--size", "small"],
                        {**env, "GOVERNANCE_HOME": folder})
    measures.append(Measure("`govern demo --size small`", demo_cpu, "CPU s", "< 15 s",
                            demo_cpu < 15, "one run (it builds a workspace)"))
    measures += _first_page(home)
    return measures


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "GOVERNANCE_"))}


def _cpu(command: list[str], env: dict[str, str], *, check: bool = True) -> float:
    """CPU seconds (user + system) of one run of `command` and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, check=check, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _median_cpu(command: list[str], env: dict[str, str], runs: int,
                check: bool = True) -> float:
    return statistics.median(_cpu(command, env, check=check) for _ in range(runs))


def _first_page(home: Path) -> list[Measure]:
    if not Path(CHROMIUM).exists():
        return [Measure("first page after `govern serve`", float("nan"), "s",
                        note=f"{CHROMIUM} is missing: `apt-get install -y chromium`")]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        with serving(home) as url:
            pid = SERVER_PIDS[url]
            ready_cpu = _process_cpu(pid)
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            tab.set_default_timeout(120_000)
            started = time.perf_counter()
            tab.goto(f"{url}/")
            tab.get_by_text("Status by pillar").first.wait_for()
            wall = time.perf_counter() - started
            page_cpu = _process_cpu(pid) - ready_cpu
        browser.close()
    return [
        Measure("first page after `govern serve` (portfolio, demo persona)", page_cpu, "CPU s",
                "< 5 s", page_cpu < 5, f"the server's CPU from navigation to the page drawn "
                f"(the server ready; {ready_cpu:.2f} CPU s starting); wall {wall:.2f} s"),
    ]


def _process_cpu(pid: int) -> float:
    """CPU seconds used so far by a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    # python -m benchmarks.startup_bench HOME: the section alone, over a built demo workspace.
    for measure in run(Path(sys.argv[1])):
        print(f"{measure.name}: {measure.value:.2f} {measure.unit} ({measure.target}) "
              f"{measure.note}")
