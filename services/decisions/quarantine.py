"""A batch's quarantined rows read back: which rows of a file or a request were refused, and why.

Quarantined rows are kept with the batch (table quarantined_rows) so that nothing is dropped
silently; this is how a person finds them again after the ingest's own answer is gone (a file
ingested again is a no-op that names its earlier batch).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.errors import NotFound
from services.core.permissions import Action, allowed, require
from services.core.principal import Principal
from services.store.models import IngestBatch, QuarantinedRow

SHOWN = 1_000  # rows read back at most per call


@dataclass(frozen=True)
class QuarantinedRecord:
    row: int  # the row's number in its file (line or row) or request, from 1
    decision_id: str | None  # when the raw row names one
    reason: str
    raw: str  # the row as received, cut at 10,000 characters


@dataclass(frozen=True)
class BatchQuarantine:
    batch_id: int
    kind: str  # decisions | outcomes
    source: str  # the file's path, or api:token:NAME
    ingested_at: datetime
    ingested_by: str
    accepted: int
    quarantined: int
    rows: tuple[QuarantinedRecord, ...]  # by row number, at most `limit`


def batch_quarantine(*, session: Session, actor: Principal, batch_id: int | None = None,
                     limit: int = SHOWN) -> BatchQuarantine:
    """The quarantined rows of one batch (None: the latest batch that quarantined any).

    Raises PermissionDenied unless the actor may ingest or view decisions (raw rows hold
    inputs); NotFound when there is no such batch, or no batch quarantined anything."""
    if not allowed(actor, Action.INGEST):
        require(actor, Action.VIEW_DECISIONS)
    if batch_id is None:
        batch = session.scalar(select(IngestBatch).where(IngestBatch.quarantined > 0)
                               .order_by(IngestBatch.id.desc()).limit(1))
        if batch is None:
            raise NotFound("No ingest batch has quarantined rows.")
    else:
        batch = session.get(IngestBatch, batch_id)
        if batch is None:
            raise NotFound(f"There is no ingest batch #{batch_id}.",
                           hint="`govern ingest quarantine` without a number shows the latest "
                                "batch with quarantined rows.")
    rows = session.scalars(select(QuarantinedRow).where(QuarantinedRow.batch_id == batch.id)
                           .order_by(QuarantinedRow.row_number).limit(limit))
    return BatchQuarantine(batch.id, batch.kind, batch.source, batch.ingested_at,
                           batch.ingested_by, batch.accepted, batch.quarantined,
                           tuple(QuarantinedRecord(r.row_number, _decision_id(r.raw), r.reason,
                                                   r.raw) for r in rows))


def _decision_id(raw: str) -> str | None:
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    found = value.get("decision_id") if isinstance(value, dict) else None
    return found if isinstance(found, str) else None
