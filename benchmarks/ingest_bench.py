"""Bulk ingest throughput: decisions with 20 features into SQLite and PostgreSQL."""

from __future__ import annotations

import os
import statistics
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression
from sqlalchemy import create_engine, text

from benchmarks.common import Measure
from services.clock import utcnow
from services.decisions.ingest import record_decisions
from services.principal import Principal, Role
from services.registry import Registry
from services.store.engine import make_engine
from services.store.migrate import upgrade

SERVICE = Principal("bench", "Benchmark serving system", frozenset({Role.MODEL_OWNER}))
FEATURES = [f"f{i:02d}" for i in range(20)]
ROWS = 100_000


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


def _decisions(batch: str) -> list[dict[str, Any]]:
    rng = np.random.default_rng(1)
    values = rng.normal(size=(ROWS, 20)).round(4)
    scores = rng.random(ROWS).round(6)
    start = utcnow() - timedelta(days=30)
    return [{"decision_id": f"{batch}-{i}", "model_name": "wide", "model_version": "1",
             "decided_at": (start + timedelta(seconds=i * 20)).isoformat(),
             "subject_ref": f"S-{i % 50_000}", "features": dict(zip(FEATURES, row.tolist(),
                                                                     strict=True)),
             "score": float(score), "threshold": 0.5,
             "outcome": "approved" if score >= 0.5 else "declined"}
            for i, (row, score) in enumerate(zip(values, scores, strict=True))]


def run(folder: Path, runs: int = 3) -> list[Measure]:
    registry = _registry(folder)
    measures = []
    targets = {"SQLite": 50_000, "PostgreSQL": 20_000}
    for backend, url in _stores(folder):
        engine = make_engine(url)
        upgrade(engine)
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
                                "validation against the MLflow signature included"))
        engine.dispose()
    return measures


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
