"""The model card as a document (in the spirit of Google's Model Card Toolkit): what card.py
writes as JSON, and what the evidence pack carries and its PDF reads.

Times are ISO 8601 text, as the JSON holds them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.evidence.gates import GateStatus
from services.evidence.payloads import FairnessSummary

CARD_SCHEMA = "model-governance-console/model-card/v1"


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class CardVersion(_Part):
    name: str
    date: str | None


class CardOwner(_Part):
    name: str  # empty when the owner tag is missing (a gap)


class CardReference(_Part):
    reference: str


class ModelDetails(_Part):
    name: str
    version: CardVersion
    overview: str
    owners: tuple[CardOwner, ...]
    risk_tier: str | None
    aliases: tuple[str, ...]
    references: tuple[CardReference, ...]


class CardDataset(_Part):
    name: str
    context: str | None
    mlflow_digest: str


class ModelParameters(_Part):
    model_architecture: str | None
    parameters: dict[str, str]
    data: tuple[CardDataset, ...]
    code_version: str | None
    training_run: str | None


class PerformanceMetric(_Part):
    type: str
    value: float | None


class CardFairness(FairnessSummary):
    """One sensitive feature's headline: its name beside the summary of its gaps."""

    feature: str


class QuantitativeAnalysis(_Part):
    performance_metrics: tuple[PerformanceMetric, ...]
    fairness: tuple[CardFairness, ...]


class Considerations(_Part):
    use_cases: tuple[str, ...]
    limitations: tuple[str, ...]
    sensitive_features: str
    # The limitations register: titles of findings a validator accepted as limitations.
    known_limitations: tuple[str, ...] = ()


class CardGate(_Part):
    gate: str
    status: GateStatus
    figure: float | None
    bound: int | float | None
    clause: str
    detail: str


class CardEvidence(_Part):
    kind: str
    id: int
    created_at: str | None
    created_by: str
    data_sha256: str
    payload_sha256: str
    intact: bool


class ContractGap(_Part):
    requirement: str
    detail: str


class CardTenure(_Part):
    alias: str
    since: str | None
    until: str | None
    moved_by: str
    reason: str


class CardFinding(_Part):
    """A validator's finding on the version (services.evidence.findings), as the card lists it."""

    id: int
    title: str
    severity: str
    category: str
    status: str
    owner: str
    due_on: str
    raised_by: str
    closed_by: str | None
    remediation_plan: str


class CardGovernance(_Part):
    policy_version: str
    policy_sha256: str
    gates_passed: bool
    gates: tuple[CardGate, ...]
    evidence: tuple[CardEvidence, ...]
    contract_gaps: tuple[ContractGap, ...]
    alias_history: tuple[CardTenure, ...]
    # Absent from cards written before findings existed: they read as none.
    findings: tuple[CardFinding, ...] = ()


class CardVendorDocument(_Part):
    title: str
    file_name: str
    sha256: str
    size_bytes: int
    received_on: str


class CardVendor(_Part):
    """A vendor model: who supplies it, the release, and the documents received."""

    vendor: str
    vendor_version: str | None
    no_artifact: str  # why nothing is replayed or explained, in words
    documents: tuple[CardVendorDocument, ...]


class ModelCardDocument(_Part):
    schema_id: str = Field(default=CARD_SCHEMA, alias="schema")
    model_details: ModelDetails
    model_parameters: ModelParameters
    quantitative_analysis: QuantitativeAnalysis
    considerations: Considerations
    governance: CardGovernance
    vendor: CardVendor | None = None  # absent for models the organisation trained

    def as_json(self) -> dict[str, object]:
        """The card as its JSON holds it."""
        return self.model_dump(mode="json", by_alias=True)
