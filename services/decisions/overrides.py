"""Overrides: a person's verdict on a logged decision, with its reason and justification.

A logged decision is never changed: a person's verdict is a row of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.audit.actions import AuditAction
from services.audit.chain import append, lock_trail, refusals_recorded
from services.core.clock import utcnow
from services.core.errors import InvalidInput, NotFound
from services.core.justification import justified
from services.core.outcomes import VERDICTS
from services.core.permissions import Action, require
from services.core.principal import Principal
from services.store.engine import session_scope
from services.store.models import Decision, Override

CONFIRMED = "confirmed as decided"
REVIEWED = "decided by a person on review"
CHANGED_REASONS = ("model error", "missing or wrong input", "new information from the applicant",
                   "complaint upheld", "policy exception")
REASON_CATEGORIES = (CONFIRMED, REVIEWED, *CHANGED_REASONS)


def reasons_for(logged_outcome: str, new_outcome: str) -> tuple[str, ...]:
    """The reasons that can go with a verdict: a verdict equal to the model's automatic outcome
    confirms it; one that differs says why; a decision the model sent to a person (escalated or
    errored) is decided on review, or for one of the reasons a verdict differs. So the letter
    never says "confirmed as decided" beside a changed outcome."""
    if logged_outcome not in VERDICTS:
        return (REVIEWED, *CHANGED_REASONS)
    return (CONFIRMED,) if new_outcome == logged_outcome else CHANGED_REASONS


@dataclass(frozen=True)
class OverrideRecord:
    id: int
    decision_id: str
    reviewer: str
    new_outcome: str
    reason_category: str
    justification: str
    created_at: datetime


def override_decision(*, engine: Engine, actor: Principal, decision_id: str,
                      new_outcome: str, reason_category: str,
                      justification: str) -> OverrideRecord:
    """A person's verdict on a decision, with the reason; the logged decision stays as it was.

    Idempotent: the same reviewer sending the same verdict, reason and justification again
    (a double click, a retried request) gets the verdict already stored, and nothing is added.

    Raises:
        PermissionDenied: the actor may not override.
        InvalidInput: an unknown verdict or reason, a reason that does not go with the verdict
            (see reasons_for), a justification too short or too long, a shadow decision.
        NotFound: no such decision.
    """
    with refusals_recorded(engine, actor, AuditAction.DECISION_OVERRIDE_REFUSED, "decision",
                           decision_id):
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
            if reason_category not in (fitting := reasons_for(decision.outcome, new_outcome)):
                raise InvalidInput(
                    f"{reason_category.capitalize()!r} does not go with a verdict of "
                    f"{new_outcome} on a decision logged as {decision.outcome}.",
                    hint=f"Choose one of: {', '.join(fitting)}.")
            lock_trail(session=session)  # two identical submits: the second sees the first
            if (same := _same_verdict(session, decision_id, actor, new_outcome,
                                      reason_category, text)) is not None:
                return as_override(same)
            row = Override(decision_id=decision_id, reviewer=actor.id, new_outcome=new_outcome,
                           reason_category=reason_category, justification=text,
                           created_at=utcnow())
            session.add(row)
            session.flush()
            append(session=session, actor=actor, action=AuditAction.DECISION_OVERRIDDEN,
                   subject_type="decision", subject_id=decision_id,
                   model_name=decision.model_name,
                   payload={"logged_outcome": decision.outcome, "new_outcome": new_outcome,
                            "reason_category": reason_category, "justification": text,
                            "model_version": decision.model_version})
            return as_override(row)


def _same_verdict(session: Session, decision_id: str, actor: Principal, new_outcome: str,
                  reason_category: str, text: str) -> Override | None:
    """The reviewer's latest verdict on the decision, when it is the one being sent again."""
    latest = session.scalars(select(Override).where(
        Override.decision_id == decision_id, Override.reviewer == actor.id)
        .order_by(Override.id.desc()).limit(1)).first()
    if latest is not None and (latest.new_outcome, latest.reason_category,
                               latest.justification) == (new_outcome, reason_category, text):
        return latest
    return None


def as_override(row: Override) -> OverrideRecord:
    return OverrideRecord(row.id, row.decision_id, row.reviewer, row.new_outcome,
                          row.reason_category, row.justification, row.created_at)
