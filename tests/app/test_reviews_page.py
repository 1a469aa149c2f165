"""The Reviews page through AppTest on the demo: the calendar by owner with the demo's review
due soon, a model's review history with its frozen state, a validator recording a review
through the form, and four eyes keeping a model's owner from reviewing it."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from services.core.settings import Settings

APP = str(Path(__file__).resolve().parents[2] / "app.py")
WHY = "Evidence, gates and monitoring of v2 checked; nothing calls for a change now."


def _reviews_page(persona: str, model: str = "credit-risk") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["demo_persona"] = persona
    at.query_params["model"] = model
    at.run()
    at.switch_page("pages/reviews.py").run()
    assert not at.exception
    return at


def _texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("error", "warning", "info", "success")
                    for e in getattr(at, kind)).replace("\\", "")


def test_the_calendar_shows_each_model_by_owner_with_its_due_date(demo_env: Settings) -> None:
    at = _reviews_page("executive")
    calendar = at.dataframe[0].value.set_index("Model")
    assert calendar.loc["fraud-screening", "State"] == "due soon"
    assert calendar.loc["fraud-screening", "Owner"] == "demo.jonas"
    assert calendar.loc["credit-risk", "Last review"].endswith("continue")
    assert calendar.loc["marketing-propensity", "State"] == "not due"  # no champion serves
    assert len(at.get("plotly_chart")) == 1  # the timeline of due dates
    assert {m.label: m.value for m in at.metric}["Due soon"] == "1"
    assert [e for e in at.expander if "continue · by demo.kenji" in e.label.replace("\\", "")]
    assert "Validators record periodic reviews." in _texts(at)  # no form for an executive


def test_a_validator_records_a_review_through_the_form(demo_copy: Settings) -> None:
    at = _reviews_page("risk_manager")
    at.radio(key="review_conclusion").set_value("continue with conditions")
    at.text_area(key="review_justification").input(WHY)
    at.button(key="review_submit").click().run()
    assert "needs the conditions" in _texts(at)  # refused in words, nothing recorded
    at.text_area(key="review_conditions").input("Rerun fairness evidence after the refresh.")
    at.button(key="review_submit").click().run()
    assert "of credit-risk v2 recorded: continue with conditions" in _texts(at)
    history = [e.label.replace("\\", "") for e in at.expander
               if "by demo.priya" in e.label.replace("\\", "")]
    assert history and "continue with conditions" in history[0]


def test_the_models_owner_is_offered_no_review_form(demo_env: Settings) -> None:
    at = _reviews_page("owner_validator", "fraud-screening")
    assert "Four eyes: you own fraud-screening" in _texts(at)
    assert not [w for w in at.radio if w.key == "review_conclusion"]


def test_every_reason_in_the_calendar_can_be_read_in_full(demo_env: Settings) -> None:
    at = _reviews_page("executive")
    calendar = at.dataframe[0].value
    [full] = [e for e in at.expander if e.label == "Why each review is due, in full"]
    written = " ".join(str(m.value) for m in full.markdown).replace("\\", "")
    for model, reason in zip(calendar["Model"], calendar["Why"], strict=True):
        assert f"**{model}**" in written and reason in written
