"""Evaluation evidence: how well the exact version performs on its hold-out set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.base import is_regressor
from sklearn.calibration import calibration_curve

from services.core.errors import InvalidInput
from services.evidence.holdout import HoldOut, _as_text

CURVE_POINTS = 200  # curves are stored thinned: enough to draw, small enough to keep


@dataclass(frozen=True, eq=False)
class Scored:
    """The version's output on the hold-out set."""

    task: Literal["classification", "regression"]
    scores: np.ndarray  # P(positive label), or the prediction of a regressor
    y_true: np.ndarray  # 1/0 for the positive label; the target for a regressor
    y_pred: np.ndarray  # 1/0 at the operating threshold (classification only)
    threshold: float


def model_inputs(model: Any, holdout: HoldOut) -> pd.DataFrame:
    """The columns the model was fitted on, else every column but the label."""
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        return holdout.frame.drop(columns=[holdout.label])
    missing = [n for n in names if n not in holdout.frame.columns]
    if missing:
        raise InvalidInput(f"The hold-out set lacks the model's input(s) {', '.join(missing)}.",
                           hint="Log a hold-out set with every column the model was fitted on.")
    return holdout.frame[list(names)]


def score(model: Any, holdout: HoldOut, threshold: float) -> Scored:
    """Run the exact version on the hold-out set; InvalidInput for what cannot be judged."""
    inputs = model_inputs(model, holdout)
    if is_regressor(model):
        target = pd.to_numeric(holdout.frame[holdout.label], errors="coerce").to_numpy(float)
        predicted = np.asarray(model.predict(inputs), dtype=float)
        return Scored("regression", predicted, target, np.array([]), threshold)
    if not hasattr(model, "predict_proba"):
        raise InvalidInput(
            "This version gives no probabilities (it has no predict_proba), so its "
            "discrimination, calibration and fairness at a threshold cannot be judged.",
            hint="Register a classifier that outputs probabilities.")
    labels = _as_text(holdout.frame[holdout.label])
    if labels.nunique() != 2:
        found = ", ".join(sorted(labels.unique())[:5])
        count = "one class only" if labels.nunique() == 1 else f"{labels.nunique()} classes"
        raise InvalidInput(
            f"The label {holdout.label!r} has {count} in the hold-out set ({found}); a binary "
            "classifier's evidence needs exactly two.",
            hint="A hold-out set needs examples of both outcomes.")
    classes = [str(c) for c in _as_text(pd.Series(model.classes_))]
    if holdout.positive_label not in classes:
        raise InvalidInput(f"The model's classes {classes} do not include the positive label "
                           f"{holdout.positive_label!r}.", hint="Check the positive_label tag.")
    scores = np.asarray(model.predict_proba(inputs)[:, classes.index(holdout.positive_label)])
    return Scored("classification", scores, holdout.y_positive,
                  (scores >= threshold).astype(int), threshold)


def classification_payload(scored: Scored, segments: pd.DataFrame) -> dict[str, Any]:
    """Discrimination, calibration and error rates at the threshold, overall and by segment."""
    y, s, p = scored.y_true, scored.scores, scored.y_pred
    tn, fp, fn, tp = (int(v) for v in metrics.confusion_matrix(y, p, labels=[0, 1]).ravel())
    fpr, tpr, _ = metrics.roc_curve(y, s)
    precision, recall, _ = metrics.precision_recall_curve(y, s)
    observed, predicted = calibration_curve(y, s, n_bins=10, strategy="uniform")
    counts, _ = np.histogram(s, bins=np.linspace(0, 1, 11))
    return {
        "task": "classification",
        "rows": len(y),
        "threshold": scored.threshold,
        "positive_rate": float(y.mean()),
        "metrics": {
            "roc_auc": float(metrics.roc_auc_score(y, s)),
            "pr_auc": float(metrics.average_precision_score(y, s)),
            "accuracy": float(metrics.accuracy_score(y, p)),
            "precision": float(metrics.precision_score(y, p, zero_division=0)),
            "recall": float(metrics.recall_score(y, p, zero_division=0)),
            "f1": float(metrics.f1_score(y, p, zero_division=0)),
            "log_loss": float(metrics.log_loss(y, s, labels=[0, 1])),
            "brier": float(metrics.brier_score_loss(y, s)),
        },
        "confusion_matrix": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
        "roc_curve": {"fpr": _thin(fpr), "tpr": _thin(tpr)},
        "pr_curve": {"recall": _thin(recall), "precision": _thin(precision)},
        "calibration": {"predicted": predicted.tolist(), "observed": observed.tolist(),
                        "bin_counts": [int(c) for c in counts if c > 0]},
        "segments": {column: _segments(y, s, p, segments[column]) for column in segments},
    }


def regression_payload(scored: Scored, segments: pd.DataFrame) -> dict[str, Any]:
    y, predicted = scored.y_true, scored.scores
    residuals = y - predicted
    return {
        "task": "regression",
        "rows": len(y),
        "metrics": {
            "rmse": float(np.sqrt(metrics.mean_squared_error(y, predicted))),
            "mae": float(metrics.mean_absolute_error(y, predicted)),
            "r2": float(metrics.r2_score(y, predicted)),
        },
        "residuals": {"quantiles": dict(zip(["p05", "p25", "p50", "p75", "p95"],
                                            np.quantile(residuals, [.05, .25, .5, .75, .95])
                                            .tolist(), strict=True))},
        "segments": {},
    }


def _segments(y: np.ndarray, s: np.ndarray, p: np.ndarray,
              groups: pd.Series) -> list[dict[str, Any]]:
    rows = []
    for group in sorted(groups.unique()):
        mask = (groups == group).to_numpy()
        both_classes = len(np.unique(y[mask])) == 2
        rows.append({
            "group": group,
            "rows": int(mask.sum()),
            "roc_auc": float(metrics.roc_auc_score(y[mask], s[mask])) if both_classes else None,
            "accuracy": float(metrics.accuracy_score(y[mask], p[mask])),
            "predicted_positive_rate": float(p[mask].mean()),
        })
    return rows


def _thin(values: np.ndarray) -> list[float]:
    """At most CURVE_POINTS points, always keeping both ends."""
    if len(values) <= CURVE_POINTS:
        return [float(v) for v in values]
    keep = np.unique(np.linspace(0, len(values) - 1, CURVE_POINTS).round().astype(int))
    return [float(v) for v in values[keep]]
