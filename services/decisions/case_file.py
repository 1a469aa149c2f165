"""The case file of one decision: inputs as logged, the version and aliases then, the outcome,
shadow twins and every person's verdict on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.errors import NotFound
from services.decisions.overrides import OverrideRecord, as_override
from services.decisions.search import DecisionRow, as_row, row_columns
from services.registry.aliases import alias_tenures
from services.store.models import Decision, Outcome, Override


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
    overrides = tuple(as_override(o) for o in session.scalars(
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
