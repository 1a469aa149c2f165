"""`govern` commands of oversight: accounts, the audit trail, drift, monitoring, profiles."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from services.cli.common import cli_principal, plain, print_json, sources, store
from services.errors import GovernanceError
from services.settings import Settings


def add_commands(commands: Any) -> None:
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
    monitor.add_argument("--backfill-days", type=int, metavar="N",
                         help="also judge each of the last N days from the log (the "
                              "portfolio's history when the console is new over an old log)")
    monitor.add_argument("--json", action="store_true")
    monitor.set_defaults(handler=_monitor)

    profile = commands.add_parser("profile", help="daily profiles (what drift is computed from)")
    profile_commands = profile.add_subparsers(title="profile commands", metavar="COMMAND")
    rebuild = profile_commands.add_parser(
        "rebuild", help="count a version's logged traffic again against its reference profile")
    rebuild.add_argument("model")
    rebuild.add_argument("version")
    rebuild.set_defaults(handler=_profile_rebuild)


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
    engine = store(settings)
    account = add_user(engine=engine, actor=cli_principal(), username=args.name,
                       password=_new_password(), roles=roles,
                       display_name=args.display_name, email=args.email)
    print(f"Account {account.username} created with roles "
          f"{', '.join(sorted(r.value for r in account.roles))}.")
    return 0


def _users_list(args: argparse.Namespace, settings: Settings) -> int:
    from services.accounts import list_users
    from services.store.engine import session_scope

    with session_scope(store(settings)) as session:
        accounts = list_users(session=session)
    if args.json:
        print_json(accounts)
        return 0
    print(f"{'username':<24} {'roles':<32} {'state':<9} last sign-in")
    for a in accounts:
        roles = ",".join(sorted(r.value for r in a.roles))
        last = f"{a.last_sign_in_at:%Y-%m-%d %H:%M}" if a.last_sign_in_at else "never"
        print(f"{a.username:<24} {roles:<32} {'disabled' if a.disabled else 'active':<9} {last}")
    return 0


def _users_disable(args: argparse.Namespace, settings: Settings) -> int:
    from services.accounts import disable_user

    disable_user(engine=store(settings), actor=cli_principal(), username=args.name)
    print(f"Account {args.name} is disabled.")
    return 0


def _users_set_roles(args: argparse.Namespace, settings: Settings) -> int:
    from services.accounts import parse_roles, set_roles

    account = set_roles(engine=store(settings), actor=cli_principal(), username=args.name,
                        roles=parse_roles(args.role))
    print(f"{account.username} now has: {', '.join(sorted(r.value for r in account.roles))}.")
    return 0


def _audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from services.audit_trail import verify_chain
    from services.store.engine import session_scope

    with session_scope(store(settings)) as session:
        verdict = verify_chain(session=session)
    if args.json:
        print_json(verdict)
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

    engine, registry, policy = sources(settings)
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
        print_json({**plain(window), "judged": window.judged,
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
    from services.monitoring import backfill_health, monitor

    engine, registry, policy = sources(settings)
    if args.backfill_days:
        written = backfill_health(engine=engine, registry=registry, policy=policy,
                                  actor=cli_principal(), days=args.backfill_days,
                                  progress=(lambda _: None) if args.json else
                                  (lambda line: print(line, flush=True)))
        if not args.json:
            print(f"Backfilled {written} day(s) of model health.")
    report = monitor(engine=engine, registry=registry, policy=policy, actor=cli_principal())
    if args.json:
        print_json(report)
        return 0
    print(f"Judged {report.models} served model(s) in {report.seconds:.2f} s; "
          f"{len(report.opened)} new alert(s).")
    for name, found in report.findings.items():
        for finding in found:
            print(f"  {name:<24} {finding.kind:<12} {finding.message}")
    return 0


def _profile_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from services.drift.daily import rebuild_daily_profiles

    engine, _registry, _policy = sources(settings)
    seen = rebuild_daily_profiles(engine=engine, actor=cli_principal(), model_name=args.model,
                                  version=args.version,
                                  progress=lambda line: print(line, flush=True))
    print(f"Profiled {seen:,} decisions of {args.model} v{args.version}.")
    return 0
