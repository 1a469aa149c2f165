"""`govern performance`: a version's estimated performance before its outcomes arrive, with the
realised figures beside it where they have."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from services.cli.common import plain, print_json, sources
from services.cli.monitoring import _days
from services.core.settings import Settings

if TYPE_CHECKING:  # loaded by the command itself: `govern --help` stays quick
    from services.monitoring.performance import PerformanceWindow


def add_commands(commands: Any) -> None:
    performance = commands.add_parser(
        "performance", help="estimated performance of a version (from its score profiles and "
                            "calibration map) beside the realised figures, week by week")
    performance.add_argument("model")
    performance.add_argument("--version", help="default: the version that holds @champion")
    performance.add_argument("--days", type=_days, default=28,
                             help="the window: the last N days (default 28)")
    performance.add_argument("--json", action="store_true")
    performance.set_defaults(handler=_performance)


def _performance(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from services.core.clock import utcnow
    from services.core.errors import NotFound
    from services.monitoring.performance import (
        ASSUMPTIONS,
        performance_by_week,
        performance_window,
    )

    engine, registry, policy = sources(settings)
    model = registry.get_model(args.model)
    version = args.version or model.aliases.get("champion")
    if version is None:
        raise NotFound(f"{args.model} has no @champion.", hint="Name a version with --version.")
    registry.get_version(args.model, str(version))  # an unknown version: said as such
    floors = policy.for_tier(model.risk_tier).metric_floors
    end = utcnow().date() + timedelta(days=1)
    start = end - timedelta(days=args.days)
    with engine.connect() as connection:
        window = performance_window(connection=connection, model_name=args.model,
                                    version=str(version), start=start, end=end, floors=floors)
        weeks = performance_by_week(connection=connection, model_name=args.model,
                                    version=str(version), start=start, end=end, floors=floors)
    if args.json:
        print_json({"window": plain(window), "weeks": plain(weeks),
                    "below_floor": window.breaches(), "assumptions": ASSUMPTIONS,
                    "trustworthy": window.calibration.trustworthy})
        return 0
    print(f"{args.model} v{version}, {window.start} to {window.end - timedelta(days=1)}: "
          f"{window.estimate.decisions:,} scored decisions, threshold {window.threshold:g}")
    print(f"  {window.calibration.why}")
    _print_window(window)
    print(f"\n  {'week from':<12} {'decisions':>9} {'est. ROC AUC':>13} {'band':>13} "
          f"{'realised':>9} {'labelled':>9}")
    for week in weeks:
        auc = week.estimate.figure("roc_auc")
        realised = week.realised.figures["roc_auc"]
        share = week.realised.labelled_share
        print(f"  {week.start!s:<12} {week.estimate.decisions:>9,} "
              f"{_number(auc.estimate if auc else None):>13} "
              f"{_band(auc.low, auc.high) if auc else 'too few':>13} "
              f"{_number(realised):>9} {f'{share:.0%}' if share is not None else '—':>9}")
    for breach in window.breaches():
        print(f"  BELOW FLOOR: {breach}")
    print(f"\n  {ASSUMPTIONS}")
    return 0


def _print_window(window: PerformanceWindow) -> None:
    from services.monitoring.estimate import METRIC_NAMES, MIN_ESTIMATE_ROWS
    from services.monitoring.performance import MIN_REALISED_ROWS

    c = window.estimate.confusion
    if c is None:
        print(f"  too few decisions to estimate (fewer than {MIN_ESTIMATE_ROWS} with a score)")
        return
    labelled = window.realised
    print(f"  {'metric':<10} {'estimate':>9} {'95% band':>15} {'floor':>6}   {'realised':>9} "
          f"{'est. on labelled':>17}   ({labelled.labelled:,} labelled, "
          f"{labelled.labelled_share or 0:.0%}"
          + (f"; realised figures need {MIN_REALISED_ROWS}"
             if labelled.labelled < MIN_REALISED_ROWS else "") + ")")
    for metric, figure in window.estimate.figures.items():
        on_labelled = labelled.estimate.figure(metric)
        floor = window.floors.get(metric)
        print(f"  {METRIC_NAMES[metric]:<10} {_number(figure.estimate):>9} "
              f"{_band(figure.low, figure.high):>15} "
              f"{f'{floor:g}' if floor is not None else '':>6}   "
              f"{_number(labelled.figures[metric]):>9} "
              f"{_number(on_labelled.estimate) if on_labelled else '—':>17}"
              + ("   (not to be trusted)" if not figure.trustworthy else ""))
    if caveat := next((f.caveat for f in window.estimate.figures.values() if f.caveat), ""):
        print(f"  not to be trusted: {caveat}.")
    print(f"  expected at the threshold: TP {c.tp:,.1f}  FP {c.fp:,.1f}  FN {c.fn:,.1f}  "
          f"TN {c.tn:,.1f}")


def _number(value: float | None) -> str:
    return f"{value:.3f}" if value is not None else "—"


def _band(low: float | None, high: float | None) -> str:
    return f"{low:.3f}–{high:.3f}" if low is not None and high is not None else "—"
