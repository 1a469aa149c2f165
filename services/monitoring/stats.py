"""Drift statistics from binned counts: effect sizes, never p-values, to alert on.

Each takes the reference's counts and the window's counts over the same bins, so a drift view
costs the same for ten thousand decisions as for ten million.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency

SMOOTHING = 1e-4  # an empty bin's share, so that PSI's logarithm stays finite


def _shares(counts: Sequence[int] | np.ndarray) -> np.ndarray:
    values = np.asarray(counts, dtype=float)
    total = values.sum()
    return values / total if total else values


def psi(reference: Sequence[int], current: Sequence[int]) -> float:
    """Population stability index: sum((cur - ref) * ln(cur / ref)), empty bins smoothed."""
    p = np.maximum(_shares(reference), SMOOTHING)
    q = np.maximum(_shares(current), SMOOTHING)
    return float(np.sum((q - p) * np.log(q / p)))


def js_distance(reference: Sequence[int], current: Sequence[int]) -> float:
    """Jensen-Shannon distance in base 2: 0 for the same distribution, 1 for disjoint ones."""
    return float(jensenshannon(_shares(reference), _shares(current), base=2))


def ks_statistic(reference: Sequence[int], current: Sequence[int]) -> float:
    """The KS statistic D: the largest gap between the two cumulative shares at a bin edge."""
    return float(np.max(np.abs(np.cumsum(_shares(reference)) - np.cumsum(_shares(current)))))


def wasserstein_normalized(reference: Sequence[int], current: Sequence[int],
                           midpoints: Sequence[float], spread: float | None) -> float | None:
    """Earth mover's distance between the binned distributions, in reference spreads."""
    if not spread:
        return None
    gaps = np.abs(np.cumsum(_shares(reference)) - np.cumsum(_shares(current)))[:-1]
    return float(np.sum(gaps * np.diff(np.asarray(midpoints, dtype=float))) / spread)


def chi_square(reference: Sequence[int], current: Sequence[int]) -> float:
    """Pearson's chi-square statistic of the two category tables (reported, not alerted on)."""
    table = np.array([reference, current], dtype=float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0
    return float(chi2_contingency(table, correction=False)[0])
