"""The tamper-evident audit trail: every write appends a hash-chained event in its transaction.

hash = sha256(prev_hash + canonical JSON of the event). Database triggers refuse UPDATE and
DELETE on events (migration 0004); `services.audit.trail.verify_chain` walks the chain and
names the first broken link, so an edit made behind the triggers' back (or after dropping
them) is still found.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from services.audit.actions import AuditAction
from services.core.canonical import canonical_json, finite
from services.core.clock import utcnow
from services.core.errors import GovernanceError
from services.core.principal import Principal
from services.store.engine import session_scope
from services.store.models import AuditEvent, AuditHead

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str
    model_name: str | None = None


def canonical(at: datetime, actor: str, action: str, subject_type: str, subject_id: str,
              model_name: str | None, payload: dict[str, Any], *, allow_nan: bool = False) -> str:
    """The event's one byte-exact form: sorted keys, no spaces, times to the microsecond.
    allow_nan: only to re-hash events written before NaN was refused (their payloads may
    hold it)."""
    event = {"at": at.isoformat(timespec="microseconds"), "actor": actor, "action": action,
             "subject_type": subject_type, "subject_id": subject_id, "model_name": model_name,
             "payload": payload}
    return canonical_json(event, allow_nan=allow_nan)


def chain_hash(prev_hash: str, canonical_event: str) -> str:
    return hashlib.sha256((prev_hash + canonical_event).encode()).hexdigest()


def recomputed_hash(prev_hash: str, event: AuditEvent | AuditRecord) -> str:
    """The hash a stored event should carry after `prev_hash`, recomputed from its fields.
    NaN is let through: events written before it was refused may hold it."""
    return chain_hash(prev_hash, canonical(event.at, event.actor, event.action,
                                           event.subject_type, event.subject_id,
                                           event.model_name, event.payload, allow_nan=True))


def append(*, session: Session, actor: Principal | str, action: AuditAction, subject_type: str,
           subject_id: str | int, model_name: str | None = None,
           payload: dict[str, Any] | None = None) -> AuditRecord:
    """Append one event to the chain inside the caller's transaction.

    Moving the head first takes the write lock (SQLite) or the head row's lock (PostgreSQL):
    concurrent writers queue here, so no two events ever share a predecessor.
    """
    actor_id = actor.id if isinstance(actor, Principal) else actor
    prev_hash = session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(length=AuditHead.length + 1)
        .returning(AuditHead.hash)).scalar_one()
    # Stored and hashed in the same form: JSON round-trips (tuples become lists, times become
    # ISO 8601 text, and so on); NaN, which JSON lacks, becomes null.
    body = json.loads(canonical_json(finite(payload or {})))
    at = utcnow()
    subject = str(subject_id)[:256]
    digest = chain_hash(prev_hash, canonical(at, actor_id, action, subject_type, subject,
                                             model_name, body))
    event = AuditEvent(at=at, actor=actor_id, action=action, subject_type=subject_type,
                       subject_id=subject, model_name=model_name, payload=body,
                       prev_hash=prev_hash, hash=digest)
    session.add(event)
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=digest))
    session.flush()
    return as_record(event)


def lock_trail(*, session: Session) -> None:
    """Queue behind every other audited write until this transaction ends.

    For writes that read, decide, then write (a sign-off counts approvals): what they read
    after this cannot change under them.
    """
    session.execute(update(AuditHead).where(AuditHead.id == 1)
                    .values(length=AuditHead.length))


@contextmanager
def refusals_recorded(engine: Engine, actor: Principal, refused: AuditAction, subject_type: str,
                      subject_id: str | int, model_name: str | None = None) -> Iterator[None]:
    """A refused write leaves no trace but one audit event saying who tried what, and why.
    refused: the `*.refused` action recorded then."""
    try:
        yield
    except GovernanceError as exc:
        try:
            with session_scope(engine) as session:
                append(session=session, actor=actor, action=refused,
                       subject_type=subject_type, subject_id=subject_id,
                       model_name=model_name,
                       payload={"refusal": type(exc).__name__, "reason": exc.message})
        except GovernanceError:
            pass  # the store itself is down: the refusal is all there is to report
        raise


def as_record(event: AuditEvent) -> AuditRecord:
    return AuditRecord(event.id, event.at, event.actor, event.action, event.subject_type,
                       event.subject_id, dict(event.payload), event.prev_hash, event.hash,
                       event.model_name)
