"""`govern`: the console's command line. Commands that report take --json for machines."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from services.cli import accounts, audit, decisions, monitoring, reports
from services.cli.common import cli_principal, plain, print_json, sources
from services.core.errors import GovernanceError
from services.core.settings import PROJECT_ROOT, Settings, load_settings

Handler = Callable[[argparse.Namespace, Settings], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args, load_settings()))
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

    evaluate = commands.add_parser(
        "evaluate", help="run evaluation and fairness evidence for one version and store it")
    evaluate.add_argument("model")
    evaluate.add_argument("version")
    evaluate.add_argument("--json", action="store_true", help="print the stored evidence")
    evaluate.set_defaults(handler=_evaluate)

    gates = commands.add_parser(
        "gates", help="the policy gates of one version; exits 0 only when every gate passes")
    gates.add_argument("model")
    gates.add_argument("version")
    gates.add_argument("--json", action="store_true")
    gates.set_defaults(handler=_gates)

    ingest = commands.add_parser("ingest", help="load decisions or outcomes from a file")
    ingest_kinds = ingest.add_subparsers(title="what", metavar="KIND")
    for kind, what in (("decisions", "decisions (JSONL, CSV or Parquet)"),
                       ("outcomes", "outcomes: decision_id, label, observed_at")):
        command = ingest_kinds.add_parser(kind, help=what)
        command.add_argument("file", type=Path)
        command.add_argument("--json", action="store_true")
        command.set_defaults(handler=_ingest, kind=kind)

    accounts.add_commands(commands)
    audit.add_commands(commands)
    decisions.add_commands(commands)
    monitoring.add_commands(commands)
    reports.add_commands(commands)

    models = commands.add_parser("models", help="list the registered models (the inventory)")
    models.add_argument("--json", action="store_true")
    models.set_defaults(handler=_models)
    return parser


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


def _models(args: argparse.Namespace, settings: Settings) -> int:
    from services.registry.adapter import Registry
    from services.registry.inventory import inventory

    rows = inventory(registry=Registry(settings.mlflow_tracking_uri, settings.mlflow_registry_uri),
                     check_versions=True)
    if args.json:
        print_json(rows)
        return 0
    print(f"{'model':<24} {'owner':<14} {'tier':<7} {'champion':>8} {'challenger':>10} "
          f"{'versions':>8}  gaps")
    for row in rows:
        print(f"{row.name:<24} {row.owner or '-':<14} {row.risk_tier or '-':<7} "
              f"{row.champion or '-':>8} {row.challenger or '-':>10} {row.version_count:>8}  "
              f"{row.contract_gaps + len(row.version_gaps)}")
        for gap in row.version_gaps:
            print(f"    {gap}")
    return 0


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from services.evidence.run import run_evidence

    engine, registry, policy = sources(settings)
    say = (lambda _f, _m: None) if args.json else \
        (lambda fraction, message: print(f"[{fraction:4.0%}] {message}", flush=True))
    run = run_evidence(engine=engine, registry=registry, policy=policy, actor=cli_principal(),
                       model_name=args.model, version=args.version, progress=say)
    if args.json:
        print_json({"evaluation": run.evaluation, "fairness": run.fairness})
        return 0
    metrics = run.evaluation.evaluation().metrics.figures()
    print(f"Stored evaluation #{run.evaluation.id}"
          + (f" and fairness #{run.fairness.id}" if run.fairness else "")
          + f" in {run.seconds:.1f} s (hold-out SHA-256 {run.evaluation.data_sha256[:12]}…)")
    print("  " + "  ".join(f"{k} {v:.3f}" for k, v in metrics.items() if v is not None))
    return 0


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    from services.decisions.ingest import ingest_decisions_file, ingest_outcomes_file

    engine, registry, _policy = sources(settings)
    say = (lambda _n, _m: None) if args.json else (lambda _n, message: print(message, flush=True))
    if args.kind == "decisions":
        report = ingest_decisions_file(engine=engine, registry=registry, actor=cli_principal(),
                                       path=args.file, progress=say)
    else:
        report = ingest_outcomes_file(engine=engine, actor=cli_principal(), path=args.file,
                                      progress=say)
    if args.json:
        print_json(report)
        return 0
    if report.already_ingested:
        print(f"{args.file} was already ingested as batch #{report.batch_id}; nothing to do.")
        return 0
    print(f"Batch #{report.batch_id}: {report.accepted:,} {args.kind} stored, "
          f"{report.duplicates:,} already present, {report.quarantined:,} quarantined "
          f"({report.seconds:.1f} s).")
    for reason, rows in report.reasons.items():
        print(f"  {rows:>7,} quarantined: {reason}")
    return 0


def _gates(args: argparse.Namespace, settings: Settings) -> int:
    from services.evidence.gates import gates_for_version
    from services.store.engine import session_scope

    engine, registry, policy = sources(settings)
    with session_scope(engine) as session:
        report = gates_for_version(session=session, registry=registry, policy=policy,
                                   model_name=args.model, version=args.version)
    if args.json:
        print_json({**plain(report), "passed": report.passed})
    else:
        print(f"{report.model_name} v{report.model_version} ({report.risk_tier} risk), policy "
              f"{report.policy_version} ({report.policy_sha256[:12]}…)")
        for r in report.results:
            figure = "" if r.figure is None else f"{r.figure:.3f}"
            bound = "" if r.bound is None else f"{r.bound:g}"
            print(f"  {r.status.upper():<18} {r.gate:<48} {figure:>8} {bound:>6}  {r.detail}")
        print("PASSED" if report.passed else f"NOT PASSED: {len(report.failing)} gate(s)")
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
