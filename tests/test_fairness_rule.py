"""The fairness rule: each error rate judged over the groups that can carry it, undefined rates
kept undefined, and one key per group whatever its encoding (hold-out, log, profiles)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    equalized_odds_difference,
    false_positive_rate,
    true_positive_rate,
)
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression
from sqlalchemy import Engine, insert

from services.core.clock import utcnow
from services.core.policy import FairnessPolicy, Policy
from services.core.principal import Principal, Role
from services.decisions.daily_profiles import SELECTION, DailyProfiler, SensitiveInput
from services.decisions.ingest import record_decisions
from services.evidence.fairness import fairness_payload
from services.evidence.gates import GateResult, GateStatus, gates_for_version
from services.evidence.groups import MISSING_GROUP, group_key, group_labels, sensitive_groups
from services.evidence.payloads import FairnessPayload
from services.evidence.representation import representation
from services.evidence.run import run_evidence
from services.monitoring.fairness_watch import selection
from services.registry.adapter import Registry
from services.store.engine import session_scope
from services.store.models import Profile
from tests.factories import GOVERNED_TAGS
from ui.figures import UNDEFINED, group_rates_table

VALIDATOR = Principal("val", "Val Idator", frozenset({Role.VALIDATOR}))
SERVER = Principal("svc", "Serving system", frozenset({Role.MODEL_OWNER}))


def _register(folder: Path, holdout: pd.DataFrame, model: Any, inputs: list[str],
              sensitive: str, name: str = "case") -> str:
    """A registry holding one version of `model` (with its signature) and this hold-out."""
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(uri, uri)
    experiment = client.create_experiment("case", artifact_location=(folder / "a").as_uri())
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    with mlflow.start_run(experiment_id=experiment):
        path = folder / "holdout.parquet"
        holdout.to_parquet(path)
        mlflow.log_artifact(str(path), artifact_path="holdout")
        mlflow.sklearn.log_model(model, name="model", pip_requirements=["scikit-learn"],
                                 input_example=holdout[inputs].head(2),
                                 registered_model_name=name)
    for key, value in {**GOVERNED_TAGS, "sensitive_features": sensitive}.items():
        client.set_registered_model_tag(name, key, value)
    mlflow.set_tracking_uri("")
    mlflow.set_registry_uri("")
    return uri


# The one-class group ----------------------------------------------------------------------------

def _block(group: str, positives: int, true_positives: int, negatives: int,
           false_positives: int) -> pd.DataFrame:
    """Rows of one group: x = 1 where the model predicts positive, -1 where it does not."""
    y = [1] * positives + [0] * negatives
    x = ([1.0] * true_positives + [-1.0] * (positives - true_positives)
         + [1.0] * false_positives + [-1.0] * (negatives - false_positives))
    return pd.DataFrame({"x": x, "group": group, "y": y})


# a and b: TPR 35/40 = 0.875, FPR 6/60 = 0.1. c: 40 people, every label positive, TPR 18/40.
ONE_CLASS_GROUP = pd.concat([_block("a", 40, 35, 60, 6), _block("b", 40, 35, 60, 6),
                             _block("c", 40, 18, 0, 0)], ignore_index=True)


def _threshold_model() -> LogisticRegression:
    """Predicts positive exactly when x > 0 (x is -1 or 1 in the hold-out sets)."""
    x = np.linspace(-2, 2, 200)
    return LogisticRegression(C=1e6).fit(pd.DataFrame({"x": x}), (x > 0).astype(int))


def _fairness_gates(engine: Engine, uri: str, policy: Policy) -> dict[str, GateResult]:
    with session_scope(engine) as session:
        report = gates_for_version(session=session, registry=Registry(uri), policy=policy,
                                   model_name="case", version="1")
    return {r.gate: r for r in report.results if r.gate.endswith(" by group")}


def test_a_group_whose_labels_are_all_positive_fails_equal_opportunity_with_its_tpr_gap(
        tmp_path: Path, engine: Engine, policy: Policy) -> None:
    uri = _register(tmp_path, ONE_CLASS_GROUP, _threshold_model(), ["x"], "group")
    run_evidence(engine=engine, registry=Registry(uri), policy=policy, actor=VALIDATOR,
                 model_name="case", version="1")
    gates = _fairness_gates(engine, uri, policy)
    opportunity = gates["equal opportunity difference by group"]
    assert opportunity.status is GateStatus.FAIL
    assert opportunity.figure == pytest.approx(0.875 - 0.45)
    assert opportunity.bound == 0.20
    odds = gates["equalized odds difference by group"]
    assert odds.status is GateStatus.FAIL and odds.figure == pytest.approx(0.425)
    # It says which group was left out of which rate, and why.
    assert "c from FPR (too few negatives: 0, needs 10)" in odds.detail
    assert "c from" not in opportunity.detail
    assert gates["four-fifths ratio by group"].status is GateStatus.PASS


def test_a_group_without_negatives_has_an_undefined_fpr_stored_and_shown(
        tmp_path: Path, engine: Engine, policy: Policy) -> None:
    uri = _register(tmp_path, ONE_CLASS_GROUP, _threshold_model(), ["x"], "group")
    run = run_evidence(engine=engine, registry=Registry(uri), policy=policy, actor=VALIDATOR,
                       model_name="case", version="1")
    assert run.fairness is not None
    stored = {g["group"]: g for g in run.fairness.payload["features"]["group"]["groups"]}
    assert stored["c"]["false_positive_rate"] is None  # fairlearn says 0.0 here
    assert stored["c"]["ci"]["false_positive_rate"] == [None, None]
    assert stored["c"]["true_positive_rate"] == pytest.approx(0.45)
    assert (stored["c"]["tpr_judged"], stored["c"]["fpr_judged"]) == (True, False)
    assert stored["a"]["false_positive_rate"] == pytest.approx(0.1)
    summary = run.fairness.fairness().features["group"].summary
    assert summary.too_few_negatives == ("c",) and summary.too_few_positives == ()
    assert "c (too few negatives for FPR)" in summary.left_out()
    shown = group_rates_table(run.fairness.fairness().features["group"]).set_index("Group")
    assert shown.loc["c", "FPR"] == UNDEFINED
    assert shown.loc["c", "TPR"] == "45.0%"  # a rate, as the one formatter shows rates
    assert shown.loc["c", "Judged for"] == "favourable rate, TPR"
    assert shown.loc["a", "FPR"] == "10.0%"


def _policy(min_class_count: int = 10) -> FairnessPolicy:
    return FairnessPolicy((25.0, 40.0, 60.0), 50, 0.95, min_class_count, False)


def test_a_group_without_positives_or_predicted_positives_has_undefined_tpr_and_precision(
        ) -> None:
    frame = pd.concat([_block("a", 40, 30, 60, 10), _block("b", 40, 20, 60, 5),
                       _block("d", 0, 0, 50, 0)], ignore_index=True)
    payload = fairness_payload(
        y_true=frame["y"].to_numpy(), y_pred=(frame["x"] > 0).astype(int).to_numpy(),
        favourable_prediction=1, groups=frame[["group"]], policy=_policy(),
        min_group_size=30)
    read = FairnessPayload.model_validate(payload).features["group"]
    d = next(g for g in read.groups if g.group == "d")
    assert d.true_positive_rate is None and d.precision is None
    assert d.false_positive_rate == 0.0  # defined: 0 of 50 negatives predicted positive
    assert d.ci.true_positive_rate == (None, None) and d.ci.precision == (None, None)
    assert read.summary.too_few_positives == ("d",)
    assert read.summary.equal_opportunity_difference == pytest.approx(0.75 - 0.5)
    assert read.summary.false_positive_rate_difference == pytest.approx(10 / 60)
    shown = group_rates_table(read).set_index("Group")
    assert (shown.loc["d", "TPR"], shown.loc["d", "Precision"]) == (UNDEFINED, UNDEFINED)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_figures_equal_fairlearns_where_every_rate_is_defined(seed: int) -> None:
    rng = np.random.default_rng(seed)
    groups = pd.DataFrame({"g": rng.choice(["x", "y", "z"], 3000, p=[0.5, 0.3, 0.2])})
    y = rng.integers(0, 2, 3000)
    predicted = ((y + rng.random(3000) * (1 + (groups["g"] == "z"))) > 0.9).astype(int)
    assessed = fairness_payload(y_true=y, y_pred=predicted.to_numpy(), favourable_prediction=1,
                                groups=groups, policy=_policy(), min_group_size=30)
    rows = assessed["features"]["g"]["groups"]
    direct = MetricFrame(metrics={"tpr": true_positive_rate, "fpr": false_positive_rate},
                         y_true=y, y_pred=predicted, sensitive_features=groups["g"]).by_group
    for row in rows:
        assert row["true_positive_rate"] == pytest.approx(direct.loc[row["group"], "tpr"])
        assert row["false_positive_rate"] == pytest.approx(direct.loc[row["group"], "fpr"])
    summary = assessed["features"]["g"]["summary"]
    assert summary["equalized_odds_difference"] == pytest.approx(
        equalized_odds_difference(y, predicted, sensitive_features=groups["g"]))
    assert summary["equal_opportunity_difference"] == pytest.approx(
        direct["tpr"].max() - direct["tpr"].min())


def test_equalized_odds_within_its_bound_on_tpr_alone_is_not_a_pass(
        tmp_path: Path, engine: Engine, policy: Policy) -> None:
    # a and b have close TPRs; b has too few negatives, so FPRs cannot be compared.
    holdout = pd.concat([_block("a", 40, 35, 60, 6), _block("b", 40, 34, 5, 1)],
                        ignore_index=True)
    uri = _register(tmp_path, holdout, _threshold_model(), ["x"], "group")
    run_evidence(engine=engine, registry=Registry(uri), policy=policy, actor=VALIDATOR,
                 model_name="case", version="1")
    gates = _fairness_gates(engine, uri, policy)
    assert gates["equal opportunity difference by group"].status is GateStatus.PASS
    odds = gates["equalized odds difference by group"]
    assert odds.status is GateStatus.INSUFFICIENT_DATA
    assert odds.figure == pytest.approx(0.875 - 0.85)
    assert "FPR gap cannot be judged" in odds.detail
    assert "b from FPR (too few negatives: 5, needs 10)" in odds.detail


# Group keys -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("values", "key"), [
    ([1, 1.0, "1", "1.0", " 1 ", np.int64(1), np.int8(1), np.float32(1.0), np.float64(1.0),
      Decimal("1.0"), Fraction(1), np.str_("1")], "1"),
    ([True, np.True_, "true", "TRUE", "True", 1], "1"),
    ([False, np.False_, "false", "FALSE", 0, 0.0, "0", -0.0], "0"),
    ([0.5, "0.5", "0.50", np.float32(0.5), np.float16(0.5), Fraction(1, 2)], "0.5"),
    ([0.1, np.float32(0.1), "0.1"], "0.1"),
    ([3, 3.0, "3", np.uint16(3), "3e0"], "3"),
    ([None, np.nan, float("nan"), pd.NA, pd.NaT, np.float64("nan"), "nan", "NaN"],
     MISSING_GROUP),
    (["female", " female", "female "], "female"),
    (["25-39", "<25", "60+"], None),  # band labels are their own keys
    (["01", "+1"], None),  # codes, not numbers
], ids=["one", "true", "false", "half", "tenth", "three", "missing", "text", "bands", "codes"])
def test_every_encoding_of_a_group_has_one_key(values: list[Any], key: str | None) -> None:
    keys = {group_key(v) for v in values}
    if key is None:
        assert keys == {str(v) for v in values}
    else:
        assert keys == {key}, [(v, group_key(v)) for v in values]
    assert all(group_key(k) == k for k in keys)  # a key is its own key


def test_a_text_category_named_none_is_a_group_not_missing() -> None:
    assert group_key("None") == "None"


@pytest.mark.parametrize(("holdout", "labels"), [
    (pd.Series([1, 2, 3, 1]), {"1": "1", "2": "2", "3": "3"}),
    (pd.Series([1.0, 2.0, np.nan]), {"1": "1.0", "2": "2.0", MISSING_GROUP: MISSING_GROUP}),
    (pd.Series([True, False, True]), {"1": "True", "0": "False"}),
    (pd.Series(["true", "false", "TRUE"], dtype=object), {"1": "true", "0": "false"}),
    (pd.Series(pd.array([1, None, 2], dtype="Int64")),
     {"1": "1", "2": "2", MISSING_GROUP: MISSING_GROUP}),
    (pd.Series([1, "1", "1", 2], dtype=object), {"1": "1", "2": "2"}),
])
def test_the_hold_out_names_its_groups_as_it_writes_them(holdout: pd.Series,
                                                         labels: dict[str, str]) -> None:
    assert group_labels(holdout) == labels
    grouped = sensitive_groups(pd.DataFrame({"s": holdout}), ["s"], (25.0, 40.0, 60.0))["s"]
    assert set(grouped) == set(labels.values())


def test_representation_joins_the_logs_encodings_to_the_hold_outs_groups() -> None:
    held = sensitive_groups(pd.DataFrame({"s": [True, False, True, True]}), ["s"], (25.0,))["s"]
    rows = representation(held, {"1": 5, "true": 2, "True": 1, "0.0": 2, MISSING_GROUP: 0})
    assert [(r["group"], r["holdout_rows"], r["decided_rows"]) for r in rows] == [
        ("(missing)", 0, 0), ("False", 1, 2), ("True", 3, 8)]


def test_a_sensitive_input_counts_every_encoding_of_a_group_in_one_cell() -> None:
    coded, flag = SensitiveInput("code", None), SensitiveInput("flag", None)
    assert {coded.group(v) for v in (1, 1.0, "1", np.int64(1))} == {"1"}
    assert {flag.group(v) for v in (True, "true", 1, 1.0)} == {"1"}
    assert coded.group(None) == coded.group(float("nan")) == MISSING_GROUP
    banded = SensitiveInput("age", (25.0, 40.0, 60.0))
    assert [banded.group(v) for v in (24, 25.0, 61, None)] == ["<25", "25-39", "60+",
                                                               MISSING_GROUP]


# Numeric- and boolean-coded groups, end to end -------------------------------------------------

def _coded_holdout(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({"x": rng.normal(0, 1, rows), "code": rng.choice([1, 2, 3], rows),
                          "flag": rng.choice([True, False], rows)})
    frame["y"] = (frame["x"] + 0.3 * frame["code"] + rng.normal(0, 0.5, rows) > 0.6) \
        .astype(int)
    return frame


def _decisions(count: int) -> list[dict[str, Any]]:
    now = utcnow().replace(microsecond=0)
    return [{"decision_id": f"d-{n}", "model_name": "case", "model_version": "1",
             "decided_at": (now - timedelta(hours=n)).isoformat(), "subject_ref": f"S-{n}",
             # The log writes the hold-out's int codes as numbers the ingest makes floats,
             # and its booleans as JSON true/false.
             "features": {"x": 0.1 * n, "code": [1, 2.0, 3][n % 3], "flag": n % 2 == 0},
             "score": 0.8 if n % 4 else 0.2, "threshold": 0.5,
             "outcome": "approved" if n % 4 else "declined"} for n in range(1, count + 1)]


def test_numeric_and_boolean_coded_groups_are_one_row_each_in_representation_and_over_time(
        tmp_path: Path, engine: Engine, policy: Policy) -> None:
    holdout = _coded_holdout()
    inputs = ["x", "code", "flag"]
    model = LogisticRegression().fit(holdout[inputs], holdout["y"])
    uri = _register(tmp_path, holdout, model, inputs, "code,flag")
    registry = Registry(uri)
    run_evidence(engine=engine, registry=registry, policy=policy, actor=VALIDATOR,
                 model_name="case", version="1")  # the reference profile the log is counted in
    report = record_decisions(engine=engine, registry=registry, actor=SERVER,
                              decisions=_decisions(60))
    assert report.accepted == 60
    second = run_evidence(engine=engine, registry=registry, policy=policy, actor=VALIDATOR,
                          model_name="case", version="1")
    data = second.evaluation.evaluation().data
    assert data is not None
    by_code = {r.group: (r.holdout_rows, r.decided_rows) for r in data.representation["code"]}
    assert by_code == {str(c): (int((holdout["code"] == c).sum()), 20) for c in (1, 2, 3)}
    by_flag = {r.group: (r.holdout_rows, r.decided_rows) for r in data.representation["flag"]}
    assert by_flag == {"True": (int(holdout["flag"].sum()), 30),
                       "False": (int((~holdout["flag"]).sum()), 30)}
    fairness = second.fairness.fairness() if second.fairness else None
    assert fairness is not None
    assert {g.group for g in fairness.features["flag"].groups} == {"True", "False"}

    with engine.connect() as connection:
        watched = {s.feature: s for s in selection(
            connection=connection, model_name="case", start=date(2000, 1, 1),
            end=date(2100, 1, 1), min_group_size=1)}
    assert set(watched) == {"code", "flag"}
    assert {g: d for g, (d, _) in watched["code"].groups.items()} == {"1": 20, "2": 20, "3": 20}
    assert {g: d for g, (d, _) in watched["flag"].groups.items()} == {"True": 30, "False": 30}


def test_profile_cells_stored_under_older_keys_join_todays_groups(
        tmp_path: Path, engine: Engine, policy: Policy) -> None:
    holdout = _coded_holdout()
    inputs = ["x", "code", "flag"]
    uri = _register(tmp_path, holdout, LogisticRegression().fit(holdout[inputs], holdout["y"]),
                    inputs, "code,flag")
    run_evidence(engine=engine, registry=Registry(uri), policy=policy, actor=VALIDATOR,
                 model_name="case", version="1")
    day = utcnow().date()
    with session_scope(engine) as session:
        connection = session.connection()
        # As the code before group keys counted them: str() of whatever the log held.
        connection.execute(insert(Profile), [
            {"model_name": "case", "model_version": "1", "day": day - timedelta(days=1),
             "feature": SELECTION + "flag", "rows": 9, "missing": 0,
             "counts": {"groups": {"True": [4, 3], "1": [2, 1], "False": [3, 0]}}},
            {"model_name": "case", "model_version": "1", "day": day - timedelta(days=1),
             "feature": SELECTION + "code", "rows": 6, "missing": 0,
             "counts": {"groups": {"1.0": [4, 2], "2.0": [2, 2]}}}])
        profiler = DailyProfiler(connection)
        profiler.add([{"model_name": "case", "model_version": "1",
                       "decided_at": utcnow(), "shadow": False, "outcome": "approved",
                       "score": 0.9, "features": {"x": 0.0, "code": code, "flag": flag}}
                      for code, flag in ((1, "true"), ("1", 1), (np.int64(2), np.True_))])
        profiler.write()
    with engine.connect() as connection:
        watched = {s.feature: s for s in selection(
            connection=connection, model_name="case", start=date(2000, 1, 1),
            end=date(2100, 1, 1), min_group_size=1)}
    assert watched["flag"].groups == {"True": (9, 7), "False": (3, 0)}
    assert watched["code"].groups == {"1": (6, 4), "2": (3, 3)}
