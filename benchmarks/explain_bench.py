"""Explanation time per model kind: each kind of tests/model_kinds.py trained on 20 inputs and
registered in a real MLflow registry, loaded once (as the case file caches it), then 20
logged decisions explained one by one. Target: p95 < 300 ms, the model-agnostic path
included. Every explanation is checked to add up to the replayed score."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import mlflow
import numpy as np
from mlflow import MlflowClient

from benchmarks.common import Measure
from services.decisions.why import prepare_explainer
from services.registry.adapter import Registry
from tests.model_kinds import KINDS, NUMERIC_ONLY, loan_book, register_kind

INPUTS = 20
DECISIONS = 20
TARGET_SECONDS = 0.3


def run(folder: Path, decisions: int = DECISIONS) -> list[Measure]:
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(uri, uri)
    experiment = client.create_experiment("bench", artifact_location=(folder / "a").as_uri())
    registry = Registry(uri)
    measures = []
    for kind in KINDS:
        # 4 numbers, 3 categories and sex, plus extra numbers up to 20 inputs (bare models
        # take numbers only).
        book = loan_book(rows=1_000, extra_numeric=INPUTS - (4 if kind in NUMERIC_ONLY else 8))
        registered = register_kind(client, experiment, kind, book)
        started = time.perf_counter()
        explainer = prepare_explainer(registry=registry, model_name=registered.model_name,
                                      version=registered.version)
        loaded = time.perf_counter() - started
        rows = registered.holdout[registered.inputs].head(decisions)
        times, cpu, worst, method = [], [], 0.0, ""
        for _, row in rows.iterrows():
            inputs = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            started, processor = time.perf_counter(), time.process_time()
            explanation = explainer.explain(inputs)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - processor)
            worst = max(worst, explanation.difference)
            method = explanation.method.value
            if not explanation.adds_up:
                raise RuntimeError(f"{kind}: an explanation does not add up ({worst:.2e})")
        first, steady = times[0], times[1:]
        p95 = float(np.percentile(steady, 95))
        measures.append(Measure(
            f"{kind} ({len(registered.inputs)} inputs), p95 of {len(steady)} decisions",
            p95 * 1000, "ms", "< 300 ms", p95 < TARGET_SECONDS,
            f"{method}; median {statistics.median(steady) * 1000:.0f} ms (CPU "
            f"{statistics.median(cpu[1:]) * 1000:.0f} ms); first decision "
            f"{first * 1000:.0f} ms; loading the version and its hold-out {loaded:.2f} s; "
            f"largest additivity gap {worst:.1e}"))
        print(f"  {kind}: p95 {p95 * 1000:.0f} ms ({method})", flush=True)
    return measures


if __name__ == "__main__":
    import argparse
    import logging
    import tempfile
    import warnings

    from benchmarks.common import table

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--decisions", type=int, default=DECISIONS)
    arguments = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as temporary:
        print("\n".join(table(run(Path(temporary), arguments.decisions))))
