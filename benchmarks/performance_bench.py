"""`python -m benchmarks.performance_bench`: performance estimated without labels, ours from
the score profiles beside NannyML's CBPE on the same frames (in its own virtual environment),
appended to RESULTS.md.

The frames: a hold-out of 50,000 scored and labelled rows; analysis windows of 1M and 10M
decisions whose inputs moved (covariate shift), scores from a model that ranks well but is
miscalibrated. What is timed, for each:
- ours, per window: summing the window's fine score counts into the estimate with its band
  (what a page or `govern monitor` pays; the counts were made at ingest);
- ours, from raw rows: binning the window's scores into those counts first (ingest's share);
- NannyML: `CBPE.estimate` on the window's rows (its `fit` on the hold-out reported apart,
  as our calibration map is made once at the evidence run).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from benchmarks.common import Measure, table
from services.evidence.calibration import calibration_payload
from services.evidence.payloads import CalibrationMapPayload
from services.evidence.profile import bin_numbers, score_reference
from services.monitoring.estimate import Estimate, estimate

NANNYML = "nannyml==0.13.1"
HERE = Path(__file__).resolve().parent
VENV = HERE / "data" / "nannyml-venv"
RESULTS = HERE / "RESULTS.md"
THRESHOLD = 0.5
HOLDOUT = 50_000
METRICS = ("roc_auc", "accuracy", "precision", "recall", "f1")
NOTE = ("Wall times on a shared two-core machine (estimates the best of 3, binning one run). "
        "Both estimates include their band: ours simulates 400 windows from the fine "
        "counts, NannyML's its sampling error from the reference. Ours is timed from the "
        "window's counts (made at ingest; binning the raw scores, timed apart, is ingest's "
        "cost); NannyML's from the rows in memory. "
        "The 10M counts are binned from 10M generated scores; NannyML was run at 1M only.")


def _population(rng: np.random.Generator, n: int,
                shift: float) -> tuple[np.ndarray, np.ndarray]:
    """Scores (ranking by the true risk, miscalibrated) and labels; `shift` moves an input."""
    x1, x2 = rng.normal(shift, 1.0 + shift / 3, n), rng.normal(0, 1, n)
    risk = -1 + 1.5 * x1 + 0.8 * x2
    labels = (rng.random(n) < 1 / (1 + np.exp(-risk))).astype(np.int8)
    return 1 / (1 + np.exp(-(0.3 + 0.6 * risk))), labels


def _frame(scores: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"y_pred_proba": scores, "y_pred": (scores >= THRESHOLD).astype(int),
                         "y_true": labels})


def _nannyml_python() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        # nannyml 0.13.1 imports statsmodels (its plots) without declaring it.
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", NANNYML, "statsmodels",
                        "pyarrow"], check=True)
    return python


def _best(action: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """The fastest of `runs` calls, with its result."""
    timed = []
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        timed.append((time.perf_counter() - started, result))
    return min(timed, key=lambda pair: pair[0])


def run(folder: Path, runs: int = 3) -> list[Measure]:
    rng = np.random.default_rng(21)
    held_scores, held_labels = _population(rng, HOLDOUT, 0.0)
    started = time.perf_counter()
    score = score_reference(held_scores, THRESHOLD)
    stored = calibration_payload(score.fine_edges, score.fine_midpoints, held_scores,
                                 held_labels, THRESHOLD)
    calibration = CalibrationMapPayload.model_validate(stored).calibration_map()
    made = time.perf_counter() - started
    _frame(held_scores, held_labels).to_parquet(folder / "reference.parquet")
    measures = [Measure(f"ours: score reference + calibration map on {HOLDOUT:,} hold-out rows "
                        "(once, at the evidence run)", made, "s")]
    per_window: dict[int, float] = {}
    for rows in (1_000_000, 10_000_000):
        scores, labels = _population(rng, rows, 0.6)
        binned, counts = _best(lambda s=scores: bin_numbers(score, s).fine, 1)
        seconds, ours = _best(lambda c=counts: estimate(c, calibration), runs)
        per_window[rows] = seconds
        auc = ours.figures["roc_auc"]
        realised = float(roc_auc_score(labels, scores))
        measures += [
            Measure(f"ours, {rows:,} decisions: estimate with band from the window's fine "
                    "score counts", seconds * 1000, "ms",
                    note=f"ROC AUC {auc.estimate:.4f} (band {auc.low:.4f}–{auc.high:.4f}); "
                         f"realised {realised:.4f}"),
            Measure(f"ours, {rows:,} decisions: binning the raw scores into those counts "
                    "(ingest's share, paid once per decision)", binned, "s")]
        if rows == 1_000_000:
            measures += _against_nannyml(folder, scores, labels, ours, seconds, runs)
    flat = per_window[10_000_000] / per_window[1_000_000]
    measures.append(Measure("ours: per-window cost at 10M over 1M decisions", flat, "x",
                            "flat (< 2x)", flat < 2,
                            "the estimate reads one count per fine bin whatever the traffic"))
    return measures


def _against_nannyml(folder: Path, scores: np.ndarray, labels: np.ndarray, ours: Estimate,
                     seconds: float, runs: int) -> list[Measure]:
    _frame(scores, labels).to_parquet(folder / "analysis.parquet")
    try:
        python = _nannyml_python()
        answers = [json.loads(subprocess.run(
            [str(python), str(HERE / "nannyml_side.py"), str(folder / "reference.parquet"),
             str(folder / "analysis.parquet")], check=True, capture_output=True,
            text=True).stdout) for _ in range(runs)]
    except (subprocess.CalledProcessError, OSError) as exc:
        return [Measure("NannyML CBPE", float("nan"), "", note=f"could not run: {exc}")]
    theirs = min(answers, key=lambda a: a["estimate_seconds"])
    gaps = {m: abs((ours.figures[m].estimate or 0.0) - theirs["values"][m]) for m in METRICS}
    ratio = theirs["estimate_seconds"] / seconds
    return [
        Measure("NannyML CBPE.fit on the same hold-out rows", theirs["fit_seconds"], "s",
                note=f"nannyml {theirs['version']}, its own venv"),
        Measure("NannyML CBPE.estimate, 1,000,000 decisions (rows in memory)",
                theirs["estimate_seconds"], "s",
                note=f"ROC AUC {theirs['values']['roc_auc']:.4f}"),
        Measure("speed-up of ours (from profiles) over NannyML's estimate at 1M", ratio, "x",
                ">= 100x", ratio >= 100),
        Measure("estimates agree: ROC AUC, ours against NannyML", gaps["roc_auc"],
                "abs diff", "< 0.02", gaps["roc_auc"] < 0.02,
                "other metrics' largest gap: " + ", ".join(
                    f"{m} {gaps[m]:.4f}" for m in METRICS if m != "roc_auc")),
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        measures = run(Path(folder))
    lines = ["## Performance estimated without labels, beside NannyML's CBPE "
             "(`python -m benchmarks.performance_bench`)", "", *table(measures), "", NOTE, ""]
    RESULTS.write_text(RESULTS.read_text().rstrip() + "\n\n" + "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
