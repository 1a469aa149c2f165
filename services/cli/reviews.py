"""`govern reviews list [--due] [--json]`: the periodic review calendar, by owner (exit 1 when a
review is overdue); `govern reviews record MODEL ...`: a validator's review, recorded with the
model's state frozen then."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from services.cli.common import cli_principal, print_json, sources
from services.core.settings import Settings
from services.core.visible import visible

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from services.core.principal import Principal
    from services.monitoring.reviews import ReviewStatus


def add_commands(commands: Any) -> None:
    from services.monitoring.reviews import Conclusion

    reviews = commands.add_parser("reviews", help="periodic reviews of models (SR 26-2)")
    actions = reviews.add_subparsers(title="actions", metavar="ACTION")
    listing = actions.add_parser("list", help="the review calendar: what is due, by owner "
                                              "(exit 1 when a review is overdue)")
    listing.add_argument("--due", action="store_true",
                         help="only reviews due, due soon, triggered or overdue")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)
    record = actions.add_parser("record", help="record a review: the state frozen now")
    record.add_argument("model")
    record.add_argument("--conclusion", required=True, choices=[str(c) for c in Conclusion])
    record.add_argument("--justification", required=True)
    record.add_argument("--conditions", default="",
                        help="required for 'continue with conditions'")
    record.add_argument("--version", help="the version reviewed (default: the champion)")
    record.add_argument("--as", dest="as_user", metavar="USER",
                        help="the validator's account who reviews (the command's own "
                             "operator is an admin, who may not review)")
    record.add_argument("--json", action="store_true")
    record.set_defaults(handler=_record)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from services.monitoring.reviews import ReviewState, review_calendar
    from services.store.engine import session_scope

    engine, registry, policy = sources(settings)
    with session_scope(engine) as session:
        calendar = review_calendar(session=session, registry=registry, policy=policy)
    overdue = any(s.state is ReviewState.OVERDUE for s in calendar)
    shown = [s for s in calendar if s.needs_review] if args.due else calendar
    if args.json:
        print_json([_as_json(s) for s in shown])
        return 1 if overdue else 0
    if not shown:
        print("No review is due." if args.due else "No registered model.")
        return 1 if overdue else 0
    owner: str | None = "\0"
    for status in shown:
        if status.owner != owner:
            owner = status.owner
            print(f"{visible(owner or 'no owner')}:")
        due = f"{status.due_on:%Y-%m-%d}" if status.due_on else "—"
        print(f"  {visible(status.model_name):<28} {status.state.upper():<10} due {due:<10}  "
              f"{visible(status.reason)}")
    return 1 if overdue else 0


def _as_json(status: ReviewStatus) -> dict[str, object]:
    last = status.last_review
    return {"model": status.model_name, "owner": status.owner, "risk_tier": status.risk_tier,
            "champion": status.champion, "state": status.state.value,
            "due_on": status.due_on.isoformat() if status.due_on else None,
            "cycle_days": status.cycle_days, "reason": status.reason,
            "triggers": [{"trigger": f.trigger, "at": f.at.isoformat(), "detail": f.detail}
                         for f in status.fired],
            "last_review": None if last is None else {
                "id": last.id, "version": last.model_version, "by": last.reviewed_by,
                "at": last.reviewed_at.isoformat(), "conclusion": last.conclusion.value,
                "state_sha256": last.state_sha256}}


def _record(args: argparse.Namespace, settings: Settings) -> int:
    from services.governance.reviews import RETIRE_NOTE, record_review
    from services.monitoring.reviews import Conclusion

    engine, registry, policy = sources(settings)
    actor = _acting(engine, args.as_user) if args.as_user else cli_principal()
    review = record_review(engine=engine, registry=registry, policy=policy, actor=actor,
                           model_name=args.model, conclusion=args.conclusion,
                           justification=args.justification, conditions=args.conditions,
                           version=args.version)
    if args.json:
        print_json({"id": review.id, "model": review.model_name,
                    "version": review.model_version, "conclusion": review.conclusion.value,
                    "state_sha256": review.state_sha256,
                    "next_due_on": review.next_due_on.isoformat(),
                    "triggers": list(review.triggers)})
        return 0
    print(f"Review #{review.id} of {visible(review.model_name)} v{review.model_version} by "
          f"{review.reviewed_by}: {review.conclusion}; state SHA-256 {review.state_sha256}; "
          f"next review due {review.next_due_on:%Y-%m-%d}.")
    if review.conclusion is Conclusion.RETIRE:
        print(RETIRE_NOTE)
    return 0


def _acting(engine: Engine, username: str) -> Principal:
    """The named account, with its current roles: who the review is recorded as (the command's
    operator holds the store's credentials already, as an admin does)."""
    from services.core.errors import NotFound
    from services.governance.accounts import account_principal
    from services.store.engine import session_scope

    with session_scope(engine) as session:
        principal = account_principal(session=session, username=username)
    if principal is None:
        raise NotFound(f"There is no account {username!r} (or it is disabled).",
                       hint="Name a validator's account: `govern users list` shows them.")
    return principal
