"""Fairness evidence with fairlearn: rates per group with bootstrap intervals, and the gaps.

Point estimates come from fairlearn's MetricFrame. The percentile-bootstrap intervals use the
same method as MetricFrame(n_boot=...), vectorised over grouped counts: fairlearn rebuilds a
MetricFrame per resample, about 100 times slower on a 10,000-row hold-out set.

"Favourable" is the outcome a person wants (a loan approved, a payment let through); the
four-fifths rule compares favourable rates. Error rates (TPR, FPR) are about the positive
label. Groups too small to judge are reported as such and left out of the gaps, never passed.
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
    return float(precision_score(y_true, y_pred, zero_division=0))


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
        # As precision_score(zero_division=0): no predicted positives gives 0; a resample
        # without anyone from the group gives no value at all.
        precision = np.where(predicted > 0, hits / np.maximum(predicted, 1), 0.0)
        precision[rows == 0] = np.nan
        rates = {
            "favourable_rate": grouped((y_pred == favourable_prediction).astype(float)) / rows,
            "true_positive_rate": hits / grouped(y),
            "false_positive_rate": grouped((1 - y) * p) / grouped(1 - y),
            "precision": precision,
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
        judged = int(table.loc[group, "count"]) >= min_group_size
        rows.append({
            "group": str(group),
            "count": int(table.loc[group, "count"]),
            "positives": positives,
            "negatives": negatives,
            "judged": judged,
            "rates_judged": judged and min(positives, negatives) >= policy.min_class_count,
            **{metric: _number(table.loc[group, metric]) for metric in RATES},
            "ci": intervals.get(str(group), {metric: [None, None] for metric in RATES}),
        })
    return {
        "feature": name,
        "intersectional": intersectional,
        "groups": rows,
        "summary": _summary(rows),
        # fairlearn's own figures over every group, small ones included, for comparison.
        "fairlearn_all_groups": {
            "demographic_parity_difference": float(demographic_parity_difference(
                y_true, y_pred, sensitive_features=labels)),
            "equalized_odds_difference": float(equalized_odds_difference(
                y_true, y_pred, sensitive_features=labels)),
        },
    }


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Gaps across the groups big enough to judge; None where fewer than two are."""
    judged = [r for r in rows if r["judged"]]
    rated = [r for r in rows if r["rates_judged"]]
    summary: dict[str, Any] = {
        "judged_groups": len(judged),
        "too_few_to_judge": [r["group"] for r in rows if not r["judged"]],
        "four_fifths_ratio": None, "most_favoured_group": None, "least_favoured_group": None,
        "demographic_parity_difference": None, "demographic_parity_ratio": None,
        "equalized_odds_difference": None, "equal_opportunity_difference": None,
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
    if len(rated) >= 2:
        tpr = [r["true_positive_rate"] for r in rated]
        fpr = [r["false_positive_rate"] for r in rated]
        summary.update(equal_opportunity_difference=max(tpr) - min(tpr),
                       equalized_odds_difference=max(max(tpr) - min(tpr),
                                                     max(fpr) - min(fpr)))
    return summary


def _number(value: Any) -> float | None:
    number = float(value)
    return None if np.isnan(number) else number
