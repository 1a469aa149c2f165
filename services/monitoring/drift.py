"""Drift of a version over a window of days, from its reference and summed daily profiles.

Reads at most features x days rows, whatever the number of decisions behind them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
from sqlalchemy import Connection, select

from services.core.errors import NotFound
from services.decisions.daily_profiles import ReferenceProfile, reference_profile
from services.evidence.profile import SCORE, BinCounts, FeatureReference, is_point_bin
from services.monitoring import stats
from services.store.models import Profile

MIN_WINDOW_ROWS = 100  # fewer decisions than this in a window: "too few to judge"
MIN_DAY_ROWS = 50  # the same for one day of the heatmap
Statistic = Literal["psi", "js", "ks", "wasserstein"]
STATISTICS: dict[Statistic, str] = {"psi": "PSI", "js": "Jensen-Shannon distance",
                                    "ks": "KS statistic D",
                                    "wasserstein": "Wasserstein (normalized)"}


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    kind: str
    rows: int
    missing: int
    psi: float | None
    js: float | None
    ks: float | None  # numeric only
    wasserstein: float | None  # numeric only, in reference standard deviations
    chi_square: float | None  # categorical only
    drifted: bool | None  # None: cannot be judged (`unjudged` says why)
    reference_shares: list[float] = field(default_factory=list)  # coarse bins, for the plot
    current_shares: list[float] = field(default_factory=list)
    bins: list[str] = field(default_factory=list)
    # The bound each statistic was held to: the larger of the policy's and the value it reaches
    # by chance at this window's and the reference's sizes (stats.critical_*).
    bounds: dict[Statistic, float] = field(default_factory=dict)
    tripped: tuple[Statistic, ...] = ()  # the statistics over their bounds
    unjudged: str = ""  # why there is no verdict

    def value(self, statistic: str) -> float | None:
        return getattr(self, statistic)  # type: ignore[no-any-return]

    @property
    def why(self) -> str:
        """The verdict's reason in words: what could not be judged, or which statistic went
        over which bound."""
        if self.drifted is None:
            return f"cannot be judged: {self.unjudged}"
        return "; ".join(f"{STATISTICS[s]} {self.value(s):.3f} over {self.bounds[s]:.3f}"
                         for s in self.tripped)


@dataclass(frozen=True)
class DriftWindow:
    model_name: str
    version: str
    start: date
    end: date  # exclusive
    rows: int
    reference_id: int
    reference_rows: int
    features: list[FeatureDrift]
    prediction: FeatureDrift | None
    thresholds: dict[str, float]

    @property
    def judged(self) -> bool:
        return self.rows >= MIN_WINDOW_ROWS

    @property
    def drifted_share(self) -> float | None:
        """The share of the inputs that could be judged which drifted (an input with no
        reference values, or too few of them in the window, is neither drifted nor stable)."""
        judged = [f for f in self.features if f.drifted is not None]
        if not self.judged or not judged:
            return None
        return sum(bool(f.drifted) for f in judged) / len(judged)

    @property
    def dataset_drift(self) -> bool | None:
        share = self.drifted_share
        # As Evidently counts it: half the inputs drifting (at the default 0.5) is dataset drift.
        return None if share is None else share >= self.thresholds["drifted_share_max"]


def drift_window(*, connection: Connection, thresholds: dict[str, float], model_name: str,
                 version: str, start: date, end: date) -> DriftWindow:
    """Each input's and the score's drift over [start, end) against the version's reference."""
    reference = _reference(connection, model_name, version)
    summed: dict[str, list[Any]] = {}
    for feature, counts, rows, missing in connection.execute(
            select(Profile.feature, Profile.counts, Profile.rows, Profile.missing)
            .where(Profile.model_name == model_name, Profile.model_version == version,
                   Profile.day >= start, Profile.day < end)):
        if feature not in reference.features:
            continue  # selection by group is read by services.monitoring.fairness_watch
        held = summed.setdefault(feature, [0, 0, 0, 0])
        held[0] = np.asarray(counts["coarse"]) + held[0]
        held[1] = np.asarray(counts["fine"], dtype=int) + held[1]
        held[2] += missing
        held[3] += rows
    drifts = {name: _drift(ref, summed.get(name), thresholds, MIN_WINDOW_ROWS)
              for name, ref in reference.features.items()}
    rows = max((held[3] for held in summed.values()), default=0)
    return DriftWindow(model_name, version, start, end, rows, reference.evidence_id,
                       reference.features[next(iter(reference.features))].rows,
                       [d for n, d in drifts.items() if n != SCORE], drifts.get(SCORE),
                       thresholds)


@dataclass(frozen=True)
class DayCell:
    day: date
    feature: str
    rows: int
    value: float | None  # None: too few decisions that day
    drifted: bool | None


def daily_drift(*, connection: Connection, thresholds: dict[str, float], model_name: str,
                version: str, start: date, end: date, statistic: Statistic) -> list[DayCell]:
    """One statistic per input (and the score) per day: the heatmap's cells."""
    reference = _reference(connection, model_name, version)
    cells = []
    for day, feature, counts, rows, missing in connection.execute(
            select(Profile.day, Profile.feature, Profile.counts, Profile.rows, Profile.missing)
            .where(Profile.model_name == model_name, Profile.model_version == version,
                   Profile.day >= start, Profile.day < end)
            .order_by(Profile.day, Profile.feature)):
        ref = reference.features.get(feature)
        if ref is None:  # selection cells, and inputs the reference lacks
            continue  # an input the reference does not know is named on the window's table
        drift = _drift(ref, [np.asarray(counts["coarse"]), np.asarray(counts["fine"], dtype=int),
                             missing, rows], thresholds, MIN_DAY_ROWS)
        cells.append(DayCell(day, feature, rows, drift.value(statistic), drift.drifted))
    return cells


def _reference(connection: Connection, model_name: str, version: str) -> ReferenceProfile:
    reference = reference_profile(connection, model_name, version)
    if reference is None:
        raise NotFound(f"Version {version} of {model_name} has no reference profile, so its "
                       "drift cannot be measured.",
                       hint=f"Run evidence for it (Evidence page, or `govern evaluate "
                            f"{model_name} {version}`), then `govern profile rebuild "
                            f"{model_name} {version}` to count its past traffic.")
    return reference


def judge(reference: FeatureReference, counts: BinCounts, thresholds: dict[str, float],
          minimum: int = MIN_WINDOW_ROWS) -> FeatureDrift:
    """One input's drift from its counts in a window against its reference (the rule every
    window and every heatmap cell is judged by)."""
    return _drift(reference, [counts.coarse, counts.fine, counts.missing, counts.rows],
                  thresholds, minimum)


def _drift(ref: FeatureReference, current: list[Any] | None, thresholds: dict[str, float],
           minimum: int) -> FeatureDrift:
    coarse, fine, missing, rows = current if current is not None else ([], [], 0, 0)
    rows, missing = int(rows), int(missing)
    reference_values = int(sum(ref.coarse))
    unjudged = "no reference values: the hold-out set has none for this input" \
        if not reference_values else \
        f"too few decisions: {rows - missing:,} with a value, {minimum:,} needed" \
        if rows - missing < minimum else ""
    if unjudged:
        return FeatureDrift(ref.name, ref.kind, rows, missing, None, None, None, None, None,
                            None, unjudged=unjudged)
    numeric = ref.kind == "numeric"
    figures: dict[Statistic, float | None] = {
        "psi": stats.psi(ref.coarse, coarse), "js": stats.js_distance(ref.coarse, coarse),
        "ks": stats.ks_statistic(ref.fine, fine) if numeric else None}
    bounds = _bounds(ref, coarse, thresholds, n=rows - missing, m=reference_values)
    tripped = tuple(s for s, value in figures.items() if value is not None and value > bounds[s])
    wasserstein = stats.wasserstein_normalized(ref.fine, fine, ref.fine_midpoints, ref.spread) \
        if numeric else None
    chi = None if numeric else stats.chi_square(ref.coarse, coarse)
    total_cur = max(int(np.sum(coarse)), 1)
    return FeatureDrift(ref.name, ref.kind, rows, missing, figures["psi"], figures["js"],
                        figures["ks"], wasserstein, chi, bool(tripped),
                        [c / reference_values for c in ref.coarse],
                        [float(c) / total_cur for c in coarse], _bin_labels(ref),
                        bounds, tripped)


def _bounds(ref: FeatureReference, coarse: Any, thresholds: dict[str, float], *, n: int,
            m: int) -> dict[Statistic, float]:
    """Each statistic's bound for this window: the policy's, raised to the statistic's critical
    value where a window of n decisions against m reference rows could reach the policy's bound
    by chance alone."""
    bins = stats.occupied_bins(ref.coarse, coarse)
    return {"psi": max(thresholds["psi_max"], stats.critical_psi(bins=bins, n=n, m=m)),
            "js": max(thresholds["jensen_shannon_max"],
                      stats.critical_js_distance(bins=bins, n=n, m=m)),
            "ks": max(thresholds["ks_statistic_max"], stats.critical_ks(n=n, m=m))}


def _bin_labels(ref: FeatureReference) -> list[str]:
    if ref.kind == "categorical":
        return [*ref.categories, "other"]
    edges = ref.coarse_edges
    if not edges:
        return ["all"]
    # The edge closing a point's bin is the next float after it: shown as the point itself.
    shown = [f"{edges[i - 1] if i and is_point_bin(edges[i - 1], e) else e:.4g}"
             for i, e in enumerate(edges)]
    inner = [shown[i] if is_point_bin(a, b) else f"{shown[i]} – {shown[i + 1]}"
             for i, (a, b) in enumerate(zip(edges, edges[1:], strict=False))]
    last = f"> {edges[-2]:.4g}" if len(edges) > 1 and is_point_bin(edges[-2], edges[-1]) \
        else f"≥ {edges[-1]:.4g}"
    return [f"< {edges[0]:.4g}", *inner, last]
