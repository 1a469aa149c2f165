"""The helper that starts the servers tests use: a server that is not healthy stops the test
with its own log, never lets it proceed."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from tests.servers import ServerNotHealthy, start_server


def test_a_server_that_exits_fails_with_the_end_of_its_log(tmp_path: Path) -> None:
    with pytest.raises(ServerNotHealthy, match="exited with code 3") as refused:
        start_server(lambda _port: [sys.executable, "-c",
                                    "print('cannot open the store'); raise SystemExit(3)"],
                     log=tmp_path / "server.log", what="a server",
                     health=lambda port: f"http://127.0.0.1:{port}/health")
    assert "cannot open the store" in str(refused.value)


def test_a_server_that_never_answers_is_stopped_and_fails(tmp_path: Path) -> None:
    marker = f"never-answers-{uuid.uuid4().hex}"
    with pytest.raises(ServerNotHealthy, match="did not answer .* within 1 s"):
        start_server(lambda _port: [sys.executable, "-c", "import time; time.sleep(600)", marker],
                     log=tmp_path / "server.log", what="a server", within=1,
                     health=lambda port: f"http://127.0.0.1:{port}/health")
    assert not [p for p in Path("/proc").glob("[0-9]*/cmdline")
                if marker.encode() in _read(p)]  # stopped, not left running


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:  # a process that ended while we looked
        return b""
