"""Profiles: a version's reference (bin edges and counts from its hold-out set) and the binning
that turns decisions into counts against it.

Numeric inputs (and the score) get two sets of bins: coarse ones for PSI and Jensen-Shannon,
fine ones for the KS statistic and Wasserstein distance. A value that many rows share (a mass
point, such as the 0 of an overdraft amount) gets a bin of its own; the other values are split
by quantiles. Categorical inputs get their most frequent categories plus "other". Values outside
the reference's range fall into the outer bins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from services.evidence.binning import bin_index
from services.evidence.calibration import calibration_payload

COARSE_BINS = 10
FINE_BINS = 100
TOP_CATEGORIES = 20
EDGE_SAMPLE = 200_000  # values the quantile edges are taken from (a seeded sample beyond this)
SCORE = "__score__"  # the model's own output, profiled like an input (prediction drift)
Kind = Literal["numeric", "categorical"]


@dataclass(frozen=True)
class FeatureReference:
    name: str
    kind: Kind
    coarse_edges: tuple[float, ...]  # numeric: inner edges; bins are open at both ends
    fine_edges: tuple[float, ...]
    fine_midpoints: tuple[float, ...]  # where each fine bin's mass sits (Wasserstein)
    categories: tuple[str, ...]  # categorical: the top ones; one more bucket is "other"
    coarse: tuple[int, ...]  # the reference's counts per bin
    fine: tuple[int, ...]
    missing: int
    rows: int
    spread: float | None  # numeric: the reference's standard deviation

    def as_payload(self) -> dict[str, Any]:
        """As stored in a reference profile (read back by payloads.FeatureReferencePayload)."""
        return {"name": self.name, "kind": self.kind, "coarse_edges": list(self.coarse_edges),
                "fine_edges": list(self.fine_edges),
                "fine_midpoints": list(self.fine_midpoints),
                "categories": list(self.categories), "coarse": list(self.coarse),
                "fine": list(self.fine), "missing": self.missing, "rows": self.rows,
                "spread": self.spread}


@dataclass(frozen=True)
class BinCounts:
    coarse: np.ndarray
    fine: np.ndarray  # empty for categorical inputs
    missing: int
    rows: int


def reference_for(name: str, values: pd.Series, cuts: Sequence[float] = ()) -> FeatureReference:
    """The reference of one input from its hold-out values; `cuts` are extra fine edges (the
    score's operating threshold, so that a fine bin never straddles it)."""
    present = values.dropna()
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = present.to_numpy(float)
        if numbers.size == 0:
            return FeatureReference(name, "numeric", (), (), (0.0,), (), (0,), (0,),
                                    len(values), len(values), None)
        # One sort for both sets of edges, of at most EDGE_SAMPLE values: the edges only have to
        # be bins; the counts in them are exact.
        sample = numbers if numbers.size <= EDGE_SAMPLE else \
            np.random.default_rng(0).choice(numbers, EDGE_SAMPLE, replace=False)
        coarse = bin_edges(sample, COARSE_BINS)
        # Coarse edges are fine edges too, so a coarse bin is a run of fine bins.
        coarse_edges = tuple(float(e) for e in coarse)
        fine_edges = tuple(float(e) for e in np.union1d(
            np.union1d(bin_edges(sample, FINE_BINS), coarse), np.asarray(cuts, dtype=float)))
        fine_index = bin_index(np.asarray(fine_edges), numbers)
        counts = np.bincount(fine_index, minlength=len(fine_edges) + 1)
        # Each fine bin's mass sits at the mean of the reference's values in it: the outer bins
        # reach to the extremes, where a midpoint would misplace it (Wasserstein).
        sums = np.bincount(fine_index, weights=numbers, minlength=len(fine_edges) + 1)
        means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        partial = FeatureReference(name, "numeric", coarse_edges, fine_edges,
                                   tuple(float(m) for m in _filled(means, counts)), (), (), (),
                                   0, 0, float(numbers.std()))
        nested = _coarse_of_fine(coarse_edges, fine_edges)
        coarse = np.bincount(nested, weights=counts, minlength=len(coarse_edges) + 1) \
            if nested is not None else np.bincount(
                np.searchsorted(coarse_edges, numbers, side="right"),
                minlength=len(coarse_edges) + 1)
        binned = BinCounts(coarse.astype(int), counts, len(values) - numbers.size, len(values))
    else:
        frequencies = present.astype(str).value_counts()
        top = tuple(str(c) for c in frequencies.index[:TOP_CATEGORIES])
        partial = FeatureReference(name, "categorical", (), (), (), top, (), (), 0, 0, None)
        coarse = np.array([*frequencies.iloc[:TOP_CATEGORIES].tolist(),
                           int(frequencies.iloc[TOP_CATEGORIES:].sum())], dtype=int)
        binned = BinCounts(coarse, np.zeros(0, dtype=int), int(values.isna().sum()),
                           len(values))
    return _with_counts(partial, binned)


def bin_edges(numbers: np.ndarray, bins: int) -> np.ndarray:
    """Inner edges of about `bins` bins (values at an edge go to the bin above it).

    A value held by at least 1/bins of the rows is a mass point and gets a bin of its own,
    [v, the next float after v), holding v alone; the other values are split at their
    quantiles. Plain quantile edges would collapse on a mass point, leaving one or two bins in
    which no change to the rest of the distribution shows, nor a move off the point itself.
    """
    values, counts = np.unique(numbers, return_counts=True)
    heavy = values[counts * bins >= numbers.size]
    if not heavy.size:
        return np.unique(np.quantile(numbers, np.linspace(0, 1, bins + 1)[1:-1]))
    rest = numbers[~np.isin(numbers, heavy)]
    left = max(bins - 2 * heavy.size, 2)
    quantiles = np.quantile(rest, np.linspace(0, 1, left + 1)[1:-1]) if rest.size else []
    return np.unique(np.concatenate([quantiles, heavy, np.nextafter(heavy, np.inf)]))


def is_point_bin(lower: float, upper: float) -> bool:
    """True for a mass point's own bin, [v, the next float after v)."""
    return bool(upper == np.nextafter(lower, np.inf))


def _with_counts(partial: FeatureReference, counts: BinCounts) -> FeatureReference:
    """The reference once its own values have been counted into its bins."""
    return replace(partial, coarse=tuple(int(c) for c in counts.coarse),
                   fine=tuple(int(c) for c in counts.fine), missing=counts.missing,
                   rows=counts.rows)


def _filled(means: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Bins the reference left empty (ties at an edge) take their neighbour's position."""
    filled = means.copy()
    for i in range(len(filled)):
        if counts[i] == 0:
            filled[i] = filled[i - 1] if i else next(
                (m for m, c in zip(means, counts, strict=True) if c), 0.0)
    return filled


def bin_values(reference: FeatureReference,
               values: Sequence[Any] | np.ndarray | pd.Series) -> BinCounts:
    """Counts of these values in the reference's bins (None and NaN count as missing)."""
    if reference.kind == "numeric":
        try:
            numbers = np.array(values, dtype=float)  # None becomes NaN, in C
        except (TypeError, ValueError):  # text among numbers: counted as missing
            numbers = np.array([v if isinstance(v, int | float) and not isinstance(v, bool)
                                else np.nan for v in values], dtype=float)
        return bin_numbers(reference, numbers)
    if isinstance(values, pd.Series | np.ndarray):  # a whole column: counted by pandas
        column = pd.Series(values)
        present = column.dropna().astype(str)
        frequencies = present.value_counts()
        known = [int(frequencies.get(c, 0)) for c in reference.categories]
        coarse = np.array([*known, len(present) - sum(known)], dtype=int)
        return BinCounts(coarse, np.zeros(0, dtype=int), len(column) - len(present),
                         len(column))
    index = {c: i for i, c in enumerate(reference.categories)}
    other = len(reference.categories)
    present_values = [v for v in values if v is not None and v == v]
    buckets = [index.get(str(v), other) for v in present_values]
    coarse = np.bincount(np.asarray(buckets, dtype=int), minlength=other + 1)
    return BinCounts(coarse, np.zeros(0, dtype=int), len(values) - len(present_values),
                     len(values))


def bin_numbers(reference: FeatureReference, numbers: np.ndarray) -> BinCounts:
    """bin_values for a numeric input already in an array (NaN is missing)."""
    present = numbers[~np.isnan(numbers)]
    fine = np.bincount(bin_index(np.asarray(reference.fine_edges), present),
                       minlength=len(reference.fine_edges) + 1)
    nested = _coarse_of_fine(reference.coarse_edges, reference.fine_edges)
    if nested is None:  # a reference whose coarse edges are not fine edges: bin twice
        coarse = np.bincount(np.searchsorted(reference.coarse_edges, present, side="right"),
                             minlength=len(reference.coarse_edges) + 1)
    else:  # one pass over the values: coarse counts are sums of fine ones
        coarse = np.bincount(nested, weights=fine, minlength=len(reference.coarse_edges) + 1)
    return BinCounts(coarse.astype(int), fine, int(numbers.size - present.size),
                     int(numbers.size))


def _coarse_of_fine(coarse_edges: tuple[float, ...],
                    fine_edges: tuple[float, ...]) -> np.ndarray | None:
    """For each fine bin, the coarse bin holding it; None unless coarse edges are fine ones."""
    if not set(coarse_edges) <= set(fine_edges):
        return None
    lower = np.array([-np.inf, *fine_edges])  # each fine bin's lower edge
    return np.searchsorted(coarse_edges, lower, side="right")


def score_reference(scores: np.ndarray, threshold: float | None = None) -> FeatureReference:
    """The reference of the model's scores, binned as an input is: even bins of [0, 1] would
    put most of a fraud model's scores (nearly all below 0.1) in one bin. The operating
    threshold, when given, is a fine edge: decisions on either side of it are never counted in
    one bin (the estimated confusion matrix splits there exactly)."""
    return reference_for(SCORE, pd.Series(np.asarray(scores, dtype=float)),
                         cuts=() if threshold is None else (float(threshold),))


def reference_payload(inputs: pd.DataFrame, scores: np.ndarray | None,
                      labels: np.ndarray | None = None,
                      threshold: float | None = None) -> dict[str, Any]:
    """The reference profile as stored (an evidence record of kind reference_profile). With
    labels (1 positive, 0 not) and the operating threshold it holds the score's calibration
    map too (services.evidence.calibration), hashed with the rest."""
    features = [reference_for(str(name), inputs[name]) for name in inputs.columns]
    payload: dict[str, Any] = {"rows": len(inputs), "coarse_bins": COARSE_BINS,
                               "fine_bins": FINE_BINS}
    if scores is not None:
        score = score_reference(np.asarray(scores, dtype=float), threshold)
        features.append(score)
        if labels is not None and threshold is not None:
            calibration = calibration_payload(score.fine_edges, score.fine_midpoints,
                                              np.asarray(scores, dtype=float),
                                              np.asarray(labels, dtype=float), threshold)
            if calibration is not None:
                payload["calibration"] = calibration
    payload["features"] = [f.as_payload() for f in features]
    return payload

