"""Evidence runs: figures equal direct sklearn and fairlearn, records are immutable, bad
input is refused in words and stores nothing."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn import metrics
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC
from sqlalchemy import Engine, func, select

from services.core.errors import InvalidInput, PermissionDenied
from services.core.policy import FairnessPolicy, Policy
from services.core.principal import Principal, Role
from services.evidence.fairness import fairness_payload
from services.evidence.groups import sensitive_groups
from services.evidence.records import evidence_history
from services.evidence.run import run_evidence
from services.registry.adapter import Registry
from services.store.engine import session_scope
from services.store.models import Evidence
from tests.factories import GOVERNED_TAGS, register_with_holdout, small_frame

VALIDATOR = Principal("val", "Val Idator", frozenset({Role.VALIDATOR}))
ANALYST = Principal("ana", "Ana Lyst", frozenset({Role.ANALYST}))


def _run(engine: Engine, uri: str, policy: Policy, name: str = "loan-approval",
         version: str = "2", actor: Principal = VALIDATOR):
    return run_evidence(engine=engine, registry=Registry(uri), policy=policy, actor=actor,
                        model_name=name, version=version)


def _stored(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(Evidence)) or 0


def test_evaluation_figures_equal_sklearn_on_the_same_data(
        engine: Engine, registry_uri: str, policy: Policy) -> None:
    run = _run(engine, registry_uri, policy)
    registry = Registry(registry_uri)
    holdout = pd.read_parquet(registry.download(registry.lineage("loan-approval", "2")
                                                .holdout_uri or ""))
    model = registry.load_model("loan-approval", "2")
    y = holdout["y"].to_numpy()
    scores = model.predict_proba(holdout[["income", "debt"]])[:, 1]
    predicted = (scores >= 0.5).astype(int)
    figures = run.evaluation.payload["metrics"]
    assert figures["roc_auc"] == pytest.approx(metrics.roc_auc_score(y, scores))
    assert figures["pr_auc"] == pytest.approx(metrics.average_precision_score(y, scores))
    assert figures["accuracy"] == pytest.approx(metrics.accuracy_score(y, predicted))
    assert figures["f1"] == pytest.approx(metrics.f1_score(y, predicted))
    assert figures["log_loss"] == pytest.approx(metrics.log_loss(y, scores))
    assert figures["brier"] == pytest.approx(metrics.brier_score_loss(y, scores))
    tn, fp, fn, tp = metrics.confusion_matrix(y, predicted).ravel()
    assert run.evaluation.payload["confusion_matrix"] == {"tn": tn, "fp": fp, "fn": fn, "tp": tp}


def test_fairness_figures_equal_fairlearn_on_the_same_data(
        engine: Engine, registry_uri: str, policy: Policy) -> None:
    run = _run(engine, registry_uri, policy)
    registry = Registry(registry_uri)
    holdout = pd.read_parquet(registry.download(registry.lineage("loan-approval", "2")
                                                .holdout_uri or ""))
    y = holdout["y"].to_numpy()
    predicted = (registry.load_model("loan-approval", "2")
                 .predict_proba(holdout[["income", "debt"]])[:, 1] >= 0.5).astype(int)
    direct = MetricFrame(metrics={"selection_rate": selection_rate, "tpr": true_positive_rate,
                                  "fpr": false_positive_rate},
                         y_true=y, y_pred=predicted, sensitive_features=holdout["group"]).by_group
    assessed = run.fairness.payload["features"]["group"]
    for row in assessed["groups"]:
        assert row["favourable_rate"] == pytest.approx(direct.loc[row["group"], "selection_rate"])
        assert row["true_positive_rate"] == pytest.approx(direct.loc[row["group"], "tpr"])
        assert row["false_positive_rate"] == pytest.approx(direct.loc[row["group"], "fpr"])
    summary = assessed["summary"]  # both groups are large enough, so nothing is left out
    assert summary["demographic_parity_difference"] == pytest.approx(
        demographic_parity_difference(y, predicted, sensitive_features=holdout["group"]))
    assert summary["equalized_odds_difference"] == pytest.approx(
        equalized_odds_difference(y, predicted, sensitive_features=holdout["group"]))
    rates = direct["selection_rate"]
    assert summary["four_fifths_ratio"] == pytest.approx(rates.min() / rates.max())


def _fairness_policy(resamples: int = 200) -> FairnessPolicy:
    return FairnessPolicy((25.0, 40.0, 60.0), resamples, 0.95, 10, False)


def test_bootstrap_intervals_agree_with_fairlearns_own() -> None:
    rng = np.random.default_rng(3)
    group = pd.DataFrame({"g": rng.choice(["a", "b", "c"], 4000, p=[0.5, 0.3, 0.2])})
    y = rng.integers(0, 2, 4000)
    predicted = ((y + rng.random(4000)) > 0.9).astype(int)
    ours = fairness_payload(y_true=y, y_pred=predicted, favourable_prediction=1, groups=group,
                            policy=_fairness_policy(), min_group_size=30)["features"]["g"]
    theirs = MetricFrame(metrics={"rate": selection_rate}, y_true=y, y_pred=predicted,
                         sensitive_features=group["g"], n_boot=200,
                         ci_quantiles=[0.025, 0.975], random_state=1)
    for row in ours["groups"]:
        low, high = row["ci"]["favourable_rate"]
        assert low < row["favourable_rate"] < high
        assert low == pytest.approx(theirs.by_group_ci[0].loc[row["group"], "rate"], abs=0.02)
        assert high == pytest.approx(theirs.by_group_ci[1].loc[row["group"], "rate"], abs=0.02)


def test_a_group_below_the_minimum_is_too_few_to_judge_never_a_pass() -> None:
    groups = pd.DataFrame({"g": ["big"] * 100 + ["tiny"] * 5})
    y = np.array([0, 1] * 50 + [1] * 5)
    predicted = np.array([1] * 100 + [0] * 5)  # the tiny group is never favoured
    summary = fairness_payload(y_true=y, y_pred=predicted, favourable_prediction=1,
                               groups=groups, policy=_fairness_policy(50),
                               min_group_size=30)["features"]["g"]["summary"]
    assert summary["too_few_to_judge"] == ["tiny"]
    assert summary["four_fifths_ratio"] is None  # one judged group: nothing to compare


def test_continuous_sensitive_features_are_judged_in_the_policys_bands() -> None:
    frame = pd.DataFrame({"age": [19, 24, 25, 39, 40, 59, 60, 80, 33, 45, 70, 22]})
    banded = sensitive_groups(frame, ["age"], (25, 40, 60))["age"]
    assert list(banded[:8]) == ["<25", "<25", "25-39", "25-39", "40-59", "40-59", "60+", "60+"]


def test_a_new_run_adds_a_record_and_leaves_the_earlier_one_as_it_was(
        engine: Engine, registry_uri: str, policy: Policy) -> None:
    first = _run(engine, registry_uri, policy)
    second = _run(engine, registry_uri, policy)
    with session_scope(engine) as session:
        history = evidence_history(session=session, model_name="loan-approval",
                                   model_version="2")
    runs = [r for r in history if r.kind != "reference_profile"]
    assert [r.id for r in runs] == [second.fairness.id, second.evaluation.id,
                                    first.fairness.id, first.evaluation.id]
    assert [r.kind for r in history].count("reference_profile") == 2  # one per run
    assert all(r.intact for r in history)
    assert history[-1].payload_sha256 == first.evaluation.payload_sha256
    assert first.evaluation.data_sha256 == second.evaluation.data_sha256


def test_only_roles_allowed_to_run_evidence_can(engine: Engine, registry_uri: str,
                                                policy: Policy) -> None:
    with pytest.raises(PermissionDenied, match="validator"):
        _run(engine, registry_uri, policy, actor=ANALYST)
    assert _stored(engine) == 0


GOOD = small_frame(5)
TAGS = {**GOVERNED_TAGS, "sensitive_features": "group"}


def _fitted() -> LogisticRegression:
    return LogisticRegression().fit(GOOD[["income", "debt"]], GOOD["y"])


@pytest.mark.parametrize(("holdout", "model", "tags", "says"), [
    (GOOD.drop(columns=["y"]), None, TAGS, "lacks the column(s) y"),
    (GOOD.drop(columns=["group"]), None, TAGS, "lacks the column(s) group"),
    (GOOD.assign(y=1), None, TAGS, "one class"),
    (GOOD, "svc", TAGS, "gives no probabilities"),
    (b"PAR1 this is not parquet", None, TAGS, "not a readable Parquet file"),
    (GOOD, None, {k: v for k, v in TAGS.items() if k != "label"}, "has no label tag"),
], ids=["no-label", "no-sensitive-column", "one-class", "no-probabilities",
        "corrupt-parquet", "no-label-tag"])
def test_bad_input_is_refused_in_words_and_stores_nothing(
        tmp_path: Path, engine: Engine, policy: Policy, holdout: object, model: object,
        tags: dict[str, str], says: str) -> None:
    estimator = (LinearSVC().fit(GOOD[["income", "debt"]], GOOD["y"]) if model == "svc"
                 else _fitted())
    uri, _ = register_with_holdout(tmp_path, holdout=holdout, model=estimator, tags=tags)
    with pytest.raises(InvalidInput, match=says.replace("(", r"\(").replace(")", r"\)")):
        _run(engine, uri, policy, name="case", version="1")
    assert _stored(engine) == 0


def test_a_model_that_cannot_be_loaded_stores_nothing_and_keeps_earlier_evidence(
        tmp_path: Path, engine: Engine, policy: Policy) -> None:
    uri, _ = register_with_holdout(tmp_path, holdout=GOOD, model=_fitted(), tags=TAGS)
    _run(engine, uri, policy, name="case", version="1")
    version_dir = next((tmp_path / "a").glob("models/*/artifacts"))
    for pickled in version_dir.glob("model.*"):
        pickled.write_bytes(b"damaged")
    with pytest.raises(InvalidInput, match="cannot be loaded"):
        _run(engine, uri, policy, name="case", version="1")
    assert _stored(engine) == 3  # the first run's records (with its reference), unchanged
    mlflow.set_tracking_uri("")
