"""Performance estimated without labels, from a window's score counts and the calibration map.

The method is NannyML's confidence-based performance estimation (CBPE; NannyML documentation,
"Estimating Performance for Binary Classification" and "How it works: CBPE",
https://nannyml.readthedocs.io/en/stable/how_it_works/performance_estimation.html): when the
calibrated probability p of a decision is right, that decision is a true positive with
probability p if it was decided positive, a false negative with probability p otherwise, and so
on, so the confusion matrix expected over a window is, summed over its decisions,

    TP = sum(p * a)    FP = sum((1 - p) * a)    FN = sum(p * (1 - a))    TN = sum((1 - p) * (1 - a))

with a = 1 for a score at or above the operating threshold. Accuracy, precision, recall and F1
follow from those four. ROC AUC is the expected Mann-Whitney statistic: over pairs of a
positive and a negative, the share ranked the right way,

    AUC = sum_b N_b * (sum_{c > b} P_c + P_b / 2) / (sum P * sum N)

with P_b = sum of p and N_b = sum of (1 - p) over the decisions of score bin b (ties within a
bin count a half), which is CBPE's expected ROC curve integrated by the trapezoid rule.

Here the sums run over the fine score bins of the daily profiles rather than over rows: a bin
holds about 1% of the hold-out's scores, and p is the map's probability for the bin. So the cost
is that of the bins (about a hundred), whatever the number of decisions.

The band is the spread of the realised figure expected for a window with these scores:
REPLICATES windows are simulated, each with labels drawn bin by bin (binomial, with the
probabilities of one of the map's bootstrap refits, so the map's own uncertainty counts too),
and the band is their central LEVEL.

What it assumes: the map still holds, i.e. P(label | score) is what the hold-out showed. A
shift in the inputs (covariate shift) moves scores, and the estimate follows; a change in how
inputs relate to the outcome (concept drift) leaves the scores as they were, and the estimate
cannot see it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from services.evidence.calibration import CalibrationMap

MIN_ESTIMATE_ROWS = 100  # fewer scored decisions in a window: "too few to judge"
# Fewer hold-out positives at or above the threshold than this, and the map above it rests on
# too few outcomes for precision, recall and F1: an isotonic map there is a step or two, and
# its resamples share them, so the band would be narrower than the truth (seen on a rare-event
# model: precision estimated 0.04, realised 0.29). Those figures are shown, flagged.
MIN_TAIL_POSITIVES = 20
TAIL_METRICS = ("precision", "recall", "f1")
REPLICATES = 400
LEVEL = 0.95
METRICS = ("roc_auc", "accuracy", "precision", "recall", "f1")
METRIC_NAMES = {"roc_auc": "ROC AUC", "accuracy": "accuracy", "precision": "precision",
                "recall": "recall", "f1": "F1"}


@dataclass(frozen=True)
class Confusion:
    """Counts at the operating threshold (expected ones: fractional)."""

    tn: float
    fp: float
    fn: float
    tp: float


@dataclass(frozen=True)
class Figure:
    """One metric: the estimate and its band (None where undefined, e.g. no positives)."""

    metric: str
    estimate: float | None
    low: float | None
    high: float | None
    caveat: str = ""  # why the figure is not to be trusted, when it is not

    @property
    def trustworthy(self) -> bool:
        return not self.caveat

    def wholly_below(self, floor: float) -> bool:
        """True when even the band's top is under the floor (never for a flagged figure)."""
        return self.trustworthy and self.high is not None and self.high < floor


@dataclass(frozen=True)
class Estimate:
    decisions: int  # scored decisions in the window
    judged: bool  # at least MIN_ESTIMATE_ROWS
    confusion: Confusion | None
    figures: dict[str, Figure]  # by METRICS name; empty when not judged

    def figure(self, metric: str) -> Figure | None:
        return self.figures.get(metric)


def figures_from_counts(positives: np.ndarray, negatives: np.ndarray,
                        above: np.ndarray) -> dict[str, np.ndarray]:
    """Each metric from label counts per score bin, bins in ascending order of score.

    Args:
        positives, negatives: counts (or expected counts) per bin; the last axis is the bins,
            any leading axes are replicates.
        above: per bin, the share of its decisions at or above the threshold.

    Returns:
        Each of METRICS (and tp, fp, fn, tn) as an array over the leading axes, NaN where it is
        undefined (ROC AUC without both labels, precision without positive decisions, ...).
    """
    pos, neg = np.asarray(positives, dtype=float), np.asarray(negatives, dtype=float)
    tp, fp = (pos * above).sum(-1), (neg * above).sum(-1)
    fn, tn = (pos * (1 - above)).sum(-1), (neg * (1 - above)).sum(-1)
    total_pos, total_neg = pos.sum(-1), neg.sum(-1)
    ranked_above = total_pos[..., None] - np.cumsum(pos, axis=-1)  # positives in higher bins
    pairs = (neg * (ranked_above + pos / 2)).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"roc_auc": pairs / (total_pos * total_neg),
                "accuracy": (tp + tn) / (total_pos + total_neg),
                "precision": tp / (tp + fp), "recall": tp / (tp + fn),
                "f1": 2 * tp / (2 * tp + fp + fn), "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def estimate(counts: np.ndarray, calibration: CalibrationMap, *, seed: int = 0,
             min_rows: int = MIN_ESTIMATE_ROWS) -> Estimate:
    """Estimated performance of a window from its scores' counts per fine bin.

    Args:
        counts: scored decisions per fine bin of the score's reference (the summed daily
            profiles), as many bins as the calibration map has.
        calibration: the version's map (from its reference profile).
        seed: the simulation's; fixed, so a window always gets the same band.
        min_rows: fewer scored decisions than this are "too few to judge".

    Raises:
        ValueError: counts and map disagree on the number of bins.
    """
    n = np.asarray(counts, dtype=np.int64)
    if n.shape != calibration.probability.shape:
        raise ValueError(f"{n.size} bins of counts against a map of "
                         f"{calibration.probability.size}")
    decisions = int(n.sum())
    if decisions < min_rows:
        return Estimate(decisions, False, None, {})
    p, above = calibration.probability, calibration.above_threshold
    expected = figures_from_counts(n * p, n * (1 - p), above)
    rng = np.random.default_rng(seed)
    maps = calibration.resampled if calibration.resampled.size else p[None, :]
    drawn = maps[np.arange(REPLICATES) % len(maps)]
    positives = rng.binomial(n[None, :], np.clip(drawn, 0.0, 1.0))
    simulated = figures_from_counts(positives, n[None, :] - positives, above)
    tail = (1 - LEVEL) / 2 * 100
    support = calibration.positives_above_threshold
    thin = (f"the hold-out has only {support} positive outcome(s) at or above the threshold, "
            f"fewer than {MIN_TAIL_POSITIVES}: not to be trusted"
            if support is not None and support < MIN_TAIL_POSITIVES else "")
    figures = {}
    for metric in METRICS:
        values = simulated[metric][~np.isnan(simulated[metric])]
        low, high = (np.percentile(values, [tail, 100 - tail]) if values.size
                     else (np.nan, np.nan))
        figures[metric] = Figure(metric, _number(expected[metric]), _number(low),
                                 _number(high), thin if metric in TAIL_METRICS else "")
    confusion = Confusion(*(float(expected[k]) for k in ("tn", "fp", "fn", "tp")))
    return Estimate(decisions, True, confusion, figures)


def _number(value: float | np.floating | np.ndarray) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None
