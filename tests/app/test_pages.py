"""Every page through AppTest, over the demo workspace and over broken sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from services.core.settings import Settings
from tests.conftest import closed_port

APP = str(Path(__file__).resolve().parents[2] / "app.py")
# Seconds a page's run may take before AppTest gives up. Generous: a worker's first run imports
# the app and loads models, which on a busy two-core machine takes a while; it fails all the same.
RUN_WITHIN = 300


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=RUN_WITHIN)


def _texts(at: AppTest) -> str:
    """Every alert's text as a person reads it (Markdown escapes removed)."""
    return " ".join(str(e.value) for kind in ("error", "warning", "info", "success")
                    for e in getattr(at, kind)).replace("\\", "")


def test_portfolio_judges_every_model_by_pillar(demo_env: Settings) -> None:
    at = _as("executive")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Serving"] == "3" and int(metrics["At risk"]) >= 1  # the vendor's too
    assert int(metrics["Decisions"].replace(",", "")) > 0
    table = at.dataframe[0].value
    assert list(table["Model"]) == ["credit-risk", "fraud-screening", "marketing-propensity",
                                    "northwind-bureau-score"]
    assert list(table["Champion"]) == ["v2", "v1", "—", "v1"]
    fraud = table.set_index("Model").loc["fraud-screening"]
    assert fraud["Drift"] == "■ at risk" and "drift:" in fraud["Why"]
    assert table.set_index("Model").loc["marketing-propensity", "Status"] == "not serving"
    assert len(at.get("plotly_chart")) == 2  # the trends and the status grid
    assert len(at.get("download_button")) == 1  # the portfolio report


def test_the_demo_workspace_says_so(demo_env: Settings) -> None:
    at = _app().run()
    assert "Demo workspace" in at.warning[0].value
    assert at.sidebar.selectbox[0].value == "risk_manager"


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
    versions = next(d.value for d in at.dataframe if "Version" in d.value.columns)
    assert list(versions["Version"]) == ["v3", "v2", "v1"]
    shadow = next(d.value for d in at.dataframe if "Challenger" in d.value.columns)
    assert list(shadow["Challenger"]) == ["v3"]
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


def test_a_real_workspace_asks_for_a_sign_in_and_offers_no_personas(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from services.store.engine import make_engine
    from services.store.migrate import upgrade

    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    upgrade(make_engine(f"sqlite:///{tmp_path / 'governance.db'}"))
    at = _app().run()
    assert not at.exception
    assert at.title[0].value == "Sign in"
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert not at.sidebar.selectbox  # no personas
    assert not at.warning  # no demo marker outside the demo


def test_a_disabled_account_or_a_changed_role_takes_effect_at_the_next_click(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.core.clock import utcnow
    from services.core.principal import Principal, Role
    from services.governance.accounts import add_user, disable_user, set_roles
    from services.store.engine import make_engine
    from services.store.migrate import upgrade

    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    engine = make_engine(f"sqlite:///{tmp_path / 'governance.db'}")
    upgrade(engine)
    admin = Principal("root", "Root", frozenset({Role.ADMIN}))
    add_user(engine=engine, actor=admin, username="vera", password="a long passphrase 42",
             roles=frozenset({Role.VALIDATOR}), display_name="Vera")
    signed_in = (Principal("vera", "Vera", frozenset({Role.VALIDATOR})), utcnow())

    def opened() -> AppTest:
        at = _app()
        at.session_state["signed_in"] = signed_in  # as her browser session holds it
        return at.run()

    assert "Vera** · validator" in " ".join(c.value for c in opened().sidebar.caption)
    set_roles(engine=engine, actor=admin, username="vera", roles=frozenset({Role.ANALYST}))
    assert "Vera** · analyst" in " ".join(c.value for c in opened().sidebar.caption)
    disable_user(engine=engine, actor=admin, username="vera")
    at = opened()
    assert not at.exception
    assert "Your account was disabled" in at.warning[0].value
    assert at.title[0].value == "Sign in"


def _as(persona: str) -> AppTest:
    """The app with a demo persona chosen before the first run.

    AppTest re-runs only the current page after its first run (the router does not run
    again), so the persona is set where the router reads it, before that first run.
    """
    at = _app()
    at.session_state["demo_persona"] = persona
    return at.run()


def test_the_champions_card_says_every_gate_passes(demo_env: Settings) -> None:
    at = _app().run()
    at.switch_page("pages/model_card.py").run()
    assert not at.exception
    assert at.title[0].value.replace("\\", "") == "Model card: credit-risk v2"
    assert "Every gate of the high-risk policy passes" in _texts(at)
    assert len(at.get("download_button")) == 4


def test_the_challengers_card_shows_its_fairness_failure(demo_env: Settings) -> None:
    at = _app().run()
    at.switch_page("pages/model_card.py").run()
    at.selectbox(key="card_version_credit-risk").set_value("3").run()
    assert "gates do not pass" in _texts(at)
    [gates] = [d.value.set_index("Gate") for d in at.dataframe if "Gate" in d.value.columns]
    assert gates.loc["Four-fifths ratio by sex", "Status"] == "fail"
    assert float(gates.loc["Four-fifths ratio by sex", "Figure"]) < 0.8  # shown as written
    # The demo's open fairness finding on the challenger is on its card.
    [findings] = [d.value for d in at.dataframe if "Finding" in d.value.columns]
    assert "high" in set(findings["Severity"])


def test_the_evidence_page_draws_the_plots_of_the_latest_run(demo_env: Settings) -> None:
    at = _app().run()
    at.switch_page("pages/evidence.py").run()
    assert not at.exception
    assert at.button[0].label.startswith("Run evidence for v2")
    assert at.button[0].help.startswith("Loads this exact version")  # an own model's words
    assert len(at.get("plotly_chart")) >= 4  # ROC, PR, calibration, confusion


def test_an_executive_reads_evidence_but_cannot_run_it(demo_env: Settings) -> None:
    at = _as("executive")
    at.switch_page("pages/evidence.py").run()
    assert not at.exception
    assert not at.button
    assert any("can read evidence but not run it" in c.value for c in at.caption)


def test_running_evidence_from_the_page_stores_a_new_run(demo_copy: Settings) -> None:
    at = _app().run()
    at.switch_page("pages/evidence.py").run()
    before = at.selectbox(key="run_credit-risk_2").options
    at.button[0].click().run()
    assert not at.exception
    after = at.selectbox(key="run_credit-risk_2").options
    assert len(after) == len(before) + 1 and "(latest)" in after[0]
    assert at.selectbox(key="run_credit-risk_2").index == 0  # the page shows the new run


def _a_declined_decision(settings: Settings) -> tuple[str, str]:
    from sqlalchemy import select

    from services.store.engine import make_engine, session_scope
    from services.store.models import Decision

    with session_scope(make_engine(settings.database_url)) as session:
        row = session.execute(select(Decision.decision_id, Decision.subject_ref).where(
            Decision.model_name == "credit-risk", Decision.outcome == "declined",
            Decision.shadow.is_(False)).order_by(Decision.decided_at.desc()).limit(1)).one()
    return str(row[0]), str(row[1])


def test_the_decisions_page_counts_and_lists_in_pages(demo_env: Settings) -> None:
    at = _as("analyst")
    at.switch_page("pages/decisions.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Matching decisions"].replace(",", "")) > 0
    assert 0 < len(at.dataframe[0].value) <= 50


def test_the_case_file_explains_replays_and_offers_an_override(demo_copy: Settings) -> None:
    # demo_copy: opening a case file is recorded in the audit trail, a write.
    decision_id, _ = _a_declined_decision(demo_copy)
    at = _as("analyst")
    at.switch_page("pages/case_file.py")
    at.query_params["decision"] = decision_id
    at.run()
    assert not at.exception
    assert at.title[0].value.replace("\\", "") == f"Decision {decision_id}"
    assert "Reproduced: version" in _texts(at)
    assert at.get("plotly_chart")  # the waterfall
    assert at.text_area  # the override form


def test_an_override_from_the_case_file_shows_in_it(demo_copy: Settings) -> None:
    decision_id, _ = _a_declined_decision(demo_copy)
    at = _as("analyst")
    at.switch_page("pages/case_file.py")
    at.query_params["decision"] = decision_id
    at.run()
    at.radio[0].set_value("approved")
    at.text_area[0].input("<b>Income proof</b> [arrived](http://x) after the decision was made.")
    at.button[0].click().run()
    assert not at.exception
    overrides = at.dataframe[-1].value
    assert overrides["Justification"].iloc[-1].startswith("<b>Income proof</b> [arrived]")


def test_an_auditor_reads_a_case_file_but_cannot_override(demo_copy: Settings) -> None:
    # demo_copy: opening a case file is recorded in the audit trail, a write.
    decision_id, _ = _a_declined_decision(demo_copy)
    at = _as("auditor")
    at.switch_page("pages/case_file.py")
    at.query_params["decision"] = decision_id
    at.run()
    assert not at.exception and not at.text_area
    assert any("not override" in c.value for c in at.caption)


def test_the_review_queue_lists_the_oldest_first_and_the_control_check(
        demo_env: Settings) -> None:
    at = _as("analyst")
    at.switch_page("pages/review_queue.py").run()
    assert not at.exception
    waiting = at.dataframe[0].value["Waiting (days)"]
    assert list(waiting) == sorted(waiting, reverse=True)
    assert "should have gone to a person" in _texts(at)
    counts = {}
    for window in ("Last 30 days", "All time"):  # the window bounds what the check reads
        at.radio(key="control_window").set_value(window).run()
        assert not at.exception
        counts[window] = int(next(e.value for e in at.error if "should have gone" in e.value)
                             .split("**")[1].split()[0].replace(",", ""))
    assert 0 < counts["Last 30 days"] < counts["All time"]


def test_promotions_show_the_request_form_with_todays_gate_verdict(demo_env: Settings) -> None:
    at = _as("model_owner")
    at.switch_page("pages/promotions.py").run()
    assert not at.exception
    assert [t.label for t in at.tabs][:2] == ["Waiting (0)", "Request a promotion"]
    assert at.selectbox(key="request_version_credit-risk").value == "3"  # the challenger
    assert "Approval will need a policy exception from 2 admin(s)" in _texts(at)


def test_point_in_time_names_the_champion_of_a_past_day(demo_env: Settings) -> None:
    from datetime import timedelta

    from services.registry.aliases import alias_tenures
    from services.store.engine import make_engine, session_scope

    with session_scope(make_engine(demo_env.database_url)) as session:
        first = next(t for t in alias_tenures(session=session, model_name="credit-risk")
                     if t.alias == "champion")
    at = _as("auditor")
    at.switch_page("pages/promotions.py").run()
    at.selectbox(key="when_model").select("credit-risk")
    at.date_input(key="when_day").set_value((first.since + timedelta(days=1)).date()).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Served as @champion"] == f"v{first.version}"


def test_the_audit_trail_verifies_and_lists_events(demo_env: Settings) -> None:
    at = _as("auditor")
    at.switch_page("pages/audit.py").run()
    assert not at.exception
    assert "The chain is intact" in _texts(at)
    assert "evidence.recorded" in set(at.dataframe[0].value["Action"])


def test_the_control_matrix_shows_the_challengers_gaps(demo_env: Settings) -> None:
    at = _app()
    at.query_params["model"] = "credit-risk"
    at.query_params["version"] = "3"
    at.run()
    at.switch_page("pages/controls.py").run()
    assert not at.exception
    assert "controls are not met** for credit-risk v3" in _texts(at)
    words = " ".join(str(m.value) for m in at.markdown).replace("\\", "")
    assert "bias found: four-fifths ratio by sex" in words


def test_the_control_matrix_links_only_to_pages_the_role_may_open(demo_env: Settings) -> None:
    def links(persona: str) -> str:
        at = _as(persona)
        at.switch_page("pages/controls.py").run()
        assert not at.exception
        return " ".join(str(m.value) for m in at.markdown)

    assert "(/queue)" in links("analyst") and "(/decisions)" in links("analyst")
    executive = links("executive")  # the Decisions pages are not registered for executives
    assert "(/queue)" not in executive and "(/decisions)" not in executive
    assert "(/card?" in executive


def test_an_auditor_builds_the_evidence_pack_from_the_card(demo_copy: Settings) -> None:
    at = _as("auditor")
    at.switch_page("pages/model_card.py").run()
    at.button[0].click().run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Evidence pack (PDF)" in labels and "Evidence pack (JSON)" in labels


def test_an_analyst_is_not_offered_an_evidence_pack(demo_env: Settings) -> None:
    at = _as("analyst")
    at.switch_page("pages/model_card.py").run()
    assert not at.exception and not at.button
    assert any("auditors, validators and admins" in str(c.value) for c in at.caption)


@pytest.mark.parametrize("page", ["decisions", "case_file", "review_queue", "audit"])
def test_an_executive_is_not_given_decisions_or_the_audit_trail(demo_env: Settings,
                                                                page: str) -> None:
    at = _as("executive")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(f"pages/{page}.py")


@pytest.mark.parametrize("page", ["decisions", "case_file", "audit", "promotions"])
def test_a_page_run_without_the_router_draws_nothing(demo_env: Settings, page: str) -> None:
    """What Streamlit does for a deep link before the router has run once in the process."""
    at = AppTest.from_file(str(Path(APP).parent / "pages" / f"{page}.py"),
                           default_timeout=RUN_WITHIN).run()
    assert not at.exception
    assert "opens from the console's start page" in _texts(at)
    assert not at.dataframe and not at.text_area


def test_drift_shows_the_fraud_models_drift_with_its_heatmap(demo_env: Settings) -> None:
    at = _app()
    at.session_state["demo_persona"] = "risk_manager"
    at.query_params["model"] = "fraud-screening"
    at.query_params["version"] = "1"
    at.run()
    at.switch_page("pages/drift.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Dataset drift"] == "yes"
    table = at.dataframe[0].value
    assert table.loc[table["Input"] == "amount", "Drifted"].item() == "yes"


def test_drift_without_a_reference_profile_says_how_to_make_one(demo_env: Settings) -> None:
    at = _app()
    at.session_state["demo_persona"] = "risk_manager"
    at.query_params["model"] = "marketing-propensity"
    at.run()
    at.switch_page("pages/drift.py").run()
    assert not at.exception
    assert "has no reference profile" in _texts(at)
    assert "govern profile rebuild marketing-propensity 1" in _texts(at)


def test_alerts_list_the_drift_alert_and_an_executive_cannot_acknowledge(
        demo_env: Settings) -> None:
    at = _as("executive")
    at.switch_page("pages/alerts.py").run()
    assert not at.exception
    alerts = at.dataframe[0].value
    assert "Drift" in set(alerts["Kind"]) and "demo.jonas" in set(alerts["Owner"])
    assert "acknowledge alerts" in _texts(at) and not at.text_area


def test_health_over_time_shows_label_delay_and_scores_against_outcomes(
        demo_env: Settings) -> None:
    at = _as("executive")
    at.switch_page("pages/health.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Decisions"].replace(",", "")) > 0
    assert 0 < float(metrics["Outcome known"].rstrip("%")) < 100  # outcomes still arriving
    # shares, calibration, estimated performance by week, four-fifths by week
    assert len(at.get("plotly_chart")) == 4
    by_group = next(d.value for d in at.dataframe if "Sensitive input" in d.value.columns)
    assert {"age", "sex"} <= set(by_group["Sensitive input"])
