"""Pages record reads and exports of personal data: opening a case file once per session,
and each file a download button hands over, when it is clicked (not when it is offered)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from services.audit.actions import AuditAction
from services.core.settings import Settings
from services.store.engine import make_engine, session_scope
from services.store.models import AuditEvent, Decision

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def clicks(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Callable[[], Any]]]:
    """What each download button would run when clicked, by file name. Streamlit's server
    runs the same callable (MediaFileManager.execute_deferred) when the browser asks for it;
    AppTest has no browser to ask, so the test calls it."""
    registered: dict[str, Callable[[], Any]] = {}
    original = MediaFileManager.add_deferred

    def add_deferred(self: MediaFileManager, data_callable: Callable[[], Any], *args: Any,
                     **kwargs: Any) -> str:
        registered[str(kwargs.get("file_name") or args[2])] = data_callable
        return original(self, data_callable, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    yield registered


def _as(persona: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["demo_persona"] = persona
    return at.run()


def _events(settings: Settings, action: AuditAction) -> list[AuditEvent]:
    with session_scope(make_engine(settings.database_url)) as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)))
        session.expunge_all()
    return rows


def _a_decision(settings: Settings) -> str:
    with session_scope(make_engine(settings.database_url)) as session:
        return str(session.scalars(select(Decision.decision_id).where(
            Decision.model_name == "credit-risk", Decision.shadow.is_(False))
            .order_by(Decision.id).limit(1)).one())


def test_a_case_file_opened_is_recorded_once_and_its_pdf_when_clicked(
        demo_copy: Settings, clicks: dict[str, Callable[[], Any]]) -> None:
    decision_id = _a_decision(demo_copy)
    at = _as("analyst")
    at.switch_page("pages/case_file.py")
    at.query_params["decision"] = decision_id
    at.run()
    assert not at.exception
    at.run()  # a rerun (any click in the page) reads the same file: no second event
    [viewed] = _events(demo_copy, AuditAction.CASE_FILE_VIEWED)
    assert (viewed.actor, viewed.subject_id, viewed.model_name) == (
        "demo.tomas", decision_id, "credit-risk")
    assert _events(demo_copy, AuditAction.CASE_FILE_EXPORTED) == []  # offered, not taken

    pdf = clicks[f"case-{decision_id}.pdf"]()
    assert pdf.startswith(b"%PDF")
    [exported] = _events(demo_copy, AuditAction.CASE_FILE_EXPORTED)
    assert (exported.actor, exported.subject_id) == ("demo.tomas", decision_id)
    assert exported.payload["format"] == "pdf" and "letter" in exported.payload["contains"]


def test_the_audit_export_is_recorded_with_its_filters_when_clicked(
        demo_copy: Settings, clicks: dict[str, Callable[[], Any]]) -> None:
    at = _as("auditor")
    at.switch_page("pages/audit.py").run()
    at.selectbox[2].set_value("credit-risk").run()  # the model filter
    assert not at.exception
    assert _events(demo_copy, AuditAction.AUDIT_EXPORTED) == []
    document = clicks["audit-trail.csv"]()
    assert document.startswith(b"id,at,actor")
    [exported] = _events(demo_copy, AuditAction.AUDIT_EXPORTED)
    assert exported.actor.startswith("demo.") and exported.payload["format"] == "csv"
    assert exported.payload["filters"]["model_name"] == "credit-risk"


def test_a_model_card_export_is_recorded_per_format_when_clicked(
        demo_copy: Settings, clicks: dict[str, Callable[[], Any]]) -> None:
    at = _as("executive")
    at.switch_page("pages/model_card.py").run()
    assert not at.exception
    assert _events(demo_copy, AuditAction.MODEL_CARD_EXPORTED) == []
    clicks["model-card-credit-risk-v2.md"]()
    [exported] = _events(demo_copy, AuditAction.MODEL_CARD_EXPORTED)
    assert (exported.subject_id, exported.payload["format"]) == ("credit-risk/2", "markdown")
