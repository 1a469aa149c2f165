"""The demo workspace at --size small: real models, a realistic decision log, built once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from services.core.errors import InvalidInput
from services.core.settings import Settings
from services.demo.build import SIZES, DemoReport, build_demo, drift_onset
from services.registry.adapter import Registry
from services.store.engine import make_engine, session_scope
from services.store.models import Decision, Outcome
from services.store.workspace import is_demo


@pytest.fixture
def demo_store(demo_env: Settings) -> Engine:
    return make_engine(demo_env.database_url)


def _frame(engine: Engine, *where: object) -> pd.DataFrame:
    with session_scope(engine) as session:
        rows = session.execute(select(Decision).where(*where)).scalars().all()
    return pd.DataFrame([{c.key: getattr(r, c.key) for c in Decision.__table__.columns}
                         for r in rows])


def test_the_demo_registers_governed_models_with_aliases(demo_env: Settings) -> None:
    models = {m.name: m for m in Registry(demo_env.mlflow_tracking_uri).list_models()}
    assert models["credit-risk"].aliases == {"champion": "2", "challenger": "3"}
    assert models["fraud-screening"].aliases == {"champion": "1", "challenger": "2"}
    assert models["credit-risk"].tags["sensitive_features"] == "sex,age"
    assert "owner" not in models["marketing-propensity"].tags


def test_the_log_spans_the_window_and_marks_the_workspace_as_demo(
        demo_report: DemoReport, demo_store: Engine) -> None:
    with session_scope(demo_store) as session:
        first, last = session.execute(
            select(func.min(Decision.decided_at), func.max(Decision.decided_at))).one()
        assert is_demo(session=session)
    assert (last - first) >= timedelta(days=SIZES["small"].days - 2)
    assert demo_report.decisions >= SIZES["small"].credit_decisions + SIZES["small"].fraud_decisions


def test_logged_scores_are_what_the_registered_version_gives(
        demo_env: Settings, demo_store: Engine) -> None:
    acted = _frame(demo_store, Decision.model_name == "credit-risk", Decision.shadow.is_(False),
                   Decision.model_version == "2", Decision.score.is_not(None))
    sample = acted.head(50)
    model = Registry(demo_env.mlflow_tracking_uri).load_model("credit-risk", "2")
    rescored = model.predict_proba(pd.DataFrame(list(sample["features"])))[:, 1]
    np.testing.assert_allclose(rescored, sample["score"], atol=1e-6)


def test_low_confidence_and_incomplete_requests_wait_for_a_person(demo_store: Engine) -> None:
    log = _frame(demo_store, Decision.shadow.is_(False))
    escalated = log[log["outcome"] == "escalated"]
    assert set(escalated["escalation_reason"]) == {"low_confidence", "missing_input"}
    near = escalated[escalated["escalation_reason"] == "low_confidence"]
    assert ((near["score"] - near["threshold"]).abs() < 0.08).all()
    assert escalated[escalated["escalation_reason"] == "missing_input"]["score"].isna().all()
    assert log[log["outcome"] == "error"]["score"].isna().all()


def test_outcomes_arrive_late_and_only_where_they_can_be_seen(demo_store: Engine) -> None:
    with session_scope(demo_store) as session:
        pairs = session.execute(
            select(Decision.model_name, Decision.outcome, Decision.decided_at,
                   Outcome.observed_at).join(Outcome, Outcome.decision_id == Decision.decision_id)
        ).all()
    assert pairs
    assert all(observed > decided for _, _, decided, observed in pairs)
    # Repayment is only known for loans that were made.
    assert {outcome for model, outcome, _, _ in pairs if model == "credit-risk"} == {"approved"}


def test_challengers_score_the_same_requests_in_shadow(demo_store: Engine) -> None:
    shadow = _frame(demo_store, Decision.shadow.is_(True), Decision.model_name == "credit-risk")
    assert set(shadow["model_version"]) == {"3"}
    acted = _frame(demo_store, Decision.request_id.in_(list(shadow["request_id"])),
                   Decision.shadow.is_(False))
    assert len(acted) == len(shadow)


def test_the_challengers_fairness_problem_shows_in_its_shadow_decisions(
        demo_store: Engine) -> None:
    shadow = _frame(demo_store, Decision.shadow.is_(True), Decision.model_name == "credit-risk")
    sex = shadow["features"].map(lambda f: f["sex"])
    approval = (shadow["outcome"] == "approved").groupby(sex).mean()
    assert approval["female"] / approval["male"] < 0.8  # fails the four-fifths rule


def test_fraud_inputs_drift_from_the_day_the_generator_says(demo_store: Engine) -> None:
    log = _frame(demo_store, Decision.model_name == "fraud-screening", Decision.shadow.is_(False))
    start = log["decided_at"].min().replace(hour=0, minute=0, second=0, microsecond=0)
    onset = drift_onset(start + timedelta(days=1), SIZES["small"].days)
    amount = log["features"].map(lambda f: f["amount"]).astype(float)
    before, after = amount[log["decided_at"] < onset - timedelta(days=2)], \
        amount[log["decided_at"] > onset + timedelta(days=12)]
    assert after.median() > 1.3 * before.median()
    merchants = log["features"].map(lambda f: f["merchant_category"])
    assert (merchants[log["decided_at"] < onset - timedelta(days=2)] != "crypto_exchange").all()
    assert (merchants[log["decided_at"] > onset + timedelta(days=12)] == "crypto_exchange").any()


def test_building_again_changes_nothing(demo_env: Settings, demo_report: DemoReport) -> None:
    again = build_demo(demo_env, size="small", progress=lambda _line: None)
    assert not again.created and again.decisions == demo_report.decisions


def test_the_demo_is_never_built_into_a_real_workspace(
        tmp_path: Path, registry_uri: str) -> None:
    settings = Settings(GOVERNANCE_HOME=tmp_path, MLFLOW_TRACKING_URI=registry_uri)  # type: ignore[call-arg]
    with pytest.raises(InvalidInput, match="not the demo"):
        build_demo(settings, size="small", progress=lambda _line: None)


def test_an_unknown_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="small, standard, large"):
        build_demo(Settings(GOVERNANCE_HOME=tmp_path), size="huge")  # type: ignore[call-arg]
