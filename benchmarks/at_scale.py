"""The reads that must not grow with the log, at 10M decisions (SQLite): the drift view, the
portfolio over 50 models and `govern monitor`. Appends a section to RESULTS.md.

    python -m benchmarks.at_scale [--decisions 10000000]

About 15 minutes to grow the log (ingest slows as its indexes outgrow the page cache).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import warnings
from pathlib import Path

from benchmarks import ingest_bench
from benchmarks.common import Measure, table
from benchmarks.run import RESULTS
from services.store.engine import make_engine
from services.store.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--decisions", type=int, default=10_000_000)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        registry = ingest_bench._registry(root)
        from mlflow import MlflowClient

        ingest_bench._serve_copies(MlflowClient(registry.tracking_uri, registry.registry_uri),
                                   len(ingest_bench.MODELS))
        engine = make_engine(f"sqlite:///{root / 'log.db'}")
        upgrade(engine)
        ingest_bench._reference(engine, ingest_bench.MODELS)
        started = time.perf_counter()
        measures = ingest_bench._search_at_size(engine, registry, "SQLite", 3, args.decisions)
        grown = time.perf_counter() - started
    label = ingest_bench._size(args.decisions)
    measures.insert(0, Measure(f"growing the SQLite log to {label} decisions (100k batches)",
                               args.decisions / grown, "rows/s", "", None,
                               f"{grown / 60:.1f} min including the measures below; ingest "
                               "slows as the log's indexes outgrow the page cache"))
    section = [f"## At {label} decisions (SQLite, `python -m benchmarks.at_scale`)", "",
               *table(measures)]
    text = RESULTS.read_text().rstrip() + "\n\n" + "\n".join(section) + "\n"
    RESULTS.write_text(text)
    print("\n".join(section))


if __name__ == "__main__":
    main()
