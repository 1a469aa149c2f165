"""`govern`: the console's command line. Commands that report take --json for machines."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from services.cli import (
    accounts,
    audit,
    controls,
    decisions,
    evidence,
    findings,
    monitoring,
    notify,
    performance,
    registry,
    reports,
    reviews,
    service_api,
    vendors,
    workspace,
)
from services.core.errors import GovernanceError
from services.core.settings import load_settings
from services.registry.transport import fail_fast_mlflow_http


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit code. Every command (and --help) ends quietly when the reader
    of its output goes away."""
    try:
        code = _run(argv)
        sys.stdout.flush()  # a closed pipe shows here, inside the try, not at interpreter exit
        return code
    except BrokenPipeError:
        return _reader_went_away()


def _run(argv: Sequence[str] | None) -> int:
    fail_fast_mlflow_http()  # this process owns its environment
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        settings = load_settings()
    except ValidationError as exc:  # a setting in the environment is refused: say which
        print("error: the settings in the environment (or .env) are refused:", file=sys.stderr)
        for problem in exc.errors():
            where = ".".join(str(p) for p in problem["loc"]) or "settings"
            print(f"  {where}: {problem['msg']}", file=sys.stderr)
        return 2
    try:
        return int(args.handler(args, settings))
    except GovernanceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  {exc.hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _reader_went_away() -> int:
    """The reader of stdout closed it (`govern notify list | head`): end quietly, as a Unix
    tool killed by SIGPIPE does (exit 141 = 128 + SIGPIPE). Python's recipe ("Note on
    SIGPIPE" in the signal module's docs): point stdout at devnull, so the interpreter's
    final flush does not raise BrokenPipeError again with a traceback."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="govern", description=__doc__)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    workspace.add_commands(commands)
    evidence.add_commands(commands)
    accounts.add_commands(commands)
    audit.add_commands(commands)
    decisions.add_commands(commands)
    monitoring.add_commands(commands)
    performance.add_commands(commands)
    reports.add_commands(commands)
    controls.add_commands(commands)
    findings.add_commands(commands)
    reviews.add_commands(commands)
    notify.add_commands(commands)
    registry.add_commands(commands)
    service_api.add_commands(commands)
    vendors.add_commands(commands)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
