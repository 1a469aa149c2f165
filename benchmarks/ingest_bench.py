"""Bulk ingest throughput: decisions with 20 features into SQLite and PostgreSQL."""

from __future__ import annotations

import os
import statistics
import time
import uuid
import zlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression
from sqlalchemy import create_engine, func, select, text

from benchmarks.common import Measure, median_seconds
from services.core.clock import utcnow
from services.core.principal import Principal, Role
from services.decisions.ingest import record_decisions
from services.registry.adapter import Registry
from services.store.engine import make_engine
from services.store.migrate import upgrade

SERVICE = Principal("bench", "Benchmark serving system", frozenset({Role.MODEL_OWNER}))
FEATURES = [f"f{i:02d}" for i in range(20)]
ROWS = 100_000
LOG_SIZE = 1_000_000  # decisions the searches, drift view, monitor and portfolio run on
MODELS = ["wide", *(f"wide-{n:02d}" for n in range(2, 21))]  # the log's 20 served models


def _registry(folder: Path) -> Registry:
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(uri, uri)
    experiment = client.create_experiment("ingest", artifact_location=(folder / "a").as_uri())
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(500, 20)), columns=FEATURES)
    with mlflow.start_run(experiment_id=experiment):
        mlflow.sklearn.log_model(LogisticRegression().fit(frame, frame["f00"] > 0), name="m",
                                 input_example=frame.head(2), pip_requirements=["scikit-learn"],
                                 registered_model_name="wide")
    return Registry(uri)


def _reference(engine: Any, models: list[str]) -> None:
    """A reference profile for each bench model, so ingest counts daily profiles as in use."""
    from services.evidence.profile import reference_payload
    from services.evidence.records import add_evidence
    from services.store.engine import session_scope

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(2000, 20)), columns=FEATURES)
    payload = reference_payload(frame, rng.random(2000))
    with session_scope(engine) as session:
        for name in models:
            add_evidence(session=session, kind="reference_profile", model_name=name,
                         model_version="1", data_sha256="0" * 64, payload=payload,
                         policy_sha256="0" * 64, code_version=None, created_by="bench")


def _decisions(batch: str, models: int = 1, offset_days: float = 0.0) -> list[dict[str, Any]]:
    """A batch of decisions, reproducible from its name; spread over `models` models, spaced
    20 s apart from 30 days (plus the offset) ago."""
    rng = np.random.default_rng(zlib.crc32(batch.encode()))
    values = rng.normal(size=(ROWS, 20)).round(4)
    scores = rng.random(ROWS).round(6)
    start = utcnow() - timedelta(days=30 + offset_days)
    names = MODELS[:models]
    return [{"decision_id": f"{batch}-{i}", "model_name": names[i % models], "model_version": "1",
             "decided_at": (start + timedelta(seconds=i * 20)).isoformat(),
             "subject_ref": f"S-{i % 50_000}", "features": dict(zip(FEATURES, row.tolist(),
                                                                     strict=True)),
             "score": float(score), "threshold": 0.5,
             "outcome": "approved" if score >= 0.5 else "declined"}
            for i, (row, score) in enumerate(zip(values, scores, strict=True))]


def run(folder: Path, runs: int = 3, log_size: int = LOG_SIZE) -> list[Measure]:
    registry = _registry(folder)
    _serve_copies(MlflowClient(registry.tracking_uri, registry.registry_uri), len(MODELS))
    measures = []
    targets = {"SQLite": 50_000, "PostgreSQL": 20_000}
    for backend, url in _stores(folder):
        engine = make_engine(url)
        upgrade(engine)
        _reference(engine, MODELS)
        times = []
        for attempt in range(runs):
            rows = _decisions(f"{backend}-{attempt}")  # built before the clock starts
            started = time.perf_counter()
            report = record_decisions(engine=engine, registry=registry, actor=SERVICE,
                                      decisions=rows)
            times.append(time.perf_counter() - started)
            assert report.accepted == ROWS, report.reasons
        seconds = statistics.median(times)
        rate = ROWS / seconds
        measures.append(Measure(f"ingest {ROWS:,} decisions x 20 features into {backend}", rate,
                                "rows/s", f">= {targets[backend]:,} rows/s",
                                rate >= targets[backend], f"{seconds:.2f} s per batch, "
                                "validation against the MLflow signature and daily drift "
                                "profiles included"))
        # The targets are set at 1M; a larger --decisions measures again at that size.
        for size in sorted({LOG_SIZE, log_size}):
            measures += _search_at_size(engine, registry, backend, runs, size)
        engine.dispose()
        _drop_schema(url)
    return measures


def _drop_schema(url: str) -> None:
    """The bench's PostgreSQL schema goes when it is done: gigabytes at 10M decisions."""
    if "search_path%3D" not in url:
        return
    base, schema = url.split("?", 1)[0], url.rsplit("%3D", 1)[1]
    with create_engine(base, isolation_level="AUTOCOMMIT").connect() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def _search_at_size(engine: Any, registry: Registry, backend: str, runs: int,
                    log_size: int) -> list[Measure]:
    """Grow the log to `log_size` decisions, then time the searches analysts make."""
    from services.decisions.search import DecisionFilter, search_decisions
    from services.store.engine import session_scope
    from services.store.models import Decision

    with session_scope(engine) as session:
        stored = session.scalar(select(func.count()).select_from(Decision)) or 0
    batch = stored // ROWS  # batch names go on from the last size's: no id is used twice
    while stored < log_size:
        # Over the 20 models and the last 90 days, as a production log would be.
        record_decisions(engine=engine, registry=registry, actor=SERVICE,
                         decisions=_decisions(f"{backend}-grow-{batch}", len(MODELS),
                                              offset_days=(batch % 4) * 20))
        stored += ROWS
        batch += 1
    now = utcnow()
    searches = {
        "last 30 days, all models, page 1 with counts": DecisionFilter(
            start=now - timedelta(days=30)),
        "one model, declined, last 30 days": DecisionFilter(
            model_name="wide", outcomes=("declined",), start=now - timedelta(days=30)),
        "one subject": DecisionFilter(subject_ref="S-4242"),
        # Prefixes in any case (migration 0010): S-424, S-4240 to S-4249, S-42400 to S-42499.
        "a subject's beginning in lower case": DecisionFilter(subject_ref="s-424"),
        "a decision id's beginning": DecisionFilter(decision_id=f"{backend}-0-424"),
        "score between 0.45 and 0.55, one model": DecisionFilter(
            model_name="wide", score_min=0.45, score_max=0.55),
    }
    measures = []
    for name, filters in searches.items():
        def search(filters: DecisionFilter = filters) -> object:
            with session_scope(engine) as session:
                return search_decisions(session=session, filters=filters, page=1)

        seconds = median_seconds(search, runs)
        measures.append(Measure(f"decision search on 1M ({backend}): {name}", seconds * 1000,
                                "ms", "< 300 ms", seconds < 0.3))
    label = _size(log_size)
    measures.append(_drift_view(engine, backend, runs, label))
    measures.append(_monitor_twenty(engine, registry, backend, runs, label))
    measures.append(_portfolio_fifty(engine, registry, backend, runs, label))
    return [Measure(m.name.replace("on 1M", f"on {label}"), m.value, m.unit, m.target, m.met,
                    m.note) for m in measures]


def _size(decisions: int) -> str:
    return f"{decisions // 1_000_000}M" if decisions >= 1_000_000 else f"{decisions:,}"


def _monitor_twenty(engine: Any, registry: Registry, backend: str, runs: int,
                    label: str) -> Measure:
    """`govern monitor` over the log's 20 served models."""
    from services.core.policy import load_policy
    from services.core.settings import PROJECT_ROOT
    from services.monitoring.monitor import monitor

    _serve_copies(MlflowClient(registry.tracking_uri, registry.registry_uri), 20)
    policy = load_policy(PROJECT_ROOT / "policy.toml")
    seconds = median_seconds(lambda: monitor(engine=engine, registry=registry, policy=policy,
                                             actor=SERVICE), runs)
    return Measure(f"govern monitor over 20 served models, {label} decisions ({backend})", seconds,
                   "s", "< 5 s", seconds < 5,
                   "drift, escalation and override rates, control check per model")

def _serve_copies(client: MlflowClient, models: int) -> None:
    """Register copies of the bench model, each serving a champion, up to `models` in all."""
    source = client.get_model_version("wide", "1")
    client.set_registered_model_alias("wide", "champion", "1")
    for n in range(2, models + 1):
        name = f"wide-{n:02d}"
        if not client.search_model_versions(f"name='{name}'"):
            client.create_registered_model(name, tags={"owner": f"owner-{n % 7}",
                                                       "risk_tier": ("high", "medium")[n % 2]})
            client.create_model_version(name, source.source, run_id=source.run_id)
            client.set_registered_model_alias(name, "champion", "1")


def _portfolio_fifty(engine: Any, registry: Registry, backend: str, runs: int,
                     label: str) -> Measure:
    """The portfolio's reads and figures over 50 served models with 90 days of daily health,
    on the 1M-decision log (which it never reads: its cost follows models x days)."""
    from sqlalchemy import insert

    from services.core.policy import load_policy
    from services.core.settings import PROJECT_ROOT
    from services.monitoring.monitor import monitor
    from services.monitoring.portfolio import portfolio
    from services.store.engine import session_scope
    from services.store.models import ModelHealth
    from ui.portfolio import pillar_trends, status_grid

    _serve_copies(MlflowClient(registry.tracking_uri, registry.registry_uri), 50)
    policy = load_policy(PROJECT_ROOT / "policy.toml")
    monitor(engine=engine, registry=registry, policy=policy, actor=SERVICE)
    # 89 earlier daily runs: the judged rows of today's run, copied to each past day.
    with session_scope(engine) as session:
        today = session.scalars(select(ModelHealth).order_by(ModelHealth.id.desc())
                                .limit(50)).all()
        session.execute(insert(ModelHealth), [
            {"model_name": h.model_name, "model_version": h.model_version,
             "as_of": h.as_of - timedelta(days=back), "recorded_at": h.recorded_at,
             "backfilled": False, "pillars": h.pillars, "activity": h.activity}
            for back in range(1, 90) for h in today])

    def read() -> object:
        with session_scope(engine) as session:
            view = portfolio(session=session, registry=registry, policy=policy, now=utcnow())
        served = [r for r in view.rows if r.champion]
        return status_grid(served), pillar_trends(view.trends)

    seconds = median_seconds(read, runs)
    return Measure(f"portfolio over 50 served models, 90 days of daily health, {label} "
                   f"decisions ({backend})", seconds, "s", "< 1 s", seconds < 1,
                   "registry listing, health snapshots, alerts, evidence dates, alias "
                   "history, overrides, and both figures; the page's widgets add ~0.1 s")


def _drift_view(engine: Any, backend: str, runs: int, label: str) -> Measure:
    """The Drift screen's reads for a 30-day window: the window's table and the heatmap."""
    from services.monitoring.drift import daily_drift, drift_window

    thresholds = {"psi_max": 0.25, "jensen_shannon_max": 0.1, "ks_statistic_max": 0.1,
                  "drifted_share_max": 0.5}
    end = utcnow().date() + timedelta(days=1)
    start = end - timedelta(days=30)

    def view() -> object:
        with engine.connect() as connection:
            drift_window(connection=connection, thresholds=thresholds, model_name="wide",
                         version="1", start=start, end=end)
            return daily_drift(connection=connection, thresholds=thresholds,
                               model_name="wide", version="1", start=start, end=end,
                               statistic="psi")

    seconds = median_seconds(view, runs)
    return Measure(f"drift view, 30-day window, 21 profiled columns, on {label} ({backend})",
                   seconds * 1000, "ms", "< 200 ms", seconds < 0.2,
                   "reads features x days profile rows, never the decisions")


def _stores(folder: Path) -> list[tuple[str, str]]:
    stores = [("SQLite", f"sqlite:///{folder / 'ingest.db'}")]
    postgres = os.environ.get("GOVERNANCE_BENCH_POSTGRES_URL") or \
        os.environ.get("GOVERNANCE_TEST_POSTGRES_URL")
    if postgres:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with create_engine(postgres, isolation_level="AUTOCOMMIT").connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        stores.append(("PostgreSQL", f"{postgres}?options=-csearch_path%3D{schema}"))
    return stores
