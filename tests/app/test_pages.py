"""Every page through AppTest, over the demo workspace and over broken sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from services.settings import Settings
from tests.conftest import closed_port

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def _texts(at: AppTest) -> str:
    """Every alert's text as a person reads it (Markdown escapes removed)."""
    return " ".join(str(e.value) for kind in ("error", "warning", "info", "success")
                    for e in getattr(at, kind)).replace("\\", "")


def test_portfolio_lists_every_registered_model(demo_env: Settings) -> None:
    at = _app().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Registered models"] == "3"
    assert metrics["With contract gaps"] == "1"
    table = at.dataframe[0].value
    assert list(table["Model"]) == ["credit-risk", "fraud-screening", "marketing-propensity"]
    assert list(table["Champion"]) == ["v2", "v1", "—"]


def test_the_demo_workspace_says_so(demo_env: Settings) -> None:
    at = _app().run()
    assert "Demo workspace" in at.warning[0].value
    assert at.sidebar.selectbox(key="demo_persona").value == "risk_manager"


def test_portfolio_filters_by_risk_tier(demo_env: Settings) -> None:
    at = _app().run()
    at.multiselect[0].select("high").run()
    assert list(at.dataframe[0].value["Model"]) == ["credit-risk"]


def test_model_page_shows_versions_lineage_and_a_complete_contract(demo_env: Settings) -> None:
    at = _app().run()
    at.switch_page("pages/model.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Champion"] == "v2" and metrics["Risk tier"] == "high"
    assert metrics["Hold-out set"] == "logged"
    assert list(at.dataframe[0].value["Version"]) == ["v3", "v2", "v1"]
    assert "Every record the governance contract asks for is present" in _texts(at)


def test_model_page_names_the_gaps_of_an_ungoverned_model(demo_env: Settings) -> None:
    at = _app().run()
    at.switch_page("pages/model.py").run()
    at.selectbox(key="model_picker").set_value("marketing-propensity").run()
    assert not at.exception
    assert "10 gap(s)" in _texts(at)
    contract = at.dataframe[-1].value
    assert not contract.set_index("Requirement").loc["code version", "Present"]


def test_model_page_follows_the_version_picker(demo_env: Settings) -> None:
    at = _app().run()
    at.switch_page("pages/model.py").run()
    at.selectbox(key="version_picker").set_value("1").run()
    assert {m.label: m.value for m in at.metric}["Training run"] == "logistic-baseline"


@pytest.mark.parametrize("page", ["pages/portfolio.py", "pages/model.py"])
def test_pages_say_when_mlflow_cannot_be_reached(demo_env: Settings, page: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{closed_port()}")
    at = _app().run()
    at.switch_page(page).run()
    assert not at.exception
    assert "The MLflow registry at http://127.0.0.1" in _texts(at)
    assert "Check MLFLOW_TRACKING_URI" in _texts(at)


def test_pages_say_when_the_store_schema_is_behind(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    at = _app().run()
    assert not at.exception
    assert "has no schema yet" in _texts(at)
    assert "govern db upgrade" in _texts(at)


def test_a_real_workspace_offers_no_demo_personas(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from services.store.engine import make_engine
    from services.store.migrate import upgrade

    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    upgrade(make_engine(f"sqlite:///{tmp_path / 'governance.db'}"))
    at = _app().run()
    assert not at.exception
    assert "Sign-in is not configured" in _texts(at)
    assert not at.sidebar.selectbox
    assert not at.warning  # no demo marker outside the demo
