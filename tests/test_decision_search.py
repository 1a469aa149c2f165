"""Finding a decision by the beginning of its subject in any letter case, or of its id, through
an index, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, insert, text

from services.decisions.search import DecisionFilter, search_decisions
from services.store.engine import session_scope
from services.store.models import Decision
from tests.factories import decision_row

SUBJECTS = {"d-a1": "APP-1234", "d-a2": "app-12345", "d-a3": "App-129", "d-b1": "APQ-1",
            "d-c1": "Zoë-7", "d-c2": "APP_1", "d-c3": "app-1\u0300", "D-up": "x"}


def _stored(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.execute(insert(Decision), [decision_row(i, subject_ref=s)
                                           for i, s in SUBJECTS.items()])


def _found(engine: Engine, **filters: Any) -> set[str]:
    with session_scope(engine) as session:
        page = search_decisions(session=session, filters=DecisionFilter(**filters))
    ids = {row.decision_id for row in page.rows}
    assert page.total == len(ids)
    return ids


def test_a_subject_is_found_by_its_beginning_in_any_case(engine: Engine) -> None:
    _stored(engine)
    assert _found(engine, subject_ref="app-1234") == {"d-a1", "d-a2"}
    assert _found(engine, subject_ref="  APP-12 ") == {"d-a1", "d-a2", "d-a3"}
    assert _found(engine, subject_ref="ApP-1") == {"d-a1", "d-a2", "d-a3", "d-c3"}
    assert _found(engine, subject_ref="app_") == {"d-c2"}  # _ and % are letters, not patterns
    assert _found(engine, subject_ref="%") == set()
    assert _found(engine, subject_ref="zoë") == {"d-c1"}
    assert _found(engine, subject_ref="APP-12345") == {"d-a2"}
    assert _found(engine, subject_ref="APP-123456") == set()


def test_a_decision_is_found_by_the_beginning_of_its_id(engine: Engine) -> None:
    _stored(engine)
    assert _found(engine, decision_id="d-a") == {"d-a1", "d-a2", "d-a3"}
    assert _found(engine, decision_id="d-c2") == {"d-c2"}
    assert _found(engine, decision_id="D-") == {"D-up"}  # ids are matched as written
    assert _found(engine, decision_id="d-a", subject_ref="app-1234") == {"d-a1", "d-a2"}
    assert _found(engine, decision_id=" ") == set(SUBJECTS)  # blank: no filter


def test_prefix_searches_are_answered_from_an_index(engine: Engine) -> None:
    _stored(engine)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(row[-1]) for row in connection.execute(text(
                "EXPLAIN QUERY PLAN SELECT decision_id FROM decisions "
                "WHERE lower(subject_ref) >= 'app' AND lower(subject_ref) < 'apq'")))
            assert "ix_decisions_subject_lower_time" in plan
            return
        connection.execute(text("SET enable_seqscan = off"))  # 8 rows: make the plan tell
        for where, index in (
                ("""lower(subject_ref) COLLATE "C" >= 'app' AND lower(subject_ref) COLLATE "C" <"""
                 """ 'apq'""", "ix_decisions_subject_lower_time"),
                ("""decision_id COLLATE "C" >= 'd-a' AND decision_id COLLATE "C" < 'd-b'""",
                 "ix_decisions_id_prefix")):
            plan = " ".join(str(row[0]) for row in connection.execute(text(
                f"EXPLAIN SELECT decision_id FROM decisions WHERE {where}")))
            assert index in plan, plan
