"""Reading the audit trail: verifying the chain, searching events a page at a time, export."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.audit.chain import GENESIS, AuditRecord, as_record, recomputed_hash
from services.core.clock import utcnow
from services.core.spreadsheet import csv_bytes
from services.store.models import AuditEvent, AuditHead

_READ = 5_000  # events read per round trip while verifying


@dataclass(frozen=True)
class ChainVerdict:
    intact: bool
    events: int  # events checked
    head_hash: str  # the last hash as the store records it: worth writing down elsewhere
    checked_at: datetime
    broken_at: int | None = None  # id of the first event that does not fit
    problem: str = ""


def verify_chain(*, session: Session) -> ChainVerdict:
    """Walk the whole chain from the first event; name the first link that does not hold."""
    head = session.get(AuditHead, 1)
    recorded = head.hash if head else GENESIS
    previous, count, after = GENESIS, 0, 0
    while True:
        events = session.scalars(select(AuditEvent).where(AuditEvent.id > after)
                                 .order_by(AuditEvent.id).limit(_READ)).all()
        if not events:
            break
        for event in events:
            if event.prev_hash != previous:
                return _broken(count, recorded, event.id,
                               f"event #{event.id} names {event.prev_hash[:12]}… as the event "
                               f"before it, but the chain there ends in {previous[:12]}…: an "
                               "event before it was removed, inserted or rewritten")
            expected = recomputed_hash(previous, event)
            if expected != event.hash:
                return _broken(count, recorded, event.id,
                               f"event #{event.id} ({event.action} by {event.actor}) no longer "
                               "matches its hash: it was changed after it was written")
            previous, count, after = event.hash, count + 1, event.id
    if head is None or head.length != count or head.hash != previous:
        length = head.length if head else 0
        return _broken(count, recorded, None,
                       f"the chain holds {count} events ending in {previous[:12]}…, but its "
                       f"head records {length} ending in {recorded[:12]}…: events at the end "
                       "were removed")
    return ChainVerdict(True, count, recorded, utcnow())


def _broken(count: int, recorded: str, event_id: int | None, problem: str) -> ChainVerdict:
    return ChainVerdict(False, count, recorded, utcnow(), event_id, problem)


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    action: str | None = None  # exact, or a prefix ending in "." (promotion.)
    model_name: str | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditRecord]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _filtered(query: Any, f: AuditFilter) -> Any:
    # Bound parameters only: what a person types never becomes SQL.
    if f.actor:
        query = query.where(AuditEvent.actor == f.actor.strip())
    if f.action:
        action = f.action.strip()
        query = query.where(AuditEvent.action.startswith(action, autoescape=True)
                            if action.endswith(".") else AuditEvent.action == action)
    if f.model_name:
        query = query.where(AuditEvent.model_name == f.model_name)
    if f.start:
        query = query.where(AuditEvent.at >= f.start)
    if f.end:
        query = query.where(AuditEvent.at < f.end)
    return query


def search_events(*, session: Session, filters: AuditFilter, page: int = 1,
                  page_size: int = 50) -> AuditPage:
    """One page of matching events, newest first, with the number of matches."""
    page, page_size = max(page, 1), min(max(page_size, 1), 500)
    total = session.scalar(_filtered(select(func.count()).select_from(AuditEvent), filters))
    events = session.scalars(_filtered(select(AuditEvent), filters)
                             .order_by(AuditEvent.id.desc())
                             .limit(page_size).offset((page - 1) * page_size)).all()
    return AuditPage([as_record(e) for e in events], int(total or 0), page, page_size)


def audit_facets(*, session: Session) -> tuple[list[str], list[str]]:
    """The actors and actions that occur, for the screen's pickers."""
    actors = session.scalars(select(AuditEvent.actor).distinct().order_by(AuditEvent.actor))
    actions = session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    return list(actors), list(actions)


EXPORT_LIMIT = 100_000


def export_events(*, session: Session, filters: AuditFilter, fmt: str) -> bytes:
    """The matching events, oldest first, as CSV or JSON (at most EXPORT_LIMIT of them)."""
    events = [as_record(e) for e in session.scalars(
        _filtered(select(AuditEvent), filters).order_by(AuditEvent.id).limit(EXPORT_LIMIT))]
    rows = [{**asdict(e), "at": e.at.isoformat(timespec="microseconds")} for e in events]
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False).encode()
    fields = ["id", "at", "actor", "action", "subject_type", "subject_id", "model_name",
              "payload", "prev_hash", "hash"]
    return csv_bytes(fields, ({**row, "payload": json.dumps(row["payload"], sort_keys=True)}
                              for row in rows))
