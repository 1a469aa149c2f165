"""The evidence pack as a typed document: what pack.py builds, its JSON file holds and its PDF
reads.

Times are ISO 8601 text and payloads are kept exactly as stored (evidence payloads and audit
payloads are re-hashed from the file by whoever checks it), so the pack's SHA-256 can be
recomputed from the JSON file alone, without this model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from services.core.canonical import canonical_json
from services.evidence.gates import GateResult
from services.governance.controls import ControlStatus
from services.monitoring.assessment import PillarStatus
from services.reports.card_document import ModelCardDocument

PACK_SCHEMA = "model-governance-console/evidence-pack/v1"


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class PackEvidence(_Part):
    kind: str
    id: int
    created_at: str
    created_by: str
    data_sha256: str
    payload_sha256: str  # as recorded when the record was written
    payload_sha256_recomputed: str  # over the payload as the store holds it now
    intact: bool
    policy_sha256: str
    code_version: str | None
    payload: dict[str, JsonValue]  # as stored: the bytes its hash is over


class GatesNow(_Part):
    policy_version: str
    policy_sha256: str
    evaluated_at: str
    passed: bool
    results: tuple[GateResult, ...]


class GatesAtRequest(_Part):
    request: int
    requested_at: str
    policy_sha256: str  # the policy of that day
    results: tuple[GateResult, ...]

    @property
    def failing(self) -> tuple[str, ...]:
        return tuple(g.gate for g in self.results if not g.passed)


class PackGates(_Part):
    now: GatesNow
    at_requests: tuple[GatesAtRequest, ...]


class PackControl(_Part):
    framework: str
    ref: str
    title: str
    asks: str
    status: ControlStatus
    evidence: str
    dated: str | None
    link: str


class PackFeatureDrift(_Part):
    feature: str
    kind: str
    rows: int
    missing: int
    psi: float | None
    js: float | None
    ks: float | None
    wasserstein: float | None
    chi_square: float | None
    drifted: bool | None  # None: too few decisions to judge


class PackDrift(_Part):
    start: str
    end: str  # exclusive
    decisions: int
    judged: bool
    drifted_share: float | None
    dataset_drift: bool | None
    features: tuple[PackFeatureDrift, ...]


class DriftUnavailable(_Part):
    unavailable: str  # why there is no drift to show (no reference profile, say)


class PillarJudgement(_Part):
    model_config = ConfigDict(extra="allow")  # as `govern monitor` stored it, any version

    status: PillarStatus
    reason: str
    figure: float | None = None
    bound: float | None = None


class HealthSnapshot(_Part):
    as_of: str
    backfilled: bool
    pillars: dict[str, PillarJudgement]
    activity: dict[str, JsonValue]


class PackMonitoring(_Part):
    drift_last_30_days: PackDrift | DriftUnavailable
    health: tuple[HealthSnapshot, ...]


class PackSignOff(_Part):
    validator: str
    verdict: str  # approve | reject
    justification: str
    signed_at: str


class PackException(_Part):
    gates: tuple[str, ...]
    justification: str
    expires_on: str
    granted_by: str
    granted_at: str


class PackPromotion(_Part):
    id: int
    kind: str  # promotion | rollback
    version: str
    alias: str
    requested_by: str
    requested_at: str
    justification: str
    status: str
    previous_version: str | None
    executed_at: str | None
    executed_by: str | None
    execution_error: str | None
    policy_sha256: str
    gates: tuple[GateResult, ...]  # as frozen on the request
    sign_offs: tuple[PackSignOff, ...]
    exceptions: tuple[PackException, ...]


class PackTenure(_Part):
    alias: str
    version: str
    since: str | None
    until: str | None
    moved_by: str
    reason: str


class ChainCheck(_Part):
    intact: bool
    events_checked: int
    head_hash: str
    checked_at: str
    broken_at: int | None
    problem: str


class PackEvent(_Part):
    id: int
    at: str
    actor: str
    action: str
    subject_type: str
    subject_id: str
    model_name: str | None
    payload: dict[str, JsonValue]
    prev_hash: str
    hash: str
    hash_matches: bool


class PackAudit(_Part):
    verification: ChainCheck
    how_to_check: str
    truncated: bool
    events: tuple[PackEvent, ...]


class EvidencePack(_Part):
    schema_id: str = Field(default=PACK_SCHEMA, alias="schema")
    generated_at: str
    generated_by: str
    model: str
    version: str
    aliases: tuple[str, ...]
    model_card: ModelCardDocument
    evidence: tuple[PackEvidence, ...]
    gates: PackGates
    controls: tuple[PackControl, ...]
    monitoring: PackMonitoring
    promotions: tuple[PackPromotion, ...]
    alias_history: tuple[PackTenure, ...]
    audit: PackAudit
    pack_sha256: str = ""  # over the rest (canonical_pack); set once the rest is complete

    def as_json(self) -> dict[str, Any]:
        """The pack as its JSON file holds it."""
        return self.model_dump(mode="json", by_alias=True)


def canonical_pack(pack: EvidencePack | Mapping[str, Any]) -> str:
    """The pack without its own hash, in the one byte-exact form its hash is taken over.

    Args:
        pack: the typed pack, or the pack's JSON as read from its file.
    """
    document = pack.as_json() if isinstance(pack, EvidencePack) else dict(pack)
    return canonical_json({k: v for k, v in document.items() if k != "pack_sha256"})
