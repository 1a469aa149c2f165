"""Getting decisions and outcomes in: the Python API for serving systems and file ingest.

Good rows are stored, bad rows are quarantined with their reasons, in one transaction per
batch. The same content twice is a no-op; the same decision id with other content is refused.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    Connection,
    Engine,
    String,
    any_,
    bindparam,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from services.audit.actions import AuditAction
from services.audit.chain import append, lock_trail
from services.core.clock import utcnow
from services.core.errors import GovernanceError, InvalidInput, NotFound
from services.core.hashing import file_sha256
from services.core.permissions import Action, require
from services.core.principal import Principal
from services.decisions.daily_profiles import DailyProfiler
from services.decisions.day_counts import DayCounts
from services.decisions.files import RAW_KEPT, Row, Unreadable, read_rows
from services.decisions.validate import CLOCK_SKEW, RowRejected, clean_decision, parse_time
from services.registry.adapter import Registry
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


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cycle collector while a batch's rows are built.

    A batch makes hundreds of thousands of small dicts, none in a cycle, and each allocation
    burst sets off a collection that walks all of them again: a sixth of a large ingest's time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@_cyclic_gc_paused()
def record_decisions(*, engine: Engine, registry: Registry, actor: Principal,
                     decisions: Iterable[Mapping[str, Any]], source: str = "api",
                     progress: Progress | None = None) -> IngestReport:
    """Store decisions from a serving system (a list of dicts as in the README)."""
    rows: list[Row] = list(enumerate(decisions, start=1))  # type: ignore[arg-type]
    # Each call is a batch of its own: sending the same decisions again is still a no-op,
    # because identical rows are skipped and changed ones refused, row by row.
    digest = hashlib.sha256(f"api:{uuid.uuid4()}".encode()).hexdigest()
    return _ingest_decisions(engine, registry, actor, rows, source, digest, progress)


@_cyclic_gc_paused()
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
        known = _models_of(session, [r.get("decision_id") for _, r in rows
                                     if isinstance(r, dict)])
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
    """Check rows and store them, chunk by chunk, in one transaction: all of it or nothing."""
    require(actor, Action.INGEST)
    started = time.perf_counter()
    if (earlier := _earlier_batch(engine, digest)) is not None:
        return _already("decisions", source, earlier)
    schema_of = _schemas(registry)
    now = utcnow()
    tally = _Tally()
    seen: dict[str, dict[str, Any]] = {}  # this batch's decisions by id, for twins within it
    checked = _checked(rows, lambda row: clean_decision(row, schema_of, now), tally.bad)
    try:
        with session_scope(engine) as session:
            batch = IngestBatch(kind="decisions", source=source[:2000], content_sha256=digest,
                                ingested_by=actor.id, ingested_at=utcnow())
            session.add(batch)
            session.flush()
            connection = session.connection()
            profiler, days = DailyProfiler(connection), DayCounts()
            for chunk in _new_in_batch(checked, seen, tally):
                tally.add(_store_chunk(connection, chunk, batch.id, profiler, days))
                _report_stored(progress, tally, len(rows))
            # Concurrent ingests add to the same day's counts: queue behind the trail's lock.
            lock_trail(session=session)
            profiler.write()
            days.write(connection)
            _quarantine(session, batch.id, tally.bad)
            batch.accepted, batch.quarantined = tally.accepted, len(tally.bad)
            _audit_batch(session, actor, batch)
            batch_id = batch.id
            if tally.accepted >= _ANALYZE_AFTER:
                refresh_statistics(connection)
    except GovernanceError:
        # Another ingest of the same content won the race: that one holds the rows.
        if (earlier := _earlier_batch(engine, digest)) is not None:
            return _already("decisions", source, earlier)
        raise
    return _report("decisions", source, batch_id, tally.accepted, tally.duplicates, tally.bad,
                   started)


@dataclass
class _Tally:
    accepted: int = 0
    duplicates: int = 0  # already stored, or earlier in the batch, with identical content
    bad: list[tuple[int, str, str]] = field(default_factory=list)

    def add(self, other: _Tally) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.bad += other.bad


def _new_in_batch(checked: Iterator[tuple[int, dict[str, Any]]],
                  seen: dict[str, dict[str, Any]],
                  tally: _Tally) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """Checked rows in chunks, less the ids this batch already had (twins or conflicts)."""
    chunk: list[tuple[int, dict[str, Any]]] = []
    for number, clean in checked:
        twin = seen.get(clean["decision_id"])
        if twin is None:
            seen[clean["decision_id"]] = clean
            chunk.append((number, clean))
            if len(chunk) == _CHUNK:
                yield chunk
                chunk = []
        elif _same(twin, clean):
            tally.duplicates += 1
        else:
            tally.bad.append((number, "the same decision_id appears earlier in this batch with "
                              "other content", json.dumps(clean, default=str)[:RAW_KEPT]))
    if chunk:
        yield chunk


def _store_chunk(connection: Connection, chunk: list[tuple[int, dict[str, Any]]],
                 batch_id: int, profiler: DailyProfiler, days: DayCounts) -> _Tally:
    """Insert a chunk's decisions that are not stored yet; count and refuse the others."""
    tally = _Tally()
    stored = {row["decision_id"]: row for row in _stored_decisions(
        connection, [clean["decision_id"] for _, clean in chunk])}
    fresh = []
    for number, clean in chunk:
        earlier = stored.get(clean["decision_id"])
        if earlier is None:
            fresh.append(clean)
        elif _same(earlier, clean):
            tally.duplicates += 1
        else:
            tally.bad.append((number, "decision_id is already stored with other content; a "
                              "logged decision is never changed",
                              json.dumps(clean, default=str)[:RAW_KEPT]))
    insert_decisions(connection, fresh, batch_id)
    profiler.add(fresh)
    days.add(fresh)
    tally.accepted = len(fresh)
    return tally


def _report_stored(progress: Progress | None, tally: _Tally, total: int) -> None:
    if progress:
        done = tally.accepted + tally.duplicates + len(tally.bad)
        progress(done, f"Stored {tally.accepted:,} decisions, {len(tally.bad):,} quarantined "
                       f"({done:,} of {total:,} rows)")


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
            for first in range(0, len(good), _CHUNK):
                session.execute(insert(table), [{**row, "batch_id": batch.id}
                                                for row in good[first:first + _CHUNK]])
                if progress:
                    progress(first + _CHUNK, f"Stored {min(first + _CHUNK, len(good)):,} "
                                             f"of {len(good):,} {kind}")
            _quarantine(session, batch.id, bad)
            _audit_batch(session, actor, batch)
            batch_id = batch.id
    except GovernanceError:
        # Another ingest of the same content won the race: that one holds the rows.
        if (earlier := _earlier_batch(engine, digest)) is not None:
            return _already(kind, source, earlier)
        raise
    return _report(kind, source, batch_id, len(good), duplicates, bad, started)


def _audit_batch(session: Session, actor: Principal, batch: IngestBatch) -> None:
    append(session=session, actor=actor,
           action=AuditAction.INGEST_DECISIONS if batch.kind == "decisions"
           else AuditAction.INGEST_OUTCOMES,
           subject_type="ingest_batch", subject_id=batch.id,
           payload={"source": batch.source, "content_sha256": batch.content_sha256,
                    "accepted": batch.accepted, "quarantined": batch.quarantined})


def _quarantine(session: Session, batch_id: int, bad: list[tuple[int, str, str]]) -> None:
    if bad:
        session.execute(insert(QuarantinedRow), [
            {"batch_id": batch_id, "row_number": n, "reason": reason, "raw": raw}
            for n, reason, raw in sorted(bad)])


def _report(kind: str, source: str, batch_id: int, accepted: int, duplicates: int,
            bad: list[tuple[int, str, str]], started: float) -> IngestReport:
    reasons = Counter(_reason_kind(reason) for _, reason, _ in bad)
    return IngestReport(kind, source, batch_id, False, accepted, duplicates, len(bad),
                        dict(reasons.most_common(10)), time.perf_counter() - started)


def _checked(rows: list[Row], clean: Callable[[dict[str, Any]], dict[str, Any]],
             bad: list[tuple[int, str, str]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each readable row cleaned; unreadable and refused ones go to `bad` with their reason."""
    for number, row in rows:
        if isinstance(row, Unreadable):
            bad.append((number, row.reason, row.raw))
            continue
        try:
            cleaned = clean(row)
        except RowRejected as exc:
            bad.append((number, str(exc), json.dumps(row, default=str)[:RAW_KEPT]))
            continue
        yield number, cleaned


def _clean_outcome(row: dict[str, Any], known: dict[str, tuple[str, datetime]],
                   now: datetime) -> dict[str, Any]:
    problems: list[str] = []
    decision_id = row.get("decision_id")
    if not isinstance(decision_id, str) or decision_id not in known:
        problems.append(f"no stored decision has the id {decision_id!r}"[:200])
    label = row.get("label")
    if isinstance(label, bool) or not isinstance(label, int | float):
        problems.append(f"label must be a number, not {label!r}"[:200])
    observed = (parse_time(row.get("observed_at"), now, problems, "observed_at")
                if "observed_at" in row else now)
    decision = known.get(decision_id)  # type: ignore[arg-type]
    if decision and observed and observed < decision[1] - CLOCK_SKEW:
        # Monitoring finds a model's labels from their time: one before its decision is wrong.
        problems.append(f"observed_at {observed:%Y-%m-%d %H:%M} is before the decision was "
                        f"made ({decision[1]:%Y-%m-%d %H:%M})")
    if problems or decision is None:
        raise RowRejected("; ".join(problems))
    return {"decision_id": decision_id, "label": float(label),  # type: ignore[arg-type]
            "observed_at": observed, "model_name": decision[0]}


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


def _stored_decisions(connection: Connection, ids: list[str]) -> list[dict[str, Any]]:
    """The compared fields of those ids that are already stored (usually none)."""
    columns = [getattr(Decision, c) for c in ("decision_id", *_COMPARED)]
    if connection.dialect.name == "postgresql":
        # One array parameter: psycopg parses a 500-placeholder IN list on every call.
        wanted = bindparam("ids", ids, type_=ARRAY(String))
        return [dict(row._mapping) for row in connection.execute(
            select(*columns).where(Decision.decision_id == any_(wanted)))]
    # One JSON array parameter, unpacked by SQLite itself: a 500-placeholder IN list cost a
    # compile and a parse per 500 ids (0.75 s of a 100k-row ingest).
    listed: Any = select(literal_column("value")).select_from(func.json_each(bindparam("ids")))
    return [dict(row._mapping) for row in connection.execute(
        select(*columns).where(Decision.decision_id.in_(listed)),
        {"ids": orjson.dumps(ids).decode()})]


def _models_of(session: Session, ids: list[Any]) -> dict[str, tuple[str, datetime]]:
    """The stored decisions among the ids, each with its model and time."""
    wanted = [i for i in ids if isinstance(i, str)]
    found: dict[str, tuple[str, datetime]] = {}
    for first in range(0, len(wanted), 500):
        found.update((i, (model, at)) for i, model, at in session.execute(
            select(Decision.decision_id, Decision.model_name, Decision.decided_at)
            .where(Decision.decision_id.in_(wanted[first:first + 500]))))
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
