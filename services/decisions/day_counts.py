"""Acted-on decisions counted per model, version, day and outcome.

Escalation and override rates, the portfolio's activity and the monitor read these counts: a
window costs one row per day and outcome, whatever the log's size. Every write of decisions
adds its counts in its own transaction (ingest, the demo), so they never disagree with the log;
`govern db recount` counts the log again (as the migration that made the table did).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from services.audit.actions import AuditAction
from services.audit.chain import append, lock_trail
from services.core.principal import Principal
from services.store.engine import session_scope
from services.store.models import Decision, DecisionDay

Key = tuple[str, str, date, str]  # model, version, day, outcome


def window_days(as_of: datetime, days: int) -> tuple[date, date]:
    """The first and last day of the `days` days that end at `as_of`: the day as_of falls in
    counts (a run at 10:00 counts today so far), a midnight as_of ends the day before."""
    last = (as_of - timedelta(microseconds=1)).date()
    return last - timedelta(days=days - 1), last


class DayCounts:
    """Counts a write's decisions; adds them to the stored counts once, at the end."""

    def __init__(self) -> None:
        self._counts: Counter[Key] = Counter()

    def add(self, decisions: Iterable[Mapping[str, Any]]) -> None:
        # A generator into Counter: counted in C, a small share of an ingest's time.
        self._counts.update((d["model_name"], d["model_version"], d["decided_at"].date(),
                             d["outcome"]) for d in decisions if not d.get("shadow"))

    def write(self, connection: Connection) -> int:
        """Add to the stored counts (an upsert per cell); the cells written."""
        if not self._counts:
            return 0
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(DecisionDay)
        statement = statement.on_conflict_do_update(
            index_elements=["model_name", "day", "model_version", "outcome"],
            set_={"decisions": DecisionDay.decisions + statement.excluded.decisions})
        connection.execute(statement, [
            {"model_name": model, "model_version": version, "day": day, "outcome": outcome,
             "decisions": n} for (model, version, day, outcome), n in self._counts.items()])
        written, self._counts = len(self._counts), Counter()
        return written


def outcome_counts(connection: Connection, model_name: str, first: date,
                   last: date) -> dict[str, int]:
    """A model's acted-on decisions by outcome over the days first..last (all versions)."""
    return {str(outcome): int(n) for outcome, n in connection.execute(
        select(DecisionDay.outcome, func.sum(DecisionDay.decisions))
        .where(DecisionDay.model_name == model_name, DecisionDay.day >= first,
               DecisionDay.day <= last)
        .group_by(DecisionDay.outcome))}


def recount_days(*, engine: Engine, actor: Principal) -> int:
    """`govern db recount`: count the whole log again, for decisions written to the store
    around the ingest (by SQL, say). Audited; the cells written."""
    with session_scope(engine) as session:
        lock_trail(session=session)  # no ingest adds to the counts meanwhile
        cells = rebuild_day_counts(session.connection())
        append(session=session, actor=actor, action=AuditAction.DAY_COUNTS_REBUILT,
               subject_type="store",
               subject_id="decision_days", payload={"cells": cells})
    return cells


def rebuild_day_counts(connection: Connection) -> int:
    """Count the whole log again, in the caller's transaction."""
    connection.execute(delete(DecisionDay))
    day: Any = func.date(Decision.decided_at) if connection.dialect.name == "sqlite" else \
        func.cast(Decision.decided_at, DecisionDay.day.type)
    counted = select(Decision.model_name, Decision.model_version, day.label("day"),
                     Decision.outcome, func.count().label("decisions")) \
        .where(Decision.shadow.is_(False)) \
        .group_by(Decision.model_name, Decision.model_version, day, Decision.outcome)
    connection.execute(insert(DecisionDay).from_select(
        ["model_name", "model_version", "day", "outcome", "decisions"], counted))
    return int(connection.scalar(select(func.count()).select_from(DecisionDay)) or 0)
