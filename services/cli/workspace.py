"""`govern demo`, `govern serve` and `govern db`: the workspace, the server and the store's
schema."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from services.cli.common import cli_principal, print_json
from services.core.settings import PROJECT_ROOT, Settings


def add_commands(commands: Any) -> None:
    demo = commands.add_parser("demo", help="create the demo workspace (once; idempotent)")
    demo.add_argument("--size", choices=["small", "standard", "large"], default="standard")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--json", action="store_true", help="print the report as JSON")
    demo.set_defaults(handler=_demo)

    serve = commands.add_parser("serve", help="serve the console (http://localhost:8501)")
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument("--address", default="localhost")
    serve.set_defaults(handler=_serve)

    db = commands.add_parser("db", help="the governance store's schema")
    db_commands = db.add_subparsers(title="db commands", metavar="COMMAND")
    upgrade = db_commands.add_parser("upgrade", help="migrate the store to the newest schema")
    upgrade.set_defaults(handler=_db_upgrade)
    current = db_commands.add_parser("current", help="show the store's schema revision")
    current.add_argument("--json", action="store_true")
    current.set_defaults(handler=_db_current)
    recount = db_commands.add_parser(
        "recount", help="count the decision log's days again (after decisions were written to "
                        "the store other than by `govern ingest` or the API)")
    recount.set_defaults(handler=_db_recount)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from services.demo.build import build_demo

    # Our progress lines say what is happening; MLflow's own INFO lines would bury them.
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    say = (lambda _line: None) if args.json else (lambda line: print(line, flush=True))
    report = build_demo(settings, size=args.size, seed=args.seed, progress=say)
    if args.json:
        print_json(report)
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    command = [
        sys.executable, "-m", "ui.serve", "run", str(PROJECT_ROOT / "app.py"),
        "--server.port", str(args.port), "--server.address", args.address,
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]
    print(f"Serving the governance console on http://{args.address}:{args.port}", flush=True)
    # Streamlit reads .streamlit/config.toml from the working directory: run from the project.
    # The server replaces this process, so stopping `govern serve` stops the server too.
    os.chdir(PROJECT_ROOT)
    os.execve(sys.executable, command, {**os.environ, "GOVERNANCE_HOME": str(settings.home)})


def _db_upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    from services.store.engine import describe, make_engine
    from services.store.migrate import current_revision, upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    print(f"{describe(engine)} is at revision {current_revision(engine)}.")
    return 0


def _db_current(args: argparse.Namespace, settings: Settings) -> int:
    from services.store.engine import describe, make_engine
    from services.store.migrate import current_revision, head_revision

    engine = make_engine(settings.database_url)
    state = {"store": describe(engine), "current": current_revision(engine),
             "head": head_revision()}
    if args.json:
        print_json(state)
    else:
        behind = "" if state["current"] == state["head"] else "  (behind: run `govern db upgrade`)"
        print(f"{state['store']}: revision {state['current']}, head {state['head']}{behind}")
    return 0 if state["current"] == state["head"] else 1


def _db_recount(_args: argparse.Namespace, settings: Settings) -> int:
    from services.decisions.day_counts import recount_days
    from services.store.engine import make_engine

    print("Counting the decision log's days again ...", flush=True)
    cells = recount_days(engine=make_engine(settings.database_url), actor=cli_principal())
    print(f"Counted {cells:,} model, version, day and outcome cells.")
    return 0
