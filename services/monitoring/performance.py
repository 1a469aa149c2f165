"""Estimated and realised performance of a version over windows of days.

The estimate (services.monitoring.estimate) reads the version's summed daily score profile: one
row per day, whatever the traffic. The realised figures beside it come from the window's
decisions whose outcome is known, counted in SQL by score (to 1/10,000) and label: the store
sends counts, never the rows. On those same labelled decisions the estimate is computed again,
so estimate and realised are compared like for like (the back-test), whatever share of the
window is labelled and however it was chosen (credit outcomes are only seen for loans made).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from sqlalchemy import Connection, case, func, literal_column, select

from services.core.errors import NotFound
from services.decisions.daily_profiles import ReferenceProfile, reference_profile
from services.evidence.binning import bin_index
from services.evidence.calibration import CalibrationMap
from services.evidence.profile import SCORE
from services.monitoring.estimate import (
    METRIC_NAMES,
    METRICS,
    Estimate,
    estimate,
    figures_from_counts,
)
from services.store.hints import unindexed
from services.store.models import Decision, Outcome, Profile

SCORE_STEP = 10_000  # realised figures count scores to 1/10,000: ties closer than that count half

ASSUMPTIONS = ("The estimate assumes the calibration map learnt on the hold-out set still "
               "holds: that among decisions with a given score, the share that turn out "
               "positive is what it was then. A shift in the inputs moves the scores and the "
               "estimate follows it; a change in how the inputs relate to the outcome (concept "
               "drift) leaves the scores as they were, and the estimate cannot see it: only "
               "realised figures, as outcomes arrive, can.")


# Fewer labelled decisions than this in a window, and its realised figures (and the estimate
# on those same decisions) are too few to judge: a ROC AUC on 8 outcomes swings by 0.2.
MIN_REALISED_ROWS = 30


@dataclass(frozen=True)
class Realised:
    """Figures on the window's decisions whose outcome is known (None when too few)."""

    labelled: int
    labelled_share: float | None  # of the window's scored decisions
    figures: dict[str, float | None]  # by METRICS name; None where undefined
    estimate: Estimate  # the estimate on those same decisions (like for like)


@dataclass(frozen=True)
class CalibrationCheck:
    """Whether the map can be trusted, measured on the hold-out it was learnt from."""

    trustworthy: bool
    calibration_error: float  # out-of-fold ECE of the map
    bound: float
    raw_calibration_error: float  # of the score as the model gives it
    holdout_rows: int

    @property
    def why(self) -> str:
        """In words, for screens and the command line."""
        verdict = "holds" if self.trustworthy else "is poor: the estimate is not trustworthy"
        return (f"Calibration on the hold-out {verdict} (expected calibration error out of "
                f"fold {self.calibration_error:.3f}, bound {self.bound:.3f}; "
                f"{self.holdout_rows:,} rows; the raw score's {self.raw_calibration_error:.3f}).")


@dataclass(frozen=True)
class PerformanceWindow:
    model_name: str
    version: str
    start: date
    end: date  # exclusive
    threshold: float
    estimate: Estimate
    realised: Realised
    calibration: CalibrationCheck
    floors: dict[str, float]  # the tier's metric floors that an estimate has

    def breaches(self) -> list[str]:
        """The floored metrics whose whole band lies below the floor, in words."""
        return [f"estimated {METRIC_NAMES[m]} {figure.estimate:.3f} (band {figure.low:.3f}–"
                f"{figure.high:.3f}) below the floor {floor:g}"
                for m, floor in self.floors.items()
                if (figure := self.estimate.figure(m)) is not None
                and figure.wholly_below(floor) and figure.estimate is not None
                and figure.low is not None and figure.high is not None]


def performance_window(*, connection: Connection, model_name: str, version: str, start: date,
                       end: date, floors: dict[str, float]) -> PerformanceWindow:
    """Estimated and realised performance of a version over the days [start, end).

    Raises:
        NotFound: the version has no reference profile, one made before calibration maps
            were stored, or daily profiles counted against an earlier one (the hint says what
            to run).
    """
    return performance_by_week(connection=connection, model_name=model_name, version=version,
                               start=start, end=end, floors=floors, days=(end - start).days)[0]


def performance_by_week(*, connection: Connection, model_name: str, version: str, start: date,
                        end: date, floors: dict[str, float],
                        days: int = 7) -> list[PerformanceWindow]:
    """performance_window for each run of `days` days from start (the last may be shorter),
    from one read of the score's daily profile. NotFound as performance_window."""
    reference, calibration = _calibrated(connection, model_name, version)
    edges = np.asarray(reference.features[SCORE].fine_edges, dtype=float)
    daily = connection.execute(
        select(Profile.day, Profile.counts)
        .where(Profile.model_name == model_name, Profile.model_version == version,
               Profile.feature == SCORE, Profile.day >= start, Profile.day < end)).all()
    check = CalibrationCheck(calibration.trustworthy, calibration.calibration_error,
                             calibration.calibration_error_bound,
                             calibration.raw_calibration_error, calibration.rows)
    shown = {m: f for m, f in floors.items() if m in METRICS}
    if any(len(cell["fine"]) != edges.size + 1 for _, cell in daily):
        # A newer evidence run brought new bins; the traffic was counted in the old ones.
        raise NotFound(f"The daily profiles of {model_name} v{version} were counted against an "
                       "earlier reference profile than its newest.",
                       hint=f"Run `govern profile rebuild {model_name} {version}` to count its "
                            "traffic again in the newest bins.")
    windows = []
    first = start
    while first < end:
        last = min(first + timedelta(days=max(days, 1)), end)
        counts = np.zeros(edges.size + 1, dtype=np.int64)
        for day, cell in daily:
            if first <= day < last:
                counts += np.asarray(cell["fine"], dtype=np.int64)
        window_estimate = estimate(counts, calibration)
        realised = _realised(connection, model_name, version, first, last, calibration, edges,
                             window_estimate.decisions)
        windows.append(PerformanceWindow(model_name, version, first, last,
                                         calibration.threshold, window_estimate, realised,
                                         check, shown))
        first = last
    return windows


def _calibrated(connection: Connection, model_name: str,
                version: str) -> tuple[ReferenceProfile, CalibrationMap]:
    reference = reference_profile(connection, model_name, version)
    run_again = f"Run evidence for it (`govern evaluate {model_name} {version}`, or the " \
        "Evidence page): its reference profile then holds the map."
    if reference is None or SCORE not in reference.features:
        raise NotFound(f"Version {version} of {model_name} has no reference profile of its "
                       "scores, so its performance cannot be estimated.", hint=run_again)
    if reference.calibration is None:
        raise NotFound(f"The reference profile of {model_name} v{version} was made before "
                       "calibration maps were stored, so its performance cannot be estimated.",
                       hint=run_again)
    return reference, reference.calibration


def _realised(connection: Connection, model_name: str, version: str, first: date, last: date,
              calibration: CalibrationMap, edges: np.ndarray, decisions: int) -> Realised:
    """Counts by score step, side of the threshold and label of the window's labelled
    decisions; the figures from them and the estimate on the same decisions."""
    since, until = datetime.combine(first, time.min), datetime.combine(last, time.min)
    # Literal numbers, not bound parameters: PostgreSQL groups by an expression only when the
    # selected one is the same text, and two parameters are two texts.
    step = func.round(Decision.score * literal_column(str(SCORE_STEP)))
    above = case((Decision.score >= literal_column(repr(float(calibration.threshold))), 1),
                 else_=0)
    positive = case((Outcome.label == literal_column("1"), 1), else_=0)
    rows = connection.execute(
        select(step, above, positive, func.count())
        .select_from(Outcome).join(Decision, Decision.decision_id == Outcome.decision_id)
        # From the model's outcomes (each after its decision, so observed since the window
        # began) to their decisions: the cost follows the labels, not the traffic.
        .where(Outcome.model_name == model_name, Outcome.observed_at >= since,
               unindexed(Decision.model_version) == version,
               unindexed(Decision.shadow).is_(False), unindexed(Decision.score).is_not(None),
               unindexed(Decision.decided_at) >= since, unindexed(Decision.decided_at) < until)
        .group_by(step, above, positive)).all()
    if not rows:
        return Realised(0, 0.0 if decisions else None, dict.fromkeys(METRICS),
                        estimate(np.zeros(edges.size + 1, dtype=np.int64), calibration))
    labelled = int(sum(int(n) for *_, n in rows))
    if labelled < MIN_REALISED_ROWS:
        return Realised(labelled, labelled / decisions if decisions else None,
                        dict.fromkeys(METRICS),
                        estimate(np.zeros(edges.size + 1, dtype=np.int64), calibration))
    table = np.array([(float(s), int(a), int(p), int(n)) for s, a, p, n in rows], dtype=float)
    scores = table[:, 0] / SCORE_STEP
    # Rounding may carry a score across the threshold: its side is the one SQL saw.
    threshold = calibration.threshold
    scores = np.where(table[:, 1] == 1, np.maximum(scores, threshold),
                      np.minimum(scores, np.nextafter(threshold, -np.inf)))
    order = np.lexsort((table[:, 1], scores))
    keys = np.stack([scores[order], table[order, 1]], axis=1)
    unique, slot = np.unique(keys, axis=0, return_inverse=True)
    slot = slot.reshape(-1)
    pos = np.bincount(slot, weights=table[order, 3] * table[order, 2], minlength=len(unique))
    neg = np.bincount(slot, weights=table[order, 3] * (1 - table[order, 2]),
                      minlength=len(unique))
    figures = figures_from_counts(pos, neg, unique[:, 1])
    in_bins = np.bincount(bin_index(edges, scores), weights=table[:, 3],
                          minlength=edges.size + 1).astype(np.int64)
    return Realised(labelled, labelled / decisions if decisions else None,
                    {m: _number(figures[m]) for m in METRICS},
                    estimate(in_bins, calibration, min_rows=MIN_REALISED_ROWS))


def _number(value: np.ndarray) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None
