"""Evidence records: immutable, hashed, the newest per kind shown, earlier ones kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.audit.actions import AuditAction
from services.audit.chain import append
from services.core.canonical import finite, sha256_of
from services.core.clock import utcnow
from services.core.errors import InvalidInput, NotFound
from services.evidence.payloads import (
    EvaluationPayload,
    FairnessPayload,
    ReferenceProfilePayload,
    read_evaluation,
)
from services.store.models import Evidence


@dataclass(frozen=True)
class EvidenceRecord:
    id: int
    kind: str
    model_name: str
    model_version: str
    data_sha256: str
    payload_sha256: str
    payload: dict[str, Any]
    policy_sha256: str
    code_version: str | None
    created_by: str
    created_at: datetime

    @property
    def intact(self) -> bool:
        """True when the stored payload still hashes to the recorded SHA-256."""
        return payload_hash(self.payload) == self.payload_sha256

    # The payload is kept as stored, since its hash is over those bytes; screens and reports
    # read it through these, as the typed model of its kind.

    def evaluation(self) -> EvaluationPayload:
        """The payload as evaluation evidence.

        Raises:
            InvalidInput: the record is of another kind, or its payload lacks that shape.
        """
        return read_evaluation(self._payload_of("evaluation"), what=self._name)

    def fairness(self) -> FairnessPayload:
        """The payload as fairness evidence (InvalidInput as for evaluation())."""
        return FairnessPayload.from_stored(self._payload_of("fairness"), what=self._name)

    def reference_profile(self) -> ReferenceProfilePayload:
        """The payload as a reference profile (InvalidInput as for evaluation())."""
        return ReferenceProfilePayload.from_stored(self._payload_of("reference_profile"),
                                                   what=self._name)

    @property
    def _name(self) -> str:
        return f"Evidence record #{self.id} ({self.kind})"

    def _payload_of(self, kind: str) -> dict[str, Any]:
        if self.kind != kind:
            raise InvalidInput(f"{self._name} is not {kind} evidence.")
        return self.payload


def payload_hash(payload: dict[str, Any]) -> str:
    return sha256_of(payload)


def add_evidence(*, session: Session, kind: str, model_name: str, model_version: str,
                 data_sha256: str, payload: dict[str, Any], policy_sha256: str,
                 code_version: str | None, created_by: str) -> EvidenceRecord:
    """Append one record; nothing is ever updated."""
    clean = finite(payload)
    row = Evidence(kind=kind, model_name=model_name, model_version=model_version,
                   data_sha256=data_sha256, payload_sha256=payload_hash(clean), payload=clean,
                   policy_sha256=policy_sha256, code_version=code_version,
                   created_by=created_by, created_at=utcnow())
    session.add(row)
    session.flush()
    append(session=session, actor=created_by, action=AuditAction.EVIDENCE_RECORDED,
           subject_type="evidence", subject_id=row.id, model_name=model_name,
           payload={"kind": kind, "model_version": model_version, "data_sha256": data_sha256,
                    "payload_sha256": row.payload_sha256, "policy_sha256": policy_sha256,
                    "code_version": code_version})
    return _record(row)


def latest_evidence(*, session: Session, model_name: str, model_version: str,
                    as_of: datetime | None = None) -> dict[str, EvidenceRecord]:
    """The newest record of each kind for a version (as it stood at as_of, when given)."""
    query = select(Evidence).where(Evidence.model_name == model_name,
                                   Evidence.model_version == model_version)
    if as_of is not None:
        query = query.where(Evidence.created_at <= as_of)
    rows = session.scalars(query.order_by(Evidence.created_at, Evidence.id)).all()
    return {row.kind: _record(row) for row in rows}


def evidence_history(*, session: Session, model_name: str,
                     model_version: str) -> list[EvidenceRecord]:
    """Every record for a version, newest first."""
    rows = session.scalars(
        select(Evidence)
        .where(Evidence.model_name == model_name, Evidence.model_version == model_version)
        .order_by(Evidence.created_at.desc(), Evidence.id.desc())
    ).all()
    return [_record(row) for row in rows]


def get_evidence(*, session: Session, evidence_id: int) -> EvidenceRecord:
    row = session.get(Evidence, evidence_id)
    if row is None:
        raise NotFound(f"There is no evidence record {evidence_id}.")
    return _record(row)


def _record(row: Evidence) -> EvidenceRecord:
    return EvidenceRecord(row.id, row.kind, row.model_name, row.model_version, row.data_sha256,
                          row.payload_sha256, dict(row.payload), row.policy_sha256,
                          row.code_version, row.created_by, row.created_at)
