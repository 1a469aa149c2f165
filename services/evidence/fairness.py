"""Fairness evidence with fairlearn: rates per group with bootstrap intervals, and the gaps.

Point estimates come from fairlearn's MetricFrame. The percentile-bootstrap intervals use the
same method as MetricFrame(n_boot=...), vectorised over grouped counts: fairlearn rebuilds a
MetricFrame per resample, about 100 times slower on a 10,000-row hold-out set.

"Favourable" is the outcome a person wants (a loan approved, a payment let through); the
four-fifths rule compares favourable rates. Error rates (TPR, FPR) are about the positive
label. Groups too small to judge are reported as such and left out of the gaps, never passed.

Each rate is judged over the groups that can carry it: the true-positive rate over groups with
at least min_class_count positives, the false-positive rate over groups with at least that many
negatives, separately. A group whose labels are all positive still counts for equal
opportunity. A rate without a denominator (TPR without positives, FPR without negatives,
precision without predicted positives) is undefined and stored as None, never as 0 (fairlearn
and scikit-learn give 0 there).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    count,
    demographic_parity_difference,
    equalized_odds_difference,
    false_positive_rate,
    true_positive_rate,
)
from sklearn.metrics import precision_score

from services.core.policy import FairnessPolicy
from services.evidence.groups import intersection


def _precision(y_true: Any, y_pred: Any) -> float:
    return float(precision_score(y_true, y_pred, zero_division=np.nan))


def fairness_payload(*, y_true: np.ndarray, y_pred: np.ndarray, favourable_prediction: int,
                     groups: pd.DataFrame, policy: FairnessPolicy, min_group_size: int,
                     seed: int = 0) -> dict[str, Any]:
    """Per sensitive feature and for their intersection: group table and summary figures."""
    def favourable_rate(_y_true: Any, predicted: Any) -> float:
        return float(np.mean(np.asarray(predicted) == favourable_prediction))

    features: dict[str, pd.Series] = {c: groups[c] for c in groups.columns}
    if groups.shape[1] > 1:
        joint = intersection(groups)
        features[str(joint.name)] = joint
    metric_set = {"count": count, "favourable_rate": favourable_rate,
                  "true_positive_rate": true_positive_rate,
                  "false_positive_rate": false_positive_rate, "precision": _precision}
    tail = (1 - policy.confidence_level) / 2
    assessments = {}
    for name, sensitive in features.items():
        frame = MetricFrame(metrics=metric_set, y_true=y_true, y_pred=y_pred,
                            sensitive_features=sensitive.to_numpy())
        intervals = bootstrap_intervals(
            y_true=y_true, y_pred=y_pred, favourable_prediction=favourable_prediction,
            groups=sensitive.to_numpy(), resamples=policy.bootstrap_resamples,
            quantiles=(tail, 1 - tail), seed=seed)
        assessments[name] = _assess(name, frame, intervals, y_true, y_pred, sensitive, policy,
                                    min_group_size, intersectional=name not in groups.columns)
    return {
        "favourable_prediction": favourable_prediction,
        "min_group_size": min_group_size,
        "min_class_count": policy.min_class_count,
        "bootstrap_resamples": policy.bootstrap_resamples,
        "confidence_level": policy.confidence_level,
        "features": assessments,
    }


RATES = ("favourable_rate", "true_positive_rate", "false_positive_rate", "precision")


def bootstrap_intervals(*, y_true: np.ndarray, y_pred: np.ndarray, favourable_prediction: int,
                        groups: np.ndarray, resamples: int, quantiles: tuple[float, float],
                        seed: int) -> dict[str, dict[str, list[float | None]]]:
    """Percentile intervals of each group's rates over resamples of the whole hold-out set."""
    names, codes = np.unique(groups.astype(str), return_inverse=True)
    if resamples <= 0:
        return {}
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(codes), size=(resamples, len(codes)))
    k = len(names)
    offsets = (np.arange(resamples) * k)[:, None]
    flat = (codes[picks] + offsets).ravel()

    def grouped(weights: np.ndarray) -> np.ndarray:
        return np.bincount(flat, weights=weights[picks].ravel(),
                           minlength=resamples * k).reshape(resamples, k)

    y, p = y_true.astype(float), y_pred.astype(float)
    rows, predicted, hits = grouped(np.ones_like(y)), grouped(p), grouped(y * p)
    with np.errstate(invalid="ignore", divide="ignore"):
        # A rate without a denominator in a resample (0/0) is NaN: it has no value there, and
        # the interval is over the resamples where it has one.
        rates = {
            "favourable_rate": grouped((y_pred == favourable_prediction).astype(float)) / rows,
            "true_positive_rate": hits / grouped(y),
            "false_positive_rate": grouped((1 - y) * p) / grouped(1 - y),
            "precision": hits / predicted,
        }
    out: dict[str, dict[str, list[float | None]]] = {}
    for index, name in enumerate(names):
        out[str(name)] = {}
        for metric, values in rates.items():
            column = values[:, index]
            column = column[np.isfinite(column)]
            out[str(name)][metric] = ([_number(np.quantile(column, q)) for q in quantiles]
                                      if column.size else [None, None])
    return out


def _assess(name: str, frame: MetricFrame,
            intervals: dict[str, dict[str, list[float | None]]], y_true: np.ndarray,
            y_pred: np.ndarray, sensitive: pd.Series, policy: FairnessPolicy,
            min_group_size: int, *, intersectional: bool) -> dict[str, Any]:
    table = frame.by_group
    labels = sensitive.to_numpy()
    rows = []
    for group in table.index:
        in_group = labels == group
        positives = int(y_true[in_group].sum())
        negatives = int(in_group.sum()) - positives
        predicted_positives = int(y_pred[in_group].sum())
        judged = int(table.loc[group, "count"]) >= min_group_size
        figures = {metric: _number(table.loc[group, metric]) for metric in RATES}
        # Undefined, not 0: fairlearn gives 0 for a rate without a denominator.
        for metric, denominator in (("true_positive_rate", positives),
                                    ("false_positive_rate", negatives),
                                    ("precision", predicted_positives)):
            if denominator == 0:
                figures[metric] = None
        rows.append({
            "group": str(group),
            "count": int(table.loc[group, "count"]),
            "positives": positives,
            "negatives": negatives,
            "judged": judged,
            "rates_judged": judged and min(positives, negatives) >= policy.min_class_count,
            "tpr_judged": judged and positives >= policy.min_class_count,
            "fpr_judged": judged and negatives >= policy.min_class_count,
            **figures,
            "ci": intervals.get(str(group), {metric: [None, None] for metric in RATES}),
        })
    return {
        "feature": name,
        "intersectional": intersectional,
        "groups": rows,
        "summary": _summary(rows),
        # fairlearn's own figures over every group, small ones included, for comparison
        # (fairlearn counts an undefined rate as 0).
        "fairlearn_all_groups": {
            "demographic_parity_difference": float(demographic_parity_difference(
                y_true, y_pred, sensitive_features=labels)),
            "equalized_odds_difference": float(equalized_odds_difference(
                y_true, y_pred, sensitive_features=labels)),
        },
    }


def _gap(rates: list[float | None]) -> float | None:
    defined = [r for r in rates if r is not None]
    return max(defined) - min(defined) if len(defined) >= 2 else None


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Gaps across the groups that can be judged for each rate; None where fewer than two can.

    Equal opportunity is the TPR gap over the groups judged for TPR; equalized odds the larger
    of that and the FPR gap over the groups judged for FPR (either alone when the other has
    fewer than two groups; the gate does not pass on one alone).
    """
    judged = [r for r in rows if r["judged"]]
    tpr_gap = _gap([r["true_positive_rate"] for r in rows if r["tpr_judged"]])
    fpr_gap = _gap([r["false_positive_rate"] for r in rows if r["fpr_judged"]])
    gaps = [g for g in (tpr_gap, fpr_gap) if g is not None]
    summary: dict[str, Any] = {
        "judged_groups": len(judged),
        "too_few_to_judge": [r["group"] for r in rows if not r["judged"]],
        "four_fifths_ratio": None, "most_favoured_group": None, "least_favoured_group": None,
        "demographic_parity_difference": None, "demographic_parity_ratio": None,
        "equalized_odds_difference": max(gaps) if gaps else None,
        "equal_opportunity_difference": tpr_gap,
        "false_positive_rate_difference": fpr_gap,
        "tpr_judged_groups": sum(r["tpr_judged"] for r in rows),
        "fpr_judged_groups": sum(r["fpr_judged"] for r in rows),
        "too_few_positives": [r["group"] for r in judged if not r["tpr_judged"]],
        "too_few_negatives": [r["group"] for r in judged if not r["fpr_judged"]],
    }
    if len(judged) >= 2:
        best = max(judged, key=lambda r: r["favourable_rate"])
        worst = min(judged, key=lambda r: r["favourable_rate"])
        ratio = worst["favourable_rate"] / best["favourable_rate"] \
            if best["favourable_rate"] else None
        summary.update(four_fifths_ratio=ratio, demographic_parity_ratio=ratio,
                       most_favoured_group=best["group"], least_favoured_group=worst["group"],
                       demographic_parity_difference=best["favourable_rate"]
                       - worst["favourable_rate"])
    return summary


def _number(value: Any) -> float | None:
    number = float(value)
    return None if np.isnan(number) else number
