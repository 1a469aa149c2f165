"""Links: a page keeps its model and version in the URL and says when a link names one that
does not exist; a page a persona may not open says who may."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from services.core.settings import Settings
from ui.navigation import PAGES, who_may_open

APP = str(Path(__file__).resolve().parents[2] / "app.py")
RUN_WITHIN = 300  # seconds: generous for a busy machine's first run, as in test_pages


def _opened(page: str, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=RUN_WITHIN)
    at.session_state["demo_persona"] = "risk_manager"
    at.run()
    at.switch_page(f"pages/{page}.py")
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def _warnings(at: AppTest) -> str:
    return " ".join(str(w.value) for w in at.warning).replace("\\", "")


@pytest.mark.parametrize("page", ["health", "model", "evidence", "drift", "card"])
def test_a_link_to_an_unknown_model_says_so(demo_env: Settings, page: str) -> None:
    at = _opened("model_card" if page == "card" else page, model="no-such-model")
    assert not at.exception
    assert "The link names the model no-such-model, which is not among" in _warnings(at)
    assert at.query_params["model"] != "no-such-model"  # the URL now names what is shown


@pytest.mark.parametrize("page", ["model", "evidence"])
def test_a_link_to_an_unknown_version_says_so(demo_env: Settings, page: str) -> None:
    at = _opened(page, model="credit-risk", version="99")
    assert not at.exception
    assert "The link names version 99 of credit-risk, which it does not have" in _warnings(at)


def test_health_follows_the_model_in_the_link(demo_env: Settings) -> None:
    at = _opened("health", model="fraud-screening")
    assert not at.exception
    assert at.selectbox(key="health_model").value == "fraud-screening"
    assert not _warnings(at).count("The link names")


def test_the_model_page_keeps_the_version_in_the_link(demo_env: Settings) -> None:
    at = _opened("model", model="credit-risk", version="1")
    assert not at.exception
    assert at.selectbox(key="version_picker").value == "1"
    assert at.query_params["version"] == "1"


def test_who_may_open_a_restricted_page_is_named_by_persona_or_role() -> None:
    queue = next(p for p in PAGES if p.url_path == "queue")
    assert "Analyst" in who_may_open(queue, demo=True)
    assert "Executive" not in who_may_open(queue, demo=True)
    assert who_may_open(queue, demo=False) == "admin, analyst, auditor, validator"


def test_the_model_and_version_chosen_on_one_page_carry_to_the_next(demo_env: Settings) -> None:
    at = AppTest.from_file(APP, default_timeout=RUN_WITHIN)
    at.session_state["demo_persona"] = "risk_manager"
    at.run()
    at.switch_page("pages/model_card.py").run()
    at.selectbox(key="card_model").set_value("fraud-screening").run()
    chosen = at.selectbox(key="card_version_fraud-screening").value
    at.switch_page("pages/drift.py").run()  # the sidebar's link carries no query
    assert not at.exception
    models = [s.value for s in at.selectbox if s.label == "Model"]
    versions = [s.value for s in at.selectbox if s.label == "Version"]
    assert models == ["fraud-screening"] and versions == [chosen]
