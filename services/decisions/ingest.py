"""Getting decisions and outcomes in: the Python API for serving systems and file ingest.

Good rows are stored, bad rows are quarantined with their reasons, in one transaction per
batch. The same content twice is a no-op; the same decision id with other content is refused.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from services.clock import utcnow
from services.decisions.files import RAW_KEPT, Row, Unreadable, read_rows
from services.decisions.validate import RowRejected, clean_decision, parse_time
from services.errors import GovernanceError, InvalidInput, NotFound
from services.hashing import file_sha256
from services.permissions import Action, require
from services.principal import Principal
from services.registry import Registry
from services.store.bulk import insert_decisions, refresh_statistics
from services.store.engine import session_scope
from services.store.models import Decision, IngestBatch, Outcome, QuarantinedRow

Progress = Callable[[int, str], None]
_CHUNK = 5_000
_ANALYZE_AFTER = 10_000  # rows in one batch that make the planner's statistics stale
_COMPARED = ("model_name", "model_version", "decided_at", "subject_ref", "features", "score",
             "threshold", "outcome", "shadow")


@dataclass(frozen=True)
class IngestReport:
    kind: str
    source: str
    batch_id: int | None
    already_ingested: bool
    accepted: int
    duplicates: int  # already stored with identical content: skipped
    quarantined: int
    reasons: dict[str, int] = field(default_factory=dict)  # reason -> rows
    seconds: float = 0.0


def record_decisions(*, engine: Engine, registry: Registry, actor: Principal,
                     decisions: Iterable[Mapping[str, Any]], source: str = "api",
                     progress: Progress | None = None) -> IngestReport:
    """Store decisions from a serving system (a list of dicts as in the README)."""
    rows: list[Row] = list(enumerate(decisions, start=1))  # type: ignore[arg-type]
    # Each call is a batch of its own: sending the same decisions again is still a no-op,
    # because identical rows are skipped and changed ones refused, row by row.
    digest = hashlib.sha256(f"api:{uuid.uuid4()}".encode()).hexdigest()
    return _ingest_decisions(engine, registry, actor, rows, source, digest, progress)


def ingest_decisions_file(*, engine: Engine, registry: Registry, actor: Principal, path: Path,
                          progress: Progress | None = None) -> IngestReport:
    """Ingest a JSONL, CSV or Parquet file of decisions."""
    require(actor, Action.INGEST)
    rows = list(read_rows(path))
    return _ingest_decisions(engine, registry, actor, rows, str(path), file_sha256(path),
                             progress)


def ingest_outcomes_file(*, engine: Engine, actor: Principal, path: Path,
                         progress: Progress | None = None) -> IngestReport:
    """Ingest ground truth (decision_id, label, observed_at) that arrived later."""
    require(actor, Action.INGEST)
    started = time.perf_counter()
    digest = file_sha256(path)
    if (earlier := _earlier_batch(engine, digest)) is not None:
        return _already("outcomes", str(path), earlier)
    rows = list(read_rows(path))
    good: list[dict[str, Any]] = []
    bad: list[tuple[int, str, str]] = []
    with session_scope(engine) as session:
        known = _existing(session, Decision.decision_id,
                          [r.get("decision_id") for _, r in rows if isinstance(r, dict)])
        stored = {o.decision_id: o.label for o in session.scalars(select(Outcome).where(
            Outcome.decision_id.in_(list(known))))} if known else {}
    duplicates = 0
    now = utcnow()
    for number, outcome in _checked(rows, lambda row: _clean_outcome(row, known, now), bad):
        if outcome["decision_id"] in stored:
            if stored[outcome["decision_id"]] == outcome["label"]:
                duplicates += 1
            else:
                bad.append((number, "an outcome with another label is already stored",
                            json.dumps(outcome, default=str)[:RAW_KEPT]))
            continue
        stored[outcome["decision_id"]] = outcome["label"]
        good.append(outcome)
    return _store("outcomes", engine, actor, str(path), digest, Outcome, good, bad, duplicates,
                  started, progress)


def _ingest_decisions(engine: Engine, registry: Registry, actor: Principal, rows: list[Row],
                      source: str, digest: str, progress: Progress | None) -> IngestReport:
    require(actor, Action.INGEST)
    started = time.perf_counter()
    if (earlier := _earlier_batch(engine, digest)) is not None:
        return _already("decisions", source, earlier)
    schema_of = _schemas(registry)
    now = utcnow()
    good: dict[str, dict[str, Any]] = {}
    numbers: dict[str, int] = {}  # decision_id -> row number, for quarantine messages
    bad: list[tuple[int, str, str]] = []
    duplicates = 0
    for number, clean in _checked(rows, lambda row: clean_decision(row, schema_of, now), bad,
                                  progress):
        twin = good.get(clean["decision_id"])
        if twin is not None:
            if _same(twin, clean):
                duplicates += 1
            else:
                bad.append((number, "the same decision_id appears earlier in this batch with "
                            "other content", json.dumps(clean, default=str)[:RAW_KEPT]))
            continue
        numbers[clean["decision_id"]] = number
        good[clean["decision_id"]] = clean
    with session_scope(engine) as session:
        for stored in _stored_decisions(session, list(good)):
            new = good.pop(stored["decision_id"])
            if _same(stored, new):
                duplicates += 1
            else:
                bad.append((numbers[new["decision_id"]], "decision_id is already stored with "
                            "other content; a logged decision is never changed",
                            json.dumps(new, default=str)[:RAW_KEPT]))
    accepted = list(good.values())
    return _store("decisions", engine, actor, source, digest, Decision, accepted, bad,
                  duplicates, started, progress)


def _store(kind: str, engine: Engine, actor: Principal, source: str, digest: str,
           table: Any, good: list[dict[str, Any]], bad: list[tuple[int, str, str]],
           duplicates: int, started: float, progress: Progress | None) -> IngestReport:
    """The batch, its rows and its quarantine in one transaction: all of it or nothing."""
    try:
        with session_scope(engine) as session:
            batch = IngestBatch(kind=kind, source=source[:2000], content_sha256=digest,
                                accepted=len(good), quarantined=len(bad),
                                ingested_by=actor.id, ingested_at=utcnow())
            session.add(batch)
            session.flush()
            connection = session.connection()
            for first in range(0, len(good), _CHUNK):
                chunk = good[first:first + _CHUNK]
                if table is Decision:
                    insert_decisions(connection, chunk, batch.id)
                else:
                    connection.execute(table.__table__.insert(),
                                       [{**row, "batch_id": batch.id} for row in chunk])
                if progress:
                    progress(first + _CHUNK, f"Stored {min(first + _CHUNK, len(good)):,} "
                                             f"of {len(good):,} {kind}")
            if bad:
                session.execute(insert(QuarantinedRow), [
                    {"batch_id": batch.id, "row_number": n, "reason": reason, "raw": raw}
                    for n, reason, raw in bad])
            batch_id = batch.id
            if table is Decision and len(good) >= _ANALYZE_AFTER:
                refresh_statistics(connection)
    except GovernanceError:
        # Another ingest of the same content won the race: that one holds the rows.
        if (earlier := _earlier_batch(engine, digest)) is not None:
            return _already(kind, source, earlier)
        raise
    reasons = Counter(_reason_kind(reason) for _, reason, _ in bad)
    return IngestReport(kind, source, batch_id, False, len(good), duplicates, len(bad),
                        dict(reasons.most_common(10)), time.perf_counter() - started)


def _checked(rows: list[Row], clean: Callable[[dict[str, Any]], dict[str, Any]],
             bad: list[tuple[int, str, str]],
             progress: Progress | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each readable row cleaned; unreadable and refused ones go to `bad` with their reason."""
    for count, (number, row) in enumerate(rows, start=1):
        if progress and count % 20_000 == 0:
            progress(count, f"Checked {count:,} of {len(rows):,} rows")
        if isinstance(row, Unreadable):
            bad.append((number, row.reason, row.raw))
            continue
        try:
            cleaned = clean(row)
        except RowRejected as exc:
            bad.append((number, str(exc), json.dumps(row, default=str)[:RAW_KEPT]))
            continue
        yield number, cleaned


def _clean_outcome(row: dict[str, Any], known: set[str], now: Any) -> dict[str, Any]:
    problems: list[str] = []
    decision_id = row.get("decision_id")
    if not isinstance(decision_id, str) or decision_id not in known:
        problems.append(f"no stored decision has the id {decision_id!r}"[:200])
    label = row.get("label")
    if isinstance(label, bool) or not isinstance(label, int | float):
        problems.append(f"label must be a number, not {label!r}"[:200])
    observed = (parse_time(row.get("observed_at"), now, problems, "observed_at")
                if "observed_at" in row else now)
    if problems:
        raise RowRejected("; ".join(problems))
    return {"decision_id": decision_id, "label": float(label),  # type: ignore[arg-type]
            "observed_at": observed}


def _schemas(registry: Registry) -> Callable[[str, str], dict[str, str] | None]:
    cache: dict[tuple[str, str], dict[str, str] | None] = {}

    def schema_of(model: str, version: str) -> dict[str, str] | None:
        key = (model, version)
        if key not in cache:
            try:
                cache[key] = registry.input_schema(model, version)
            except (NotFound, InvalidInput):
                cache[key] = None
        return cache[key]

    return schema_of


def _same(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    return all(left.get(k) == right.get(k) for k in _COMPARED)


def _stored_decisions(session: Session, ids: list[str]) -> list[dict[str, Any]]:
    """The compared fields of those ids that are already stored (usually none)."""
    columns = [getattr(Decision, c) for c in ("decision_id", *_COMPARED)]
    found = []
    for first in range(0, len(ids), 500):
        for row in session.execute(select(*columns).where(
                Decision.decision_id.in_(ids[first:first + 500]))):
            found.append(dict(row._mapping))
    return found


def _existing(session: Session, column: Any, ids: list[Any]) -> set[str]:
    wanted = [i for i in ids if isinstance(i, str)]
    found: set[str] = set()
    for first in range(0, len(wanted), 500):
        found.update(session.scalars(select(column).where(column.in_(wanted[first:first + 500]))))
    return found


def _earlier_batch(engine: Engine, digest: str) -> IngestBatch | None:
    with session_scope(engine) as session:
        return session.scalar(select(IngestBatch).where(IngestBatch.content_sha256 == digest))


def _already(kind: str, source: str, batch: IngestBatch) -> IngestReport:
    return IngestReport(kind, source, batch.id, True, 0, 0, 0, {}, 0.0)


def _reason_kind(reason: str) -> str:
    # Group "feature amount should be a number, not 'x'" with its siblings for the summary.
    first = reason.split(";")[0].split(", not ")[0]
    return re.sub(r"'[^']*'|\d[\d,.:-]*( \d[\d:]*)?", "…", first)[:90]
