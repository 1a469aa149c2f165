"""One batch of decisions or outcomes stored: good rows kept, bad rows quarantined with their
reasons, the batch audited, all in one transaction (all of it or nothing).

Files, the HTTP API and the Python client all store through here, so a row is judged and
recorded the same way whichever door it came in by.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
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
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from services.audit.actions import AuditAction
from services.audit.chain import append, lock_trail
from services.core.clock import utcnow
from services.core.errors import SourceUnavailable
from services.core.permissions import Action, require
from services.core.principal import Principal
from services.decisions.daily_profiles import DailyProfiler
from services.decisions.day_counts import DayCounts
from services.decisions.files import RAW_KEPT, Row, Unreadable
from services.decisions.ingest_report import (
    IngestReport,
    Tally,
    already_stored,
    batch_report,
)
from services.decisions.outcome_rows import clean_outcome
from services.decisions.validate import NOTE, RowRejected, Schema, clean_decision
from services.store.bulk import insert_decisions, refresh_statistics
from services.store.engine import session_scope
from services.store.models import Decision, IngestBatch, Outcome, QuarantinedRow

Progress = Callable[[int, str], None]
CHUNK = 5_000
_ANALYZE_AFTER = 10_000  # rows in one batch that make the planner's statistics stale
_ATTEMPTS = 5  # a batch that lost a race to a concurrent one is judged again, this many times
_COMPARED = ("model_name", "model_version", "decided_at", "subject_ref", "features", "score",
             "threshold", "outcome", "shadow")


def store_decisions(*, engine: Engine, schema_of: Schema, actor: Principal, rows: list[Row],
                    source: str, digest: str, progress: Progress | None = None,
                    per_row: bool = False) -> IngestReport:
    """Check rows and store them as one batch. Raises PermissionDenied unless the actor may
    ingest; SourceUnavailable when the store cannot be written (nothing is then stored)."""
    require(actor, Action.INGEST)
    return _stored("decisions", engine, source, digest, rows, per_row, lambda: _decisions_batch(
        engine, schema_of, actor, rows, source, digest, progress))


def store_outcomes(*, engine: Engine, actor: Principal, rows: list[Row], source: str,
                   digest: str, progress: Progress | None = None,
                   per_row: bool = False) -> IngestReport:
    """Check ground truth rows (decision_id, label 0/1, observed_at) against the stored
    decisions and store them as one batch. Raises as store_decisions."""
    require(actor, Action.INGEST)
    return _stored("outcomes", engine, source, digest, rows, per_row, lambda: _outcomes_batch(
        engine, actor, rows, source, digest, progress))


def _stored(kind: str, engine: Engine, source: str, digest: str, rows: list[Row],
            per_row: bool, store: Callable[[], tuple[Tally, int]]) -> IngestReport:
    """The batch stored once, or the earlier batch of the same content; judged again when a
    concurrent batch stored some of its ids first."""
    started = time.perf_counter()
    for attempt in range(_ATTEMPTS):
        if (earlier := _earlier_batch(engine, digest)) is not None:
            return already_stored(kind, source, earlier)
        try:
            tally, batch_id = store()
        except Exception as exc:
            # Another batch stored some of these ids first (or the same content won the
            # race): judged again, its rows are now duplicates or conflicts, row by row.
            if not _lost_a_race(exc):
                raise
            if attempt + 1 == _ATTEMPTS:
                raise _busy() from exc
            continue
        return batch_report(kind, source, batch_id, tally, started, rows, per_row)
    raise AssertionError("unreachable")  # pragma: no cover


def _decisions_batch(engine: Engine, schema_of: Schema, actor: Principal, rows: list[Row],
                     source: str, digest: str, progress: Progress | None) -> tuple[Tally, int]:
    now = utcnow()
    tally = Tally()
    seen: dict[str, dict[str, Any]] = {}  # this batch's decisions by id, for twins within it
    checked = _checked(rows, lambda row: clean_decision(row, schema_of, now), tally.bad)
    with session_scope(engine) as session:
        batch = _new_batch(session, "decisions", source, digest, actor)
        connection = session.connection()
        profiler, days = DailyProfiler(connection), DayCounts()
        for chunk in _new_in_batch(checked, seen, tally):
            tally.add(_store_chunk(connection, chunk, batch.id, profiler, days))
            _report_stored(progress, tally, len(rows))
        # Concurrent ingests add to the same day's counts: queue behind the trail's lock.
        lock_trail(session=session)
        profiler.write()
        days.write(connection)
        _finish(session, actor, batch, tally)
        if tally.accepted >= _ANALYZE_AFTER:
            refresh_statistics(connection)
        return tally, batch.id


def _outcomes_batch(engine: Engine, actor: Principal, rows: list[Row], source: str,
                    digest: str, progress: Progress | None) -> tuple[Tally, int]:
    tally = Tally()
    good: list[dict[str, Any]] = []
    now = utcnow()
    with session_scope(engine) as session:
        # The batch first: on SQLite its insert takes the write lock before anything is read,
        # so a concurrent batch waits here instead of failing on a stale read.
        batch = _new_batch(session, "outcomes", source, digest, actor)
        known = _models_of(session, [r.get("decision_id") for _, r in rows
                                     if isinstance(r, dict)])
        stored = {o.decision_id: o.label for o in session.scalars(select(Outcome).where(
            Outcome.decision_id.in_(list(known))))} if known else {}
        for number, outcome in _checked(rows, lambda row: clean_outcome(row, known, now),
                                        tally.bad):
            if outcome["decision_id"] in stored:
                if stored[outcome["decision_id"]] == outcome["label"]:
                    tally.skipped(number)
                else:
                    tally.bad.append((number, "an outcome with another label is already stored",
                                      json.dumps(outcome, default=str)[:RAW_KEPT]))
                continue
            stored[outcome["decision_id"]] = outcome["label"]
            good.append(outcome)
            tally.models.add(outcome["model_name"])
        for first in range(0, len(good), CHUNK):
            session.execute(insert(Outcome), [{**row, "batch_id": batch.id}
                                              for row in good[first:first + CHUNK]])
            if progress:
                progress(first + CHUNK, f"Stored {min(first + CHUNK, len(good)):,} of the "
                                        f"{len(good):,} good outcomes ({len(tally.bad):,} of "
                                        f"{len(rows):,} rows quarantined)")
        tally.accepted = len(good)
        lock_trail(session=session)
        _finish(session, actor, batch, tally)
        return tally, batch.id


def _new_batch(session: Session, kind: str, source: str, digest: str,
               actor: Principal) -> IngestBatch:
    batch = IngestBatch(kind=kind, source=source[:2000], content_sha256=digest,
                        ingested_by=actor.id, ingested_at=utcnow())
    session.add(batch)
    session.flush()
    return batch


def _finish(session: Session, actor: Principal, batch: IngestBatch, tally: Tally) -> None:
    """The quarantine, the batch's counts and its audit event, in the batch's transaction."""
    if tally.bad:
        session.execute(insert(QuarantinedRow), [
            {"batch_id": batch.id, "row_number": n, "reason": reason, "raw": raw}
            for n, reason, raw in sorted(tally.bad)])
    batch.accepted, batch.quarantined = tally.accepted, len(tally.bad)
    payload: dict[str, Any] = {"source": batch.source, "content_sha256": batch.content_sha256,
                               "accepted": batch.accepted, "quarantined": batch.quarantined}
    if tally.noted:
        payload["noted"] = len(tally.noted)
    # A batch of one model's rows is that model's event (govern audit export --model finds it);
    # a batch of several names them in its payload.
    models = sorted(tally.models)
    if len(models) > 1:
        payload["models"] = models[:50]
    append(session=session, actor=actor,
           action=AuditAction.INGEST_DECISIONS if batch.kind == "decisions"
           else AuditAction.INGEST_OUTCOMES,
           subject_type="ingest_batch", subject_id=batch.id,
           model_name=models[0] if len(models) == 1 else None, payload=payload)


def _busy() -> SourceUnavailable:
    return SourceUnavailable(f"Concurrent batches took the same ids {_ATTEMPTS} times in a "
                             "row; nothing of this batch was stored.",
                             hint="Send the batch again.")


def _lost_a_race(exc: BaseException) -> bool:
    """A unique key another transaction took first, or PostgreSQL breaking a deadlock or a
    serialization conflict between two batches: worth judging the batch again. The driver's
    own error arrives bare from PostgreSQL's COPY, wrapped by SQLAlchemy otherwise."""
    for error in (exc, exc.__cause__):
        if isinstance(error, IntegrityError):
            return True
        driver = error.orig if isinstance(error, OperationalError) else error
        if getattr(driver, "sqlstate", None) in ("23505", "40P01", "40001"):
            return True
    return False


def _new_in_batch(checked: Iterator[tuple[int, dict[str, Any]]],
                  seen: dict[str, dict[str, Any]],
                  tally: Tally) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """Checked rows in chunks, less the ids this batch already had (twins or conflicts)."""
    chunk: list[tuple[int, dict[str, Any]]] = []
    for number, clean in checked:
        score = clean["score"]
        if score is not None:
            tally.scored += 1
            tally.extreme += score in (0.0, 1.0)
        twin = seen.get(clean["decision_id"])
        if twin is None:
            seen[clean["decision_id"]] = clean
            chunk.append((number, clean))
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
        elif _same(twin, clean):
            tally.skipped(number)
        else:
            tally.bad.append((number, "the same decision_id appears earlier in this batch with "
                              "other content", json.dumps(clean, default=str)[:RAW_KEPT]))
    if chunk:
        yield chunk


def _store_chunk(connection: Connection, chunk: list[tuple[int, dict[str, Any]]],
                 batch_id: int, profiler: DailyProfiler, days: DayCounts) -> Tally:
    """Insert a chunk's decisions that are not stored yet; count and refuse the others."""
    tally = Tally()
    stored = {row["decision_id"]: row for row in _stored_decisions(
        connection, [clean["decision_id"] for _, clean in chunk])}
    fresh = []
    for number, clean in chunk:
        earlier = stored.get(clean["decision_id"])
        if earlier is None:
            fresh.append(clean)
            if NOTE in clean:
                tally.noted.append((number, clean[NOTE]))
        elif _same(earlier, clean):
            tally.skipped(number)
        else:
            tally.bad.append((number, "decision_id is already stored with other content; a "
                              "logged decision is never changed",
                              json.dumps(clean, default=str)[:RAW_KEPT]))
    # In id order: two concurrent batches sharing ids then wait on each other in one order
    # (PostgreSQL), never in a cycle.
    fresh.sort(key=lambda row: str(row["decision_id"]))
    insert_decisions(connection, fresh, batch_id)
    profiler.add(fresh)
    days.add(fresh)
    tally.accepted = len(fresh)
    tally.models = {row["model_name"] for row in fresh}
    return tally


def _report_stored(progress: Progress | None, tally: Tally, total: int) -> None:
    if progress:
        done = tally.accepted + tally.duplicates + len(tally.bad)
        progress(done, f"Stored {tally.accepted:,} decisions, {len(tally.bad):,} quarantined "
                       f"({done:,} of {total:,} rows)")


def _checked(rows: list[Row], clean: Callable[[dict[str, Any]], dict[str, Any]],
             bad: list[tuple[int, str, str]]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each readable row cleaned; unreadable and refused ones go to `bad` with their reason."""
    for number, row in rows:
        if isinstance(row, Unreadable):
            bad.append((number, row.reason, row.raw))
            continue
        if not isinstance(row, Mapping):  # an API batch's element: 7, "x", null, [..]
            bad.append((number, f"a record must be a JSON object, not {_json_kind(row)}",
                        _raw(row)))
            continue
        try:
            cleaned = clean(row)
        except RowRejected as exc:
            bad.append((number, str(exc), _raw(row)))
            continue
        yield number, cleaned


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return f"the number {value!r}"[:60]
    if isinstance(value, str):
        return f"the text {value!r}"[:60]
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _raw(value: Any) -> str:
    try:
        return json.dumps(value, default=str)[:RAW_KEPT]
    except ValueError:  # a circular structure from a Python caller
        return repr(value)[:RAW_KEPT]


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
