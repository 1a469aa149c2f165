"""The console's domain names as people read them, and the unit each measure is shown in.

Internal names (metric keys, the profiled score, gate and finding kinds, escalation reason
codes, pillars, stored columns) never reach a screen, a PDF or a letter as written: they pass
through `label`. A name missing here still reads as words ("some_rate" -> "Some rate"), never
with underscores. The sweep test (tests/app/test_sweep.py) fails on any snake_case key of
LABELS shown alone in a page's visible text.
"""

from __future__ import annotations

from services.core.numbers import Unit, in_unit

LABELS: dict[str, str] = {
    # the model's own output, profiled like an input (services/evidence/profile.py SCORE)
    "__score__": "Score",
    # evaluation metrics (services/evidence/payloads.py ClassificationMetrics, RegressionMetrics)
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC",
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
    "log_loss": "Log loss",
    "brier": "Brier score",
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
    "predicted_positive_rate": "Predicted positive rate",
    "positive_rate": "Observed positive rate",
    "selection_rate": "Selection rate",
    "true_positive_rate": "True positive rate",
    "false_positive_rate": "False positive rate",
    # fairness figures and their policy bounds
    "four_fifths_ratio": "Four-fifths ratio",
    "demographic_parity_difference": "Demographic parity difference",
    "equalized_odds_difference": "Equalized odds difference",
    "equal_opportunity_difference": "Equal opportunity difference",
    # drift statistics and bounds
    "psi": "PSI",
    "js": "Jensen-Shannon distance",
    "jensen_shannon": "Jensen-Shannon distance",
    "ks": "KS statistic",
    "ks_statistic": "KS statistic",
    "wasserstein": "Wasserstein distance",
    "chi_square": "Chi-square",
    "drifted_share": "Share of inputs drifted",
    "escalation_rate": "Share sent to a person",
    "override_rate": "Share overridden",
    "labelled_share": "Share with a known outcome",
    # gates not named by a metric (services/evidence/gates.py)
    "evaluation evidence": "Evaluation evidence age",
    "fairness evidence": "Fairness evidence age",
    "max_evidence_age_days": "Maximum evidence age",
    # escalation reason codes (the decision log's escalation_reason)
    "low_confidence": "score too close to the threshold",
    "missing_input": "an input was missing",
    "not_known": "not known",
    # finding and alert kinds (services/monitoring/assessment.py Finding.kind)
    "performance_estimate": "Estimated performance",
    "audit_chain_broken": "Audit chain broken",
    "unmonitored": "Cannot be monitored",
    # pillars (services/monitoring/portfolio.py PILLARS)
    "evidence": "Evidence",
    "gates": "Gates",
    "drift": "Drift",
    "performance": "Performance",
    "fairness": "Fairness",
    "alerts": "Alerts",
    "revalidation": "Revalidation",
    "oversight": "Oversight",
    # stored columns that reach tables
    "decision_id": "Decision",
    "subject_ref": "Subject",
    "model_name": "Model",
    "model_version": "Version",
    "decided_at": "Decided at",
    "escalation_reason": "Why it went to a person",
    "reason_category": "Reason",
    "new_outcome": "New outcome",
    "created_at": "When",
    "created_by": "By",
}

UNITS: dict[str, Unit] = {
    "predicted_positive_rate": Unit.RATE,
    "positive_rate": Unit.RATE,
    "selection_rate": Unit.RATE,
    "true_positive_rate": Unit.RATE,
    "false_positive_rate": Unit.RATE,
    "drifted_share": Unit.RATE,
    "escalation_rate": Unit.RATE,
    "override_rate": Unit.RATE,
    "labelled_share": Unit.RATE,
    "evaluation evidence": Unit.DAYS,
    "fairness evidence": Unit.DAYS,
    "max_evidence_age_days": Unit.DAYS,
    # finding and alert kinds: the unit of their figure and bound
    "drift": Unit.RATE,  # the share of inputs drifted
    "escalation": Unit.RATE,
    "override": Unit.RATE,
    "control": Unit.COUNT,  # automatic decisions that should have gone to a person
}


def label(name: str) -> str:
    """The label people read for an internal name; an unknown name as plain words."""
    if name in LABELS:
        return LABELS[name]
    if name.startswith("contract: "):
        return f"Contract: {name.removeprefix('contract: ')}"
    words = name.strip("_").replace("_", " ")
    return words[:1].upper() + words[1:] if words else name


def term(name: str) -> str:
    """A name that may be the model's own (an input, a category value): its label when it is
    one of the console's internal names (__score__, not_known), otherwise as the model's owner
    wrote it, so that it matches the model's signature and data."""
    return LABELS.get(name, name)


def unit(name: str) -> Unit:
    """The unit a named measure is shown in (FIGURE, three decimals, unless listed)."""
    return UNITS.get(name, Unit.FIGURE)


def shown(name: str, value: float | int | None, *, reason: str | None = None) -> str:
    """A named measure's value as people read it: shown("selection_rate", 0.5) -> "50.0%"."""
    return in_unit(value, unit(name), reason=reason)


def internal_names() -> tuple[str, ...]:
    """The names that must never be seen as written: those with an underscore."""
    return tuple(name for name in LABELS if "_" in name)
