"""The model card of one version: what it is, the evidence on it, its gates and history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from services.core.errors import InvalidInput
from services.core.policy import Policy
from services.evidence.findings import (
    FindingRecord,
    finding,
    findings_for_version,
    limitations,
)
from services.evidence.gates import GateReport, evaluate_gates
from services.evidence.payloads import EvaluationPayload, FairnessPayload, FairnessSummary
from services.evidence.records import EvidenceRecord, latest_evidence
from services.governance.vendors import VendorDocumentRecord, vendor_documents
from services.registry.adapter import Lineage, ModelSummary, ModelVersionSummary, Registry
from services.registry.aliases import AliasTenure, alias_tenures
from services.registry.contract import ContractReport, check_contract

P = TypeVar("P")


@dataclass(frozen=True)
class ModelCard:
    model: ModelSummary
    version: ModelVersionSummary
    lineage: Lineage
    contract: ContractReport
    evidence: dict[str, EvidenceRecord]
    gates: GateReport
    tenures: list[AliasTenure]
    # The latest evidence read as its typed payload; None when there is none, or when its
    # stored payload cannot be read (its gates then fail and say why).
    evaluation: EvaluationPayload | None = None
    fairness: FairnessPayload | None = None
    # Validators' findings on this version, unsettled first (services.evidence.findings).
    findings: tuple[FindingRecord, ...] = ()
    # A vendor model's documents received (services.governance.vendors); none for own models.
    documents: tuple[VendorDocumentRecord, ...] = ()

    @property
    def limitations(self) -> tuple[FindingRecord, ...]:
        """The limitations register: findings accepted as limitations of this version."""
        return tuple(limitations(list(self.findings)))

    @property
    def metrics(self) -> dict[str, float | None]:
        """The evaluation's figures by name, in the order written."""
        return self.evaluation.metrics.figures() if self.evaluation else {}

    def fairness_headlines(self) -> tuple[FairnessHeadline, ...]:
        """Per sensitive feature: the four-fifths ratio and the groups it compares."""
        if self.fairness is None:
            return ()
        return tuple(FairnessHeadline(feature, assessment.summary)
                     for feature, assessment in self.fairness.features.items())


@dataclass(frozen=True)
class FairnessHeadline:
    feature: str
    summary: FairnessSummary


def build_model_card(*, session: Session, registry: Registry, policy: Policy, model_name: str,
                     version: str) -> ModelCard:
    """Everything the card shows, read once from the registry and the store."""
    model = registry.get_model(model_name)
    lineage = registry.lineage(model_name, version)
    contract = check_contract(model, lineage)
    gates = evaluate_gates(session=session, policy=policy, model_name=model.name, version=version,
                           risk_tier=model.risk_tier, contract=contract)
    evidence = latest_evidence(session=session, model_name=model_name, model_version=version)
    evaluation, fairness = evidence.get("evaluation"), evidence.get("fairness")
    return ModelCard(
        model=model,
        version=registry.get_version(model_name, version),
        lineage=lineage,
        contract=contract,
        evidence=evidence,
        gates=gates,
        tenures=[t for t in alias_tenures(session=session, model_name=model_name)
                 if t.version == str(version)],
        evaluation=_readable(evaluation.evaluation) if evaluation else None,
        fairness=_readable(fairness.fairness) if fairness else None,
        # A limitation is shown with the note it was accepted with: its timeline is read.
        findings=tuple(finding(session=session, finding_id=f.id) if f.is_limitation else f
                       for f in findings_for_version(session=session, model_name=model_name,
                                                     version=str(version))),
        documents=tuple(vendor_documents(session=session, model_name=model_name))
        if model.is_vendor else (),
    )


def _readable(read: Callable[[], P]) -> P | None:
    try:
        return read()
    except InvalidInput:
        return None
