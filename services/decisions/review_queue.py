"""The review queue (decisions that failed closed and wait for a person) and the control check
(automatic decisions the policy says should have gone to a person)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from services.core.outcomes import VERDICTS, WAITING
from services.decisions.search import DecisionRow, as_row, row_columns
from services.store.models import Decision, Override


@dataclass(frozen=True)
class QueuePage:
    rows: list[DecisionRow]
    total: int
    oldest: datetime | None


def review_queue(*, session: Session, model_name: str | None = None, limit: int = 50,
                 offset: int = 0) -> QueuePage:
    """Decisions that failed closed and wait for a person, oldest first."""
    literal: Any = bindparam("waiting", list(WAITING), expanding=True, literal_execute=True)
    waiting = and_(Decision.shadow.is_(False), Decision.outcome.in_(literal),
                   ~select(Override.id).where(Override.decision_id == Decision.decision_id)
                   .exists())
    if model_name:
        waiting = and_(waiting, Decision.model_name == model_name)
    total, oldest = session.execute(
        select(func.count(), func.min(Decision.decided_at)).where(waiting)).one()
    rows = session.execute(select(*row_columns()).where(waiting)
                           .order_by(Decision.decided_at, Decision.id)
                           .limit(limit).offset(offset)).all()
    return QueuePage([as_row(r, set()) for r in rows], int(total), oldest)


def control_violations(*, session: Session, margins: dict[str, float], limit: int = 50,
                       offset: int = 0, since: datetime | None = None,
                       until: datetime | None = None) -> QueuePage:
    """Automatic decisions the policy says should have gone to a person (score too close to
    the threshold). margins: model name -> its tier's confidence margin."""
    if not margins:
        return QueuePage([], 0, None)
    close = or_(*(and_(Decision.model_name == model,
                       func.abs(Decision.score - Decision.threshold) < margin)
                  for model, margin in margins.items()))
    violating = and_(Decision.shadow.is_(False), Decision.outcome.in_(VERDICTS), close)
    if since is not None:
        violating = and_(violating, Decision.decided_at >= since)
    if until is not None:
        violating = and_(violating, Decision.decided_at < until)
    total, oldest = session.execute(
        select(func.count(), func.min(Decision.decided_at)).where(violating)).one()
    rows = session.execute(select(*row_columns()).where(violating)
                           .order_by(Decision.decided_at.desc()).limit(limit)
                           .offset(offset)).all()
    return QueuePage([as_row(r, set()) for r in rows], int(total), oldest)
