"""Profiles: a version's reference (bin edges and counts from its hold-out set) and the binning
that turns decisions into counts against it.

Numeric inputs get two sets of quantile bins: coarse ones for PSI and Jensen-Shannon, fine ones
for the KS statistic and Wasserstein distance. Categorical inputs get their most frequent
categories plus "other". Values outside the reference's range fall into the outer bins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

COARSE_BINS = 10
FINE_BINS = 100
TOP_CATEGORIES = 20
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
        return {"name": self.name, "kind": self.kind, "coarse_edges": list(self.coarse_edges),
                "fine_edges": list(self.fine_edges),
                "fine_midpoints": list(self.fine_midpoints),
                "categories": list(self.categories), "coarse": list(self.coarse),
                "fine": list(self.fine), "missing": self.missing, "rows": self.rows,
                "spread": self.spread}

    @staticmethod
    def from_payload(payload: dict[str, Any]) -> FeatureReference:
        return FeatureReference(
            payload["name"], payload["kind"], tuple(payload["coarse_edges"]),
            tuple(payload["fine_edges"]), tuple(payload["fine_midpoints"]),
            tuple(payload["categories"]), tuple(payload["coarse"]), tuple(payload["fine"]),
            int(payload["missing"]), int(payload["rows"]), payload["spread"])


@dataclass(frozen=True)
class BinCounts:
    coarse: np.ndarray
    fine: np.ndarray  # empty for categorical inputs
    missing: int
    rows: int


def reference_for(name: str, values: pd.Series) -> FeatureReference:
    """The reference of one input from its hold-out values."""
    present = values.dropna()
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = present.to_numpy(float)
        coarse_edges = _quantile_edges(numbers, COARSE_BINS)
        fine_edges = _quantile_edges(numbers, FINE_BINS)
        outer = [float(numbers.min()), *fine_edges, float(numbers.max())] if numbers.size \
            else [0.0, 0.0]
        midpoints = tuple((a + b) / 2 for a, b in zip(outer, outer[1:], strict=False))
        partial = FeatureReference(name, "numeric", coarse_edges, fine_edges, midpoints, (),
                                   (), (), 0, 0, float(numbers.std()) if numbers.size else None)
    else:
        top = present.astype(str).value_counts().index[:TOP_CATEGORIES]
        partial = FeatureReference(name, "categorical", (), (), (), tuple(str(c) for c in top),
                                   (), (), 0, 0, None)
    counts = bin_values(partial, values.tolist())
    return FeatureReference(
        name, partial.kind, partial.coarse_edges, partial.fine_edges, partial.fine_midpoints,
        partial.categories, tuple(int(c) for c in counts.coarse),
        tuple(int(c) for c in counts.fine), counts.missing, counts.rows, partial.spread)


def bin_values(reference: FeatureReference, values: Sequence[Any]) -> BinCounts:
    """Counts of these values in the reference's bins (None and NaN count as missing)."""
    if reference.kind == "numeric":
        try:
            numbers = np.array(values, dtype=float)  # None becomes NaN, in C
        except (TypeError, ValueError):  # text among numbers: counted as missing
            numbers = np.array([v if isinstance(v, int | float) and not isinstance(v, bool)
                                else np.nan for v in values], dtype=float)
        return bin_numbers(reference, numbers)
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
    coarse = np.bincount(np.searchsorted(reference.coarse_edges, present, side="right"),
                         minlength=len(reference.coarse_edges) + 1)
    fine = np.bincount(np.searchsorted(reference.fine_edges, present, side="right"),
                       minlength=len(reference.fine_edges) + 1)
    return BinCounts(coarse, fine, int(numbers.size - present.size), int(numbers.size))


def score_reference(scores: np.ndarray) -> FeatureReference:
    """The reference of the model's scores: probabilities on fixed, even bins of [0, 1]."""
    coarse_edges = tuple(float(x) for x in np.linspace(0, 1, COARSE_BINS + 1)[1:-1])
    fine_edges = tuple(float(x) for x in np.linspace(0, 1, FINE_BINS + 1)[1:-1])
    outer = [0.0, *fine_edges, 1.0]
    midpoints = tuple((a + b) / 2 for a, b in zip(outer, outer[1:], strict=False))
    partial = FeatureReference(SCORE, "numeric", coarse_edges, fine_edges, midpoints, (), (), (),
                               0, 0, float(np.std(scores)) if scores.size else None)
    counts = bin_values(partial, scores.tolist())
    return FeatureReference(SCORE, "numeric", coarse_edges, fine_edges, midpoints, (),
                            tuple(int(c) for c in counts.coarse),
                            tuple(int(c) for c in counts.fine), counts.missing, counts.rows,
                            partial.spread)


def reference_payload(inputs: pd.DataFrame, scores: np.ndarray | None) -> dict[str, Any]:
    """The reference profile as stored (an evidence record of kind reference_profile)."""
    features = [reference_for(str(name), inputs[name]) for name in inputs.columns]
    if scores is not None:
        features.append(score_reference(np.asarray(scores, dtype=float)))
    return {"rows": len(inputs), "coarse_bins": COARSE_BINS, "fine_bins": FINE_BINS,
            "features": [f.as_payload() for f in features]}


def _quantile_edges(numbers: np.ndarray, bins: int) -> tuple[float, ...]:
    if numbers.size == 0:
        return ()
    edges = np.unique(np.quantile(numbers, np.linspace(0, 1, bins + 1)[1:-1]))
    return tuple(float(e) for e in edges)
