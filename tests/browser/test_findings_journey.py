"""The findings workflow in a real browser: a validator raises a finding from the Evidence page,
the model's owner remediates it, and a second validator closes it (four eyes)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from services.core.settings import Settings
from services.store.engine import make_engine, session_scope
from services.store.models import AuditEvent, ValidationFinding
from tests.browser.conftest import a_run, screenshot

pytestmark = pytest.mark.browser
TITLE = "Hold-out predates the income refresh"


def _act_as(page: Any, persona: str) -> None:
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
    with a_run(page):
        page.get_by_role("option", name=re.compile(re.escape(persona))).click()


def _finding(page: Any) -> Any:
    """The expander of the finding raised here (the page also lists the demo's own)."""
    return page.locator("[data-testid='stExpander']").filter(has_text=TITLE).last


def test_a_finding_is_raised_remediated_and_closed_by_another_validator(
        own_console: str, page: Any, demo_copy: Settings) -> None:
    page.goto(f"{own_console}/evidence?model=credit-risk&version=2")
    page.get_by_text("Evaluation run").wait_for()
    page.get_by_text("Roles: validator").wait_for()  # the first persona: Priya, a validator
    page.get_by_text("Raise a finding").click()
    page.get_by_role("textbox", name="Title").fill(TITLE)
    page.get_by_role("textbox", name="What is wrong").fill(
        "The hold-out was drawn before incomes were refreshed, so the evaluation is stale.")
    with a_run(page):
        page.get_by_role("button", name="Raise finding").click()
    page.get_by_text("Finding raised.").wait_for()
    screenshot(page, "finding-raised")

    _act_as(page, "Model owner (credit-risk)")
    work = _finding(page)
    work.get_by_text("ready for review", exact=True).click()
    work.get_by_role("textbox", name="What was done").fill(
        "Drew a new hold-out after the refresh and reran evidence (run linked).")
    with a_run(page):
        work.get_by_role("button", name="Record").click()
    page.get_by_text("is now ready for review.").wait_for()

    # The validator who raised it may not close it if she worked it; here she did not, but the
    # journey closes it as the second validator, the case the issue names.
    _act_as(page, "Second validator")
    review = _finding(page)
    review.get_by_text("close", exact=True).click()
    review.get_by_role("textbox", name="Why").fill(
        "Checked the new hold-out's dates and the rerun's figures.")
    with a_run(page):
        review.get_by_role("button", name="Record verdict").click()
    page.get_by_text(re.compile(r"Finding #\d+ closed\.")).wait_for()
    expect(_finding(page)).to_contain_text("closed")
    screenshot(page, "finding-closed")

    with session_scope(make_engine(demo_copy.database_url)) as session:
        row = session.scalars(select(ValidationFinding)
                              .where(ValidationFinding.title == TITLE)).one()
        assert (row.status, row.raised_by, row.worked_by, row.closed_by) == \
            ("closed", "demo.priya", "demo.amara", "demo.kenji")
        actions = list(session.scalars(select(AuditEvent.action).where(
            AuditEvent.subject_type == "finding", AuditEvent.subject_id == str(row.id))
            .order_by(AuditEvent.id)))
    assert actions == ["finding.raised", "finding.ready_for_review", "finding.closed"]
