"""The main journeys in a real browser (headless Debian Chromium, driven by Playwright)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

ROW_HEIGHT = 35  # Streamlit's data grid: a header row, then rows of this height


def _open_row(page: Any, row: int) -> None:
    """Select a row of the first table by its selection checkbox, as a person clicks it."""
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2)


def _act_as(page: Any, persona: str, role: str) -> None:
    """Choose a demo persona in the sidebar and wait until the page runs as them."""
    page.get_by_text("Acting as (demo persona)").wait_for()
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
    page.get_by_role("option", name=persona).click()
    page.get_by_text(f"Roles: {role}").wait_for()


def test_a_risk_manager_opens_a_model_from_the_portfolio(console_url: str, page: Any) -> None:
    page.goto(console_url)
    page.get_by_text("Select a row to open the model").wait_for()
    expect(page.get_by_text("Demo workspace.")).to_be_visible()
    expect(page.get_by_text("Acting as (demo persona)")).to_be_visible()
    expect(page.get_by_text("Roles: validator")).to_be_visible()
    screenshot(page, "portfolio")

    _open_row(page, 0)  # credit-risk
    page.get_by_text("Lineage of v2").wait_for()
    assert "model=credit-risk" in page.url
    expect(page.get_by_text("Demo workspace.")).to_be_visible()
    expect(page.get_by_text("Who served when")).to_be_visible()
    screenshot(page, "model-credit-risk")


def test_the_gaps_of_an_ungoverned_model_are_named(console_url: str, page: Any) -> None:
    page.goto(f"{console_url}/model?model=marketing-propensity")
    page.get_by_text("10 gap(s).").wait_for()
    expect(page.get_by_text("Not stated: a contract gap.").first).to_be_visible()
    page.get_by_text("Governance contract").scroll_into_view_if_needed()
    screenshot(page, "model-marketing-propensity-gaps")


def test_a_risk_manager_sees_the_challengers_failing_fairness_gate(
        console_url: str, page: Any) -> None:
    page.goto(f"{console_url}/card?model=credit-risk&version=3")
    page.get_by_text("gates do not pass").wait_for()
    expect(page.get_by_text("Model card: credit-risk v3")).to_be_visible()
    page.get_by_text("Known gaps").scroll_into_view_if_needed()
    screenshot(page, "card-challenger-failing-gates")
    page.goto(f"{console_url}/evidence?model=credit-risk&version=3")
    page.get_by_text("Evaluation run").wait_for()
    page.get_by_role("tab", name="Fairness").click()
    page.get_by_text("Favourable outcome rate by sex").first.wait_for()
    screenshot(page, "evidence-challenger-fairness")


def test_an_analyst_finds_a_declined_applicant_and_overrides(
        own_console: str, page: Any, demo_copy: Any) -> None:
    from sqlalchemy import select

    from services.decisions.search import DecisionFilter, search_decisions
    from services.store.engine import make_engine, session_scope
    from services.store.models import Decision

    console_url = own_console  # the override is written into a copy of the demo of its own
    with session_scope(make_engine(demo_copy.database_url)) as session:
        decision_id, subject = session.execute(select(Decision.decision_id, Decision.subject_ref)
                                               .where(Decision.model_name == "credit-risk",
                                                      Decision.outcome == "declined",
                                                      Decision.shadow.is_(False))
                                               .order_by(Decision.decided_at.desc())
                                               .limit(1)).one()
        found = search_decisions(session=session,
                                 filters=DecisionFilter(subject_ref=subject)).total
    page.goto(console_url)
    _act_as(page, "Analyst · Tomás Ortega (demo)", "analyst")
    page.get_by_role("link", name="Decisions").click()
    page.get_by_role("textbox", name="Subject reference").fill(subject)
    page.get_by_test_id("stBaseButton-primaryFormSubmit").click()  # the form's Search
    # The search's own result, not merely a finished run: row 0 must be from the filtered list.
    page.get_by_text(f"Showing {found} of {found}, newest first.").wait_for()
    _open_row(page, 0)
    page.get_by_text("Replay check").wait_for()
    page.get_by_text("Reproduced: version").wait_for()
    assert decision_id in page.url
    screenshot(page, "case-file-declined")
    page.get_by_text("approved", exact=True).last.click()
    page.get_by_role("textbox", name="Justification").fill(
        "Income proof arrived after the decision; the affordability check now passes.")
    page.get_by_role("button", name="Record verdict").click()
    # The grid draws on a canvas; its accessible cells carry the text.
    page.locator("[role='gridcell']", has_text="Income proof arrived after the decision") \
        .first.wait_for(state="attached")
    page.get_by_text("Outcome now").scroll_into_view_if_needed()
    screenshot(page, "case-file-overridden")


def test_an_executive_reads_the_portfolio_and_drills_into_a_model_at_risk(
        console_url: str, page: Any) -> None:
    page.goto(console_url)
    _act_as(page, "Executive · Grace Okafor (demo)", "viewer")
    page.get_by_text("Status by pillar").wait_for()
    expect(page.get_by_text("At risk", exact=True)).to_be_visible()
    # Hover the fraud model's drift cell of the status grid: its reason appears.
    grid = page.locator("[data-testid='stPlotlyChart']").nth(1)
    grid.scroll_into_view_if_needed()
    area = grid.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(area["x"] + area["width"] * 2.5 / 8, area["y"] + area["height"] * 0.75)
    page.locator(".hovertext", has_text="inputs drifted").wait_for()
    screenshot(page, "portfolio-executive-hover")
    _open_row(page, 1)  # fraud-screening, at risk
    page.get_by_text("Health of v1: at risk").wait_for()
    assert "model=fraud-screening" in page.url
    expect(page.get_by_text("inputs drifted from its reference").first).to_be_visible()
    screenshot(page, "portfolio-executive-drilled-into-fraud")


def test_a_double_click_on_record_verdict_stores_the_verdict_once(
        own_console: str, page: Any, demo_copy: Any) -> None:
    from sqlalchemy import func, select

    from services.store.engine import make_engine, session_scope
    from services.store.models import Decision, Override

    engine = make_engine(demo_copy.database_url)
    with session_scope(engine) as session:
        decision_id, subject = session.execute(select(Decision.decision_id, Decision.subject_ref)
                                               .where(Decision.model_name == "credit-risk",
                                                      Decision.outcome == "declined",
                                                      Decision.shadow.is_(False))
                                               .order_by(Decision.decided_at.desc())
                                               .limit(1)).one()
    page.goto(own_console)
    _act_as(page, "Analyst · Tomás Ortega (demo)", "analyst")
    page.get_by_role("link", name="Decisions").click()
    page.get_by_role("textbox", name="Subject reference").fill(subject)
    page.get_by_test_id("stBaseButton-primaryFormSubmit").click()  # the form's Search
    page.get_by_text("newest first.").wait_for()
    _open_row(page, 0)  # the newest of the subject's decisions: the one chosen above
    page.get_by_text("Replay check").wait_for()
    assert decision_id in page.url
    page.get_by_text("approved", exact=True).last.click()
    justification = "Income proof arrived after the decision; affordability now passes."
    page.get_by_role("textbox", name="Justification").fill(justification)
    page.get_by_role("button", name="Record verdict").dblclick()
    page.locator("[role='gridcell']", has_text="Income proof arrived after the decision") \
        .first.wait_for(state="attached")
    with session_scope(engine) as session:
        stored = session.scalar(select(func.count()).select_from(Override)
                                .where(Override.decision_id == decision_id))
    assert stored == 1
    expect(page.get_by_text("should be", exact=False)).to_have_count(0)
    screenshot(page, "case-file-double-click")
