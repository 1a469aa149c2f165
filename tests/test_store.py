"""The governance store: migrations, the schema check, the one transaction helper."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, insert, inspect, select

from services.core.clock import utcnow
from services.core.errors import InvalidInput, SchemaOutOfDate, SourceUnavailable
from services.registry.aliases import alias_tenures
from services.store.engine import make_engine, session_scope
from services.store.migrate import check_schema, head_revision, upgrade
from services.store.models import AliasChange, Decision
from services.store.workspace import set_setting, workspace_state
from tests.conftest import closed_port
from tests.factories import decision_row

DESIGN_TABLES = {"users", "evidence", "promotion_requests", "sign_offs", "alias_history",
                 "decisions", "outcomes", "overrides", "profiles", "alerts", "audit_events"}


def test_migrations_create_every_table_the_design_names(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= DESIGN_TABLES
    check_schema(engine)  # at head: no error


def test_a_store_without_schema_names_the_command_to_run(store_url: str) -> None:
    with pytest.raises(SchemaOutOfDate) as raised:
        check_schema(make_engine(store_url))
    assert "govern db upgrade" in raised.value.hint
    assert head_revision() in raised.value.message


def test_upgrading_twice_is_harmless(engine: Engine) -> None:
    upgrade(engine)
    check_schema(engine)


def test_a_failed_unit_of_work_leaves_nothing_behind(engine: Engine) -> None:
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        session.execute(insert(Decision), [decision_row("d-1"), decision_row("d-2")])
        raise RuntimeError("the writer died half-way")
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Decision)) == 0


def test_a_duplicate_decision_id_becomes_invalid_input(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.execute(insert(Decision), [decision_row("d-1")])
    with pytest.raises(InvalidInput), session_scope(engine) as session:
        session.execute(insert(Decision), [decision_row("d-1", score=0.1)])
    with session_scope(engine) as session:
        assert session.scalar(select(Decision.score).where(Decision.decision_id == "d-1")) == 0.7


def test_an_unreachable_store_is_source_unavailable() -> None:
    store = make_engine(f"postgresql+psycopg://nobody@127.0.0.1:{closed_port()}/none")
    with pytest.raises(SourceUnavailable) as raised:
        check_schema(store)
    assert "cannot be reached" in raised.value.message


def test_workspace_state_moves_from_empty_to_demo(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert workspace_state(session=session) == "empty"
        set_setting(session=session, key="demo", value="building")
    with session_scope(engine) as session:
        assert workspace_state(session=session) == "demo_building"
        set_setting(session=session, key="demo", value="ready")
    with session_scope(engine) as session:
        assert workspace_state(session=session) == "demo"


def test_a_store_with_decisions_and_no_marker_is_a_real_workspace(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.execute(insert(Decision), [decision_row()])
    with session_scope(engine) as session:
        assert workspace_state(session=session) == "workspace"


def test_alias_tenures_end_when_the_next_holder_begins(engine: Engine) -> None:
    start = utcnow() - timedelta(days=30)
    with session_scope(engine) as session:
        for days, version, alias in ((0, "1", "champion"), (10, "2", "champion"),
                                     (20, "3", "challenger")):
            session.add(AliasChange(model_name="m", alias=alias, version=version,
                                    previous_version=None, changed_at=start + timedelta(days),
                                    changed_by="test", reason=""))
    with session_scope(engine) as session:
        tenures = alias_tenures(session=session, model_name="m")
    assert [(t.alias, t.version) for t in tenures] == [
        ("champion", "1"), ("champion", "2"), ("challenger", "3")]
    assert tenures[0].until == tenures[1].since
    assert tenures[1].until is None and tenures[2].until is None
