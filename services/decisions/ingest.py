"""Getting decisions and outcomes in: from serving systems (lists of records) and from files.

Good rows are stored, bad rows are quarantined with their reasons, in one transaction per
batch (services.decisions.batches). The same file twice is a no-op; the same decision id with
other content is refused. A long-running serving process uses services.decisions.client, which
keeps the versions' schemas between batches.
"""

from __future__ import annotations

import gc
import hashlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from services.core.errors import InvalidInput, NotFound
from services.core.hashing import file_sha256
from services.core.permissions import Action, require
from services.core.principal import Principal
from services.decisions.batches import Progress, store_decisions, store_outcomes
from services.decisions.files import Row, read_rows
from services.decisions.ingest_report import IngestReport, RowResult
from services.decisions.validate import Schema
from services.registry.adapter import Registry

__all__ = ["IngestReport", "RowResult", "cyclic_gc_paused", "ingest_decisions_file",
           "ingest_outcomes_file", "record_decisions", "record_outcomes", "schema_reader"]

SCHEMAS_KEPT = 128  # versions whose input schemas a reader keeps (a serving host runs few)
MISSING_SECONDS = 30.0  # a version the registry lacked is asked for again after this


def record_decisions(*, engine: Engine, registry: Registry, actor: Principal,
                     decisions: Iterable[Mapping[str, Any]], source: str = "api",
                     progress: Progress | None = None, schema_of: Schema | None = None,
                     per_row: bool = False) -> IngestReport:
    """Store decisions from a serving system (dicts as in the README) as one batch.

    Args:
        schema_of: the versions' input schemas; a long-running caller passes one reader
            (schema_reader) for all its batches, else each call reads the registry afresh.
        per_row: also answer row by row (IngestReport.rows).

    Raises PermissionDenied unless the actor may ingest; SourceUnavailable when the store
    cannot be written (then nothing of the batch is stored).
    """
    rows: list[Row] = list(enumerate(decisions, start=1))  # type: ignore[arg-type]
    # Each call is a batch of its own: sending the same decisions again is still a no-op,
    # because identical rows are skipped and changed ones refused, row by row.
    return store_decisions(engine=engine, schema_of=schema_of or schema_reader(registry),
                           actor=actor, rows=rows, source=source, digest=_fresh_digest(),
                           progress=progress, per_row=per_row)


def record_outcomes(*, engine: Engine, actor: Principal, outcomes: Iterable[Mapping[str, Any]],
                    source: str = "api", per_row: bool = False) -> IngestReport:
    """Store ground truth ({decision_id, label 0/1 or true/false, observed_at?}) as one batch.
    Raises as record_decisions."""
    rows: list[Row] = list(enumerate(outcomes, start=1))  # type: ignore[arg-type]
    return store_outcomes(engine=engine, actor=actor, rows=rows, source=source,
                          digest=_fresh_digest(), per_row=per_row)


def ingest_decisions_file(*, engine: Engine, registry: Registry, actor: Principal, path: Path,
                          progress: Progress | None = None) -> IngestReport:
    """Ingest a JSONL, CSV or Parquet file of decisions. Raises InvalidInput when the file as
    a whole cannot be read (nothing is then stored), and as record_decisions."""
    require(actor, Action.INGEST)
    rows = list(read_rows(path))
    return store_decisions(engine=engine, schema_of=schema_reader(registry), actor=actor,
                           rows=rows, source=str(path), digest=file_sha256(path),
                           progress=progress)


def ingest_outcomes_file(*, engine: Engine, actor: Principal, path: Path,
                         progress: Progress | None = None) -> IngestReport:
    """Ingest ground truth (decision_id, label, observed_at) that arrived later."""
    require(actor, Action.INGEST)
    rows = list(read_rows(path))
    return store_outcomes(engine=engine, actor=actor, rows=rows, source=str(path),
                          digest=file_sha256(path), progress=progress)


def schema_reader(registry: Registry, kept: int = SCHEMAS_KEPT) -> Schema:
    """(model, version) -> the version's input schema, or None when the registry has no such
    version or its MLmodel cannot be read. At most `kept` schemas are held, least recently
    used out first; a version not found is asked again after MISSING_SECONDS (it may be
    registered meanwhile), not for every row that names it. Each held schema stays one dict,
    so validation works out its checks once. Raises SourceUnavailable when the registry cannot
    be reached."""
    held: OrderedDict[tuple[str, str], dict[str, str] | None] = OrderedDict()
    missing_since: dict[tuple[str, str], float] = {}

    def schema_of(model: str, version: str) -> dict[str, str] | None:
        key = (model, version)
        if key in held and (key not in missing_since
                            or time.monotonic() - missing_since[key] < MISSING_SECONDS):
            held.move_to_end(key)
            return held[key]
        try:
            schema: dict[str, str] | None = registry.input_schema(model, version)
            missing_since.pop(key, None)
        except (NotFound, InvalidInput):
            schema = None
            missing_since[key] = time.monotonic()
        held[key] = schema
        while len(held) > kept:
            missing_since.pop(held.popitem(last=False)[0], None)
        return schema

    return schema_of


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cycle collector while a large file's rows are built: for `govern ingest`, a
    process of its own, never for a serving process (it would stop collecting for the host).

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


def _fresh_digest() -> str:
    return hashlib.sha256(f"api:{uuid.uuid4()}".encode()).hexdigest()

