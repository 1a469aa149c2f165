"""Policy gates, evaluated from stored evidence: pass, fail, insufficient data, or missing.

Nothing here computes evidence: a gate reads what was stored, so its verdict can be traced
to a record with a hash. A missing record or contract item fails closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from services.core.clock import utcnow
from services.core.errors import InvalidInput
from services.core.policy import Policy, TierPolicy
from services.evidence.findings import FindingRecord, findings_for_version, open_high
from services.evidence.payloads import FairnessPayload, FeatureAssessment, GroupRates
from services.evidence.records import EvidenceRecord, latest_evidence
from services.registry.adapter import ModelSummary, Registry
from services.registry.contract import ContractReport, check_contract


class GateStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INSUFFICIENT_DATA = "insufficient_data"  # too few to judge: never a pass
    MISSING_EVIDENCE = "missing_evidence"


class GateResult(BaseModel):
    """One gate's verdict; frozen on a promotion request as this model's JSON, and read back."""

    model_config = ConfigDict(frozen=True)

    gate: str
    status: GateStatus
    figure: float | None
    bound: int | float | None  # as the policy states it: days are whole, so they stay ints
    clause: str  # where in policy.toml the bound comes from
    detail: str
    evidence_id: int | None = None

    @property
    def passed(self) -> bool:
        return self.status is GateStatus.PASS

    def as_stored(self) -> dict[str, object]:
        """The JSON frozen on a promotion request (the same keys and values as ever)."""
        return self.model_dump(mode="json")


def _result(gate: str, status: GateStatus, figure: float | None, bound: float | None,
            clause: str, detail: str, evidence_id: int | None = None) -> GateResult:
    return GateResult(gate=gate, status=status, figure=figure, bound=bound, clause=clause,
                      detail=detail, evidence_id=evidence_id)


@dataclass(frozen=True)
class GateReport:
    model_name: str
    model_version: str
    risk_tier: str
    policy_sha256: str
    policy_version: str
    evaluated_at: datetime
    results: tuple[GateResult, ...]
    # The version's unsettled findings then: the gates pillar turns red on an overdue one.
    findings: tuple[FindingRecord, ...] = ()

    @property
    def overdue_findings(self) -> tuple[FindingRecord, ...]:
        return tuple(f for f in self.findings if f.overdue(self.evaluated_at.date()))

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def failing(self) -> tuple[GateResult, ...]:
        return tuple(result for result in self.results if not result.passed)


def evaluate_gates(*, session: Session, policy: Policy, model_name: str, version: str,
                   risk_tier: str | None, contract: ContractReport) -> GateReport:
    """Every gate of the model's risk tier for one version, from stored evidence."""
    tier = policy.for_tier(risk_tier)
    evidence = latest_evidence(session=session, model_name=model_name, model_version=version)
    unsettled = [f for f in findings_for_version(session=session, model_name=model_name,
                                                 version=version) if f.unresolved]
    results = [
        *_contract_gates(contract),
        *_freshness_gates(tier, evidence),
        *_metric_gates(tier, evidence.get("evaluation")),
        *_fairness_gates(tier, policy, evidence.get("fairness")),
        _findings_gate(tier, unsettled),
    ]
    return GateReport(model_name, version, tier.tier, policy.sha256, policy.version, utcnow(),
                      tuple(results), tuple(unsettled))


def _findings_gate(tier: TierPolicy, unsettled: list[FindingRecord]) -> GateResult:
    """Open high-severity validation findings against the tier's bound (0 by default)."""
    high = open_high(unsettled)
    bound = tier.max_open_high_findings
    named = "; ".join(f"#{f.id} {f.title} (due {f.due_on:%Y-%m-%d}, {f.status})"
                      for f in high[:3])
    detail = f"{len(high)} open: {named}" if high else "no high-severity finding is open"
    return _result("open high-severity findings", _verdict(len(high) <= bound),
                   float(len(high)), bound, f"tiers.{tier.tier}.max_open_high_findings",
                   f"{detail} (at most {bound})")


def _contract_gates(contract: ContractReport) -> list[GateResult]:
    return [_result(f"contract: {item.requirement}", GateStatus.FAIL, None, None,
                    "governance contract (README)", item.detail) for item in contract.gaps]


def _freshness_gates(tier: TierPolicy, evidence: dict[str, EvidenceRecord]) -> list[GateResult]:
    clause = (f"tiers.{tier.tier}.required_evidence and "
              f"tiers.{tier.tier}.max_evidence_age_days")
    results = []
    for kind in tier.required_evidence:
        record = evidence.get(kind)
        if record is None:
            results.append(_result(f"{kind} evidence", GateStatus.MISSING_EVIDENCE, None,
                                   tier.max_evidence_age_days, clause,
                                   f"no {kind} evidence has been run for this version"))
            continue
        age = (utcnow() - record.created_at).total_seconds() / 86_400
        fresh = age <= tier.max_evidence_age_days and record.intact
        detail = (f"{age:.0f} days old (run {record.created_at:%Y-%m-%d} by "
                  f"{record.created_by})" if record.intact
                  else "the stored payload no longer matches its SHA-256")
        results.append(_result(f"{kind} evidence", _verdict(fresh), round(age, 1),
                               tier.max_evidence_age_days, clause, detail, record.id))
    return results


def _metric_gates(tier: TierPolicy, record: EvidenceRecord | None) -> list[GateResult]:
    results = []
    for metric, floor in tier.metric_floors.items():
        clause = f"tiers.{tier.tier}.metric_floors.{metric}"
        if record is None:
            results.append(_result(metric, GateStatus.MISSING_EVIDENCE, None, floor, clause,
                                   "no evaluation evidence"))
            continue
        try:
            figure = record.evaluation().metrics.figure(metric)
        except InvalidInput as unreadable:  # fails closed, saying why
            results.append(_result(metric, GateStatus.FAIL, None, floor, clause,
                                   unreadable.message, record.id))
            continue
        if figure is None:
            results.append(_result(metric, GateStatus.INSUFFICIENT_DATA, None, floor, clause,
                                   f"the evaluation has no {metric}", record.id))
        else:
            results.append(_result(metric, _verdict(figure >= floor), figure, floor, clause,
                                   f"at least {floor}", record.id))
    return results


def _verdict(passes: bool) -> GateStatus:
    return GateStatus.PASS if passes else GateStatus.FAIL


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
    clause = f"tiers.{tier.tier}.fairness_bounds"
    if record is None:
        return [_result("fairness", GateStatus.MISSING_EVIDENCE, None, None, clause,
                        "no fairness evidence")]
    try:
        fairness = record.fairness()
    except InvalidInput as unreadable:  # fails closed, saying why
        return [_result("fairness", GateStatus.FAIL, None, None, clause, unreadable.message,
                        record.id)]
    results = []
    for feature, assessment in fairness.features.items():
        if assessment.intersectional and not policy.fairness.gate_intersections:
            continue
        results.extend(_feature_gates(tier, feature, assessment, fairness, record.id))
    return results


def _feature_gates(tier: TierPolicy, feature: str, assessment: FeatureAssessment,
                   fairness: FairnessPayload, evidence_id: int) -> list[GateResult]:
    summary = assessment.summary
    results = []
    for name, key, bound_key, side in _FAIRNESS_FIGURES:
        bound = tier.fairness_bounds[bound_key]
        clause = f"tiers.{tier.tier}.fairness_bounds.{bound_key}"
        figure = summary.figure(key)
        left_out = _left_out(assessment, key, fairness)
        note = f"; left out: {'; '.join(left_out)}" if left_out else ""
        if figure is None:
            results.append(_result(f"{name} by {feature}", GateStatus.INSUFFICIENT_DATA, None,
                                   bound, clause, _too_few(key, fairness) + note, evidence_id))
            continue
        ok = figure >= bound if side == "min" else figure <= bound
        status, detail = _verdict(ok), _judged_over(key, assessment)
        missing_half = None if not summary.rates_judged_separately else \
            "TPR" if summary.equal_opportunity_difference is None else \
            "FPR" if summary.false_positive_rate_difference is None else None
        if key == "equalized_odds_difference" and ok and missing_half:
            # A gap within the bound on one rate says nothing of the other: no pass on half.
            status = GateStatus.INSUFFICIENT_DATA
            detail = (f"{detail}, but {_too_few(missing_half, fairness)}: the {missing_half} "
                      "gap cannot be judged")
        results.append(_result(f"{name} by {feature}", status, figure, bound, clause,
                               detail + note, evidence_id))
    return results


_ERROR_RATE_FIGURES = ("equal_opportunity_difference", "equalized_odds_difference")


def _too_few(key: str, fairness: FairnessPayload) -> str:
    """Why a figure (or, for "TPR"/"FPR", one half of equalized odds) has no value."""
    people, each = fairness.min_group_size, fairness.min_class_count
    tpr = f"for TPR (at least {people} people and {each} positives)"
    fpr = f"for FPR (at least {people} people and {each} negatives)"
    wanted = {"TPR": tpr, "FPR": fpr, "equal_opportunity_difference": tpr,
              "equalized_odds_difference": f"{tpr} or {fpr}"}
    if key in wanted:
        return f"fewer than two groups can be judged {wanted[key]}"
    return f"fewer than two groups large enough to judge (at least {people} people)"


def _judged_over(key: str, assessment: FeatureAssessment) -> str:
    summary = assessment.summary
    if key == "four_fifths_ratio":
        return f"{summary.least_favoured_group} against {summary.most_favoured_group}"
    if key not in _ERROR_RATE_FIGURES or not summary.rates_judged_separately:
        return "across judged groups"
    tpr = f"TPR gap across {summary.tpr_judged_groups} groups judged for TPR"
    if key == "equal_opportunity_difference":
        return tpr
    fpr_gap = summary.false_positive_rate_difference
    fpr = f"FPR gap across {summary.fpr_judged_groups} groups judged for FPR"
    return (f"the larger of the {tpr} ({_fmt(summary.equal_opportunity_difference)}) and the "
            f"{fpr} ({_fmt(fpr_gap)})")


def _fmt(figure: float | None) -> str:
    return "undefined" if figure is None else f"{figure:.3f}"


def _left_out(assessment: FeatureAssessment, key: str,
              fairness: FairnessPayload) -> list[str]:
    """The groups a figure left out, each with why."""
    people, each = fairness.min_group_size, fairness.min_class_count
    left = [f"{g.group} (too few people: {g.count}, needs {people})"
            for g in assessment.groups if not g.judged]
    if key not in _ERROR_RATE_FIGURES:
        return left
    judged = [g for g in assessment.groups if g.judged]
    if not assessment.summary.rates_judged_separately:  # one rule for both rates then
        return left + [f"{g.group} from TPR and FPR (too few of a class: {g.positives} "
                       f"positives, {g.negatives} negatives; needs {each} of each)"
                       for g in judged if not g.rates_judged]
    left += [_short(g, "TPR", g.positives, "positives", each)
             for g in judged if not g.judged_for("tpr")]
    if key == "equalized_odds_difference":
        left += [_short(g, "FPR", g.negatives, "negatives", each)
                 for g in judged if not g.judged_for("fpr")]
    return left


def _short(group: GroupRates, rate: str, held: int, kind: str, needed: int) -> str:
    return f"{group.group} from {rate} (too few {kind}: {held}, needs {needed})"


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
