"""Periodic reviews as read: each model's last review, when the next falls due, and the triggers
that made it due sooner (SR 26-2's risk-based review; the cycle and triggers are per tier in
policy.toml). The workflow that records a review is services.governance.reviews.

When a review falls due:
- after a review: on the next_due_on that review set (the tier's review_cycle_days, or sooner);
- never reviewed: one cycle after the serving champion's latest evaluation evidence (the
  validation that let it into production); a champion never evaluated is due now;
- no champion serves: not due (nothing in production to review);
- a trigger of the tier fired since the last review (or, never reviewed, since that
  evaluation) makes it due now ("triggered"), unless it is overdue already.

Every figure comes from small tables (reviews, alerts, the alias history, policy exceptions,
findings, evaluation dates), one query each for all models: the cost grows with the number of
models and of people's acts, never with the decision log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.core.canonical import sha256_of
from services.core.clock import utcnow
from services.core.policy import Policy
from services.evidence.findings import UNRESOLVED, Severity
from services.registry.adapter import ModelSummary, Registry
from services.store.models import (
    Alert,
    AliasChange,
    Evidence,
    PeriodicReview,
    PolicyException,
    PromotionRequest,
    ValidationFinding,
)

DUE_SOON_DAYS = 30  # a review due within this many days is "due soon"
# The monitor's alert kinds each trigger watches (services.monitoring.assessment).
ALERT_TRIGGERS = {"drift_alert": ("drift",),
                  "performance_alert": ("performance", "performance_estimate")}


class Conclusion(StrEnum):
    CONTINUE = "continue"
    CONTINUE_WITH_CONDITIONS = "continue with conditions"
    REMEDIATE = "remediate"
    RETIRE = "retire"


class ReviewState(StrEnum):
    """Where a model stands in its review cycle, worst first."""

    OVERDUE = "overdue"
    TRIGGERED = "triggered"  # a trigger fired since the last review: due now
    DUE = "due"  # due today (or never validated)
    DUE_SOON = "due soon"
    NOT_DUE = "not due"


@dataclass(frozen=True)
class ReviewRecord:
    """One recorded review, with the state frozen then (canonical JSON) and its hash."""

    id: int
    model_name: str
    model_version: str
    reviewed_by: str
    reviewed_at: datetime
    conclusion: Conclusion
    justification: str
    conditions: str
    triggers: tuple[str, ...]
    state: dict[str, Any]
    state_sha256: str
    policy_sha256: str
    next_due_on: date

    @property
    def intact(self) -> bool:
        """The frozen state still hashes to what was stored with it."""
        return sha256_of(self.state) == self.state_sha256


@dataclass(frozen=True)
class TriggerFired:
    trigger: str  # policy.REVIEW_TRIGGERS
    at: datetime
    detail: str
    version: str | None = None  # the version it concerns, where one does


@dataclass(frozen=True)
class ReviewStatus:
    """A model's place in its review cycle, as of `as_of`."""

    model_name: str
    owner: str | None
    risk_tier: str | None
    champion: str | None
    cycle_days: int
    last_review: ReviewRecord | None
    due_on: date | None  # None: not serving, nothing to review
    state: ReviewState
    reason: str
    fired: tuple[TriggerFired, ...]
    as_of: datetime
    # What the cycle and the triggers count from: the last review, or (never reviewed) the
    # champion's latest evaluation; None with a champion: it was never validated.
    since: datetime | None = None

    @property
    def needs_review(self) -> bool:
        """Due, due soon, triggered or overdue: what the calendar lists."""
        return self.state is not ReviewState.NOT_DUE


def as_record(row: PeriodicReview) -> ReviewRecord:
    return ReviewRecord(row.id, row.model_name, row.model_version, row.reviewed_by,
                        row.reviewed_at, Conclusion(row.conclusion), row.justification,
                        row.conditions, tuple(str(t) for t in row.triggers), dict(row.state),
                        row.state_sha256, row.policy_sha256, row.next_due_on)


def review_history(*, session: Session, model_name: str) -> list[ReviewRecord]:
    """Every review of a model, newest first."""
    rows = session.scalars(select(PeriodicReview).where(PeriodicReview.model_name == model_name)
                           .order_by(PeriodicReview.reviewed_at.desc(),
                                     PeriodicReview.id.desc()))
    return [as_record(row) for row in rows]


def review_calendar(*, session: Session, registry: Registry, policy: Policy,
                    now: datetime | None = None) -> list[ReviewStatus]:
    """Every registered model's review status, by owner, then the soonest due first.

    Raises:
        SourceUnavailable: the registry cannot be read.
    """
    statuses = review_statuses(session=session, models=registry.list_models(), policy=policy,
                               now=now or utcnow())
    return sorted(statuses.values(), key=_calendar_order)


def reviews_due(*, session: Session, registry: Registry, policy: Policy,
                now: datetime | None = None) -> list[ReviewStatus]:
    """The reviews due, due soon (within DUE_SOON_DAYS), triggered or overdue, by owner: what
    `govern monitor` reports and what a notification of a review due is sent for."""
    return [s for s in review_calendar(session=session, registry=registry, policy=policy,
                                       now=now) if s.needs_review]


def review_status(*, session: Session, registry: Registry, policy: Policy, model_name: str,
                  now: datetime | None = None) -> ReviewStatus:
    """One model's review status.

    Raises:
        NotFound: the model is not registered. SourceUnavailable: the registry is down.
    """
    model = registry.get_model(model_name)
    return review_statuses(session=session, models=[model], policy=policy,
                           now=now or utcnow())[model.name]


def review_statuses(*, session: Session, models: Sequence[ModelSummary], policy: Policy,
                    now: datetime,
                    champions: Mapping[str, str | None] | None = None) -> dict[str, ReviewStatus]:
    """Each model's status as of `now`, counting only what was recorded by then.
    champions: the version serving each model then (default: the registry's champion now)."""
    names = [m.name for m in models]
    serving = {m.name: (champions[m.name] if champions is not None and m.name in champions
                        else m.aliases.get("champion")) for m in models}
    last = _last_reviews(session, names, now)
    evaluated = _evaluated(session, names, now)
    events = _events(session, names, now)
    statuses = {}
    for model in models:
        tier = policy.for_tier(model.risk_tier)
        champion = serving[model.name]
        review = last.get(model.name)
        anchor = review.reviewed_at if review else evaluated.get((model.name, champion or ""))
        fired = tuple(e for e in events[model.name]
                      if e.trigger in tier.review_triggers and anchor is not None
                      and _after(e, anchor, review, champion))
        due, state, reason = _judge(review, champion, anchor, tier.review_cycle_days, fired,
                                    now.date())
        statuses[model.name] = ReviewStatus(model.name, model.owner, model.risk_tier, champion,
                                            tier.review_cycle_days, review, due, state, reason,
                                            fired, now, anchor)
    return statuses


def _judge(review: ReviewRecord | None, champion: str | None, anchor: datetime | None,
           cycle: int, fired: tuple[TriggerFired, ...],
           today: date) -> tuple[date | None, ReviewState, str]:
    if champion is None:
        return None, ReviewState.NOT_DUE, "No champion serves: nothing in production to review."
    if review is not None:
        due, since = review.next_due_on, (f"Last reviewed {review.reviewed_at:%Y-%m-%d} by "
                                          f"{review.reviewed_by} ({review.conclusion}).")
    elif anchor is not None:
        due = (anchor + timedelta(days=cycle)).date()
        since = f"Never reviewed; v{champion} was evaluated {anchor:%Y-%m-%d}."
    else:
        return today, ReviewState.DUE, f"v{champion} has no evaluation evidence: never validated."
    if due < today:
        return due, ReviewState.OVERDUE, f"{since} Overdue since {due:%Y-%m-%d}."
    if review is not None and review.conclusion is Conclusion.RETIRE:
        # A review moves no alias: a model concluded retire that still serves needs a person
        # now, not at the end of a cycle it should not live to see.
        return today, ReviewState.TRIGGERED, (
            f"{since} Concluded retire, yet v{champion} still serves: retire it (move or "
            "remove its aliases through a promotion or rollback) or review it again.")
    if fired:
        what = "; ".join(f"{e.trigger.replace('_', ' ')}: {e.detail}" for e in fired[:3])
        return today, ReviewState.TRIGGERED, f"{since} Due now: {what}."
    if due == today:
        return due, ReviewState.DUE, f"{since} Due today."
    if due <= today + timedelta(days=DUE_SOON_DAYS):
        return due, ReviewState.DUE_SOON, f"{since} Due {due:%Y-%m-%d}."
    return due, ReviewState.NOT_DUE, f"{since} Next review due {due:%Y-%m-%d}."


def _after(event: TriggerFired, anchor: datetime, review: ReviewRecord | None,
           champion: str | None) -> bool:
    """A trigger counts when it happened after the anchor; a champion change only when it
    put a version other than the one reviewed (or evaluated) into production."""
    if event.trigger == "material_change":
        reviewed = review.model_version if review else champion
        return event.at > anchor and event.version != reviewed
    if event.trigger == "open_high_finding":  # the serving version's, not a challenger's
        return event.at > anchor and event.version == champion
    return event.at > anchor


def _calendar_order(status: ReviewStatus) -> tuple[str, int, date, str]:
    rank = list(ReviewState).index(status.state)
    return (status.owner or "~", rank, status.due_on or date.max, status.model_name)


def _last_reviews(session: Session, names: list[str], now: datetime) -> dict[str, ReviewRecord]:
    newest = (select(func.max(PeriodicReview.id))
              .where(PeriodicReview.model_name.in_(names), PeriodicReview.reviewed_at <= now)
              .group_by(PeriodicReview.model_name))
    return {row.model_name: as_record(row)
            for row in session.scalars(select(PeriodicReview).where(
                PeriodicReview.id.in_(newest)))}


def _evaluated(session: Session, names: list[str], now: datetime) -> dict[tuple[str, str],
                                                                          datetime]:
    rows = session.execute(select(Evidence.model_name, Evidence.model_version,
                                  func.max(Evidence.created_at))
                           .where(Evidence.kind == "evaluation", Evidence.model_name.in_(names),
                                  Evidence.created_at <= now)
                           .group_by(Evidence.model_name, Evidence.model_version)).all()
    return {(name, version): at for name, version, at in rows}


def _events(session: Session, names: list[str], now: datetime) -> dict[str, list[TriggerFired]]:
    """What could have triggered a review, per model, oldest first; each trigger's own rule
    of what counts is applied by _after."""
    found: dict[str, list[TriggerFired]] = defaultdict(list)
    kinds = {kind: trigger for trigger, kinds in ALERT_TRIGGERS.items() for kind in kinds}
    for name, kind, at, alert_id, version in session.execute(
            select(Alert.model_name, Alert.kind, Alert.opened_at, Alert.id, Alert.model_version)
            .where(Alert.model_name.in_(names), Alert.kind.in_(kinds), Alert.opened_at <= now)):
        found[name].append(TriggerFired(kinds[kind], at, f"alert #{alert_id} ({kind}) on "
                                        f"v{version} opened {at:%Y-%m-%d}", version))
    for name, at, version, previous in session.execute(
            select(AliasChange.model_name, AliasChange.changed_at, AliasChange.version,
                   AliasChange.previous_version)
            .where(AliasChange.model_name.in_(names), AliasChange.alias == "champion",
                   AliasChange.version.is_not(None), AliasChange.changed_at <= now)):
        found[name].append(TriggerFired("material_change", at, f"v{version} became champion "
                                        f"{at:%Y-%m-%d} (was v{previous or '-'})", version))
    for name, expires, exception_id in session.execute(
            select(PromotionRequest.model_name, PolicyException.expires_on, PolicyException.id)
            .join(PromotionRequest, PromotionRequest.id == PolicyException.request_id)
            .where(PromotionRequest.model_name.in_(names),
                   PolicyException.expires_on < now.date())):
        # It has expired from the day after its last valid day.
        at = datetime.combine(expires + timedelta(days=1), datetime.min.time())
        found[name].append(TriggerFired("exception_expired", at, f"policy exception "
                                        f"#{exception_id} expired {expires:%Y-%m-%d}"))
    for name, version, at, finding_id, title in session.execute(
            select(ValidationFinding.model_name, ValidationFinding.model_version,
                   ValidationFinding.raised_at, ValidationFinding.id, ValidationFinding.title)
            .where(ValidationFinding.model_name.in_(names),
                   ValidationFinding.severity == Severity.HIGH,
                   ValidationFinding.status.in_([str(s) for s in UNRESOLVED]),
                   ValidationFinding.raised_at <= now)):
        found[name].append(TriggerFired("open_high_finding", at, f"v{version} high finding "
                                        f"#{finding_id} {title}", version))
    for events in found.values():
        events.sort(key=lambda e: e.at)
    return found
