"""`govern`: the console's command line. Commands that report take --json for machines."""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from services.errors import GovernanceError
from services.policy import Policy
from services.principal import Principal, Role
from services.registry import Registry
from services.settings import PROJECT_ROOT, Settings, load_settings

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

    users = commands.add_parser("users", help="local accounts (when sign-in is not OIDC)")
    user_commands = users.add_subparsers(title="users commands", metavar="COMMAND")
    add = user_commands.add_parser("add", help="create an account; the password is prompted")
    add.add_argument("name")
    add.add_argument("--role", action="append", required=True,
                     help="a role (repeat, or a comma list): viewer, analyst, validator, "
                          "model_owner, auditor, admin")
    add.add_argument("--display-name", default="")
    add.add_argument("--email")
    add.set_defaults(handler=_users_add)
    listing = user_commands.add_parser("list", help="list accounts")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_users_list)
    disable = user_commands.add_parser("disable", help="stop an account from signing in")
    disable.add_argument("name")
    disable.set_defaults(handler=_users_disable)
    set_roles = user_commands.add_parser("set-roles", help="replace an account's roles")
    set_roles.add_argument("name")
    set_roles.add_argument("--role", action="append", required=True)
    set_roles.set_defaults(handler=_users_set_roles)

    audit = commands.add_parser("audit", help="the tamper-evident audit trail")
    audit_commands = audit.add_subparsers(title="audit commands", metavar="COMMAND")
    verify = audit_commands.add_parser(
        "verify", help="walk the hash chain; exits 1 and names the first broken link if any")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=_audit_verify)

    drift = commands.add_parser("drift", help="per-input drift of a version over a window")
    drift.add_argument("model")
    drift.add_argument("--version", help="default: the version that holds @champion")
    drift.add_argument("--days", type=int, default=30, help="the window: the last N days")
    drift.add_argument("--json", action="store_true")
    drift.set_defaults(handler=_drift)

    monitor = commands.add_parser(
        "monitor", help="judge every served model against the policy and open alerts "
                        "(meant to run on a schedule)")
    monitor.add_argument("--json", action="store_true")
    monitor.set_defaults(handler=_monitor)

    profile = commands.add_parser("profile", help="daily profiles (what drift is computed from)")
    profile_commands = profile.add_subparsers(title="profile commands", metavar="COMMAND")
    rebuild = profile_commands.add_parser(
        "rebuild", help="count a version's logged traffic again against its reference profile")
    rebuild.add_argument("model")
    rebuild.add_argument("version")
    rebuild.set_defaults(handler=_profile_rebuild)

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
        _print_json(report)
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
        _print_json(state)
    else:
        behind = "" if state["current"] == state["head"] else "  (behind: run `govern db upgrade`)"
        print(f"{state['store']}: revision {state['current']}, head {state['head']}{behind}")
    return 0 if state["current"] == state["head"] else 1


def _models(args: argparse.Namespace, settings: Settings) -> int:
    from services.inventory import inventory
    from services.registry import Registry

    rows = inventory(registry=Registry(settings.mlflow_tracking_uri, settings.mlflow_registry_uri))
    if args.json:
        _print_json(rows)
        return 0
    print(f"{'model':<24} {'owner':<14} {'tier':<7} {'champion':>8} {'challenger':>10} "
          f"{'versions':>8}  gaps")
    for row in rows:
        print(f"{row.name:<24} {row.owner or '-':<14} {row.risk_tier or '-':<7} "
              f"{row.champion or '-':>8} {row.challenger or '-':>10} {row.version_count:>8}  "
              f"{row.contract_gaps}")
    return 0


def _cli_principal() -> Principal:
    # Whoever runs the command already holds the store's credentials: an operator.
    user = getpass.getuser()
    return Principal(f"cli:{user}", f"{user} (command line)", frozenset({Role.ADMIN}))


def _sources(settings: Settings) -> tuple[Engine, Registry, Policy]:
    from services.policy import load_policy
    from services.registry import Registry
    from services.store.engine import make_engine
    from services.store.migrate import check_schema

    engine = make_engine(settings.database_url)
    check_schema(engine)
    return (engine, Registry(settings.mlflow_tracking_uri, settings.mlflow_registry_uri),
            load_policy(settings.policy_path))


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from services.evidence.run import run_evidence

    engine, registry, policy = _sources(settings)
    say = (lambda _f, _m: None) if args.json else \
        (lambda fraction, message: print(f"[{fraction:4.0%}] {message}", flush=True))
    run = run_evidence(engine=engine, registry=registry, policy=policy, actor=_cli_principal(),
                       model_name=args.model, version=args.version, progress=say)
    if args.json:
        _print_json({"evaluation": run.evaluation, "fairness": run.fairness})
        return 0
    metrics = run.evaluation.payload["metrics"]
    print(f"Stored evaluation #{run.evaluation.id}"
          + (f" and fairness #{run.fairness.id}" if run.fairness else "")
          + f" in {run.seconds:.1f} s (hold-out SHA-256 {run.evaluation.data_sha256[:12]}…)")
    print("  " + "  ".join(f"{k} {v:.3f}" for k, v in metrics.items() if v is not None))
    return 0


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    from services.decisions.ingest import ingest_decisions_file, ingest_outcomes_file

    engine, registry, _policy = _sources(settings)
    say = (lambda _n, _m: None) if args.json else (lambda _n, message: print(message, flush=True))
    if args.kind == "decisions":
        report = ingest_decisions_file(engine=engine, registry=registry, actor=_cli_principal(),
                                       path=args.file, progress=say)
    else:
        report = ingest_outcomes_file(engine=engine, actor=_cli_principal(), path=args.file,
                                      progress=say)
    if args.json:
        _print_json(report)
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


def _store(settings: Settings) -> Engine:
    from services.store.engine import make_engine
    from services.store.migrate import check_schema

    engine = make_engine(settings.database_url)
    check_schema(engine)
    return engine


def _new_password() -> str:
    if not sys.stdin.isatty():
        # Piped in (scripts, tests): one line, never an argument that shows in `ps`.
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise GovernanceError("The two passwords differ; nothing was saved.")
    return first


def _users_add(args: argparse.Namespace, settings: Settings) -> int:
    from services.accounts import add_user, parse_roles

    roles = parse_roles(args.role)
    engine = _store(settings)
    account = add_user(engine=engine, actor=_cli_principal(), username=args.name,
                       password=_new_password(), roles=roles,
                       display_name=args.display_name, email=args.email)
    print(f"Account {account.username} created with roles "
          f"{', '.join(sorted(r.value for r in account.roles))}.")
    return 0


def _users_list(args: argparse.Namespace, settings: Settings) -> int:
    from services.accounts import list_users
    from services.store.engine import session_scope

    with session_scope(_store(settings)) as session:
        accounts = list_users(session=session)
    if args.json:
        _print_json(accounts)
        return 0
    print(f"{'username':<24} {'roles':<32} {'state':<9} last sign-in")
    for a in accounts:
        roles = ",".join(sorted(r.value for r in a.roles))
        last = f"{a.last_sign_in_at:%Y-%m-%d %H:%M}" if a.last_sign_in_at else "never"
        print(f"{a.username:<24} {roles:<32} {'disabled' if a.disabled else 'active':<9} {last}")
    return 0


def _users_disable(args: argparse.Namespace, settings: Settings) -> int:
    from services.accounts import disable_user

    disable_user(engine=_store(settings), actor=_cli_principal(), username=args.name)
    print(f"Account {args.name} is disabled.")
    return 0


def _users_set_roles(args: argparse.Namespace, settings: Settings) -> int:
    from services.accounts import parse_roles, set_roles

    account = set_roles(engine=_store(settings), actor=_cli_principal(), username=args.name,
                        roles=parse_roles(args.role))
    print(f"{account.username} now has: {', '.join(sorted(r.value for r in account.roles))}.")
    return 0


def _audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from services.audit_trail import verify_chain
    from services.store.engine import session_scope

    with session_scope(_store(settings)) as session:
        verdict = verify_chain(session=session)
    if args.json:
        _print_json(verdict)
    elif verdict.intact:
        print(f"The audit chain is intact: {verdict.events:,} events, head "
              f"{verdict.head_hash}.")
    else:
        where = f" at event #{verdict.broken_at}" if verdict.broken_at else ""
        print(f"The audit chain is BROKEN{where}: {verdict.problem}.")
        print(f"  {verdict.events:,} events before it verified.")
    return 0 if verdict.intact else 1


def _drift(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from services.clock import utcnow
    from services.drift.window import drift_window
    from services.errors import NotFound

    engine, registry, policy = _sources(settings)
    model = registry.get_model(args.model)
    version = args.version or model.aliases.get("champion")
    if version is None:
        raise NotFound(f"{args.model} has no @champion.", hint="Name a version with --version.")
    end = utcnow().date() + timedelta(days=1)
    with engine.connect() as connection:
        window = drift_window(connection=connection,
                              thresholds=policy.for_tier(model.risk_tier).drift,
                              model_name=args.model, version=str(version),
                              start=end - timedelta(days=args.days), end=end)
    if args.json:
        _print_json({**_plain(window), "judged": window.judged,
                     "drifted_share": window.drifted_share,
                     "dataset_drift": window.dataset_drift})
        return 0
    print(f"{args.model} v{version}, {window.start} to {window.end - timedelta(days=1)}: "
          f"{window.rows:,} decisions")
    if not window.judged:
        print("  too few decisions to judge drift")
        return 0
    print(f"  {'input':<28} {'PSI':>7} {'JS':>7} {'KS D':>7} {'W/std':>7}  drifted")
    for f in [*window.features, *([window.prediction] if window.prediction else [])]:
        cells = [f"{v:7.3f}" if v is not None else f"{'—':>7}"
                 for v in (f.psi, f.js, f.ks, f.wasserstein)]
        flag = "too few" if f.drifted is None else ("yes" if f.drifted else "")
        print(f"  {f.feature:<28} {' '.join(cells)}  {flag}")
    print(f"  drifted share {window.drifted_share:.0%}"
          + (" (dataset drift)" if window.dataset_drift else ""))
    return 0


def _monitor(args: argparse.Namespace, settings: Settings) -> int:
    from services.monitoring import monitor

    engine, registry, policy = _sources(settings)
    report = monitor(engine=engine, registry=registry, policy=policy, actor=_cli_principal())
    if args.json:
        _print_json(report)
        return 0
    print(f"Judged {report.models} served model(s) in {report.seconds:.2f} s; "
          f"{len(report.opened)} new alert(s).")
    for name, found in report.findings.items():
        for finding in found:
            print(f"  {name:<24} {finding.kind:<12} {finding.message}")
    return 0


def _profile_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from services.drift.daily import rebuild_daily_profiles

    engine, _registry, _policy = _sources(settings)
    seen = rebuild_daily_profiles(engine=engine, actor=_cli_principal(), model_name=args.model,
                                  version=args.version,
                                  progress=lambda line: print(line, flush=True))
    print(f"Profiled {seen:,} decisions of {args.model} v{args.version}.")
    return 0


def _gates(args: argparse.Namespace, settings: Settings) -> int:
    from services.model_card import gates_for_version
    from services.store.engine import session_scope

    engine, registry, policy = _sources(settings)
    with session_scope(engine) as session:
        report = gates_for_version(session=session, registry=registry, policy=policy,
                                   model_name=args.model, version=args.version)
    if args.json:
        _print_json({**_plain(report), "passed": report.passed})
    else:
        print(f"{report.model_name} v{report.model_version} ({report.risk_tier} risk), policy "
              f"{report.policy_version} ({report.policy_sha256[:12]}…)")
        for r in report.results:
            figure = "" if r.figure is None else f"{r.figure:.3f}"
            bound = "" if r.bound is None else f"{r.bound:g}"
            print(f"  {r.status.upper():<18} {r.gate:<48} {figure:>8} {bound:>6}  {r.detail}")
        print("PASSED" if report.passed else f"NOT PASSED: {len(report.failing)} gate(s)")
    return 0 if report.passed else 1


def _print_json(value: Any) -> None:
    print(json.dumps(_plain(value), indent=2, sort_keys=True))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


if __name__ == "__main__":
    raise SystemExit(main())
