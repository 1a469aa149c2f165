"""The Python client in a long-running serving process: built once, called per batch, with
memory flat, the schema read once and held within a bound, and nothing process-wide touched."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from services.audit.trail import verify_chain
from services.core.clock import utcnow
from services.decisions import validate
from services.decisions.client import (
    DecisionLog,
    DecisionRecord,
    OutcomeRecord,
    service_principal,
)
from services.decisions.ingest import record_decisions
from services.registry.adapter import Registry
from services.store.engine import session_scope
from services.store.models import AuditEvent, Decision, Outcome

ROOT = Path(__file__).parents[1]
SERVER = service_principal("loan-server")
NOW = utcnow().replace(microsecond=0)


class WatchedRegistry(Registry):
    """A real registry that also notes each schema read and whether the cycle collector was
    running at that moment (inside the client's call)."""

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.schema_reads = 0
        self.gc_seen: list[bool] = []

    def input_schema(self, name: str, version: str) -> dict[str, str]:
        self.schema_reads += 1
        self.gc_seen.append(gc.isenabled())
        return super().input_schema(name, version)


def _decision(n: int, **changes: Any) -> DecisionRecord:
    values: dict[str, Any] = {
        "decision_id": f"d-{n}", "model_name": "loan-approval", "model_version": "2",
        "decided_at": NOW - timedelta(seconds=n), "subject_ref": f"S-{n}",
        "features": {"income": 50.0, "debt": 10.0}, "score": 0.8, "threshold": 0.5,
        "outcome": "approved"}
    return DecisionRecord(**{**values, **changes})


def test_typed_records_are_stored_and_audited_as_the_service(engine: Engine,
                                                            registry_uri: str) -> None:
    log = DecisionLog(engine=engine, registry=Registry(registry_uri), actor=SERVER)
    report = log.record_decisions([_decision(1), _decision(2, score=1.5)], per_row=True)
    assert (report.accepted, report.quarantined) == (1, 1)
    assert [(r.decision_id, r.status) for r in report.rows] == [("d-1", "stored"),
                                                                ("d-2", "quarantined")]
    assert "score 1.5 is outside [0, 1]" in (report.rows[1].reason or "")
    outcomes = log.record_outcomes([OutcomeRecord("d-1", True)])
    assert outcomes.accepted == 1
    with session_scope(engine) as session:
        assert session.scalar(select(Outcome.label)) == 1.0
        actors = set(session.scalars(select(AuditEvent.actor)))
        assert verify_chain(session=session).intact
    assert actors == {"service:loan-server"}


def test_the_schema_is_read_once_and_the_collector_left_running(engine: Engine,
                                                                registry_uri: str) -> None:
    registry = WatchedRegistry(registry_uri)
    log = DecisionLog(engine=engine, registry=registry, actor=SERVER)
    for n in range(20):
        log.record_decisions([_decision(n)])
    assert registry.schema_reads == 1
    assert registry.gc_seen == [True]


def test_held_schemas_stay_within_their_bound(engine: Engine, registry_uri: str) -> None:
    registry = WatchedRegistry(registry_uri)
    log = DecisionLog(engine=engine, registry=registry, actor=SERVER, schemas_kept=1)
    for n in range(6):  # two versions in turn: one held at a time, so each is read again
        log.record_decisions([_decision(n, model_version=str(1 + n % 2))])
    assert registry.schema_reads == 6
    assert len(validate._PLANS) <= validate._PLANS_KEPT


def test_many_calls_of_one_decision_leave_memory_flat(engine: Engine,
                                                      registry_uri: str) -> None:
    # benchmarks/api_bench.py measures 10,000 calls; here 600 after a warm-up show the trend.
    log = DecisionLog(engine=engine, registry=Registry(registry_uri), actor=SERVER)
    record = [_decision(1)]
    for _ in range(100):  # caches, pools and lazily built statements settle
        log.record_decisions(record)
    plans = len(validate._PLANS)
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(600):
            log.record_decisions(record)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # A leak of one small entry per call (the old plan cache's) grows by well over 600 KB.
    assert grown < 256 * 1024, f"{grown:,} bytes more after 600 calls"
    assert len(validate._PLANS) == plans
    with session_scope(engine) as session:
        assert len(session.scalars(select(Decision.id)).all()) == 1


def test_importing_the_client_sets_no_environment_variable() -> None:
    probe = ("import os; before = dict(os.environ); import services.decisions.client; "
             "print(sorted(set(os.environ.items()) ^ set(before.items())))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    shown = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, check=True,
                           capture_output=True, text=True).stdout.strip()
    assert shown == "[]"


def test_the_plain_function_reading_schemas_afresh_holds_plans_within_the_bound(
        engine: Engine, registry_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each call of record_decisions without a reader reads the schema as a new dict: the
    # per-schema plan cache kept one entry per call, without end, before it had a bound.
    monkeypatch.setattr(validate, "_PLANS_KEPT", 3)
    registry = Registry(registry_uri)
    for n in range(8):
        record_decisions(engine=engine, registry=registry, actor=SERVER,
                         decisions=[_decision(n).as_row()])
    assert len(validate._PLANS) <= 3
