"""The main journeys in a real browser (headless Debian Chromium, driven by Playwright)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

ROW_HEIGHT = 35  # Streamlit's data grid: a header row, then rows of this height


def _open_row(page: Any, row: int) -> None:
    """Select a row of the first table by its selection checkbox, as a person clicks it."""
    grid = page.locator("[data-testid='stDataFrame']").first
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2)


def test_a_risk_manager_opens_a_model_from_the_portfolio(console_url: str, page: Any) -> None:
    page.goto(console_url)
    page.get_by_text("Select a row to open the model").wait_for()
    assert page.get_by_text("Demo workspace.").is_visible()
    assert page.get_by_text("Acting as (demo persona)").is_visible()
    assert page.get_by_text("Roles: validator").is_visible()
    screenshot(page, "portfolio")

    _open_row(page, 0)  # credit-risk
    page.get_by_text("Lineage of v2").wait_for()
    assert "model=credit-risk" in page.url
    assert page.get_by_text("Demo workspace.").is_visible()
    assert page.get_by_text("Who served when").is_visible()
    screenshot(page, "model-credit-risk")


def test_the_gaps_of_an_ungoverned_model_are_named(console_url: str, page: Any) -> None:
    page.goto(f"{console_url}/model?model=marketing-propensity")
    page.get_by_text("10 gap(s).").wait_for()
    assert page.get_by_text("Not stated: a contract gap.").first.is_visible()
    page.get_by_text("Governance contract").scroll_into_view_if_needed()
    screenshot(page, "model-marketing-propensity-gaps")


def test_a_risk_manager_sees_the_challengers_failing_fairness_gate(
        console_url: str, page: Any) -> None:
    page.goto(f"{console_url}/card?model=credit-risk&version=3")
    page.get_by_text("gates do not pass").wait_for()
    assert page.get_by_text("Model card: credit-risk v3").is_visible()
    page.get_by_text("Known gaps").scroll_into_view_if_needed()
    screenshot(page, "card-challenger-failing-gates")
    page.goto(f"{console_url}/evidence?model=credit-risk&version=3")
    page.get_by_text("Evaluation run").wait_for()
    page.get_by_role("tab", name="Fairness").click()
    page.get_by_text("Favourable outcome rate by sex").first.wait_for()
    screenshot(page, "evidence-challenger-fairness")
