"""A served console over the demo workspace, and Debian's headless Chromium driving it."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from services.core.settings import PROJECT_ROOT, Settings
from services.demo.build import DemoReport
from tests.servers import start_server, stop_server

CHROMIUM = "/usr/bin/chromium"
SERVER_PIDS: dict[str, int] = {}  # url -> the serving process, for the benchmark's memory
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
# How long a page may take to show what a step waits for (ms). Generous: on a busy two-core
# machine a server's first page imports half the app; a step that never comes fails all the same.
PATIENCE_MS = 180_000
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]


@pytest.fixture(scope="session")
def console_url(demo_report: DemoReport, demo_home: Path) -> Iterator[str]:
    """`govern serve` on a free port over the run's shared demo workspace, for journeys that
    only read."""
    with serving(demo_home) as url:
        yield url


@pytest.fixture
def own_console(demo_copy: Settings) -> Iterator[str]:
    """`govern serve` over a private copy of the demo workspace (`demo_copy`), for a journey
    that writes."""
    with serving(demo_copy.home) as url:
        yield url


@contextmanager
def serving(home: Path) -> Iterator[str]:
    """`govern serve` on a free port over the workspace in `home`, stopped afterwards.

    Raises:
        ServerNotHealthy: the console did not answer its health check in time; the message
            ends with the last lines of the server's log.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "GOVERNANCE_"))}
    env["GOVERNANCE_HOME"] = str(home)
    # The server's output goes to a file: a pipe nobody reads fills up under ten sessions'
    # logging and blocks the server (it then could not even stop). One file per server:
    # several may serve one workspace (a test run's workers each serve the shared demo).
    server, port = start_server(
        lambda port: [sys.executable, "-m", "services.cli.main", "serve", "--port", str(port)],
        log=home / f"serve-{uuid.uuid4().hex[:8]}.log",
        health=lambda port: f"http://localhost:{port}/_stcore/health",
        what="`govern serve`", env=env)
    url = f"http://localhost:{port}"
    SERVER_PIDS[url] = server.pid  # `govern serve` execs the server: the same process
    try:
        yield url
    finally:
        SERVER_PIDS.pop(url, None)
        stop_server(server)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: `apt-get install -y chromium` (make test does)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=PATIENCE_MS)  # expect(...) waits as long as a step may
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


# Counts the runs of the page that have ended: Streamlit's app element says whether its script
# is running in an attribute, and each change from "running" is a run that ended.
_COUNT_RUNS = """
window.__runsEnded = 0;
new MutationObserver((changes) => {
  for (const change of changes) if (change.oldValue === "running") window.__runsEnded += 1;
}).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                      attributeFilter: ["data-test-script-state"]});
"""


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    tab = context.new_page()
    tab.set_default_timeout(PATIENCE_MS)
    tab.add_init_script(_COUNT_RUNS)
    yield tab
    context.close()


@contextmanager
def a_run(page: Any) -> Iterator[None]:
    """Around an action that makes Streamlit run the page again (a widget changed, a button):
    afterwards, wait for a run that ended after the action, with no stale element left.

    Neither a pause nor the running indicator tells: a run may not have begun yet when the
    indicator is looked for, and the page then still shows the last run's elements.
    """
    ended = page.evaluate("window.__runsEnded")
    yield
    page.wait_for_function("ended => window.__runsEnded > ended"
                           " && !document.querySelector(\"[data-stale='true']\")", arg=ended)


def screenshot(page: object, name: str) -> None:
    """Save what the person saw; CI keeps test-artifacts/ for looking at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))  # type: ignore[attr-defined]
