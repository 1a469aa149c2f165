"""The ingest API against the file path, and the Python client's memory over many calls.

`python -m benchmarks.api_bench` measures alone and appends its table to RESULTS.md:
- throughput: 20 batches of 1,000 decisions x 20 inputs posted to a real `govern api` (one
  client, sequential) against the same decisions ingested from a JSONL file as `govern ingest`
  does, on SQLite and (with GOVERNANCE_TEST_POSTGRES_URL) PostgreSQL; target at least half;
- latency: p95 of 300 single-decision posts (target < 50 ms on SQLite);
- the Python client: traced memory after 10,000 calls of one decision (flat: the growth after
  the first 1,000 calls, target < 1 MiB) and its held schemas.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import Measure, table
from benchmarks.ingest_bench import FEATURES, _drop_schema, _reference, _registry, _stores
from benchmarks.run import RESULTS
from services.core.clock import utcnow
from services.core.principal import Principal, Role
from services.decisions import validate
from services.decisions.client import DecisionLog, service_principal
from services.decisions.ingest import cyclic_gc_paused, ingest_decisions_file
from services.governance.tokens import create_token
from services.store.engine import make_engine
from services.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
ADMIN = Principal("cli:bench", "Benchmark operator", frozenset({Role.ADMIN}))
BATCHES, BATCH = 20, 1_000
SINGLE_POSTS = 300


def _decisions(prefix: str, count: int) -> list[dict[str, Any]]:
    import numpy as np

    rng = np.random.default_rng(len(prefix))
    values = rng.normal(size=(count, 20)).round(4)
    scores = rng.random(count).round(6)
    at = (utcnow().replace(microsecond=0)).isoformat()
    return [{"decision_id": f"{prefix}-{i}", "model_name": "wide", "model_version": "1",
             "decided_at": at, "subject_ref": f"S-{i}",
             "features": dict(zip(FEATURES, row.tolist(), strict=True)), "score": float(s),
             "threshold": 0.5, "outcome": "approved" if s >= 0.5 else "declined"}
            for i, (row, s) in enumerate(zip(values, scores, strict=True))]


def _serve(folder: Path, url: str, tracking_uri: str) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GOVERNANCE_HOME": str(folder), "GOVERNANCE_DATABASE_URL": url,
           "MLFLOW_TRACKING_URI": tracking_uri, "GOVERNANCE_API_MAX_BODY_MB": "50"}
    log = (folder / f"api-{port}.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "services.cli.main", "api", "--port",
                               str(port)], env=env, cwd=ROOT, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"govern api exited: see {log.name}")
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=5):
                return server, base
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError("govern api did not answer /health within 240 s")


def _throughput(folder: Path, backend: str, url: str, tracking_uri: str) -> list[Measure]:
    engine = make_engine(url)
    upgrade(engine)
    _reference(engine, ["wide"])
    _record, token = create_token(engine=engine, actor=ADMIN, name="bench",
                                  roles=frozenset({Role.INGEST}))
    registry = _registry_of(tracking_uri)
    path = folder / f"{backend}.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in _decisions(f"file-{backend}",
                                                                 BATCHES * BATCH)) + "\n")
    started = time.perf_counter()
    with cyclic_gc_paused():  # as `govern ingest` runs it
        report = ingest_decisions_file(engine=engine, registry=registry,
                                       actor=service_principal("bench"), path=path)
    file_rate = report.accepted / (time.perf_counter() - started)
    assert report.accepted == BATCHES * BATCH, report.reasons
    server, base = _serve(folder, url, tracking_uri)
    try:
        bodies = [json.dumps(_decisions(f"api-{backend}-{b}", BATCH)).encode()
                  for b in range(BATCHES)]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with httpx.Client(base_url=base, headers=headers, timeout=300) as http:
            http.post("/v1/decisions", content=json.dumps(_decisions("warm", 10)).encode())
            started = time.perf_counter()
            stored = sum(http.post("/v1/decisions", content=body).json()["stored"]
                         for body in bodies)
            api_rate = stored / (time.perf_counter() - started)
            latencies = []
            for one in _decisions(f"one-{backend}", SINGLE_POSTS):
                began = time.perf_counter()
                http.post("/v1/decisions", content=json.dumps(one).encode()).raise_for_status()
                latencies.append(time.perf_counter() - began)
    finally:
        server.terminate()
        server.wait(30)
    engine.dispose()
    _drop_schema(url)
    p95 = statistics.quantiles(latencies, n=20)[-1] * 1000
    measures = [
        Measure(f"ingest API, {BATCHES} batches of {BATCH:,} decisions x 20 inputs "
                f"({backend})", api_rate, "rows/s", f">= {file_rate / 2:,.0f} rows/s "
                "(half the file path's)", api_rate >= file_rate / 2,
                f"the file path: {file_rate:,.0f} rows/s ({BATCHES * BATCH:,} rows of JSONL); "
                "one client posting in turn, JSON over HTTP on localhost"),
        Measure(f"ingest API, p95 of one decision posted ({backend})", p95, "ms",
                "< 50 ms" if backend == "SQLite" else "", p95 < 50 if backend == "SQLite"
                else None, f"{SINGLE_POSTS} posts in turn; median "
                f"{statistics.median(latencies) * 1000:.1f} ms; each its own batch, "
                "transaction and audit event")]
    return measures


def _registry_of(tracking_uri: str) -> Any:
    from services.registry.adapter import Registry

    return Registry(tracking_uri)


def client_memory(folder: Path, tracking_uri: str, calls: int) -> list[Measure]:
    engine = make_engine(f"sqlite:///{folder / 'client.db'}")
    upgrade(engine)
    log = DecisionLog(engine=engine, registry=_registry_of(tracking_uri),
                      actor=service_principal("bench"))
    one = _decisions("mem", 1)
    tracemalloc.start()
    marks: dict[int, int] = {}
    for n in range(1, calls + 1):
        log.record_decisions(one)
        if n in (1_000, calls):
            marks[n] = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    grown = (marks[calls] - marks[1_000]) / 1024
    return [Measure(f"Python client: traced memory growth from call 1,000 to {calls:,} of one "
                    "decision (SQLite)", grown, "KiB", "< 1,024 KiB (flat)", grown < 1024,
                    f"{len(validate._PLANS)} schema plan(s) held (bound "
                    f"{validate._PLANS_KEPT}); the plan cache grew one entry per call before")]


def run(folder: Path, calls: int = 10_000) -> list[Measure]:
    registry = _registry(folder)
    measures = []
    for backend, url in _stores(folder):
        measures += _throughput(folder, backend, url, registry.tracking_uri)
    return measures + client_memory(folder, registry.tracking_uri, calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=10_000,
                        help="Python client calls of one decision for the memory measure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        measures = run(Path(folder), args.calls)
    lines = ["## Ingest API and Python client (`python -m benchmarks.api_bench`)", "",
             *table(measures), ""]
    RESULTS.write_text(RESULTS.read_text().rstrip() + "\n\n" + "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
