"""Faults: a tracking server that stops mid-session, a locked or unreachable store, hostile
text in every field of an ingest file, and a 100 MB line. Each is refused or quarantined with a
reason, and nothing is half-written."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient
from sqlalchemy import Engine, create_engine, func, select, text

from services.core.clock import utcnow
from services.core.errors import GovernanceError, SourceUnavailable
from services.core.policy import load_policy
from services.core.principal import Principal, Role
from services.core.settings import PROJECT_ROOT
from services.decisions.ingest import ingest_decisions_file
from services.decisions.overrides import override_decision
from services.decisions.search import DecisionFilter, search_decisions
from services.governance.promotions.requests import grant_exception, request_promotion, sign_off
from services.registry.adapter import Registry
from services.store.engine import make_engine, session_scope
from services.store.migrate import upgrade
from services.store.models import AliasChange, AuditEvent, Decision, Override, PromotionRequest
from tests.conftest import closed_port
from tests.factories import governed_registry
from tests.servers import start_server

OWNER = Principal("olga", "Olga", frozenset({Role.MODEL_OWNER}))
VICTOR = Principal("victor", "Victor", frozenset({Role.VALIDATOR}))
WANDA = Principal("wanda", "Wanda", frozenset({Role.VALIDATOR}))
ADMIN = Principal("adam", "Adam", frozenset({Role.ADMIN}))
ADMIN2 = Principal("bea", "Bea", frozenset({Role.ADMIN}))
ANALYST = Principal("ana", "Ana", frozenset({Role.ANALYST}))
WHY = "Better discrimination on the hold-out and no fairness regressions found."
POLICY = load_policy(PROJECT_ROOT / "policy.toml")


@pytest.fixture
def tracking_server(tmp_path: Path) -> Iterator[tuple[str, str, subprocess.Popen[bytes]]]:
    """A real `mlflow server` over a registry holding two governed versions (v1 champion);
    the test fails with the server's log when it is not healthy in time."""
    backend, _client, _experiment = governed_registry(tmp_path, champion="1")
    mlflow.set_tracking_uri("")
    mlflow.set_registry_uri("")
    server, port = start_server(
        lambda port: [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend,
                      "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        log=tmp_path / "mlflow-server.log", health=lambda port: f"http://127.0.0.1:{port}/health",
        what="`mlflow server`", cwd=tmp_path)  # its default artifact root is relative
    url = f"http://127.0.0.1:{port}"
    try:
        yield url, backend, server
    finally:
        _stop(server)


def _stop(server: subprocess.Popen[bytes]) -> None:
    # `mlflow server` runs its web server as a child: stop the whole process group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait(timeout=20)


def test_a_tracking_server_stopped_mid_session_moves_nothing(
        tracking_server: tuple[str, str, subprocess.Popen[bytes]], engine: Engine) -> None:
    url, backend, server = tracking_server
    registry = Registry(url)
    request = request_promotion(engine=engine, registry=registry, policy=POLICY, actor=OWNER,
                                model_name="loan-approval", version="2", justification=WHY)
    for admin in (ADMIN, ADMIN2):  # the high-risk tier needs two admins' exceptions
        grant_exception(engine=engine, actor=admin, request_id=request.id,
                        justification="Accepted for the test: evidence is run nightly instead.",
                        expires_on=utcnow().date() + timedelta(days=30))
    _stop(server)
    outcomes = []
    for validator in (VICTOR, WANDA):
        try:
            outcomes.append(sign_off(engine=engine, registry=registry, policy=POLICY,
                                     actor=validator, request_id=request.id,
                                     verdict="approve", justification=WHY).request.status)
        except SourceUnavailable as exc:
            assert url in exc.message
            outcomes.append("refused")
    # Nothing moved: the registry still says v1, the console recorded no alias change, and
    # the request is not marked executed.
    assert str(MlflowClient(backend, backend).get_model_version_by_alias(
        "loan-approval", "champion").version) == "1"
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(AliasChange)) == 0
        stored = session.get(PromotionRequest, request.id)
        assert stored is not None and stored.status != "executed" and stored.executed_at is None
    assert "executed" not in outcomes


def test_a_locked_store_refuses_an_override_and_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'governance.db'}"
    upgrade(make_engine(url))
    with session_scope(make_engine(url)) as session:
        session.add(Decision(decision_id="d-1", model_name="m", model_version="1",
                             decided_at=utcnow(), subject_ref="S-1", features={"x": 1.0},
                             score=0.3, threshold=0.5, outcome="declined"))
    impatient = make_engine(url, connect_args={"timeout": 0.5})
    holder = create_engine(url, connect_args={"timeout": 0.5})
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with holder.connect() as connection:
            connection.exec_driver_sql("BEGIN EXCLUSIVE")
            locked.set()
            release.wait(300)  # until the test is done; the deadline only guards a hang
            connection.exec_driver_sql("ROLLBACK")

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(300), "the holder never got its exclusive lock"
    try:
        with pytest.raises(SourceUnavailable, match="locked"):
            _override(impatient, "d-1")
    finally:
        release.set()
        thread.join()
    with session_scope(make_engine(url)) as session:
        assert session.scalar(select(func.count()).select_from(Override)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "decision.override")) == 0


def test_an_unreachable_store_refuses_an_override_in_words() -> None:
    gone = make_engine(f"postgresql+psycopg://nobody@127.0.0.1:{closed_port()}/none",
                       connect_args={"connect_timeout": 2})
    with pytest.raises(SourceUnavailable, match="cannot be used") as raised:
        _override(gone, "d-1")
    assert "Check that the database is running" in (raised.value.hint or "")


def _override(engine: Engine, decision_id: str) -> object:
    return override_decision(engine=engine, actor=ANALYST, decision_id=decision_id,
                             new_outcome="approved",
                             reason_category="new information from the applicant",
                             justification="Income proof arrived after the decision was made.")


HOSTILE = ["<script>alert('x')</script>", "'; DROP TABLE decisions; --",
           "<img src=x onerror=alert(1)>", "=HYPERLINK(\"http://evil\")", "Robert'); --"]


def test_hostile_text_in_every_field_is_stored_as_text_or_quarantined(
        tmp_path: Path, engine: Engine, registry_uri: str) -> None:
    now = utcnow().replace(microsecond=0)
    rows = [{"decision_id": f"d-{n}-{text_}", "model_name": "loan-approval",
             "model_version": "2", "decided_at": (now - timedelta(minutes=n)).isoformat(),
             "subject_ref": text_, "request_id": text_, "reason_codes": [text_],
             "features": {"income": 50.0, "debt": 10.0}, "score": 0.4, "threshold": 0.5,
             "outcome": "declined"} for n, text_ in enumerate(HOSTILE)]
    rows.append({**rows[0], "decision_id": "d-bad", "model_name": HOSTILE[1]})
    rows.append({**rows[0], "decision_id": "d-bad-2", "outcome": HOSTILE[0]})
    rows.append({**rows[0], "decision_id": "d-bad-3",
                 "features": {"income": HOSTILE[2], "debt": 1.0}})
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    report = ingest_decisions_file(engine=engine, registry=Registry(registry_uri),
                                   actor=OWNER, path=path)
    assert (report.accepted, report.quarantined) == (len(HOSTILE), 3)
    with session_scope(engine) as session:
        for hostile in HOSTILE:  # bound parameters: each is found as the value it is
            page = search_decisions(session=session,
                                    filters=DecisionFilter(subject_ref=hostile), page=1)
            assert [r.subject_ref for r in page.rows] == [hostile]
        assert session.scalar(select(func.count()).select_from(Decision)) == len(HOSTILE)
    with engine.connect() as connection:  # the table is still there, with its rows
        assert connection.execute(text("SELECT COUNT(*) FROM decisions")).scalar() == 5


def test_a_100_mb_line_is_quarantined_in_bounded_memory(
        tmp_path: Path, engine: Engine, registry_uri: str) -> None:
    import tracemalloc

    path = tmp_path / "huge.jsonl"
    good = {"decision_id": "d-ok", "model_name": "loan-approval", "model_version": "2",
            "decided_at": utcnow().replace(microsecond=0).isoformat(), "subject_ref": "S-1",
            "features": {"income": 50.0, "debt": 10.0}, "score": 0.8, "threshold": 0.5,
            "outcome": "approved"}
    with path.open("wb") as handle:
        handle.write(b'{"decision_id": "')
        block = b"x" * (1 << 20)
        for _ in range(100):
            handle.write(block)
        handle.write(b'"}\n' + json.dumps(good).encode() + b"\n")
    tracemalloc.start()
    report = ingest_decisions_file(engine=engine, registry=Registry(registry_uri),
                                   actor=OWNER, path=path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert (report.accepted, report.quarantined) == (1, 1)
    assert any("bytes, over the 1 MiB limit" in reason for reason in report.reasons), \
        report.reasons
    assert peak < 40 * (1 << 20)  # the line is 100 MiB; reading it costs a few MiB


def test_refusals_name_what_was_wrong(engine: Engine) -> None:
    with pytest.raises(GovernanceError) as raised:
        _override(engine, "no-such-decision")
    assert "no-such-decision" in raised.value.message
