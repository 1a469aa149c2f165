"""A broken audit chain, found by any verification, opens one high-severity alert for admins
and auditors (not tied to a model, not chained onto the broken trail) and shows on the
portfolio; on SQLite and PostgreSQL, through the service, the CLI and the pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from streamlit.testing.v1 import AppTest

from services.audit.actions import AuditAction
from services.audit.chain import append
from services.cli.main import main
from services.core.glossary import label
from services.core.settings import Settings
from services.monitoring.alerts import AlertStatus, list_alerts
from services.monitoring.chain_watch import CHAIN_ALERT_KIND, chain_alert, verify_and_alert
from services.store.engine import make_engine, session_scope
from services.store.models import AuditEvent
from tests.factories import behind_the_apps_back

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _trail(engine: Engine, count: int = 4) -> list[int]:
    with session_scope(engine) as session:
        for n in range(count):
            append(session=session, actor="vera", action=AuditAction.EVIDENCE_RECORDED,
                   subject_type="evidence", subject_id=n, model_name="m")
    with session_scope(engine) as session:
        return list(session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def _tamper(engine: Engine, event_id: int) -> None:
    behind_the_apps_back(engine, "audit_events",
                         f"UPDATE audit_events SET actor = 'mallory' WHERE id = {event_id}")


def _chain_alerts(engine: Engine) -> list[object]:
    with session_scope(engine) as session:
        return [a for a in list_alerts(session=session, status=None)
                if a.kind == CHAIN_ALERT_KIND]


def test_an_intact_chain_opens_no_alert(engine: Engine) -> None:
    _trail(engine)
    assert verify_and_alert(engine=engine).intact
    assert _chain_alerts(engine) == []


def test_a_tampered_chain_opens_one_high_alert_and_not_a_second_on_reverify(
        engine: Engine) -> None:
    ids = _trail(engine)
    _tamper(engine, ids[2])
    verdict = verify_and_alert(engine=engine)
    assert not verdict.intact and verdict.broken_at == ids[2]
    assert not verify_and_alert(engine=engine).intact  # verified again, still broken
    [alert] = _chain_alerts(engine)
    assert alert.severity == "high" and alert.status == AlertStatus.OPEN  # type: ignore[attr-defined]
    assert alert.owner == "admins and auditors" and alert.model_name == ""  # type: ignore[attr-defined]
    assert f"event #{ids[2]}" in alert.message and "restore" in alert.message  # type: ignore[attr-defined]


def test_the_alert_is_not_chained_onto_the_broken_trail(engine: Engine) -> None:
    ids = _trail(engine)
    behind_the_apps_back(engine, "audit_events", f"DELETE FROM audit_events WHERE id = {ids[-1]}")
    with session_scope(engine) as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent))
    verdict = verify_and_alert(engine=engine)
    assert "were removed" in verdict.problem  # the diagnosis stays the removal at the end
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
        alert = chain_alert(session=session)
    assert alert is not None and "breaks at its end" in alert.message


def test_govern_audit_verify_opens_the_alert_and_exits_one(
        store_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    ids = _trail(engine)
    _tamper(engine, ids[1])
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", store_url)
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    assert main(["audit", "verify"]) == 1
    assert main(["audit", "verify"]) == 1
    assert "audit_chain_broken alert is open" in capsys.readouterr().out
    assert len(_chain_alerts(engine)) == 1


def test_govern_monitor_verifies_the_chain_too(
        store_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    ids = _trail(engine)
    _tamper(engine, ids[0])
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", store_url)
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))  # an empty registry: no model judged
    assert main(["monitor"]) == 1
    assert "does NOT verify" in capsys.readouterr().out
    assert len(_chain_alerts(engine)) == 1


def _as(persona: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["demo_persona"] = persona
    return at.run()


def _texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("error", "warning", "info", "success")
                    for e in getattr(at, kind)).replace("\\", "")


def test_a_break_found_on_the_audit_page_shows_on_the_portfolio_and_in_alerts(
        demo_copy: Settings) -> None:
    engine = make_engine(demo_copy.database_url)
    with session_scope(engine) as session:
        third = session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()[2]
    _tamper(engine, third)
    auditor = _as("auditor")
    assert "The audit trail does not verify" not in _texts(auditor)  # nothing verified yet
    auditor.switch_page("pages/audit.py").run()
    assert "The chain is broken" in _texts(auditor)

    for persona in ("auditor", "admin", "executive"):
        portfolio = _as(persona)
        assert not portfolio.exception
        notice = portfolio.error[0].value.replace("\\", "")
        assert notice.startswith("**The audit trail does not verify.**")
        assert f"event #{third}" in notice and "restore from a verified backup" in notice
    for persona in ("auditor", "admin"):
        alerts = _as(persona)
        alerts.switch_page("pages/alerts.py").run()
        table = alerts.dataframe[0].value
        assert list(table[table["Kind"] == label(CHAIN_ALERT_KIND)]["Severity"]) == ["high"]
