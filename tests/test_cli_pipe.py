"""`govern ... | head`: when the reader of its output goes away, every command ends quietly (no
BrokenPipeError traceback), exiting 141 as a tool killed by SIGPIPE does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.core.settings import PROJECT_ROOT

FRAMEWORK = """
id = "policy-{n}"
name = "Internal policy number {n} with a name long enough to fill a line"
title = "Internal policy {n}"
status = "current"
shown_by_default = false
source = "https://intranet.example/policy-{n}"

[[controls]]
ref = "P-{n}"
title = "Validation"
asks = "Validated before use."
evidence = ["validation"]
"""


def _govern(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "services.cli.main", *args],
                            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    # More output than a pipe holds (64 KiB on Linux), so the writer meets the closed pipe
    # whatever the timing: 1,500 frameworks listed, one line of about 100 characters each.
    folder = tmp_path / "frameworks"
    folder.mkdir()
    for n in range(1500):
        (folder / f"policy-{n:04}.toml").write_text(FRAMEWORK.format(n=n))
    return {**os.environ, "GOVERNANCE_HOME": str(tmp_path / "home"),
            "GOVERNANCE_FRAMEWORKS_DIR": str(folder)}


def test_a_reader_that_closes_after_one_line_ends_govern_quietly(env: dict[str, str]) -> None:
    listing = _govern(["controls", "--list"], env)
    assert listing.stdout is not None and listing.stderr is not None
    first = listing.stdout.readline()  # `| head -n 1`
    listing.stdout.close()
    err = listing.stderr.read().decode()
    assert listing.wait(timeout=120) == 141
    assert first.startswith(b"policy-") or first.split()[0] in {b"eu-ai-act", b"sr-26-2"}
    assert "Traceback" not in err and "BrokenPipeError" not in err


@pytest.mark.parametrize("args", [["--help"], ["controls", "--help"],
                                  ["notify", "list", "--help"]])
def test_a_reader_gone_before_the_first_line_ends_govern_quietly(
        env: dict[str, str], args: list[str]) -> None:
    command = _govern(args, env)
    assert command.stdout is not None and command.stderr is not None
    command.stdout.close()  # the reader is gone before the interpreter has even started
    err = command.stderr.read().decode()
    # argparse's help swallows the error itself (exit 0); nothing is said either way.
    assert command.wait(timeout=120) in (0, 141)
    assert err == ""
