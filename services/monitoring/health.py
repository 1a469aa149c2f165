"""Health over time: a served model's daily volume, escalations, overrides, and how its scores
compare with outcomes as those arrive (with the share known, so label delay is visible).

Volumes come from the day counts, labels from the model's outcomes, overrides from the
overrides: the cost follows days, labels and people's acts, never the model's traffic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from services.core.outcomes import WAITING
from services.store.hints import unindexed
from services.store.models import Decision, DecisionDay, Outcome, Override


@dataclass(frozen=True)
class HealthDay:
    day: date
    decisions: int
    escalated: int  # escalated or errored: went to a person
    overridden: int
    labelled: int  # outcomes known so far
    observed_rate: float | None  # share of labelled decisions whose label is positive
    mean_score: float | None  # of the labelled decisions: compare with observed_rate

    @property
    def escalation_rate(self) -> float:
        return self.escalated / self.decisions if self.decisions else 0.0

    @property
    def override_rate(self) -> float:
        return self.overridden / self.decisions if self.decisions else 0.0

    @property
    def labelled_share(self) -> float:
        return self.labelled / self.decisions if self.decisions else 0.0


def health_by_day(*, session: Session, model_name: str, start: date,
                  end: date) -> list[HealthDay]:
    """One row per day of [start, end) with decisions of the model (acted on, not shadow)."""
    went_to_person = case((DecisionDay.outcome.in_(WAITING), DecisionDay.decisions), else_=0)
    volumes = session.execute(
        select(DecisionDay.day, func.sum(DecisionDay.decisions), func.sum(went_to_person))
        .where(DecisionDay.model_name == model_name, DecisionDay.day >= start,
               DecisionDay.day < end)
        .group_by(DecisionDay.day).order_by(DecisionDay.day)).all()
    since, until = datetime.combine(start, time.min), datetime.combine(end, time.min)
    # The window's decisions, reached from the outcomes and overrides (an outcome or an
    # override comes after its decision, so after the window's start).
    decided = (unindexed(Decision.shadow).is_(False), unindexed(Decision.decided_at) >= since,
               unindexed(Decision.decided_at) < until)
    day = func.date(Decision.decided_at)
    labels = {_as_date(d): (int(n), rate, score) for d, n, rate, score in session.execute(
        select(day, func.count(), func.avg(Outcome.label), func.avg(Decision.score))
        .select_from(Outcome).join(Decision, Decision.decision_id == Outcome.decision_id)
        .where(Outcome.model_name == model_name, Outcome.observed_at >= since, *decided)
        .group_by(day))}
    overridden = {_as_date(d): int(n) for d, n in session.execute(
        select(day, func.count(func.distinct(Override.decision_id)))
        .join(Decision, Decision.decision_id == Override.decision_id)
        .where(unindexed(Decision.model_name) == model_name, Override.created_at >= since,
               *decided).group_by(day))}
    days = []
    for d, n, escalated in volumes:
        labelled, rate, score = labels.get(d, (0, None, None))
        days.append(HealthDay(d, int(n), int(escalated or 0), overridden.get(d, 0), labelled,
                              float(rate) if rate is not None else None,
                              float(score) if score is not None else None))
    return days


def _as_date(value: object) -> date:
    # SQLite's date() gives text, PostgreSQL's a date.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
