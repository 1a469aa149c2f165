"""The Evidence page's findings, through AppTest on a copy of the demo: a validator raises a
finding with the run shown linked, the model's owner works it, the validator who raised it may
still close it only if someone else worked it, and a second validator closes it."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from services.core.settings import Settings

APP = str(Path(__file__).resolve().parents[2] / "app.py")
NOTE = "Reweighted the training data; fairness rerun is linked."


def _evidence_page(persona: str, version: str = "2") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["demo_persona"] = persona
    at.query_params["model"] = "credit-risk"
    at.query_params["version"] = version
    at.run()
    at.switch_page("pages/evidence.py").run()
    assert not at.exception
    return at


def _texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("error", "warning", "info", "success")
                    for e in getattr(at, kind)).replace("\\", "")


def test_raise_work_and_close_a_finding_from_the_evidence_page(demo_copy: Settings) -> None:
    at = _evidence_page("risk_manager")
    # The demo's champion carries a closed finding already.
    assert "closed" in set(at.dataframe[-1].value["Status"])
    at.text_input(key="finding_title").input("Stale hold-out")
    at.text_area(key="finding_description").input(
        "The hold-out set predates the last data refresh by a year.")
    assert at.multiselect(key="finding_evidence").value  # the run shown, linked by default
    at.button(key="finding_submit").click().run()
    assert "Finding raised." in _texts(at)
    table = at.dataframe[-1].value.set_index("Finding")
    assert table.loc["Stale hold-out", "Status"] == "open"
    finding_id = int(table.loc["Stale hold-out", "#"])

    owner = _evidence_page("model_owner")
    owner.radio(key=f"work_status_{finding_id}").set_value("ready for review")
    owner.text_area(key=f"work_note_{finding_id}").input(NOTE)
    owner.button(key=f"work_submit_{finding_id}").click().run()
    assert f"Finding #{finding_id} is now ready for review." in _texts(owner)

    second = _evidence_page("validator")
    second.radio(key=f"review_verdict_{finding_id}").set_value("close")
    second.text_area(key=f"review_note_{finding_id}").input(
        "Checked the refreshed hold-out and the rerun evidence.")
    second.button(key=f"review_submit_{finding_id}").click().run()
    assert f"Finding #{finding_id} closed." in _texts(second)
    table = second.dataframe[-1].value.set_index("#")
    assert table.loc[finding_id, "Status"] == "closed"


def test_the_models_owner_is_offered_no_review_form(demo_copy: Settings) -> None:
    at = _evidence_page("model_owner")
    assert not at.exception
    assert not [w for w in at.radio if str(w.key).startswith("review_verdict_")]
    assert not [w for w in at.text_input if w.key == "finding_title"]  # owners do not raise


def test_a_validator_changes_an_open_findings_due_date_saying_why(demo_copy: Settings) -> None:
    from datetime import timedelta

    from services.core.clock import utcnow

    at = _evidence_page("risk_manager", version="3")
    table = at.dataframe[-1].value.set_index("#")
    finding_id = int(table.index[table["Status"] == "open"][0])
    later = utcnow().date() + timedelta(days=45)
    at.date_input(key=f"update_due_{finding_id}").set_value(later)
    at.text_area(key=f"update_note_{finding_id}").input(
        "The reweighting needs a second data refresh first.")
    at.button(key=f"update_submit_{finding_id}").click().run()
    assert f"Finding #{finding_id} changed." in _texts(at)
    assert at.dataframe[-1].value.set_index("#").loc[finding_id, "Due"] == f"{later:%Y-%m-%d}"


def test_an_empty_due_date_follows_the_severity_chosen(demo_copy: Settings) -> None:
    """A form does not run again when its severity changes: the date is set on raising."""
    from datetime import timedelta

    from services.core.clock import utcnow

    at = _evidence_page("risk_manager")
    at.text_input(key="finding_title").input("Monitoring report lacks segment drift")
    at.text_area(key="finding_description").input(
        "Drift is reported overall but never by region, where the mix changed most.")
    at.selectbox(key="finding_severity").set_value("low")
    at.button(key="finding_submit").click().run()
    assert "Finding raised." in _texts(at)
    table = at.dataframe[-1].value.set_index("Finding")
    due = utcnow().date() + timedelta(days=90)
    assert table.loc["Monitoring report lacks segment drift", "Due"] == f"{due:%Y-%m-%d}"
