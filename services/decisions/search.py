"""Finding decisions: filters in SQL, a page of rows and the count, never the whole log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from services.store.models import Decision, Override


@dataclass(frozen=True)
class DecisionFilter:
    model_name: str | None = None
    model_version: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    outcomes: tuple[str, ...] = ()
    subject_ref: str | None = None  # the beginning of a subject reference, in any letter case
    decision_id: str | None = None  # the beginning of a decision id, as written
    score_min: float | None = None
    score_max: float | None = None
    include_shadow: bool = False


@dataclass(frozen=True)
class DecisionRow:
    decision_id: str
    model_name: str
    model_version: str
    decided_at: datetime
    subject_ref: str
    score: float | None
    threshold: float | None
    outcome: str
    escalation_reason: str | None
    shadow: bool
    overridden: bool = False


COUNT_CAP = 100_000  # a search counts at most this many matches: its cost stays bounded


@dataclass(frozen=True)
class DecisionPage:
    rows: list[DecisionRow]
    total: int  # exact up to COUNT_CAP; COUNT_CAP + 1 means "more than COUNT_CAP"
    page: int
    page_size: int
    counts_by_outcome: dict[str, int] = field(default_factory=dict)  # empty when capped

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def pages(self) -> int:
        return max(1, -(-min(self.total, COUNT_CAP) // self.page_size))


def _ascii_lower(text: str) -> str:
    # What SQL's lower() does on SQLite (ASCII letters only), so both sides fold alike.
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _starts_with(expression: Any, prefix: str, dialect: str) -> Any:
    """`expression` begins with `prefix`, as a range an index answers: prefix <= value < the
    prefix with its last character incremented, in code-point order (PostgreSQL: COLLATE "C",
    as its indexes are built in migration 0010; SQLite compares bytes, the same order)."""
    if dialect == "postgresql":
        expression = expression.collate("C")
    following = ord(prefix[-1]) + 1
    following = 0xE000 if 0xD800 <= following < 0xE000 else min(following, 0x10FFFF)  # UTF-8
    after = prefix[:-1] + chr(following)
    return and_(expression >= prefix, expression < after)


def _filtered(query: Any, f: DecisionFilter, dialect: str) -> Any:
    # Every value is a bound parameter: nothing a person types becomes SQL.
    if f.model_name:
        query = query.where(Decision.model_name == f.model_name)
    if f.model_version:
        query = query.where(Decision.model_version == f.model_version)
    if f.start:
        query = query.where(Decision.decided_at >= f.start)
    if f.end:
        query = query.where(Decision.decided_at < f.end)
    if f.outcomes:
        query = query.where(Decision.outcome.in_(f.outcomes))
    if f.subject_ref and f.subject_ref.strip():
        query = query.where(_starts_with(func.lower(Decision.subject_ref),
                                         _ascii_lower(f.subject_ref.strip()), dialect))
    if f.decision_id and f.decision_id.strip():
        query = query.where(_starts_with(Decision.decision_id, f.decision_id.strip(), dialect))
    # A model's score range is read from its index (which carries the score).
    if f.score_min is not None:
        query = query.where(Decision.score >= f.score_min)
    if f.score_max is not None:
        query = query.where(Decision.score <= f.score_max)
    if not f.include_shadow:
        query = query.where(Decision.shadow.is_(False))
    return query


def search_decisions(*, session: Session, filters: DecisionFilter, page: int = 1,
                     page_size: int = 50) -> DecisionPage:
    """One page of matching decisions, newest first, with the total and counts by outcome.

    A subject matches by the beginning of its reference in any letter case (ASCII letters), a
    decision id by its beginning as written; both are index ranges (migration 0010)."""
    page_size = min(max(page_size, 1), 500)
    page = max(page, 1)
    dialect = session.get_bind().dialect.name
    # Count over at most COUNT_CAP + 1 matches; past that the page says "more than".
    matches = _filtered(select(Decision.outcome), filters, dialect).limit(COUNT_CAP + 1).subquery()
    counts: dict[str, int] = {str(outcome): int(n) for outcome, n in session.execute(
        select(matches.c.outcome, func.count()).group_by(matches.c.outcome))}
    total = sum(counts.values())
    if total > COUNT_CAP:
        counts = {}  # a breakdown of an arbitrary first 100,000 would mislead
    rows = session.execute(
        _filtered(select(*_ROW_COLUMNS), filters, dialect)
        .order_by(Decision.decided_at.desc(), Decision.id.desc())
        .limit(page_size).offset((page - 1) * page_size)
    ).all()
    overridden = overridden_ids(session=session, decision_ids=[r.decision_id for r in rows])
    return DecisionPage([as_row(r, overridden) for r in rows], total, page, page_size, counts)


def as_row(row: Any, overridden: set[str]) -> DecisionRow:
    fields = dict(zip((c.key for c in _ROW_COLUMNS), row, strict=True))
    return DecisionRow(**fields, overridden=row.decision_id in overridden)


def overridden_ids(*, session: Session, decision_ids: list[str]) -> set[str]:
    if not decision_ids:
        return set()
    return set(session.scalars(select(Override.decision_id).where(
        Override.decision_id.in_(decision_ids))))


_ROW_COLUMNS = (Decision.decision_id, Decision.model_name, Decision.model_version,
                Decision.decided_at, Decision.subject_ref, Decision.score, Decision.threshold,
                Decision.outcome, Decision.escalation_reason, Decision.shadow)


def row_columns() -> tuple[Any, ...]:
    """The columns a DecisionRow is built from, for other queries that list decisions."""
    return _ROW_COLUMNS
