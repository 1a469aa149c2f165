"""`govern`: the console's command line. Commands that report take --json for machines."""

from __future__ import annotations

import argparse
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
