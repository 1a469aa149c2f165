"""The calibration map stored with a version's reference profile: what share of decisions in
each fine score bin turn out positive, learnt on the hold-out set. Performance before the labels
arrive is estimated from it (services.monitoring.estimate).

The map is isotonic regression of the label on the score (scikit-learn's IsotonicRegression;
Zadrozny and Elkan, "Transforming classifier scores into accurate multiclass probability
estimates", KDD 2002), read per fine bin of the score's reference: a bin's probability is the
mean calibrated probability of the hold-out rows in it. With it are kept:

- each bin's share of hold-out rows at or above the operating threshold (1 or 0, since the
  threshold is one of the score's fine edges, except in references made before it was);
- RESAMPLES maps refitted on bootstrap resamples of the hold-out, so the sampling band of an
  estimate also carries how well the hold-out pinned the map down;
- the expected calibration error (ECE) of the map out of fold (5-fold cross-fitting over the
  hold-out, 10 score bins of equal count: ECE = sum_k n_k/n * |mean predicted_k - observed
  rate_k|), and of the raw score. The map is *not trustworthy* when its out-of-fold ECE exceeds
  both CALIBRATION_ERROR_MAX and the value a perfectly calibrated map reaches by chance on a
  hold-out of this size one time in a hundred (a small hold-out's ECE is noisy; its band then
  is wide instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression

from services.evidence.binning import bin_index

RESAMPLES = 40  # bootstrap maps kept: enough for a 95% band's tails when mixed with sampling
FOLDS = 5
ECE_BINS = 10
CALIBRATION_ERROR_MAX = 0.05  # out-of-fold ECE above this (and above chance) is "poor"
CHANCE_QUANTILE = 0.99
DIGITS = 6  # stored probabilities are rounded: the payload is hashed, and stays small


@dataclass(frozen=True)
class CalibrationMap:
    """A stored map, as arrays over the score's fine bins (len(fine_edges) + 1 of them)."""

    threshold: float
    rows: int  # hold-out rows it was learnt from
    positives: int
    probability: np.ndarray  # P(positive | score in bin)
    above_threshold: np.ndarray  # share of the bin's decisions at or above the threshold
    resampled: np.ndarray  # RESAMPLES x bins: the map refitted on bootstrap resamples
    calibration_error: float  # out-of-fold ECE of the map on the hold-out
    calibration_error_bound: float  # the larger of CALIBRATION_ERROR_MAX and chance's
    raw_calibration_error: float  # ECE of the score as the model gives it
    # Hold-out positives at or above the threshold: what precision, recall and F1 rest on.
    # None for maps stored before it was kept.
    positives_above_threshold: int | None = None

    @property
    def trustworthy(self) -> bool:
        """False when the map is poorly calibrated on its own hold-out (out of fold)."""
        return self.calibration_error <= self.calibration_error_bound


def isotonic(scores: np.ndarray, labels: np.ndarray) -> IsotonicRegression:
    """Isotonic regression of the label (0/1) on the score, clipped to [0, 1] outside the
    hold-out's range of scores."""
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    model.fit(scores, labels)
    return model


def calibration_payload(fine_edges: tuple[float, ...], fine_midpoints: tuple[float, ...],
                        scores: np.ndarray, labels: np.ndarray, threshold: float,
                        seed: int = 0) -> dict[str, Any] | None:
    """The calibration map as stored in the reference profile, or None when the hold-out lacks
    one of the labels (nothing to calibrate against).

    Args:
        fine_edges, fine_midpoints: the score reference's fine bins (the map's bins).
        scores: the hold-out's scores, P(positive label) in [0, 1].
        labels: the hold-out's labels, 1 for the positive label, else 0.
        threshold: the operating threshold (a score at or above it is a positive decision).
    """
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels, dtype=float)
    keep = ~np.isnan(scores)
    scores, labels = scores[keep], labels[keep]
    if scores.size == 0 or labels.min() == labels.max():
        return None
    edges = np.asarray(fine_edges, dtype=float)
    bins = bin_index(edges, scores)
    count = np.bincount(bins, minlength=edges.size + 1)
    rng = np.random.default_rng(seed)
    fitted = isotonic(scores, labels)
    midpoints = np.asarray(fine_midpoints, dtype=float)

    def per_bin(model: IsotonicRegression) -> np.ndarray:
        calibrated = np.bincount(bins, weights=model.predict(scores), minlength=count.size)
        at_midpoints = model.predict(midpoints) if midpoints.size == count.size else \
            np.full(count.size, labels.mean())
        return np.where(count > 0, calibrated / np.maximum(count, 1), at_midpoints)

    resampled = []
    for _ in range(RESAMPLES):
        drawn = rng.integers(0, scores.size, scores.size)
        if labels[drawn].min() == labels[drawn].max():
            drawn = np.arange(scores.size)  # a resample of one label: the hold-out itself
        resampled.append(per_bin(isotonic(scores[drawn], labels[drawn])))
    out_of_fold = _out_of_fold(scores, labels, rng)
    error = _ece(out_of_fold, labels, scores)
    bound = _chance_bound(out_of_fold, scores, rng)
    return {
        "method": "isotonic",
        "threshold": float(threshold),
        "rows": int(scores.size),
        "positives": int(labels.sum()),
        "probability": _rounded(per_bin(fitted)),
        "above_threshold": _rounded(_above(edges, bins, scores, threshold, count)),
        "resampled": [_rounded(r) for r in resampled],
        "calibration_error": round(error, DIGITS),
        "calibration_error_bound": round(max(CALIBRATION_ERROR_MAX, bound), DIGITS),
        "raw_calibration_error": round(_ece(scores, labels, scores), DIGITS),
        "positives_above_threshold": int(labels[scores >= threshold].sum()),
    }


def _above(edges: np.ndarray, bins: np.ndarray, scores: np.ndarray, threshold: float,
           count: np.ndarray) -> np.ndarray:
    """Each bin's share at or above the threshold: 1 or 0 for a bin wholly on one side, the
    hold-out's share (a half when it has none there) for the bin the threshold cuts."""
    lower = np.concatenate([[-np.inf], edges])
    upper = np.concatenate([edges, [np.inf]])
    above = np.bincount(bins, weights=(scores >= threshold).astype(float), minlength=count.size)
    cut = np.where(count > 0, above / np.maximum(count, 1), 0.5)
    return np.where(lower >= threshold, 1.0, np.where(upper <= threshold, 0.0, cut))


def _out_of_fold(scores: np.ndarray, labels: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """Each row's calibrated probability from a map fitted without its fold."""
    folds = rng.permutation(scores.size) % FOLDS
    predicted = np.empty(scores.size)
    for fold in range(FOLDS):
        held, rest = folds == fold, folds != fold
        if not held.any():
            continue
        predicted[held] = isotonic(scores[rest], labels[rest]).predict(scores[held]) \
            if labels[rest].min() != labels[rest].max() else labels[rest].mean()
    return predicted


def _ece_bins(scores: np.ndarray) -> np.ndarray:
    """ECE's bins: ECE_BINS of about equal count by score. By score, not by the map's
    probability: the estimate trusts the map bin by score bin, and a map that pools scores
    with different outcomes (no increasing map can follow a U-shaped relation) is calibrated
    on average over its pooled level yet wrong within it."""
    order = np.argsort(scores, kind="stable")
    bins = np.empty(scores.size, dtype=int)
    bins[order] = np.arange(scores.size) * ECE_BINS // max(scores.size, 1)
    return bins


def _ece(predicted: np.ndarray, labels: np.ndarray, scores: np.ndarray) -> float:
    """Expected calibration error over score bins k:
    sum_k n_k/n * |mean predicted_k - observed rate_k|."""
    bins = _ece_bins(scores)
    n = np.bincount(bins, minlength=ECE_BINS)
    gap = np.bincount(bins, weights=predicted - labels, minlength=ECE_BINS)
    return float(np.abs(gap).sum() / max(predicted.size, 1)) if n.any() else 0.0


def _chance_bound(predicted: np.ndarray, scores: np.ndarray,
                  rng: np.random.Generator) -> float:
    """The ECE a perfectly calibrated map reaches by chance (CHANCE_QUANTILE) on this many
    rows: each bin's gap drawn as the normal approximation of its binomial spread."""
    bins = _ece_bins(scores)
    n = np.bincount(bins, minlength=ECE_BINS).astype(float)
    variance = np.bincount(bins, weights=predicted * (1 - predicted), minlength=ECE_BINS)
    spread = np.sqrt(variance)  # of the bin's sum of labels
    draws = np.abs(rng.normal(0.0, 1.0, (2000, ECE_BINS)) * spread).sum(axis=1) / n.sum()
    return float(np.quantile(draws, CHANCE_QUANTILE))


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), DIGITS) for v in values]
