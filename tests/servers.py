"""Servers the tests start (`mlflow server`, `govern serve`): each on a free port, healthy by
a generous deadline or refused loudly with the last lines of its own log. A fixture never
proceeds against a server that did not come up."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

from tests.conftest import closed_port

# Seconds a server has to answer its health check. Generous: on a busy two-core machine
# importing MLflow or Streamlit alone can take a minute. Past it the test fails, never waits on.
HEALTHY_WITHIN = 240.0
_PORT_TRIES = 3  # another process may take the free port between our probe and the bind
_PORT_TAKEN = ("address already in use", "already in use", "errno 98")


class ServerNotHealthy(RuntimeError):
    """A server exited or did not answer its health check in time; carries its log's tail."""


def start_server(command: Callable[[int], list[str]], *, log: Path, health: Callable[[int], str],
                 what: str, env: Mapping[str, str] | None = None, cwd: Path | None = None,
                 within: float = HEALTHY_WITHIN) -> tuple[subprocess.Popen[bytes], int]:
    """Start `command(port)` in its own process group with its output in `log`, and return
    it once `health(port)` answers 200.

    Raises:
        ServerNotHealthy: the server exited, or did not answer within `within` seconds (it
            is stopped first); the message ends with the last lines of its log.
    """
    for _ in range(_PORT_TRIES):
        port = closed_port()
        with log.open("wb") as output:
            server = subprocess.Popen(command(port), stdout=output, stderr=subprocess.STDOUT,
                                      env=None if env is None else dict(env), cwd=cwd,
                                      start_new_session=True)
        problem = _wait_until_healthy(server, health(port), within)
        if problem is None:
            return server, port
        stop_server(server)
        if not any(words in tail(log).lower() for words in _PORT_TAKEN):
            break
    raise ServerNotHealthy(f"{what} on port {port} {problem}. The end of its log ({log}):\n"
                           f"{tail(log)}")


def _wait_until_healthy(server: subprocess.Popen[bytes], url: str, within: float) -> str | None:
    """None once `url` answers 200; otherwise what went wrong."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if server.poll() is not None:
            return f"exited with code {server.returncode} before it was healthy"
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return None
        except OSError:
            pass
        time.sleep(0.5)
    return f"did not answer {url} within {within:.0f} s"


def stop_server(server: subprocess.Popen[bytes], *, grace: float = 20.0) -> None:
    """Stop the server's whole process group (servers fork workers): politely, then not."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, sig)
        try:
            server.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def tail(log: Path, characters: int = 4000) -> str:
    try:
        return log.read_text(errors="replace")[-characters:] or "(empty)"
    except FileNotFoundError:
        return "(no log was written)"
