"""Findings as read: what validators found wrong with a model version, and their state.

Reads only. They live here, below governance, because the gates (an open high-severity finding
fails one) and the pillars (an overdue finding turns one red) read them; the workflow that
raises, works and closes findings is services.governance.findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.errors import NotFound
from services.store.models import FindingEvent, ValidationFinding


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Category(StrEnum):
    DATA = "data"
    CONCEPTUAL_SOUNDNESS = "conceptual soundness"
    PERFORMANCE = "performance"
    FAIRNESS = "fairness"
    IMPLEMENTATION = "implementation"
    DOCUMENTATION = "documentation"
    LIMITATION = "limitation"


class FindingStatus(StrEnum):
    OPEN = "open"
    REMEDIATION_IN_PROGRESS = "remediation in progress"
    READY_FOR_REVIEW = "ready for review"
    CLOSED = "closed"
    ACCEPTED_AS_LIMITATION = "accepted as limitation"


# Not yet settled: these count against the gate and can fall overdue.
UNRESOLVED = (FindingStatus.OPEN, FindingStatus.REMEDIATION_IN_PROGRESS,
              FindingStatus.READY_FOR_REVIEW)


@dataclass(frozen=True)
class FindingStep:
    """One step of a finding's timeline."""

    at: datetime
    actor: str
    status: FindingStatus
    note: str


@dataclass(frozen=True)
class FindingRecord:
    id: int
    model_name: str
    model_version: str
    title: str
    description: str
    severity: Severity
    category: Category
    owner: str
    due_on: date
    remediation_plan: str
    status: FindingStatus
    evidence_ids: tuple[int, ...]
    decision_ids: tuple[str, ...]
    raised_by: str
    raised_at: datetime
    worked_by: str | None
    closed_by: str | None
    closed_at: datetime | None
    steps: tuple[FindingStep, ...] = ()
    # Accepted as a limitation: the sentence decision letters tell applicants (None: not told).
    applicant_statement: str | None = None

    @property
    def unresolved(self) -> bool:
        return self.status in UNRESOLVED

    @property
    def is_limitation(self) -> bool:
        return self.status is FindingStatus.ACCEPTED_AS_LIMITATION

    def overdue(self, today: date) -> bool:
        """Past its due date and not settled (closed or accepted) by `today`."""
        return self.unresolved and self.due_on < today


def as_record(row: ValidationFinding, steps: tuple[FindingStep, ...] = ()) -> FindingRecord:
    return FindingRecord(
        id=row.id, model_name=row.model_name, model_version=row.model_version, title=row.title,
        description=row.description, severity=Severity(row.severity),
        category=Category(row.category), owner=row.owner, due_on=row.due_on,
        remediation_plan=row.remediation_plan, status=FindingStatus(row.status),
        evidence_ids=tuple(int(i) for i in row.evidence_ids),
        decision_ids=tuple(str(i) for i in row.decision_ids), raised_by=row.raised_by,
        raised_at=row.raised_at, worked_by=row.worked_by, closed_by=row.closed_by,
        closed_at=row.closed_at, steps=steps, applicant_statement=row.applicant_statement)


def findings_for_version(*, session: Session, model_name: str,
                         version: str | None = None) -> list[FindingRecord]:
    """A version's findings (every version's when version is None), unresolved first, then the
    most severe and the soonest due; without their timelines."""
    query = select(ValidationFinding).where(ValidationFinding.model_name == model_name)
    if version is not None:
        query = query.where(ValidationFinding.model_version == str(version))
    records = [as_record(row) for row in session.scalars(query)]
    order = {s: i for i, s in enumerate(Severity)}
    return sorted(records, key=lambda f: (not f.unresolved, order[f.severity], f.due_on, f.id))


def all_findings(*, session: Session) -> list[FindingRecord]:
    """Every finding of every model, by model, version and id."""
    rows = session.scalars(select(ValidationFinding).order_by(
        ValidationFinding.model_name, ValidationFinding.model_version, ValidationFinding.id))
    return [as_record(row) for row in rows]


def finding(*, session: Session, finding_id: int) -> FindingRecord:
    """One finding with its timeline, oldest step first.

    Raises:
        NotFound: there is no finding with this id.
    """
    row = session.get(ValidationFinding, finding_id)
    if row is None:
        raise NotFound(f"There is no finding #{finding_id}.")
    steps = tuple(FindingStep(e.at, e.actor, FindingStatus(e.status), e.note)
                  for e in session.scalars(select(FindingEvent).where(
                      FindingEvent.finding_id == finding_id).order_by(FindingEvent.at,
                                                                      FindingEvent.id)))
    return as_record(row, steps)


def open_high(findings: list[FindingRecord]) -> list[FindingRecord]:
    return [f for f in findings if f.unresolved and f.severity is Severity.HIGH]


def overdue(findings: list[FindingRecord], today: date) -> list[FindingRecord]:
    return [f for f in findings if f.overdue(today)]


def limitations(findings: list[FindingRecord]) -> list[FindingRecord]:
    """The limitations register: findings accepted as limitations of the model."""
    return [f for f in findings if f.is_limitation]
