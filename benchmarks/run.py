"""`make bench`: every benchmark, one table in benchmarks/RESULTS.md."""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import warnings
from pathlib import Path

from benchmarks import (
    browser_bench,
    drift_alarm_bench,
    evidence_bench,
    explain_bench,
    ingest_bench,
    pages_bench,
    peer_bench,
    performance_bench,
    startup_bench,
)
from benchmarks.common import Measure, write_results
from services.core.settings import Settings
from services.demo.build import build_demo

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="repetitions per measure")
    parser.add_argument("--decisions", type=int, default=1_000_000,
                        help="size of the decision log for searches, drift, monitor and "
                             "portfolio (10000000 for the 10M run; about 10 minutes more "
                             "per backend)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    sections: dict[str, list[Measure]] = {}
    # What was measured is written even when a later section fails.
    try:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            print("Demo workspace (standard)…", flush=True)
            started = time.perf_counter()
            report = build_demo(Settings(GOVERNANCE_HOME=root / "demo"),  # type: ignore[call-arg]
                                size="standard", progress=lambda _line: None)
            built = time.perf_counter() - started
            sections["Demo workspace"] = [Measure(
                f"govern demo --size standard ({report.decisions:,} decisions, evidence for 5 "
                "versions)", built, "s", "< 120 s", built < 120)]
            print("Start-up costs (govern --help, gates, the small demo, the first page)…",
                  flush=True)
            sections["Start-up (CPU seconds)"] = startup_bench.run(root / "demo", runs=args.runs)
            print("Evidence runs…", flush=True)
            (root / "evidence").mkdir()
            sections["Evidence"] = evidence_bench.run(root / "evidence", runs=args.runs)
            print("Ingest…", flush=True)
            (root / "ingest").mkdir()
            sections["Decision log ingest"] = ingest_bench.run(root / "ingest", runs=args.runs,
                                                               log_size=args.decisions)
            print("Drift from raw frames against Evidently (its own venv; the first run makes it)…",
                  flush=True)
            (root / "peer").mkdir()
            sections["Drift against a peer (Evidently)"] = peer_bench.run(root / "peer",
                                                                         runs=args.runs)
            print("Drift false alarms and detections beside Evidently…", flush=True)
            (root / "alarms").mkdir()
            sections["Drift verdicts: false alarms and detections (ours and Evidently's "
                     "defaults)"] = drift_alarm_bench.run(root / "alarms")
            print("Performance estimated without labels beside NannyML's CBPE (its own venv; "
                  "the first run makes it)…", flush=True)
            (root / "performance").mkdir()
            sections["Performance estimated without labels, beside NannyML's CBPE"] = \
                performance_bench.run(root / "performance", runs=args.runs)
            print("Explanations per model kind (20 inputs, model loaded)…", flush=True)
            (root / "explain").mkdir()
            sections["Explanations per model kind (20 inputs, model loaded)"] = \
                explain_bench.run(root / "explain")
            print("Page renders…", flush=True)
            sections["Pages (AppTest, standard demo workspace)"] = pages_bench.run(
                root / "demo", runs=max(args.runs, 5))
            print("Ten concurrent browser sessions…", flush=True)
            sections["Concurrent browser sessions (govern serve, Debian Chromium)"] = \
                browser_bench.run(root / "demo")
    finally:
        print(write_results(RESULTS, sections))


if __name__ == "__main__":
    main()
