"""`govern drift`, `govern monitor` and `govern profile rebuild`: watching served models."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from services.cli.common import cli_principal, plain, print_json, sources
from services.core.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from services.core.policy import Policy
    from services.monitoring.reviews import ReviewStatus
    from services.registry.adapter import Registry


def add_commands(commands: Any) -> None:
    drift = commands.add_parser("drift", help="per-input drift of a version over a window")
    drift.add_argument("model")
    drift.add_argument("--version", help="default: the version that holds @champion")
    drift.add_argument("--days", type=_days, default=30, help="the window: the last N days")
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


def _drift(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from services.core.clock import utcnow
    from services.core.errors import NotFound
    from services.monitoring.drift import drift_window

    engine, registry, policy = sources(settings)
    model = registry.get_model(args.model)
    version = args.version or model.aliases.get("champion")
    if version is None:
        raise NotFound(f"{args.model} has no @champion.", hint="Name a version with --version.")
    registry.get_version(args.model, str(version))  # an unknown version: said as such
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
        flag = f.why if f.drifted is not False else ""
        print(f"  {f.feature:<28} {' '.join(cells)}  {flag}")
    print(f"  drifted share {window.drifted_share:.0%}"
          + (" (dataset drift)" if window.dataset_drift else ""))
    return 0


def _monitor(args: argparse.Namespace, settings: Settings) -> int:
    from services.governance.sign_in import summarise_sign_in_failures
    from services.monitoring.chain_watch import verify_and_alert
    from services.monitoring.monitor import backfill_health, monitor

    engine, registry, policy = sources(settings)
    if args.backfill_days:
        written = backfill_health(engine=engine, registry=registry, policy=policy,
                                  actor=cli_principal(), days=args.backfill_days,
                                  progress=(lambda _: None) if args.json else
                                  (lambda line: print(line, flush=True)))
        if not args.json:
            print(f"Backfilled {written} day(s) of model health.")
    report = monitor(engine=engine, registry=registry, policy=policy, actor=cli_principal())
    # The scheduled run also walks the audit chain: a break opens its alert even when nobody
    # opens the Audit page.
    # Exits 1 then, so that the scheduler sees it too.
    chain = verify_and_alert(engine=engine)
    # Failed sign-ins of a probe that stopped are chained as a summary rather than left out;
    # never onto a chain that does not verify, where the new event would move the break.
    if chain.intact:
        summarise_sign_in_failures(engine=engine)
    # What the run opened (and what earlier acts left due) goes out now; a receiver that is
    # down is retried at later runs or by `govern notify send`, and fails nothing here.
    from services.notify.delivery import deliver_pending

    delivery = deliver_pending(engine=engine, settings=settings)
    due = _reviews_due(engine, registry, policy)
    if args.json:
        print_json({**plain(report), "notifications": plain(delivery),
                    "reviews_due": [{"model": s.model_name, "owner": s.owner,
                                     "state": s.state.value, "due_on": s.due_on,
                                     "reason": s.reason} for s in due]})
        return 0 if chain.intact else 1
    print(f"Judged {report.models} served model(s) in {report.seconds:.2f} s; "
          f"{len(report.opened)} new alert(s); notifications {delivery.sent} sent, "
          f"{delivery.pending} pending, {delivery.failed} failed.")
    for name, found in report.findings.items():
        for finding in found:
            print(f"  {name:<24} {finding.kind:<12} {finding.message}")
    for status in due:
        print(f"  review of {status.model_name:<14} {status.state.upper():<10} owner "
              f"{status.owner or 'none'}: {status.reason}")
    if not chain.intact:
        print(f"The audit chain does NOT verify: {chain.problem}. An audit_chain_broken alert "
              "is open for admins and auditors; run `govern audit verify` for details.")
    return 0 if chain.intact else 1


def _reviews_due(engine: Engine, registry: Registry, policy: Policy) -> list[ReviewStatus]:
    """Periodic reviews due, due soon, triggered or overdue (`govern reviews list --due`)."""
    from services.monitoring.reviews import reviews_due
    from services.store.engine import session_scope

    with session_scope(engine) as session:
        return reviews_due(session=session, registry=registry, policy=policy)


def _profile_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from services.decisions.daily_profiles import rebuild_daily_profiles

    engine, _registry, _policy = sources(settings)
    seen = rebuild_daily_profiles(engine=engine, actor=cli_principal(), model_name=args.model,
                                  version=args.version,
                                  progress=lambda line: print(line, flush=True))
    print(f"Profiled {seen:,} decisions of {args.model} v{args.version}.")
    return 0


def _days(text: str) -> int:
    """A window of at least one whole day (argparse turns the error into its usage line)."""
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if days < 1:
        raise argparse.ArgumentTypeError(f"a window is at least 1 day, not {days}")
    return days
