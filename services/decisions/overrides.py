"""Overrides: a person's verdict on a logged decision, with its reason and justification.

A logged decision is never changed: a person's verdict is a row of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from services.audit.actions import AuditAction
from services.audit.chain import append, refusals_recorded
from services.core.clock import utcnow
from services.core.errors import InvalidInput, NotFound
from services.core.justification import justified
from services.core.outcomes import VERDICTS
from services.core.permissions import Action, require
from services.core.principal import Principal
from services.store.engine import session_scope
from services.store.models import Decision, Override

REASON_CATEGORIES = ("confirmed as decided", "model error", "missing or wrong input",
                     "new information from the applicant", "complaint upheld",
                     "policy exception")


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
    """A person's verdict on a decision, with the reason; the logged decision stays as it was."""
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


def as_override(row: Override) -> OverrideRecord:
    return OverrideRecord(row.id, row.decision_id, row.reviewer, row.new_outcome,
                          row.reason_category, row.justification, row.created_at)
