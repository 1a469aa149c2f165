"""The audit trail on SQLite and PostgreSQL: the chain, its triggers, tamper detection."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from services.audit.chain import GENESIS, append, canonical
from services.audit.trail import AuditFilter, export_events, search_events, verify_chain
from services.cli.main import main
from services.core.errors import InvalidInput, SourceUnavailable
from services.store.engine import session_scope
from services.store.models import AuditEvent
from tests.factories import behind_the_apps_back


def _events(engine: Engine, count: int, actor: str = "vera") -> None:
    for n in range(count):
        with session_scope(engine) as session:
            append(session=session, actor=actor, action="test.event", subject_type="thing",
                   subject_id=n, model_name="m", payload={"n": n, "note": "<b>x</b>"})


def _verdict(engine: Engine):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return verify_chain(session=session)


def _tamper(engine: Engine, statement: str) -> None:
    """What an attacker with database access does: get the triggers out of the way first."""
    behind_the_apps_back(engine, "audit_events", statement)


def test_each_event_hashes_its_predecessor_and_its_canonical_form(engine: Engine) -> None:
    _events(engine, 3)
    with session_scope(engine) as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        previous = GENESIS
        for event in events:
            body = canonical(event.at, event.actor, event.action, event.subject_type,
                             event.subject_id, event.model_name, event.payload)
            assert event.prev_hash == previous
            assert event.hash == hashlib.sha256((previous + body).encode()).hexdigest()
            previous = event.hash
    verdict = _verdict(engine)
    assert verdict.intact and verdict.events == 3 and verdict.head_hash == previous


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET actor = 'mallory'",
    "DELETE FROM audit_events",
])
def test_the_database_refuses_to_change_or_remove_events(engine: Engine, statement: str) -> None:
    _events(engine, 2)
    with pytest.raises((InvalidInput, SourceUnavailable)), session_scope(engine) as session:
        session.execute(text(statement))
    assert _verdict(engine).intact


def test_an_event_edited_behind_the_apps_back_is_named(engine: Engine) -> None:
    _events(engine, 4)
    with session_scope(engine) as session:
        third = session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()[2]
    _tamper(engine, f"UPDATE audit_events SET actor = 'mallory' WHERE id = {third}")
    verdict = _verdict(engine)
    assert not verdict.intact and verdict.broken_at == third and verdict.events == 2
    assert "changed after it was written" in verdict.problem


def test_a_removed_event_breaks_the_next_link(engine: Engine) -> None:
    _events(engine, 4)
    with session_scope(engine) as session:
        ids = session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
    _tamper(engine, f"DELETE FROM audit_events WHERE id = {ids[1]}")
    verdict = _verdict(engine)
    assert not verdict.intact and verdict.broken_at == ids[2]


def test_removing_the_newest_events_is_caught_by_the_head(engine: Engine) -> None:
    _events(engine, 3)
    with session_scope(engine) as session:
        last = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    _tamper(engine, f"DELETE FROM audit_events WHERE id = {last}")
    verdict = _verdict(engine)
    assert not verdict.intact and verdict.broken_at is None and "removed" in verdict.problem


def test_concurrent_writers_keep_one_unbroken_chain(engine: Engine) -> None:
    threads = [threading.Thread(target=_events, args=(engine, 10, f"writer-{n}"))
               for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    verdict = _verdict(engine)
    assert verdict.intact and verdict.events == 40


def test_filters_are_values_and_pages_come_newest_first(engine: Engine) -> None:
    _events(engine, 5)
    _events(engine, 2, actor="zoe")
    with session_scope(engine) as session:
        page = search_events(session=session, filters=AuditFilter(actor="vera"), page_size=2)
        hostile = search_events(session=session,
                                filters=AuditFilter(actor="x' OR '1'='1", action="test."))
        prefixed = search_events(session=session, filters=AuditFilter(action="test."))
    assert page.total == 5 and page.pages == 3 and page.events[0].payload["n"] == 4
    assert hostile.total == 0 and prefixed.total == 7


def test_exports_carry_every_field_needed_to_recheck_the_chain(engine: Engine) -> None:
    _events(engine, 2)
    with session_scope(engine) as session:
        as_json = json.loads(export_events(session=session, filters=AuditFilter(), fmt="json"))
        as_csv = list(csv.DictReader(io.StringIO(
            export_events(session=session, filters=AuditFilter(), fmt="csv").decode())))
    assert [e["payload"]["n"] for e in as_json] == [0, 1]
    assert as_csv[1]["prev_hash"] == as_json[0]["hash"] == as_csv[0]["hash"]
    assert json.loads(as_csv[0]["payload"])["note"] == "<b>x</b>"


def test_govern_audit_verify_exits_one_and_names_the_broken_event(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    assert main(["db", "upgrade"]) == 0
    from services.core.settings import load_settings
    from services.store.engine import make_engine

    engine = make_engine(load_settings().database_url)
    _events(engine, 3)
    assert main(["audit", "verify"]) == 0
    assert "intact: 3 events" in capsys.readouterr().out
    _tamper(engine, "UPDATE audit_events SET payload = '{\"n\": 7}' WHERE id = 2")
    assert main(["audit", "verify"]) == 1
    assert "BROKEN at event #2" in capsys.readouterr().out
