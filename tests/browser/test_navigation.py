"""Reloads, new tabs, deep links and search in a real browser, and each persona's main pages
at a wide and a narrow window (screenshots kept in test-artifacts/ for looking at)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from services.core.principal import Principal, Role
from services.core.settings import Settings
from tests.browser.conftest import a_run, screenshot, serving

pytestmark = pytest.mark.browser
PASSWORD = "a long passphrase 42"


@pytest.fixture
def real_console(tmp_path: Path) -> Iterator[str]:
    """`govern serve` over a new real workspace holding one analyst's account."""
    from services.governance.accounts import add_user
    from services.store.engine import make_engine
    from services.store.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'governance.db'}")
    upgrade(engine)
    add_user(engine=engine, actor=Principal("root", "Root", frozenset({Role.ADMIN})),
             username="ana", password=PASSWORD, roles=frozenset({Role.ANALYST}),
             display_name="Ana")
    engine.dispose()
    with serving(tmp_path) as url:
        yield url


def _sign_in(page: Any) -> None:
    page.get_by_role("textbox", name="Username").fill("ana")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as").wait_for()


def test_a_deep_link_survives_the_sign_in_and_the_session_a_reload(
        real_console: str, page: Any) -> None:
    page.goto(f"{real_console}/case?decision=D-0042")
    page.get_by_role("textbox", name="Username").wait_for()
    screenshot(page, "deep-link-sign-in")
    _sign_in(page)
    # The asked page with its query, not "Page not found" and the start page.
    page.get_by_text("There is no decision 'D-0042'").wait_for()
    assert page.url.endswith("/case?decision=D-0042")
    expect(page.get_by_text("Page not found")).to_have_count(0)

    page.reload()  # a reload keeps the local account signed in (the signed cookie)
    page.get_by_text("There is no decision 'D-0042'").wait_for()
    expect(page.get_by_text("Signed in as Ana")).to_be_visible()
    tab = page.context.new_page()  # so does a new tab
    tab.goto(f"{real_console}/queue")
    tab.get_by_text("Signed in as Ana").wait_for()
    tab.close()

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("textbox", name="Username").wait_for()
    page.reload()  # signing out cleared the cookie: a reload asks again
    page.get_by_role("textbox", name="Username").wait_for()
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    assert not [c for c in page.context.cookies() if c["name"] == "governance_session"]


FIRST_PERSONA = "Model risk manager"  # a new browser session acts as the first persona


def _act_as(page: Any, persona: str) -> None:
    page.get_by_text("Acting as (demo persona)").wait_for()
    if persona == FIRST_PERSONA:
        return  # choosing the persona already chosen would run nothing to wait for
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
    with a_run(page):
        page.get_by_role("option", name=re.compile(re.escape(persona))).click()


def test_a_link_to_a_page_the_persona_may_not_open_says_who_may(console_url: str,
                                                                 page: Any) -> None:
    page.goto(f"{console_url}/queue")
    page.get_by_text("Acting as (demo persona)").wait_for()
    _act_as(page, "Executive")
    page.get_by_text("opens for these personas").wait_for()
    expect(page.get_by_text("Analyst", exact=False).first).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    assert page.url.endswith("/queue")
    screenshot(page, "queue-refused-executive")
    _act_as(page, "Analyst")  # the same address opens once the persona may
    page.get_by_text("Waiting for a person").wait_for()


def test_search_finds_a_subject_by_its_beginning_in_any_case_and_an_id_by_its_beginning(
        console_url: str, page: Any, demo_env: Settings) -> None:
    from services.store.engine import make_engine, session_scope
    from services.store.models import Decision

    with session_scope(make_engine(demo_env.database_url)) as session:
        decision_id, subject = session.execute(
            select(Decision.decision_id, Decision.subject_ref)
            .where(Decision.shadow.is_(False)).order_by(Decision.decided_at.desc())
            .limit(1)).one()
    page.goto(f"{console_url}/decisions")
    _act_as(page, "Analyst")
    form = page.locator("[data-testid='stForm']")
    form.get_by_role("textbox", name="Subject reference").fill(subject[:-1].swapcase())
    with a_run(page):
        page.get_by_test_id("stBaseButton-primaryFormSubmit").click()
    page.locator("[role='gridcell']", has_text=subject).first.wait_for(state="attached")
    screenshot(page, "search-subject-prefix")
    form.get_by_role("textbox", name="Subject reference").fill("")
    form.get_by_role("textbox", name="Decision id").fill(decision_id[:-2])
    with a_run(page):
        page.get_by_test_id("stBaseButton-primaryFormSubmit").click()
    page.locator("[role='gridcell']", has_text=decision_id).first.wait_for(state="attached")
    form.get_by_role("textbox", name="Decision id").fill("no-such-id")
    with a_run(page):
        page.get_by_test_id("stBaseButton-primaryFormSubmit").click()
    page.get_by_text("No decision id begins with no-such-id").wait_for()
    expect(page.get_by_text("Widen the dates")).to_have_count(0)


# Each persona's main pages: where design.md sends them. Pages that write on opening (a case
# file records who read it) are left out: the run's shared demo is read only.
MAIN_PAGES = {
    "Executive": ["", "health"],
    "Model risk manager": ["card?model=credit-risk&version=3", "promotions"],
    "Analyst": ["decisions", "queue"],
    "Auditor": ["audit", "evidence?model=credit-risk&version=2"],
    "Model owner (credit-risk)": ["model?model=credit-risk", "drift?model=fraud-screening"],
}


@pytest.mark.parametrize("persona", list(MAIN_PAGES))
def test_each_personas_main_pages_at_a_wide_and_a_narrow_window(
        console_url: str, page: Any, persona: str) -> None:
    for path in MAIN_PAGES[persona]:
        page.set_viewport_size({"width": 1400, "height": 1000})
        page.goto(f"{console_url}/{path}")
        _act_as(page, persona)
        expect(page.get_by_text("Page not found")).to_have_count(0)
        expect(page.locator("[data-testid='stException']")).to_have_count(0)
        # The persona's pages are all listed: no "View N more" hides any.
        expect(page.get_by_text(re.compile(r"View \d+ more"))).to_have_count(0)
        name = f"{persona.split(' (')[0].lower().replace(' ', '-')}-" \
               f"{path.split('?')[0] or 'portfolio'}"
        screenshot(page, f"{name}-1400")
        page.set_viewport_size({"width": 900, "height": 1000})
        page.wait_for_timeout(500)  # the browser lays the page out again; no run is involved
        screenshot(page, f"{name}-900")
