"""Tables of the governance store. Alembic (migrations/) owns the schema; this mirrors it.

Times are naive UTC throughout (SQLite keeps no zone; see services.core.clock.utcnow).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.core.outcomes import WAITING
from services.store.base import Base, BigId

# The model risk workflow's tables live in their own file (size); named here too, so that one
# import path names every table of the store.
from services.store.workflow_tables import (
    FindingEvent,
    Notification,
    NotificationPreference,
    PeriodicReview,
    ValidationFinding,
    VendorDocument,
)

__all__ = ["Base", "BigId", "FindingEvent", "Notification", "NotificationPreference",
           "PeriodicReview", "ValidationFinding", "VendorDocument"]  # re-exported; tables below too


# Decisions that failed closed: what the review queue holds (with shadow false). Queries name
# the outcomes as literals, as the partial index does, or the planner cannot use it.
WAITING_SQL = f"outcome IN {WAITING!r}"


class WorkspaceSetting(Base):
    """Facts about the workspace itself, e.g. that it is the demo."""

    __tablename__ = "workspace_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    roles: Mapped[list[Any]] = mapped_column(default=list)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime)


class SignInFailure(Base):
    """A failed or paused local sign-in: the state of the pauses (services.governance.sign_in),
    kept outside the chain; the chain holds the first failures and summaries of the rest."""

    __tablename__ = "sign_in_failures"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime)
    address: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(128))  # as tried: may name no account
    paused: Mapped[bool] = mapped_column(Boolean)  # tried inside a pause: does not lengthen it
    chained: Mapped[bool] = mapped_column(Boolean)  # in the audit trail, alone or summarised
    __table_args__ = (Index("ix_sign_in_failures_address", "address", "username", "attempted_at"),)


class ServiceToken(Base):
    """A serving system's credential for the ingest API: only the SHA-256 of its secret is kept
    (migration 0008); revoked, it stays as the record of who it was."""

    __tablename__ = "service_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    roles: Mapped[list[Any]] = mapped_column()
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(128))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class Evidence(Base):
    """An immutable evidence record: a new run adds a row, none is ever updated."""

    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # evaluation | fairness | reference_profile
    model_name: Mapped[str] = mapped_column(String(256))
    model_version: Mapped[str] = mapped_column(String(32))
    data_sha256: Mapped[str] = mapped_column(String(64))
    payload_sha256: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column()
    policy_sha256: Mapped[str] = mapped_column(String(64))
    code_version: Mapped[str | None] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (Index("ix_evidence_model", "model_name", "model_version", "kind"),)


class PromotionRequest(Base):
    __tablename__ = "promotion_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(256))
    model_version: Mapped[str] = mapped_column(String(32))
    alias: Mapped[str] = mapped_column(String(64), default="champion")
    requested_by: Mapped[str] = mapped_column(String(128))
    requested_at: Mapped[datetime] = mapped_column(DateTime)
    justification: Mapped[str] = mapped_column(Text)
    # open | approved | rejected | executed | approved_not_executed | withdrawn
    status: Mapped[str] = mapped_column(String(32), default="open")
    gate_results: Mapped[list[Any]] = mapped_column(default=list)
    policy_sha256: Mapped[str] = mapped_column(String(64))
    previous_version: Mapped[str | None] = mapped_column(String(32))
    executed_at: Mapped[datetime | None] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(16), default="promotion",
                                      server_default="promotion")  # promotion | rollback
    executed_by: Mapped[str | None] = mapped_column(String(128))
    execution_error: Mapped[str | None] = mapped_column(Text)  # why the alias did not move
    __table_args__ = (Index("ix_promotion_model", "model_name", "status"),)


class PolicyException(Base):
    """An admin's recorded decision to let a request past failing gates, until a date."""

    __tablename__ = "policy_exceptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("promotion_requests.id"))
    gates: Mapped[list[Any]] = mapped_column()  # names of the gates it covers
    justification: Mapped[str] = mapped_column(Text)
    expires_on: Mapped[date] = mapped_column(Date)
    granted_by: Mapped[str] = mapped_column(String(128))
    granted_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (Index("ix_policy_exceptions_request", "request_id"),)


class SignOff(Base):
    __tablename__ = "sign_offs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("promotion_requests.id"))
    validator: Mapped[str] = mapped_column(String(128))
    verdict: Mapped[str] = mapped_column(String(16))  # approve | reject
    justification: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(DateTime)
    # Four eyes: one person signs a request once.
    __table_args__ = (UniqueConstraint("request_id", "validator", name="uq_sign_off_once"),)


class AliasChange(Base):
    """Alias history: which version held an alias from when, and who moved it."""

    __tablename__ = "alias_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(256))
    alias: Mapped[str] = mapped_column(String(64))
    version: Mapped[str | None] = mapped_column(String(32))  # None: alias removed
    previous_version: Mapped[str | None] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(DateTime)
    changed_by: Mapped[str] = mapped_column(String(128))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("promotion_requests.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (Index("ix_alias_history_model", "model_name", "alias", "changed_at"),)


class IngestBatch(Base):
    __tablename__ = "ingest_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # decisions | outcomes
    source: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    ingested_by: Mapped[str] = mapped_column(String(128))
    ingested_at: Mapped[datetime] = mapped_column(DateTime)


class QuarantinedRow(Base):
    """A row an ingest refused, kept with its reason so nothing is dropped silently."""

    __tablename__ = "quarantined_rows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batches.id"))
    row_number: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)  # the row as received, cut at 10,000 characters
    __table_args__ = (Index("ix_quarantine_batch", "batch_id", "row_number"),)


class Decision(Base):
    """One automated decision as logged. Never updated: overrides are rows of their own."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    decision_id: Mapped[str] = mapped_column(String(128), unique=True)
    model_name: Mapped[str] = mapped_column(String(256))
    model_version: Mapped[str] = mapped_column(String(32))
    decided_at: Mapped[datetime] = mapped_column(DateTime)
    subject_ref: Mapped[str] = mapped_column(String(128))
    request_id: Mapped[str | None] = mapped_column(String(128))
    features: Mapped[dict[str, Any]] = mapped_column()
    score: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(16))  # approved | declined | escalated | error
    escalation_reason: Mapped[str | None] = mapped_column(String(32))
    reason_codes: Mapped[list[Any] | None] = mapped_column()
    shadow: Mapped[bool] = mapped_column(Boolean, default=False)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batches.id"))
    __table_args__ = (
        # Searches and the monitor count and page from these without reading rows
        # (migrations 0003, 0006): every index here is paid for by every ingested row.
        Index("ix_decisions_model_time", "model_name", "decided_at", "shadow", "outcome",
              "score", "threshold"),
        Index("ix_decisions_time", "decided_at", "shadow", "outcome"),
        # A subject by the start of its reference in any case (migration 0010; PostgreSQL
        # takes it COLLATE "C" and adds decision_id COLLATE "C" for id prefixes).
        Index("ix_decisions_subject_lower_time", text("lower(subject_ref)"), "decided_at"),
        # Only the rows the review queue and the shadow twins look for.
        Index("ix_decisions_waiting", "decided_at",
              sqlite_where=text(f"shadow IS 0 AND {WAITING_SQL}"),
              postgresql_where=text(f"shadow IS false AND {WAITING_SQL}")),
        Index("ix_decisions_request", "request_id",
              sqlite_where=text("request_id IS NOT NULL"),
              postgresql_where=text("request_id IS NOT NULL")),
    )


class DecisionDay(Base):
    """Acted-on decisions of a version on a day with an outcome: what rates are counted from.

    Kept by every write of decisions, in its transaction (services.decisions.day_counts).
    """

    __tablename__ = "decision_days"
    model_name: Mapped[str] = mapped_column(String(256), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    model_version: Mapped[str] = mapped_column(String(32), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16), primary_key=True)
    decisions: Mapped[int] = mapped_column(Integer)


class Outcome(Base):
    """Ground truth for a decision, arriving later."""

    __tablename__ = "outcomes"
    decision_id: Mapped[str] = mapped_column(
        ForeignKey("decisions.decision_id"), primary_key=True
    )
    label: Mapped[float] = mapped_column(Float)
    observed_at: Mapped[datetime] = mapped_column(DateTime)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_batches.id"))
    # The decision's model, copied when the outcome arrives: a model's recent labels are found
    # from the outcomes (few) instead of from every recent decision (many).
    model_name: Mapped[str] = mapped_column(String(256))
    __table_args__ = (Index("ix_outcomes_model_time", "model_name", "observed_at"),)


class Override(Base):
    __tablename__ = "overrides"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[str] = mapped_column(ForeignKey("decisions.decision_id"))
    reviewer: Mapped[str] = mapped_column(String(128))
    new_outcome: Mapped[str] = mapped_column(String(16))
    reason_category: Mapped[str] = mapped_column(String(64))
    justification: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (Index("ix_overrides_decision", "decision_id"),)


class Profile(Base):
    """Binned counts of one feature: the reference (day is None) or one day of traffic."""

    __tablename__ = "profiles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(256))
    model_version: Mapped[str] = mapped_column(String(32))
    day: Mapped[date | None] = mapped_column(Date)
    feature: Mapped[str] = mapped_column(String(256))
    counts: Mapped[dict[str, Any]] = mapped_column()
    rows: Mapped[int] = mapped_column(Integer, default=0)
    missing: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (
        UniqueConstraint("model_name", "model_version", "day", "feature", name="uq_profile_cell"),
    )


class Alert(Base):
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(256))
    model_version: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))  # drift | fairness | performance | ...
    severity: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(128))
    figure: Mapped[float | None] = mapped_column(Float)
    bound: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="open")  # monitoring.alerts.AlertStatus
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    action: Mapped[str | None] = mapped_column(String(32))
    action_note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_alerts_status", "status", "opened_at"),)


class ModelHealth(Base):
    """What one `govern monitor` run judged of a served model: a status per pillar and the
    window's activity. The portfolio reads these rows, never the decision log."""

    __tablename__ = "model_health"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_name: Mapped[str] = mapped_column(String(256))
    model_version: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[datetime] = mapped_column(DateTime)
    recorded_at: Mapped[datetime] = mapped_column(DateTime)
    backfilled: Mapped[bool] = mapped_column(Boolean, default=False)  # judged later, from the log
    pillars: Mapped[dict[str, Any]] = mapped_column()
    activity: Mapped[dict[str, Any]] = mapped_column()
    __table_args__ = (Index("ix_model_health_model_time", "model_name", "as_of"),
                      Index("ix_model_health_time", "as_of"))


class AuditEvent(Base):
    """Append-only, hash-chained record of every write."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str] = mapped_column(String(256))
    model_name: Mapped[str | None] = mapped_column(String(256))  # for the model's excerpt
    payload: Mapped[dict[str, Any]] = mapped_column()
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    __table_args__ = (
        Index("ix_audit_subject", "subject_type", "subject_id"),
        Index("ix_audit_actor_time", "actor", "at"),
        Index("ix_audit_action_time", "action", "at"),
        Index("ix_audit_time", "at"),
        Index("ix_audit_model_time", "model_name", "at"),
    )


class AuditHead(Base):
    """The chain's last hash and length (one row); updating it serializes audited writes."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    length: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
