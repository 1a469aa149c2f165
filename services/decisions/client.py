"""The decision log's Python client for a serving process: built once, called per batch.

    fail_fast_mlflow_http()  # optional, at the process's start: see DecisionLog
    log = DecisionLog.from_settings(actor=service_principal("loan-server"))
    report = log.record_decisions([DecisionRecord(...), ...])
    for row in report.problems:  # quarantined rows, and stored ones a person should see
        print(row.row, row.decision_id, row.status, row.reason or row.note)
    log.record_outcomes([OutcomeRecord(decision_id="d-1", label=True)])

Safe in a long-running process: the versions' input schemas are read once and at most
`schemas_kept` of them held; nothing process-wide is touched (the garbage collector runs as
the host set it, no environment variable is set). Rows are judged, stored and audited exactly
as `govern ingest` and the HTTP API do (services.decisions.batches).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from services.core.principal import Principal, Role
from services.core.settings import Settings, load_settings
from services.decisions.ingest import (
    SCHEMAS_KEPT,
    record_decisions,
    record_outcomes,
    schema_reader,
)
from services.decisions.ingest_report import IngestReport, RowResult
from services.registry.adapter import Registry
from services.store.engine import make_engine
from services.store.migrate import check_schema

__all__ = ["DecisionLog", "DecisionRecord", "IngestReport", "OutcomeRecord", "RowResult",
           "service_principal"]


@dataclass(frozen=True)
class DecisionRecord:
    """One automated decision as the serving system made it.

    decided_at: a datetime (naive is UTC), ISO 8601 text, or epoch seconds or milliseconds.
    features: the inputs as scored, by the version's signature names (None for a missing one).
    score: the model's probability in [0, 1]; None only for escalated or error outcomes.
    outcome: approved, declined, escalated or error.
    """

    decision_id: str
    model_name: str
    model_version: str
    decided_at: datetime | str | float
    subject_ref: str
    features: Mapping[str, Any]
    score: float | None
    outcome: str
    threshold: float | None = None
    request_id: str | None = None
    escalation_reason: str | None = None
    reason_codes: list[str] | None = None
    shadow: bool = False

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["features"] = dict(self.features)
        return row


@dataclass(frozen=True)
class OutcomeRecord:
    """Ground truth for a stored decision: label 1 (or True) is the positive label, 0 the other;
    observed_at defaults to now."""

    decision_id: str
    label: bool | int
    observed_at: datetime | str | float | None = None

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


def service_principal(name: str, roles: frozenset[Role] = frozenset({Role.INGEST})
                      ) -> Principal:
    """The acting principal of a serving system: its audit events name `service:NAME`."""
    return Principal(f"service:{name}", f"{name} (service)", roles)


@dataclass
class DecisionLog:
    """The decision log as one serving process writes to it.

    Each call is one batch in one transaction: its good rows stored, its bad rows quarantined
    with their reasons, one audit event naming the actor. Sending the same records again
    stores nothing twice (identical rows are skipped; a changed one is quarantined).

    Each report answers row by row (report.rows: stored, skipped or quarantined with the
    reason, and a note on a stored row a person should see); report.problems holds only the
    quarantined and noted rows.

    An unreachable registry: MLflow retries its HTTP requests for minutes by default (a batch
    waited 246 s before SourceUnavailable). This client never sets the process's environment;
    a serving process that would rather fail in seconds calls
    services.registry.transport.fail_fast_mlflow_http() once at its start (no retries, a 10 s
    timeout; values it already set are kept), as `govern` and the console do.

    Raises (from either method):
        PermissionDenied: the actor may not ingest (needs ingest, model_owner or admin).
        SourceUnavailable: the store or the registry cannot be reached; nothing of the batch
            was stored, so the same call can be made again.
    """

    engine: Engine
    registry: Registry
    actor: Principal
    source: str = "python-client"
    schemas_kept: int = SCHEMAS_KEPT
    _schema_of: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._schema_of = schema_reader(self.registry, self.schemas_kept)

    @classmethod
    def from_settings(cls, *, actor: Principal, settings: Settings | None = None,
                      source: str = "python-client") -> DecisionLog:
        """The log of the workspace the settings name (GOVERNANCE_HOME or
        GOVERNANCE_DATABASE_URL, MLFLOW_TRACKING_URI; read from the environment when None).

        Raises SchemaOutOfDate (saying to run `govern db upgrade`) when the store's schema is
        not at the head."""
        settings = settings or load_settings()
        engine = make_engine(settings.database_url)
        check_schema(engine)
        return cls(engine=engine, actor=actor, source=source,
                   registry=Registry(settings.mlflow_tracking_uri, settings.mlflow_registry_uri))

    def record_decisions(self, records: Iterable[DecisionRecord | Mapping[str, Any]], *,
                         per_row: bool = True) -> IngestReport:
        """Store one batch of decisions, answered row by row (report.rows) unless per_row is
        False (report.problems is always there)."""
        rows = [r.as_row() if isinstance(r, DecisionRecord) else r for r in records]
        return record_decisions(engine=self.engine, registry=self.registry, actor=self.actor,
                                decisions=rows, source=self.source, schema_of=self._schema_of,
                                per_row=per_row)

    def record_outcomes(self, records: Iterable[OutcomeRecord | Mapping[str, Any]], *,
                        per_row: bool = True) -> IngestReport:
        """Store one batch of outcomes for decisions already stored."""
        rows = [r.as_row() if isinstance(r, OutcomeRecord) else r for r in records]
        return record_outcomes(engine=self.engine, actor=self.actor, outcomes=rows,
                               source=self.source, per_row=per_row)
