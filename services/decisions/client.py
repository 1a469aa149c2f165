"""The decision log's Python client for a serving process: built once, called per batch.

    log = DecisionLog(engine=make_engine(url), registry=Registry(tracking_uri),
                      actor=service_principal("loan-server"))
    report = log.record_decisions([DecisionRecord(...), ...])
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
from services.decisions.batches import IngestReport, RowResult
from services.decisions.ingest import (
    SCHEMAS_KEPT,
    record_decisions,
    record_outcomes,
    schema_reader,
)
from services.registry.adapter import Registry

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

    def record_decisions(self, records: Iterable[DecisionRecord | Mapping[str, Any]], *,
                         per_row: bool = False) -> IngestReport:
        """Store one batch of decisions; per_row also answers row by row (report.rows)."""
        rows = [r.as_row() if isinstance(r, DecisionRecord) else r for r in records]
        return record_decisions(engine=self.engine, registry=self.registry, actor=self.actor,
                                decisions=rows, source=self.source, schema_of=self._schema_of,
                                per_row=per_row)

    def record_outcomes(self, records: Iterable[OutcomeRecord | Mapping[str, Any]], *,
                        per_row: bool = False) -> IngestReport:
        """Store one batch of outcomes for decisions already stored."""
        rows = [r.as_row() if isinstance(r, OutcomeRecord) else r for r in records]
        return record_outcomes(engine=self.engine, actor=self.actor, outcomes=rows,
                               source=self.source, per_row=per_row)
