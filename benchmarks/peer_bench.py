"""Drift straight from raw frames, side by side with Evidently's DataDriftPreset on the same
frames (1M rows x 25 mixed columns), in Evidently's own virtual environment."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import Measure
from services.evidence.profile import bin_values, reference_for
from services.monitoring import stats

EVIDENTLY = "evidently==0.7.23"
HERE = Path(__file__).resolve().parent
VENV = HERE / "data" / "evidently-venv"
ROWS = 1_000_000


def frames(rows: int = ROWS, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """18 numeric and 7 categorical columns; the current frame shifts a third of them."""
    rng = np.random.default_rng(seed)

    def draw(shift: float) -> pd.DataFrame:
        columns: dict[str, object] = {}
        for i in range(18):
            scale = 1.0 + i % 4
            kind = i % 3
            values = (rng.normal(shift * (i % 3 == 0), scale, rows) if kind == 0 else
                      rng.lognormal(1 + shift * 0.3 * (i % 3 == 1), 0.5, rows) if kind == 1
                      else rng.gamma(2 + shift * (i % 2), 2, rows))
            columns[f"n{i:02d}"] = values
        for i in range(7):
            k = 4 + i
            p = np.linspace(1, 2 + shift * (i % 2) * 3, k)
            columns[f"c{i}"] = rng.choice([f"v{j}" for j in range(k)], rows, p=p / p.sum())
        return pd.DataFrame(columns)

    return draw(0.0), draw(0.4)


def ours(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[float, dict[str, float]]:
    """Profile the reference, bin the current frame, and compute the same figures."""
    started = time.perf_counter()
    figures = {}
    for name in reference.columns:
        profile = reference_for(name, reference[name])
        if profile.kind == "numeric":
            counts = bin_values(profile, current[name].to_numpy())
            figures[name] = stats.wasserstein_normalized(
                profile.fine, counts.fine, profile.fine_midpoints, profile.spread) or 0.0
        else:
            counts = bin_values(profile, current[name])
            # Evidently's distance uses the natural logarithm; ours is base 2.
            figures[name] = stats.js_distance(profile.coarse, counts.coarse) * math.sqrt(
                math.log(2))
    return time.perf_counter() - started, figures


def _evidently_python() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", EVIDENTLY,
                        "pandas<3", "pyarrow"], check=True)
    return python


def run(folder: Path, runs: int = 1) -> list[Measure]:
    reference, current = frames()
    reference.to_parquet(folder / "reference.parquet")
    current.to_parquet(folder / "current.parquet")
    answer = subprocess.run([str(_evidently_python()), str(HERE / "evidently_side.py"),
                             str(folder / "reference.parquet"),
                             str(folder / "current.parquet")],
                            check=True, capture_output=True, text=True)
    theirs = json.loads(answer.stdout)
    timed = [ours(reference, current) for _ in range(max(runs, 1))]
    seconds, figures = min(timed, key=lambda run: run[0])
    gaps = {c: abs(figures[c] - v["value"]) for c, v in theirs["columns"].items()}
    worst = max(gaps, key=lambda c: gaps[c])
    drifted_theirs = {c for c, v in theirs["columns"].items() if v["value"] >= 0.1}
    drifted_ours = {c for c, v in figures.items() if v >= 0.1}
    ratio = theirs["seconds"] / seconds
    return [
        Measure("Evidently DataDriftPreset, 1M x 25 columns (its own venv, pandas < 3)",
                theirs["seconds"], "s", note=EVIDENTLY),
        Measure("ours from the same raw frames: reference profile + binning + statistics",
                seconds, "s"),
        Measure("speed-up over Evidently", ratio, "x", ">= 50x", ratio >= 50),
        Measure("figures agree (Wasserstein normed; Jensen-Shannon, natural log)",
                gaps[worst], "max abs diff", "< 0.01", gaps[worst] < 0.01,
                f"worst column {worst}; same drifted columns at 0.1: "
                f"{'yes' if drifted_theirs == drifted_ours else 'no'} "
                f"({len(drifted_ours)} of {len(figures)})"),
    ]
