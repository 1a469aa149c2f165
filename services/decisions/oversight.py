"""Human oversight: the case file, the review queue, overrides, and the control check.

A logged decision is never changed: a person's verdict is a row of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from services.aliases import alias_tenures
from services.audit import append, refusals_recorded
from services.clock import utcnow
from services.decisions.search import DecisionRow, as_row, row_columns
from services.errors import InvalidInput, NotFound
from services.justification import justified
from services.permissions import Action, require
from services.principal import Principal
from services.store.engine import session_scope
from services.store.models import WAITING, Decision, Outcome, Override

REASON_CATEGORIES = ("confirmed as decided", "model error", "missing or wrong input",
                     "new information from the applicant", "complaint upheld",
                     "policy exception")
VERDICTS = ("approved", "declined")


@dataclass(frozen=True)
class OverrideRecord:
    id: int
    decision_id: str
    reviewer: str
    new_outcome: str
    reason_category: str
    justification: str
    created_at: datetime


@dataclass(frozen=True)
class CaseFile:
    row: DecisionRow
    features: dict[str, Any]
    reason_codes: list[Any] | None
    request_id: str | None
    aliases_then: tuple[str, ...]  # aliases the version held when it decided
    outcome_label: float | None
    outcome_observed_at: datetime | None
    overrides: tuple[OverrideRecord, ...]
    shadow_twins: tuple[DecisionRow, ...]  # other versions' scores of the same request

    @property
    def current_outcome(self) -> str:
        """The logged outcome, or the latest person's verdict on it."""
        return self.overrides[-1].new_outcome if self.overrides else self.row.outcome


def case_file(*, session: Session, decision_id: str) -> CaseFile:
    decision = session.scalar(select(Decision).where(Decision.decision_id == decision_id))
    if decision is None:
        raise NotFound(f"There is no decision {decision_id!r}.")
    overrides = tuple(_override(o) for o in session.scalars(
        select(Override).where(Override.decision_id == decision_id)
        .order_by(Override.created_at, Override.id)))
    outcome = session.get(Outcome, decision_id)
    twins: tuple[DecisionRow, ...] = ()
    if decision.request_id:
        twins = tuple(as_row(r, set()) for r in session.execute(
            select(*row_columns()).where(Decision.request_id == decision.request_id,
                                         Decision.decision_id != decision_id)))
    held = tuple(t.alias for t in alias_tenures(session=session, model_name=decision.model_name)
                 if t.version == decision.model_version and t.since <= decision.decided_at
                 and (t.until is None or decision.decided_at < t.until))
    row = as_row(next(iter(session.execute(select(*row_columns()).where(
        Decision.decision_id == decision_id)))), {decision_id} if overrides else set())
    return CaseFile(row, dict(decision.features), decision.reason_codes, decision.request_id,
                    held, outcome.label if outcome else None,
                    outcome.observed_at if outcome else None, overrides, twins)


def override_decision(*, engine: Engine, actor: Principal, decision_id: str,
                      new_outcome: str, reason_category: str,
                      justification: str) -> OverrideRecord:
    """A person's verdict on a decision, with the reason; the logged decision stays as it was."""
    with refusals_recorded(engine, actor, "decision.override", "decision", decision_id):
        require(actor, Action.OVERRIDE)
        if new_outcome not in VERDICTS:
            raise InvalidInput(f"A person decides {' or '.join(VERDICTS)}, not {new_outcome!r}.")
        if reason_category not in REASON_CATEGORIES:
            raise InvalidInput(f"Unknown reason {reason_category!r}.",
                               hint=f"Choose one of: {', '.join(REASON_CATEGORIES)}.")
        text = justified(justification)
        with session_scope(engine) as session:
            decision = session.scalar(select(Decision).where(Decision.decision_id == decision_id))
            if decision is None:
                raise NotFound(f"There is no decision {decision_id!r}.")
            if decision.shadow:
                raise InvalidInput("A shadow decision was never acted on; there is nothing to "
                                   "override.")
            row = Override(decision_id=decision_id, reviewer=actor.id, new_outcome=new_outcome,
                           reason_category=reason_category, justification=text,
                           created_at=utcnow())
            session.add(row)
            session.flush()
            append(session=session, actor=actor, action="decision.overridden",
                   subject_type="decision", subject_id=decision_id,
                   model_name=decision.model_name,
                   payload={"logged_outcome": decision.outcome, "new_outcome": new_outcome,
                            "reason_category": reason_category, "justification": text,
                            "model_version": decision.model_version})
            return _override(row)


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


def _override(row: Override) -> OverrideRecord:
    return OverrideRecord(row.id, row.decision_id, row.reviewer, row.new_outcome,
                          row.reason_category, row.justification, row.created_at)
