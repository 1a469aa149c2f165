"""Health over time: a served model's daily volume, escalations, overrides, and how its scores
compare with outcomes as those arrive (with the share known, so label delay is visible).

Grouped by day in SQL over the chosen window only; the log is never read whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from services.store.models import Decision, Outcome, Override


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
    day = func.date(Decision.decided_at)
    window = (Decision.model_name == model_name, Decision.shadow.is_(False),
              Decision.decided_at >= datetime.combine(start, time.min),
              Decision.decided_at < datetime.combine(end, time.min))
    went_to_person = case((Decision.outcome.in_(("escalated", "error")), 1), else_=0)
    labelled_score = case((Outcome.decision_id.is_not(None), Decision.score), else_=None)
    rows = session.execute(
        select(day, func.count(), func.sum(went_to_person), func.count(Outcome.decision_id),
               func.avg(Outcome.label), func.avg(labelled_score))
        .select_from(Decision).outerjoin(Outcome, Outcome.decision_id == Decision.decision_id)
        .where(*window).group_by(day).order_by(day)).all()
    overridden: dict[object, int] = dict(session.execute(
        select(day, func.count(func.distinct(Override.decision_id)))
        .join(Decision, Decision.decision_id == Override.decision_id)
        .where(*window).group_by(day)).tuples().all())
    return [HealthDay(_as_date(d), int(n), int(esc or 0), int(overridden.get(d, 0)),
                      int(lab), float(rate) if rate is not None else None,
                      float(score) if score is not None else None)
            for d, n, esc, lab, rate, score in rows]


def _as_date(value: object) -> date:
    # SQLite's date() gives text, PostgreSQL's a date.
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
