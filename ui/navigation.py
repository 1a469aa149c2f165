"""The console's pages, and which of them a principal is given.

Every page address is registered on every run, signed in or not, so that a link keeps its page
and its query (`/case?decision=X`) through the sign-in form, and a page someone may not open
says who may instead of Streamlit's "Page not found".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from services.core.permissions import PERMISSIONS, Action, allowed
from services.core.principal import DEMO_PERSONAS, Principal
from ui.widgets import plain


@dataclass(frozen=True)
class ConsolePage:
    script: str  # pages/<name>.py
    title: str
    icon: str
    url_path: str
    section: str
    needs: Action | None = None  # the action a role must hold to open it
    default: bool = False


_DECISIONS, _AUDIT = Action.VIEW_DECISIONS, Action.VIEW_AUDIT
PAGES: tuple[ConsolePage, ...] = (
    ConsolePage("pages/portfolio.py", "Portfolio", ":material/dashboard:", "portfolio",
                "Models", default=True),
    ConsolePage("pages/model.py", "Model", ":material/model_training:", "model", "Models"),
    ConsolePage("pages/model_card.py", "Model card", ":material/badge:", "card", "Models"),
    ConsolePage("pages/evidence.py", "Evidence", ":material/query_stats:", "evidence", "Models"),
    ConsolePage("pages/controls.py", "Controls", ":material/fact_check:", "controls", "Models"),
    ConsolePage("pages/promotions.py", "Promotions", ":material/how_to_reg:", "promotions",
                "Models"),
    ConsolePage("pages/drift.py", "Drift", ":material/ssid_chart:", "drift", "Models"),
    ConsolePage("pages/health.py", "Health over time", ":material/monitor_heart:", "health",
                "Models"),
    ConsolePage("pages/alerts.py", "Alerts", ":material/notifications:", "alerts", "Models"),
    ConsolePage("pages/reviews.py", "Reviews", ":material/event_repeat:", "reviews", "Models"),
    ConsolePage("pages/decisions.py", "Decisions", ":material/manage_search:", "decisions",
                "Decisions", _DECISIONS),
    ConsolePage("pages/case_file.py", "Case file", ":material/folder_open:", "case",
                "Decisions", _DECISIONS),
    ConsolePage("pages/review_queue.py", "Review queue", ":material/front_hand:", "queue",
                "Decisions", _DECISIONS),
    ConsolePage("pages/audit.py", "Audit trail", ":material/receipt_long:", "audit",
                "Oversight", _AUDIT),
    ConsolePage("pages/notifications.py", "Notifications", ":material/mail:",
                "notifications", "Oversight"),
)

# Pages registered only for some roles, by URL path (links elsewhere check them: may_open).
RESTRICTED_PAGES: dict[str, Action] = {p.url_path: p.needs for p in PAGES if p.needs}


def _blank() -> None:
    """What a page address shows before sign-in: nothing beyond the sign-in form above it."""


def _hidden(page: ConsolePage, body: Callable[[], None]) -> st.Page:
    return st.Page(body, title=page.title, icon=page.icon, url_path=page.url_path,
                   default=page.default, visibility="hidden")


def signed_out_navigation() -> None:
    """Register every address as a blank, hidden page under the sign-in form: the browser keeps
    the address and its query, and the rerun after sign-in opens that page."""
    st.navigation([_hidden(page, _blank) for page in PAGES], position="hidden").run()


def who_may_open(page: ConsolePage, *, demo: bool) -> str:
    """Who may open a restricted page: the demo's personas by title, else the roles."""
    needs = page.needs
    if needs is None:
        return "everyone"
    if demo:
        return ", ".join(p.title for p in DEMO_PERSONAS if allowed(p.principal, needs))
    return ", ".join(sorted(role.value.replace("_", " ") for role in PERMISSIONS[needs]))


def _refusal(page: ConsolePage, principal: Principal, *, demo: bool) -> Callable[[], None]:
    def body() -> None:
        st.title(page.title)
        assert page.needs is not None
        whom = who_may_open(page, demo=demo)
        if demo:
            st.warning(f"{plain(principal.name)} may not {page.needs.value}. The {page.title} "
                       f"opens for these personas: {whom}.\n\n**What to do:** choose one of "
                       "them under *Acting as* in the sidebar; this page then opens.",
                       icon=":material/block:")
        else:
            st.warning(f"{plain(principal.name)} may not {page.needs.value}: the "
                       f"{page.title} needs one of the roles {whom}.\n\n**What to do:** ask "
                       "an administrator if your work needs it.", icon=":material/block:")
    return body


def console_navigation(principal: Principal, *, demo: bool) -> None:
    """The pages the principal may open, grouped in sections and all shown without "View
    more"; the others answer who may open them, and are not listed."""
    sections: dict[str, list[st.Page]] = {}
    for page in PAGES:
        if page.needs is None or allowed(principal, page.needs):
            entry = st.Page(page.script, title=page.title, icon=page.icon,
                            url_path=page.url_path, default=page.default)
        else:
            # Not listed: a section of hidden pages alone would still draw its header.
            sections.setdefault("", []).append(_hidden(page, _refusal(page, principal, demo=demo)))
            continue
        sections.setdefault(page.section, []).append(entry)
    st.navigation(sections, expanded=True).run()
