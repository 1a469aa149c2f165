"""A real workspace never becomes a demo: `govern demo` refuses any workspace holding
accounts, evidence, decisions or registered models it did not build, and a real workspace's
empty states say what its people do next, never "run the demo"."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert
from streamlit.testing.v1 import AppTest

from services.core.clock import utcnow
from services.core.errors import InvalidInput
from services.core.principal import Principal, Role
from services.core.settings import PROJECT_ROOT, Settings
from services.demo.build import build_demo
from services.demo.guard import SEED_ACTOR, foreign_records, refuse_foreign_workspace
from services.governance.accounts import add_user
from services.store.engine import make_engine, session_scope
from services.store.migrate import upgrade
from services.store.models import Decision, Evidence, IngestBatch, WorkspaceSetting
from services.store.workspace import WorkspaceState, workspace_state
from tests.factories import decision_row

ROOT = Principal("root", "Root", frozenset({Role.ADMIN}))


def _account(engine: Engine) -> None:
    add_user(engine=engine, actor=ROOT, username="vera", password="a long passphrase 42",
             roles=frozenset({Role.VALIDATOR}), display_name="Vera")


def _evidence(engine: Engine, by: str = "vera") -> None:
    with session_scope(engine) as session:
        session.add(Evidence(kind="evaluation", model_name="m", model_version="1",
                             data_sha256="0" * 64, payload_sha256="0" * 64, payload={},
                             policy_sha256="0" * 64, code_version=None, created_by=by,
                             created_at=utcnow()))


def _decision(engine: Engine, by: str = "ops") -> None:
    with session_scope(engine) as session:
        batch = IngestBatch(kind="decisions", source="decisions.jsonl",
                            content_sha256=by.ljust(64, "0"), accepted=1, quarantined=0,
                            ingested_by=by, ingested_at=utcnow())
        session.add(batch)
        session.flush()
        session.execute(insert(Decision), [decision_row(f"d-{by}", batch_id=batch.id)])


RECORDS: dict[str, Callable[[Engine], None]] = {
    "an account": _account, "evidence": _evidence, "decisions": _decision}


@pytest.mark.parametrize("record", RECORDS)
def test_govern_demo_refuses_a_workspace_holding_records_it_did_not_build(
        record: str, store_url: str, tmp_path: Path) -> None:
    settings = Settings(GOVERNANCE_HOME=tmp_path, GOVERNANCE_DATABASE_URL=store_url)  # type: ignore[call-arg]
    engine = make_engine(store_url)
    upgrade(engine)
    RECORDS[record](engine)
    with pytest.raises(InvalidInput) as refused:
        build_demo(settings, size="small", progress=lambda _line: None)
    what = {"an account": "1 account", "evidence": "1 evidence record",
            "decisions": "1 decision"}[record]
    assert what in refused.value.message and "not the demo" in refused.value.message
    assert "GOVERNANCE_HOME" in refused.value.hint and "make clean-workspace" in refused.value.hint
    with session_scope(engine) as session:  # nothing was marked or built
        assert session.get(WorkspaceSetting, "demo") is None
        assert workspace_state(session=session) == WorkspaceState.WORKSPACE


def test_a_half_built_demo_that_gained_an_account_is_not_deleted(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(WorkspaceSetting(key="demo", value="building"))
    _evidence(engine, by=SEED_ACTOR)  # the demo's own so far
    _account(engine)
    with session_scope(engine) as session:
        found = foreign_records(session=session, registered_models=0)
    assert (found.accounts, found.evidence, found.decisions) == (1, 0, 0)
    with pytest.raises(InvalidInput, match="1 account that"):
        refuse_foreign_workspace(found, home="/w")


def test_what_the_demo_wrote_itself_is_not_foreign(engine: Engine) -> None:
    _evidence(engine, by=SEED_ACTOR)
    _decision(engine, by=SEED_ACTOR)
    with session_scope(engine) as session:
        found = foreign_records(session=session, registered_models=0)
    assert not found
    refuse_foreign_workspace(found, home="/w")  # an empty workspace is allowed


def test_the_refusal_names_everything_it_found(engine: Engine) -> None:
    _account(engine)
    _decision(engine)
    with session_scope(engine) as session:
        found = foreign_records(session=session, registered_models=2)
    assert found.described() == "1 account, 1 decision and 2 registered models"


def test_an_account_alone_makes_a_workspace_real(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert workspace_state(session=session) == WorkspaceState.EMPTY
    _account(engine)
    with session_scope(engine) as session:
        assert workspace_state(session=session) == WorkspaceState.WORKSPACE


# --- the real workspace's empty states ------------------------------------------------------

APP = str(PROJECT_ROOT / "app.py")


def test_no_page_or_ui_module_suggests_the_demo() -> None:
    mentions = [f"{path.relative_to(PROJECT_ROOT)}:{number}"
                for folder in ("pages", "ui") for path in (PROJECT_ROOT / folder).glob("*.py")
                for number, line in enumerate(path.read_text().splitlines(), 1)
                if re.search(r"govern demo|make run", line)]
    assert mentions == []


def _signed_in_on_a_real_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   page: str) -> AppTest:
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    engine = make_engine(f"sqlite:///{tmp_path / 'governance.db'}")
    upgrade(engine)
    add_user(engine=engine, actor=ROOT, username="ana", password="a long passphrase 42",
             roles=frozenset({Role.ADMIN, Role.ANALYST}), display_name="Ana")
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["signed_in"] = (
        Principal("ana", "Ana", frozenset({Role.ADMIN, Role.ANALYST})), utcnow())
    at.run()
    if page != "pages/portfolio.py":
        at.switch_page(page).run()
    assert not at.exception
    return at


def _texts(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("error", "warning", "info", "success")
                    for e in getattr(at, kind))


def test_a_real_workspaces_portfolio_says_how_to_start_not_demo(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts(_signed_in_on_a_real_workspace(tmp_path, monkeypatch, "pages/portfolio.py"))
    assert "The governance contract" in texts and "govern users add" in texts
    assert "govern ingest decisions" in texts
    assert "demo" not in texts.lower()


@pytest.mark.parametrize("page", ["pages/model.py", "pages/evidence.py"])
def test_a_real_workspaces_model_pages_point_at_the_contract(
        page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts(_signed_in_on_a_real_workspace(tmp_path, monkeypatch, page))
    assert "The governance contract" in texts and "demo" not in texts.lower()


def test_a_real_workspaces_empty_decision_log_says_how_decisions_arrive(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _texts(_signed_in_on_a_real_workspace(tmp_path, monkeypatch, "pages/decisions.py"))
    assert "govern ingest decisions" in texts and "Widen the dates" not in texts
    assert "demo" not in texts.lower()
