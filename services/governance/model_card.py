"""The model card of one version: what it is, the evidence on it, its gates and history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from services.core.policy import Policy
from services.evidence.gates import GateReport, evaluate_gates
from services.evidence.records import EvidenceRecord, latest_evidence
from services.registry.adapter import Lineage, ModelSummary, ModelVersionSummary, Registry
from services.registry.aliases import AliasTenure, alias_tenures
from services.registry.contract import ContractReport, check_contract


@dataclass(frozen=True)
class ModelCard:
    model: ModelSummary
    version: ModelVersionSummary
    lineage: Lineage
    contract: ContractReport
    evidence: dict[str, EvidenceRecord]
    gates: GateReport
    tenures: list[AliasTenure]

    @property
    def metrics(self) -> dict[str, Any]:
        record = self.evidence.get("evaluation")
        return dict(record.payload.get("metrics", {})) if record else {}

    def fairness_headlines(self) -> list[dict[str, Any]]:
        """Per sensitive feature: the four-fifths ratio and the groups it compares."""
        record = self.evidence.get("fairness")
        if record is None:
            return []
        return [{"feature": feature, **assessment["summary"]}
                for feature, assessment in record.payload.get("features", {}).items()]


def build_model_card(*, session: Session, registry: Registry, policy: Policy, model_name: str,
                     version: str) -> ModelCard:
    """Everything the card shows, read once from the registry and the store."""
    model = registry.get_model(model_name)
    lineage = registry.lineage(model_name, version)
    contract = check_contract(model, lineage)
    gates = evaluate_gates(session=session, policy=policy, model_name=model.name, version=version,
                           risk_tier=model.risk_tier, contract=contract)
    return ModelCard(
        model=model,
        version=registry.get_version(model_name, version),
        lineage=lineage,
        contract=contract,
        evidence=latest_evidence(session=session, model_name=model_name, model_version=version),
        gates=gates,
        tenures=[t for t in alias_tenures(session=session, model_name=model_name)
                 if t.version == str(version)],
    )
