"""A served console over the demo workspace, and Debian's headless Chromium driving it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from services.core.settings import PROJECT_ROOT
from services.demo.build import DemoReport
from tests.conftest import closed_port

CHROMIUM = "/usr/bin/chromium"
SERVER_PIDS: dict[str, int] = {}  # url -> the serving process, for the benchmark's memory
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]


@pytest.fixture(scope="session")
def console_url(demo_report: DemoReport, demo_home: Path) -> Iterator[str]:
    """`govern serve` on a free port over the session's demo workspace."""
    with serving(demo_home) as url:
        yield url


@contextmanager
def serving(home: Path) -> Iterator[str]:
    """`govern serve` on a free port over the workspace in `home`, stopped afterwards."""
    port = closed_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "GOVERNANCE_"))}
    env["GOVERNANCE_HOME"] = str(home)
    # The server's output goes to a file: a pipe nobody reads fills up under ten sessions'
    # logging and blocks the server (it then could not even stop).
    log = home / f"serve-{port}.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "services.cli.main", "serve", "--port", str(port)],
            env=env, stdout=output, stderr=subprocess.STDOUT, text=True)
    url = f"http://localhost:{port}"
    SERVER_PIDS[url] = server.pid  # `govern serve` execs the server: the same process
    try:
        _wait_until_healthy(url, server, log)
        yield url
    finally:
        SERVER_PIDS.pop(url, None)
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=20)


def _wait_until_healthy(url: str, server: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"govern serve exited: {log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("govern serve did not become healthy within 90 s")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: `apt-get install -y chromium` (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    context.close()


def screenshot(page: object, name: str) -> None:
    """Save what the person saw; CI keeps test-artifacts/ for looking at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))  # type: ignore[attr-defined]
