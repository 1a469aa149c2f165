"""The Notifications page, through AppTest on a copy of the demo: a person turns a kind of
e-mail off and it stays off (and is audited); an admin sees where each delivery stands, a
person who is not an admin does not."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from services.core.settings import Settings
from services.store.engine import make_engine, session_scope
from services.store.models import AuditEvent

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _page(persona: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["demo_persona"] = persona
    at.run()
    at.switch_page("pages/notifications.py").run()
    assert not at.exception
    return at


def test_a_person_turns_off_an_email_and_it_stays_off(demo_copy: Settings) -> None:
    at = _page("model_owner")
    # A demo persona has no account, so no address: the page says nothing can reach them.
    assert any("Demo personas have no accounts" in str(w.value) for w in at.warning)
    assert at.checkbox(key="notify_finding_assigned").value is True  # on by default
    at.checkbox(key="notify_finding_assigned").uncheck()
    at.button[0].click().run()
    assert any("saved" in str(s.value) for s in at.success)
    assert "Recent deliveries" not in [str(h.value) for h in at.subheader]

    again = _page("model_owner")
    assert again.checkbox(key="notify_finding_assigned").value is False
    assert again.checkbox(key="notify_alert_opened").value is True
    with session_scope(make_engine(demo_copy.database_url)) as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last is not None and (last.action, last.actor) == \
        ("notification.preferences_set", "demo.amara")


def test_an_admin_sees_where_each_delivery_stands(demo_copy: Settings) -> None:
    at = _page("admin")
    assert "Recent deliveries" in [str(h.value) for h in at.subheader]
    # The demo's alerts and findings told its personas, who have no e-mail address.
    table = at.dataframe[0].value
    assert {"Status", "Attempts", "Last error"} <= set(table.columns) and len(table)
    assert "not sent" in set(table["Status"])
    assert any("has no e-mail address" in str(e) for e in table["Last error"])
