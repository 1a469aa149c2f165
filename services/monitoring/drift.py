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
from services.evidence.profile import SCORE, FeatureReference
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
    drifted: bool | None  # None: too few decisions to judge
    reference_shares: list[float] = field(default_factory=list)  # coarse bins, for the plot
    current_shares: list[float] = field(default_factory=list)
    bins: list[str] = field(default_factory=list)

    def value(self, statistic: str) -> float | None:
        return getattr(self, statistic)  # type: ignore[no-any-return]


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
        if not self.judged or not self.features:
            return None
        return sum(bool(f.drifted) for f in self.features) / len(self.features)

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


def _drift(ref: FeatureReference, current: list[Any] | None, thresholds: dict[str, float],
           minimum: int) -> FeatureDrift:
    if current is None or current[3] - current[2] < minimum:
        rows = current[3] if current else 0
        return FeatureDrift(ref.name, ref.kind, rows, current[2] if current else 0,
                            None, None, None, None, None, None)
    coarse, fine, missing, rows = current
    psi = stats.psi(ref.coarse, coarse)
    js = stats.js_distance(ref.coarse, coarse)
    numeric = ref.kind == "numeric"
    ks = stats.ks_statistic(ref.fine, fine) if numeric else None
    wasserstein = stats.wasserstein_normalized(ref.fine, fine, ref.fine_midpoints, ref.spread) \
        if numeric else None
    chi = None if numeric else stats.chi_square(ref.coarse, coarse)
    drifted = psi > thresholds["psi_max"] or js > thresholds["jensen_shannon_max"] or \
        (ks is not None and ks > thresholds["ks_statistic_max"])
    total_ref, total_cur = max(sum(ref.coarse), 1), max(int(np.sum(coarse)), 1)
    return FeatureDrift(ref.name, ref.kind, rows, missing, psi, js, ks, wasserstein, chi,
                        drifted, [c / total_ref for c in ref.coarse],
                        [float(c) / total_cur for c in coarse], _bin_labels(ref))


def _bin_labels(ref: FeatureReference) -> list[str]:
    if ref.kind == "categorical":
        return [*ref.categories, "other"]
    edges = [f"{e:.4g}" for e in ref.coarse_edges]
    if not edges:
        return ["all"]
    return [f"< {edges[0]}", *(f"{a} – {b}" for a, b in zip(edges, edges[1:], strict=False)),
            f"≥ {edges[-1]}"]
