"""Drift from profiles: the same figures as direct computation on the raw values, scipy's KS
within the fine bins' resolution, the demo's injected drift, and bad input."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sqlalchemy import Engine

from services.core.errors import NotFound
from services.core.policy import load_policy
from services.core.settings import PROJECT_ROOT, Settings
from services.decisions.daily_profiles import DailyProfiler
from services.demo.build import drift_onset
from services.evidence.profile import SCORE, bin_values, reference_for, reference_payload
from services.evidence.records import add_evidence
from services.monitoring import stats
from services.monitoring.drift import drift_window
from services.store.engine import make_engine, session_scope

THRESHOLDS = load_policy(PROJECT_ROOT / "policy.toml").for_tier("high").drift
DAY = date(2026, 10, 1)


def _reference_frame(rows: int = 4000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"amount": rng.lognormal(3, 1, rows),
                         "channel": rng.choice(["web", "shop", "phone"], rows, p=[.5, .4, .1])})


def _store_reference(engine: Engine, frame: pd.DataFrame, scores: np.ndarray) -> None:
    with session_scope(engine) as session:
        add_evidence(session=session, kind="reference_profile", model_name="m",
                     model_version="1", data_sha256="0" * 64,
                     payload=reference_payload(frame, scores), policy_sha256="0" * 64,
                     code_version=None, created_by="test")


def _decisions(frame: pd.DataFrame, scores: np.ndarray, days: int) -> list[dict]:
    return [{"model_name": "m", "model_version": "1",
             "decided_at": datetime.combine(DAY + timedelta(days=i % days), datetime.min.time()),
             "features": {"amount": None if np.isnan(a) else float(a), "channel": c},
             "score": float(s)}
            for i, (a, c, s) in enumerate(zip(frame["amount"], frame["channel"], scores,
                                              strict=True))]


def test_window_figures_equal_direct_computation_on_the_raw_values(engine: Engine) -> None:
    reference = _reference_frame()
    rng = np.random.default_rng(1)
    _store_reference(engine, reference, rng.random(len(reference)))
    current = pd.DataFrame({"amount": rng.lognormal(3.3, 1.1, 3000),
                            "channel": rng.choice(["web", "shop", "phone", "kiosk"], 3000)})
    current.loc[::50, "amount"] = np.nan
    scores = rng.beta(2, 3, 3000)
    with session_scope(engine) as session:
        profiler = DailyProfiler(session.connection())
        for first in range(0, 3000, 700):  # several batches add to the same days
            profiler.add(_decisions(current.iloc[first:first + 700],
                                    scores[first:first + 700], days=10))
            profiler.write()
    with engine.connect() as connection:
        window = drift_window(connection=connection, thresholds=THRESHOLDS, model_name="m",
                              version="1", start=DAY, end=DAY + timedelta(days=10))
    amount_ref = reference_for("amount", reference["amount"])
    direct = bin_values(amount_ref, current["amount"].tolist())
    amount = next(f for f in window.features if f.feature == "amount")
    assert amount.rows == 3000 and amount.missing == direct.missing == 60
    assert amount.psi == pytest.approx(stats.psi(amount_ref.coarse, direct.coarse), abs=1e-12)
    assert amount.js == pytest.approx(stats.js_distance(amount_ref.coarse, direct.coarse))
    assert amount.ks == pytest.approx(stats.ks_statistic(amount_ref.fine, direct.fine))
    assert amount.wasserstein == pytest.approx(stats.wasserstein_normalized(
        amount_ref.fine, direct.fine, amount_ref.fine_midpoints, amount_ref.spread))
    channel = next(f for f in window.features if f.feature == "channel")
    assert channel.bins[-1] == "other" and channel.current_shares[-1] > 0.2  # "kiosk" is new
    assert window.prediction is not None and window.prediction.feature == SCORE


def test_the_binned_ks_statistic_agrees_with_scipy_within_the_bins_resolution() -> None:
    rng = np.random.default_rng(2)
    before, after = rng.normal(0, 1, 20_000), rng.normal(0.25, 1.1, 20_000)
    reference = reference_for("x", pd.Series(before))
    binned = stats.ks_statistic(reference.fine, bin_values(reference, after.tolist()).fine)
    exact = ks_2samp(before, after).statistic
    assert binned <= exact + 1e-9 and exact - binned < 0.02  # a fine bin holds 1% of the mass


def test_psi_follows_its_formula_with_half_a_decision_added_to_each_bin() -> None:
    ref, cur = [50, 30, 20, 0], [30, 30, 30, 10]
    p = (np.array(ref) + 0.5) / 102
    q = (np.array(cur) + 0.5) / 102
    assert stats.psi(ref, cur) == pytest.approx(float(np.sum((q - p) * np.log(q / p))))
    assert stats.psi(ref, ref) == 0.0 and stats.js_distance(ref, ref) == 0.0


def test_a_version_without_a_reference_says_how_to_make_one(engine: Engine) -> None:
    with engine.connect() as connection, pytest.raises(NotFound, match="govern profile rebuild"):
        drift_window(connection=connection, thresholds=THRESHOLDS, model_name="m",
                     version="9", start=DAY, end=DAY)


def test_a_window_with_too_few_decisions_is_not_called_stable(engine: Engine) -> None:
    reference = _reference_frame()
    _store_reference(engine, reference, np.full(len(reference), 0.5))
    with session_scope(engine) as session:
        profiler = DailyProfiler(session.connection())
        profiler.add(_decisions(reference.head(20), np.full(20, 0.5), days=1))
        profiler.write()
    with engine.connect() as connection:
        window = drift_window(connection=connection, thresholds=THRESHOLDS, model_name="m",
                              version="1", start=DAY, end=DAY + timedelta(days=1))
    assert not window.judged and window.drifted_share is None
    assert all(f.drifted is None for f in window.features)


def test_the_demos_injected_drift_shows_after_it_begins_and_not_before(
        demo_env: Settings) -> None:
    engine = make_engine(demo_env.database_url)
    with session_scope(engine) as session:
        from sqlalchemy import func, select

        from services.store.models import Decision
        first, last = session.execute(select(func.min(Decision.decided_at),
                                             func.max(Decision.decided_at))).one()
    onset = drift_onset(first.replace(hour=0, minute=0), (last - first).days + 1).date()
    medium = load_policy(PROJECT_ROOT / "policy.toml").for_tier("medium").drift
    with engine.connect() as connection:
        def window(start: date) -> object:
            return drift_window(connection=connection, thresholds=medium,
                                model_name="fraud-screening", version="1", start=start,
                                end=start + timedelta(days=10))
        before, after = window(onset - timedelta(days=10)), window(onset + timedelta(days=10))
    drifted_before = {f.feature for f in before.features if f.drifted}  # type: ignore[attr-defined]
    drifted_after = {f.feature for f in after.features if f.drifted}  # type: ignore[attr-defined]
    assert not drifted_before and before.dataset_drift is False  # type: ignore[attr-defined]
    assert {"amount", "distance_km"} <= drifted_after  # the shifts the generator injects
    assert after.dataset_drift is True  # type: ignore[attr-defined]


def test_approval_by_group_from_profiles_equals_counting_the_log(demo_env: Settings) -> None:
    from collections import Counter

    from sqlalchemy import select

    from services.evidence.groups import band_labels
    from services.monitoring.fairness_watch import selection
    from services.store.models import Decision

    engine = make_engine(demo_env.database_url)
    start, end = date(2000, 1, 1), date(2100, 1, 1)
    with engine.connect() as connection:
        watched = {s.feature: s for s in selection(connection=connection,
                                                  model_name="credit-risk", start=start,
                                                  end=end, min_group_size=30)}
        rows = connection.execute(select(Decision.features, Decision.outcome).where(
            Decision.model_name == "credit-risk", Decision.shadow.is_(False),
            Decision.outcome.in_(("approved", "declined")))).all()
    edges = load_policy(PROJECT_ROOT / "policy.toml").fairness.continuous_band_edges
    labels = band_labels(edges)
    decided: Counter[str] = Counter()
    approved: Counter[str] = Counter()
    for features, outcome in rows:
        group = labels[int(np.searchsorted(edges, features["age"], side="right"))]
        decided[group] += 1
        approved[group] += outcome == "approved"
    assert watched["age"].groups == {g: (decided[g], approved[g]) for g in decided}
    ratio = watched["age"].four_fifths_ratio
    rates = {g: approved[g] / decided[g] for g in decided if decided[g] >= 30}
    assert ratio == pytest.approx(min(rates.values()) / max(rates.values()))


def test_binned_wasserstein_agrees_with_scipy_on_the_raw_values() -> None:
    from scipy.stats import wasserstein_distance

    rng = np.random.default_rng(4)
    before, after = rng.lognormal(1, 0.6, 50_000), rng.lognormal(1.15, 0.6, 50_000)
    reference = reference_for("x", pd.Series(before))
    counts = bin_values(reference, after)
    binned = stats.wasserstein_normalized(reference.fine, counts.fine,
                                          reference.fine_midpoints, reference.spread)
    exact = wasserstein_distance(before, after) / before.std()
    assert binned == pytest.approx(exact, abs=0.01)


def test_a_score_that_drifts_alone_opens_a_finding_for_a_person(engine: Engine) -> None:
    """Prediction drift: the inputs look as they did, but what the model decides moved; the
    drifted share of inputs alone would never call anyone."""
    from services.monitoring.assessment import PillarStatus, _drift

    reference = _reference_frame()
    rng = np.random.default_rng(2)
    _store_reference(engine, reference, rng.beta(2, 5, len(reference)))
    same_inputs = _reference_frame(3000)
    with session_scope(engine) as session:
        profiler = DailyProfiler(session.connection())
        profiler.add(_decisions(same_inputs, rng.beta(5, 2, 3000), days=10))  # scores moved
        profiler.write()
        findings: list = []  # type: ignore[type-arg]
        pillar = _drift(session, "m", "1", load_policy(PROJECT_ROOT / "policy.toml")
                        .for_tier("high"), DAY, DAY + timedelta(days=9), "high", findings)
    assert pillar.status is PillarStatus.RED
    assert [f.kind for f in findings] == ["drift"]
    assert "v1's score drifted from its reference" in findings[0].message
