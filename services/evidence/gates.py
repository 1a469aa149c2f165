"""Policy gates, evaluated from stored evidence: pass, fail, insufficient data, or missing.

Nothing here computes evidence: a gate reads what was stored, so its verdict can be traced
to a record with a hash. A missing record or contract item fails closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.orm import Session

from services.core.clock import utcnow
from services.core.policy import Policy, TierPolicy
from services.evidence.records import EvidenceRecord, latest_evidence
from services.registry.adapter import ModelSummary, Registry
from services.registry.contract import ContractReport, check_contract

Status = Literal["pass", "fail", "insufficient_data", "missing_evidence"]


@dataclass(frozen=True)
class GateResult:
    gate: str
    status: Status
    figure: float | None
    bound: float | None
    clause: str  # where in policy.toml the bound comes from
    detail: str
    evidence_id: int | None = None


@dataclass(frozen=True)
class GateReport:
    model_name: str
    model_version: str
    risk_tier: str
    policy_sha256: str
    policy_version: str
    evaluated_at: datetime
    results: tuple[GateResult, ...]

    @property
    def passed(self) -> bool:
        return all(result.status == "pass" for result in self.results)

    @property
    def failing(self) -> tuple[GateResult, ...]:
        return tuple(result for result in self.results if result.status != "pass")


def evaluate_gates(*, session: Session, policy: Policy, model_name: str, version: str,
                   risk_tier: str | None, contract: ContractReport) -> GateReport:
    """Every gate of the model's risk tier for one version, from stored evidence."""
    tier = policy.for_tier(risk_tier)
    evidence = latest_evidence(session=session, model_name=model_name, model_version=version)
    results = [
        *_contract_gates(contract),
        *_freshness_gates(tier, evidence),
        *_metric_gates(tier, evidence.get("evaluation")),
        *_fairness_gates(tier, policy, evidence.get("fairness")),
    ]
    return GateReport(model_name, version, tier.tier, policy.sha256, policy.version, utcnow(),
                      tuple(results))


def _contract_gates(contract: ContractReport) -> list[GateResult]:
    return [GateResult(f"contract: {item.requirement}", "fail", None, None,
                       "governance contract (README)", item.detail) for item in contract.gaps]


def _freshness_gates(tier: TierPolicy, evidence: dict[str, EvidenceRecord]) -> list[GateResult]:
    clause = f"tiers.{tier.tier}.required_evidence, max_evidence_age_days"
    results = []
    for kind in tier.required_evidence:
        record = evidence.get(kind)
        if record is None:
            results.append(GateResult(f"{kind} evidence", "missing_evidence", None,
                                      tier.max_evidence_age_days, clause,
                                      f"no {kind} evidence has been run for this version"))
            continue
        age = (utcnow() - record.created_at).total_seconds() / 86_400
        fresh = age <= tier.max_evidence_age_days and record.intact
        detail = (f"{age:.0f} days old (run {record.created_at:%Y-%m-%d} by "
                  f"{record.created_by})" if record.intact
                  else "the stored payload no longer matches its SHA-256")
        results.append(GateResult(f"{kind} evidence", "pass" if fresh else "fail",
                                  round(age, 1), tier.max_evidence_age_days, clause, detail,
                                  record.id))
    return results


def _metric_gates(tier: TierPolicy, record: EvidenceRecord | None) -> list[GateResult]:
    results = []
    for metric, floor in tier.metric_floors.items():
        clause = f"tiers.{tier.tier}.metric_floors.{metric}"
        figure = (record.payload.get("metrics", {}).get(metric) if record else None)
        if record is None:
            results.append(GateResult(metric, "missing_evidence", None, floor, clause,
                                      "no evaluation evidence"))
        elif figure is None:
            results.append(GateResult(metric, "insufficient_data", None, floor, clause,
                                      f"the evaluation has no {metric}", record.id))
        else:
            results.append(GateResult(metric, "pass" if figure >= floor else "fail", figure,
                                      floor, clause, f"at least {floor}", record.id))
    return results


_FAIRNESS_FIGURES = (
    # gate name, summary figure, bound key, the figure passes when it is on this side
    ("four-fifths ratio", "four_fifths_ratio", "four_fifths_ratio_min", "min"),
    ("demographic parity difference", "demographic_parity_difference",
     "demographic_parity_difference_max", "max"),
    ("equalized odds difference", "equalized_odds_difference",
     "equalized_odds_difference_max", "max"),
    ("equal opportunity difference", "equal_opportunity_difference",
     "equal_opportunity_difference_max", "max"),
)


def _fairness_gates(tier: TierPolicy, policy: Policy,
                    record: EvidenceRecord | None) -> list[GateResult]:
    if "fairness" not in tier.required_evidence and record is None:
        return []
    if record is None:
        return [GateResult("fairness", "missing_evidence", None, None,
                           f"tiers.{tier.tier}.fairness_bounds", "no fairness evidence")]
    results = []
    for feature, assessment in record.payload.get("features", {}).items():
        if assessment.get("intersectional") and not policy.fairness.gate_intersections:
            continue
        results.extend(_feature_gates(tier, feature, assessment, record.id))
    return results


def _feature_gates(tier: TierPolicy, feature: str, assessment: dict[str, Any],
                   evidence_id: int) -> list[GateResult]:
    summary = assessment["summary"]
    unjudged = summary.get("too_few_to_judge") or []
    note = f"; too few to judge: {', '.join(unjudged)}" if unjudged else ""
    results = []
    for name, key, bound_key, side in _FAIRNESS_FIGURES:
        bound = tier.fairness_bounds[bound_key]
        clause = f"tiers.{tier.tier}.fairness_bounds.{bound_key}"
        figure = summary.get(key)
        if figure is None:
            results.append(GateResult(f"{name} by {feature}", "insufficient_data", None, bound,
                                      clause, f"fewer than two groups large enough to judge{note}",
                                      evidence_id))
            continue
        ok = figure >= bound if side == "min" else figure <= bound
        worst = summary.get("least_favoured_group")
        best = summary.get("most_favoured_group")
        detail = (f"{worst} against {best}" if key == "four_fifths_ratio" else "across judged "
                  "groups") + note
        results.append(GateResult(f"{name} by {feature}", "pass" if ok else "fail", figure,
                                  bound, clause, detail, evidence_id))
    return results


def gates_for_version(*, session: Session, registry: Registry, policy: Policy, model_name: str,
                      version: str, model: ModelSummary | None = None) -> GateReport:
    """Gate a registered version: its contract from the registry, its evidence from the store.
    model: the registry's summary when the caller listed it already (the monitor): one registry
    read less per model."""
    model = model or registry.get_model(model_name)
    version = str(version)
    contract = check_contract(model, registry.lineage(model_name, version))
    return evaluate_gates(session=session, policy=policy, model_name=model.name, version=version,
                          risk_tier=model.risk_tier, contract=contract)
