"""Policy as code: policy.toml, read into the project's own types, with its hash."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.core.errors import InvalidInput

RISK_TIERS = ("high", "medium", "low")
EVIDENCE_KINDS = ("evaluation", "fairness", "reference_profile")
FAIRNESS_BOUNDS = ("four_fifths_ratio_min", "demographic_parity_difference_max",
                   "equalized_odds_difference_max", "equal_opportunity_difference_max")
MONITORING = ("window_days", "escalation_rate_max", "override_rate_max")
DRIFT_THRESHOLDS = ("psi_max", "jensen_shannon_max", "ks_statistic_max", "drifted_share_max")
# What makes a periodic review due before its cycle ends (services.monitoring.reviews).
# material_change: a new version promoted to the champion alias since the last review.
REVIEW_TRIGGERS = ("drift_alert", "performance_alert", "material_change", "exception_expired",
                   "open_high_finding")


@dataclass(frozen=True)
class FairnessPolicy:
    continuous_band_edges: tuple[float, ...]
    bootstrap_resamples: int
    confidence_level: float
    min_class_count: int
    gate_intersections: bool


@dataclass(frozen=True)
class TierPolicy:
    """What the policy demands of models in one risk tier."""

    tier: str
    confidence_margin: float
    approvers: int
    revalidation_days: int
    required_evidence: tuple[str, ...]
    max_evidence_age_days: int
    min_group_size: int
    metric_floors: dict[str, float]
    fairness_bounds: dict[str, float]
    drift: dict[str, float]
    monitoring: dict[str, float]  # window_days, escalation_rate_max, override_rate_max
    # Distinct admins whose policy exception a failing gate needs before approval can pass it.
    exception_approvers: int = 1
    # Unsettled high-severity findings a version may carry and still pass its gates.
    max_open_high_findings: int = 0
    # Periodic review (SR 26-2): days between reviews, and what makes one due sooner.
    review_cycle_days: int = 365
    review_triggers: tuple[str, ...] = REVIEW_TRIGGERS


@dataclass(frozen=True)
class Policy:
    version: str
    sha256: str
    fairness: FairnessPolicy
    tiers: dict[str, TierPolicy]

    def for_tier(self, tier: str | None) -> TierPolicy:
        """The tier's policy; an unknown or missing tier is held to the strictest one."""
        return self.tiers.get(tier or "", self.tiers["high"])


def load_policy(path: Path) -> Policy:
    """Read and check policy.toml; raise InvalidInput naming the clause that is wrong."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"Cannot read the policy file {path}: {exc.strerror}.",
            hint="Set GOVERNANCE_POLICY to the path of a policy.toml.",
        ) from exc
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"The policy file {path} is not valid TOML: {exc}.") from exc
    tiers = {tier: _tier(tier, document.get("tiers", {}).get(tier), path) for tier in RISK_TIERS}
    return Policy(
        version=str(document.get("version", "unversioned")),
        sha256=hashlib.sha256(raw).hexdigest(),
        fairness=_fairness(document.get("fairness", {}), path),
        tiers=tiers,
    )


def _fairness(clause: Any, path: Path) -> FairnessPolicy:
    try:
        policy = FairnessPolicy(
            continuous_band_edges=tuple(float(e) for e in clause["continuous_band_edges"]),
            bootstrap_resamples=int(clause["bootstrap_resamples"]),
            confidence_level=float(clause["confidence_level"]),
            min_class_count=int(clause["min_class_count"]),
            gate_intersections=bool(clause["gate_intersections"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"[fairness] in {path} is missing or mistypes {exc}.") from exc
    if list(policy.continuous_band_edges) != sorted(set(policy.continuous_band_edges)):
        raise InvalidInput(f"[fairness] continuous_band_edges in {path} must rise strictly.")
    if not 0.5 < policy.confidence_level < 1 or policy.bootstrap_resamples < 0:
        raise InvalidInput(f"[fairness] in {path}: confidence_level must be in (0.5, 1) and "
                           "bootstrap_resamples not negative.")
    return policy


def _tier(tier: str, clause: Any, path: Path) -> TierPolicy:
    if not isinstance(clause, dict):
        raise InvalidInput(f"The policy file {path} has no [tiers.{tier}] section.")
    try:
        policy = TierPolicy(
            tier=tier,
            confidence_margin=float(clause["confidence_margin"]),
            approvers=int(clause["approvers"]),
            revalidation_days=int(clause["revalidation_days"]),
            required_evidence=tuple(str(k) for k in clause["required_evidence"]),
            max_evidence_age_days=int(clause["max_evidence_age_days"]),
            min_group_size=int(clause["min_group_size"]),
            metric_floors={str(k): float(v) for k, v in clause["metric_floors"].items()},
            fairness_bounds={k: float(clause["fairness_bounds"][k]) for k in FAIRNESS_BOUNDS},
            drift={k: float(clause["drift"][k]) for k in DRIFT_THRESHOLDS},
            monitoring={k: float(clause["monitoring"][k]) for k in MONITORING},
            exception_approvers=int(clause.get("exception_approvers", 1)),
            max_open_high_findings=int(clause.get("max_open_high_findings", 0)),
            # Older policy files have no review clauses: the revalidation cycle, every trigger.
            review_cycle_days=int(clause["review_cycle_days"] if "review_cycle_days" in clause
                                  else clause["revalidation_days"]),
            review_triggers=_triggers(clause.get("review_triggers", REVIEW_TRIGGERS)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(f"[tiers.{tier}] in {path} is missing or mistypes {exc}.") from exc
    if not 0 <= policy.confidence_margin < 0.5 or min(policy.approvers,
                                                      policy.exception_approvers) < 1 \
            or policy.max_open_high_findings < 0 or policy.review_cycle_days < 1:
        raise InvalidInput(
            f"[tiers.{tier}] in {path}: confidence_margin must be in [0, 0.5) "
            "and approvers and exception_approvers at least 1, "
            "max_open_high_findings not negative, review_cycle_days at least 1."
        )
    unknown = set(policy.required_evidence) - set(EVIDENCE_KINDS)
    if unknown:
        raise InvalidInput(f"[tiers.{tier}] in {path} requires unknown evidence {sorted(unknown)}.",
                           hint=f"Evidence kinds are {', '.join(EVIDENCE_KINDS)}.")
    if strange := sorted(set(policy.review_triggers) - set(REVIEW_TRIGGERS)):
        raise InvalidInput(f"[tiers.{tier}] review_triggers in {path} names unknown "
                           f"trigger(s) {strange}.",
                           hint=f"Review triggers are {', '.join(REVIEW_TRIGGERS)}.")
    return policy


def _triggers(value: Any) -> tuple[str, ...]:
    """A list of trigger names; a bare string would otherwise be read letter by letter."""
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise TypeError("review_triggers (a list of trigger names)")
    return tuple(value)
