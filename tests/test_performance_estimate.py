"""Performance before the labels arrive: CBPE from the fine score bins and the calibration map.

Seeded simulations: under covariate shift (inputs move, the relation to the label does not)
the band holds the realised ROC AUC and accuracy in at least 90% of windows of 1,000 and
10,000 decisions; under concept drift the estimate stays while the realised figure falls (the
README's caveat). Then one path through the real store: reference profile with its map, daily
profiles counted at ingest, labelled decisions, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
from sqlalchemy import Engine, insert

from services.core.canonical import canonical_json
from services.core.errors import NotFound
from services.decisions.daily_profiles import DailyProfiler
from services.evidence.calibration import CalibrationMap, calibration_payload
from services.evidence.payloads import CalibrationMapPayload
from services.evidence.profile import (
    SCORE,
    FeatureReference,
    bin_numbers,
    reference_payload,
    score_reference,
)
from services.evidence.records import add_evidence, get_evidence
from services.monitoring.estimate import MIN_ESTIMATE_ROWS, estimate
from services.monitoring.performance import performance_by_week, performance_window
from services.store.engine import session_scope
from services.store.models import Decision, IngestBatch, Outcome
from tests.factories import decision_row

THRESHOLD = 0.5
HOLDOUT_ROWS = 20_000
WINDOWS = 200
DAY = date(2026, 10, 5)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1 / (1 + np.exp(-z)))


def _population(rng: np.random.Generator, n: int, *, shift: float = 0.0,
                concept_drift: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Scores and labels. The score ranks by the true risk but is miscalibrated (the map has
    work to do), so P(label | score) stays put when the inputs move (covariate shift: the first
    input's mean and spread). Concept drift weakens how that input relates to the label, and
    leaves the scores alone."""
    x1, x2 = rng.normal(shift, 1.0 + shift / 3, n), rng.normal(0, 1, n)
    risk = -1 + 1.5 * x1 + 0.8 * x2
    truth = -1 + 0.2 * x1 + 0.8 * x2 if concept_drift else risk
    labels = (rng.random(n) < _sigmoid(truth)).astype(int)
    return _sigmoid(0.3 + 0.6 * risk), labels


def _reference(rng: np.random.Generator) -> tuple[FeatureReference, CalibrationMap]:
    scores, labels = _population(rng, HOLDOUT_ROWS)
    score = score_reference(scores, THRESHOLD)
    stored = calibration_payload(score.fine_edges, score.fine_midpoints, scores, labels,
                                 THRESHOLD)
    return score, CalibrationMapPayload.model_validate(stored).calibration_map()


@pytest.mark.parametrize("size", [1_000, 10_000])
def test_under_covariate_shift_the_band_holds_the_realised_auc_and_accuracy(size: int) -> None:
    rng = np.random.default_rng(size)
    score, calibration = _reference(rng)
    held = {"roc_auc": 0, "accuracy": 0}
    for trial in range(WINDOWS):
        scores, labels = _population(rng, size, shift=0.8 * trial / WINDOWS)
        window = estimate(bin_numbers(score, scores).fine, calibration)
        realised = {"roc_auc": roc_auc_score(labels, scores),
                    "accuracy": accuracy_score(labels, scores >= THRESHOLD)}
        for metric, value in realised.items():
            figure = window.figures[metric]
            assert figure.low is not None and figure.high is not None
            held[metric] += figure.low <= value <= figure.high
    assert min(held.values()) >= 0.9 * WINDOWS, held


def test_under_concept_drift_the_estimate_stays_while_the_realised_figure_falls() -> None:
    rng = np.random.default_rng(3)
    score, calibration = _reference(rng)
    before_scores, before_labels = _population(rng, 10_000)
    after_scores, after_labels = _population(rng, 10_000, concept_drift=True)
    before = estimate(bin_numbers(score, before_scores).fine, calibration).figures["roc_auc"]
    after = estimate(bin_numbers(score, after_scores).fine, calibration).figures["roc_auc"]
    realised_before = roc_auc_score(before_labels, before_scores)
    realised_after = roc_auc_score(after_labels, after_scores)
    assert before.estimate is not None and after.estimate is not None
    assert abs(after.estimate - before.estimate) < 0.01  # the scores did not move
    assert realised_before - realised_after > 0.1  # the outcomes did
    assert after.low is not None and realised_after < after.low  # outside what it expected


def test_the_expected_confusion_matrix_is_cbpes_sum_over_decisions() -> None:
    rng = np.random.default_rng(4)
    score, calibration = _reference(rng)
    scores, _ = _population(rng, 5_000, shift=0.3)
    bins = bin_numbers(score, scores)
    window = estimate(bins.fine, calibration)
    # Row by row, as NannyML's CBPE sums: p = the map's probability for the row's bin.
    index = np.searchsorted(np.asarray(score.fine_edges), scores, side="right")
    p, decided = calibration.probability[index], scores >= THRESHOLD
    assert window.confusion is not None
    assert window.confusion.tp == pytest.approx(float((p * decided).sum()))
    assert window.confusion.fp == pytest.approx(float(((1 - p) * decided).sum()))
    assert window.confusion.fn == pytest.approx(float((p * ~decided).sum()))
    assert window.confusion.tn == pytest.approx(float(((1 - p) * ~decided).sum()))
    # The threshold is a fine edge of the score: no bin is split between the two sides.
    assert set(np.unique(calibration.above_threshold)) <= {0.0, 1.0}
    assert window.figures["accuracy"].estimate == pytest.approx(
        (window.confusion.tp + window.confusion.tn) / 5_000)


def test_a_window_with_too_few_decisions_is_not_judged() -> None:
    rng = np.random.default_rng(5)
    score, calibration = _reference(rng)
    scores, _ = _population(rng, MIN_ESTIMATE_ROWS - 1)
    window = estimate(bin_numbers(score, scores).fine, calibration)
    assert not window.judged and window.figures == {} and window.confusion is None


def test_a_map_that_cannot_calibrate_the_score_is_not_trustworthy() -> None:
    rng = np.random.default_rng(6)
    scores = rng.random(HOLDOUT_ROWS)
    # Outcomes likelier at both ends of the score: no increasing map can follow them.
    labels = (rng.random(HOLDOUT_ROWS) < np.where(np.abs(scores - 0.5) > 0.3, 0.9, 0.1))
    score = score_reference(scores, THRESHOLD)
    poor = CalibrationMapPayload.model_validate(calibration_payload(
        score.fine_edges, score.fine_midpoints, scores, labels.astype(int), THRESHOLD))
    assert not poor.calibration_map().trustworthy
    assert poor.calibration_error > poor.calibration_error_bound
    _, good = _reference(rng)
    assert good.trustworthy


def test_precision_recall_and_f1_on_a_thin_tail_are_flagged_not_to_be_trusted() -> None:
    rng = np.random.default_rng(7)
    scores, labels = _population(rng, HOLDOUT_ROWS)
    rare = labels * (scores < THRESHOLD)  # hardly any positive outcome at or above it
    rare[np.flatnonzero(scores >= THRESHOLD)[:3]] = 1
    score = score_reference(scores, THRESHOLD)
    thin = CalibrationMapPayload.model_validate(calibration_payload(
        score.fine_edges, score.fine_midpoints, scores, rare, THRESHOLD)).calibration_map()
    assert thin.positives_above_threshold is not None and thin.positives_above_threshold < 20
    window = estimate(bin_numbers(score, _population(rng, 2_000)[0]).fine, thin)
    for metric in ("precision", "recall", "f1"):
        figure = window.figures[metric]
        assert "not to be trusted" in figure.caveat and not figure.wholly_below(1.0)
    assert window.figures["roc_auc"].trustworthy and window.figures["accuracy"].trustworthy
    own, supported = _reference(rng)
    ample = estimate(bin_numbers(own, _population(rng, 2_000)[0]).fine, supported)
    assert all(f.trustworthy for f in ample.figures.values())


# Through the store ------------------------------------------------------------------------------

def _stored_reference(engine: Engine, rng: np.random.Generator) -> None:
    scores, labels = _population(rng, 5_000)
    inputs = pd.DataFrame({"x": rng.normal(0, 1, 5_000)})
    with session_scope(engine) as session:
        add_evidence(session=session, kind="reference_profile", model_name="m",
                     model_version="1", data_sha256="0" * 64,
                     payload=reference_payload(inputs, scores, labels, THRESHOLD),
                     policy_sha256="0" * 64, code_version=None, created_by="test")


def _log(engine: Engine, scores: np.ndarray, labels: np.ndarray, known: np.ndarray,
         days: int) -> None:
    """Decisions spread over `days` days from DAY: counted into daily profiles as ingest does,
    written to the log, and the known outcomes after them."""
    rows = [decision_row(f"d-{i}", model_name="m", model_version="1", score=float(s),
                         threshold=THRESHOLD, features={"x": 0.0},
                         decided_at=datetime.combine(DAY + timedelta(days=i % days),
                                                     datetime.min.time()) + timedelta(hours=9))
            for i, s in enumerate(scores)]
    with session_scope(engine) as session:
        batch = IngestBatch(kind="decisions", source="test", content_sha256="2" * 64,
                            ingested_by="test", ingested_at=datetime(2026, 12, 1))
        session.add(batch)
        session.flush()
        session.execute(insert(Decision), [{**r, "batch_id": batch.id} for r in rows])
        profiler = DailyProfiler(session.connection())
        profiler.add(rows)
        profiler.write()
        session.execute(insert(Outcome), [
            {"decision_id": f"d-{i}", "label": float(labels[i]), "model_name": "m",
             "observed_at": rows[i]["decided_at"] + timedelta(days=3)}
            for i in np.flatnonzero(known)])


def test_a_window_from_the_store_estimates_beside_realised_figures(engine: Engine) -> None:
    rng = np.random.default_rng(7)
    _stored_reference(engine, rng)
    scores, labels = _population(rng, 4_000, shift=0.4)
    known = rng.random(4_000) < 0.5
    _log(engine, scores, labels, known, days=14)
    with engine.connect() as connection:
        window = performance_window(connection=connection, model_name="m", version="1",
                                    start=DAY, end=DAY + timedelta(days=14),
                                    floors={"roc_auc": 0.7, "gini": 0.4})
    assert window.estimate.decisions == 4_000 and window.floors == {"roc_auc": 0.7}
    assert window.realised.labelled == known.sum()
    assert window.realised.labelled_share == pytest.approx(known.mean())
    y, s = labels[known], scores[known]
    decided = s >= THRESHOLD
    exact = {"roc_auc": roc_auc_score(y, s), "accuracy": accuracy_score(y, decided),
             "precision": precision_score(y, decided), "recall": recall_score(y, decided),
             "f1": f1_score(y, decided)}
    for metric, value in exact.items():
        realised = window.realised.figures[metric]
        assert realised == pytest.approx(value, abs=1e-3), metric
        like_for_like = window.realised.estimate.figures[metric]
        assert like_for_like.low is not None and like_for_like.high is not None
        # One window against a 95% band: held to the band widened by half its width (the
        # simulations above count how often the band itself holds).
        slack = (like_for_like.high - like_for_like.low) / 2
        assert like_for_like.low - slack <= realised <= like_for_like.high + slack, metric
    assert window.calibration.trustworthy and not window.breaches()


def test_weeks_split_the_window_and_recent_ones_are_estimated_before_any_label(
        engine: Engine) -> None:
    rng = np.random.default_rng(8)
    _stored_reference(engine, rng)
    scores, labels = _population(rng, 2_100)
    # Outcomes arrive late: only the first week's are known.
    first_week = np.arange(2_100) % 21 < 7
    _log(engine, scores, labels, first_week, days=21)
    with engine.connect() as connection:
        weeks = performance_by_week(connection=connection, model_name="m", version="1",
                                    start=DAY, end=DAY + timedelta(days=21),
                                    floors={"roc_auc": 0.7})
    assert [w.estimate.decisions for w in weeks] == [700, 700, 700]
    assert weeks[0].realised.labelled == 700 and weeks[2].realised.labelled == 0
    assert weeks[2].realised.figures["roc_auc"] is None
    assert all(w.estimate.judged and w.estimate.figures["roc_auc"].estimate for w in weeks)


def test_a_profile_made_before_maps_were_stored_says_how_to_get_one(engine: Engine) -> None:
    rng = np.random.default_rng(9)
    scores, _ = _population(rng, 1_000)
    with session_scope(engine) as session:
        add_evidence(session=session, kind="reference_profile", model_name="m",
                     model_version="1", data_sha256="0" * 64,
                     payload=reference_payload(pd.DataFrame({"x": scores}), scores),
                     policy_sha256="0" * 64, code_version=None, created_by="test")
    with engine.connect() as connection, pytest.raises(NotFound, match="govern evaluate m 1"):
        performance_window(connection=connection, model_name="m", version="1", start=DAY,
                           end=DAY + timedelta(days=7), floors={})


def test_the_map_is_stored_in_the_reference_profile_hashed_and_reads_back_to_its_bytes(
        engine: Engine) -> None:
    rng = np.random.default_rng(10)
    _stored_reference(engine, rng)
    with session_scope(engine) as session:
        record = get_evidence(session=session, evidence_id=1)
    typed = record.reference_profile()
    assert record.intact and typed.calibration is not None
    assert canonical_json(typed.as_stored()) == canonical_json(record.payload)
    score = next(f for f in typed.features if f.name == SCORE)
    assert len(typed.calibration.probability) == len(score.fine_edges) + 1
    assert THRESHOLD in score.fine_edges


def test_traffic_counted_against_an_earlier_reference_asks_for_a_rebuild(engine: Engine) -> None:
    rng = np.random.default_rng(12)
    _stored_reference(engine, rng)
    scores, labels = _population(rng, 500)
    _log(engine, scores, labels, np.arange(500) < 10, days=7)
    with session_scope(engine) as session:  # a new evidence run: other bins
        add_evidence(session=session, kind="reference_profile", model_name="m",
                     model_version="1", data_sha256="0" * 64,
                     payload=reference_payload(pd.DataFrame({"x": scores[:300]}), scores[:300],
                                               labels[:300], THRESHOLD),
                     policy_sha256="0" * 64, code_version=None, created_by="test")
    with engine.connect() as connection, pytest.raises(NotFound,
                                                       match="govern profile rebuild m 1"):
        performance_window(connection=connection, model_name="m", version="1", start=DAY,
                           end=DAY + timedelta(days=7), floors={})
