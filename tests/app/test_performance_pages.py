"""Estimated performance on the Model page and Health over time, through AppTest over the
demo workspace: credit-risk's recent weeks have no outcomes yet, and are estimated."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from services.core.settings import Settings
from tests.app.test_pages import _app, _as


def _estimate_metrics(at: AppTest) -> dict[str, str]:
    return {m.label: str(m.value) for m in at.metric}


def test_health_over_time_estimates_the_weeks_whose_outcomes_have_not_arrived(
        demo_env: Settings) -> None:
    at = _as("executive")
    at.switch_page("pages/health.py").run()
    assert not at.exception
    assert at.selectbox(key="health_model").value == "credit-risk"
    metrics = _estimate_metrics(at)
    label = next(k for k in metrics if k.startswith("Estimated ROC AUC, week from"))
    assert 0.5 < float(metrics[label]) < 1
    assert metrics["Outcomes known that week"] == "0%"  # credit outcomes take 30-60 days
    weeks = next(d.value for d in at.dataframe if "Estimate on the labelled" in d.value.columns)
    recent = weeks[weeks["Labelled"] == 0]
    assert len(recent) >= 3 and recent["Estimate"].notna().all()
    assert (recent["Band low"] <= recent["Estimate"]).all()
    # The back-test beside the estimate only where enough outcomes have arrived to judge.
    from services.monitoring.performance import MIN_REALISED_ROWS

    labelled = (weeks["Labelled"].fillna(0) * weeks["Decisions"]).round()
    assert weeks.loc[labelled < MIN_REALISED_ROWS, "Realised"].isna().all()
    assert weeks.loc[labelled >= MIN_REALISED_ROWS, "Realised"].notna().all()
    captions = " ".join(str(c.value) for c in at.caption)
    assert "concept drift" in captions and "Calibration on the hold-out" in captions
    at.radio(key="health_metric").set_value("accuracy").run()
    assert any(k.startswith("Estimated accuracy") for k in _estimate_metrics(at))


def test_the_model_page_shows_the_champions_estimated_performance(demo_env: Settings) -> None:
    at = _app().run()
    at.switch_page("pages/model.py").run()
    assert not at.exception
    assert any("Estimated performance of v2" in str(h.value) for h in at.subheader)
    metrics = _estimate_metrics(at)
    assert "95% band" in metrics and " – " in metrics["95% band"]
    assert any(k.startswith("Estimated ROC AUC") for k in metrics)
