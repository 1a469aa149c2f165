"""Tables of the model risk workflow: validators' findings and their timeline, periodic
reviews, documents received with vendor models, and the notification outbox with each
person's choices. Alembic (migrations/) owns the schema; this mirrors it. Kept apart from
services.store.models (which re-exports them) only for size: one Base, one metadata.

Times are naive UTC throughout (SQLite keeps no zone; see services.core.clock.utcnow).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.store.base import Base


class ValidationFinding(Base):
    """What a validator found wrong with a model version, who must fix it and by when.

    Its current state; each change adds a FindingEvent (the timeline) and an audit event."""

    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(256))
    model_version: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))  # evidence.findings.Severity
    category: Mapped[str] = mapped_column(String(32))  # evidence.findings.Category
    owner: Mapped[str] = mapped_column(String(128))  # the account that must remediate it
    due_on: Mapped[date] = mapped_column(Date)
    remediation_plan: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32))  # evidence.findings.FindingStatus
    evidence_ids: Mapped[list[Any]] = mapped_column(default=list)
    decision_ids: Mapped[list[Any]] = mapped_column(default=list)
    raised_by: Mapped[str] = mapped_column(String(128))
    raised_at: Mapped[datetime] = mapped_column(DateTime)
    # Who last moved it to ready for review: four eyes, they may not also close it.
    worked_by: Mapped[str | None] = mapped_column(String(128))
    closed_by: Mapped[str | None] = mapped_column(String(128))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # What a decision letter tells applicants of it, once accepted as a limitation (0015).
    applicant_statement: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_findings_model", "model_name", "model_version", "status"),)


class FindingEvent(Base):
    """One step in a finding's life: who moved it to which status, or changed it, and why."""

    __tablename__ = "finding_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"))
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(32))  # the status after this step
    note: Mapped[str] = mapped_column(Text)
    __table_args__ = (Index("ix_finding_events_finding", "finding_id", "at"),)


class PeriodicReview(Base):
    """A validator's periodic review of a model (SR 26-2): the state frozen at that moment with
    its SHA-256, the conclusion and when the next review falls due. Append-only: the database
    refuses UPDATE and DELETE (migration 0012); a later review adds a row."""

    __tablename__ = "periodic_reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(256))
    model_version: Mapped[str] = mapped_column(String(32))  # the version reviewed
    reviewed_by: Mapped[str] = mapped_column(String(128))
    reviewed_at: Mapped[datetime] = mapped_column(DateTime)
    conclusion: Mapped[str] = mapped_column(String(32))  # monitoring.reviews.Conclusion
    justification: Mapped[str] = mapped_column(Text)
    conditions: Mapped[str] = mapped_column(Text, default="")
    triggers: Mapped[list[Any]] = mapped_column()  # the triggers that had fired then
    state: Mapped[dict[str, Any]] = mapped_column()  # canonical JSON, hashed below
    state_sha256: Mapped[str] = mapped_column(String(64))
    policy_sha256: Mapped[str] = mapped_column(String(64))
    next_due_on: Mapped[date] = mapped_column(Date)
    __table_args__ = (Index("ix_periodic_reviews_model", "model_name", "reviewed_at"),)


class VendorDocument(Base):
    """A document received with a vendor model (its documentation, a validation report, a
    change notice): the bytes themselves, their SHA-256 and who recorded them. Append-only
    (triggers refuse UPDATE and DELETE)."""

    __tablename__ = "vendor_documents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(256))
    model_version: Mapped[str | None] = mapped_column(String(32))  # None: the model as a whole
    title: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(256))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    # In the store, not on one machine's disk: every replica serves the same bytes.
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    received_on: Mapped[date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (Index("ix_vendor_documents_model", "model_name", "recorded_at"),)


class Notification(Base):
    """One e-mail or webhook delivery of one notification (services.notify), written in the
    transaction of the act that caused it and updated by delivery: operational state, not an
    audit event (migration 0014)."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # notify.kinds.NotificationKind
    channel: Mapped[str] = mapped_column(String(16))  # email | webhook
    recipient: Mapped[str] = mapped_column(String(128))  # an account, or a webhook's name
    address: Mapped[str] = mapped_column(String(2048))  # an e-mail address or a URL
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[dict[str, Any]] = mapped_column()
    dedup_key: Mapped[str | None] = mapped_column(String(200))  # sent once per key
    created_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16))  # notify.kinds.DeliveryStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    __table_args__ = (Index("ix_notifications_due", "status", "next_attempt_at"),
                      Index("ix_notifications_created", "created_at"),
                      Index("uq_notifications_once", "kind", "dedup_key", "channel",
                            "recipient", unique=True))


class NotificationPreference(Base):
    """A person's choice to receive a kind of notification by e-mail or not (no row: on)."""

    __tablename__ = "notification_preferences"
    account: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(DateTime)
