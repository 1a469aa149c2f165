"""False alarms and detections of the drift rule beside Evidently's DataDriftPreset defaults,
on the same samples: windows of unchanged traffic (every alarm is false) and windows where one
input shifted by half a standard deviation (a verdict of drift there is a detection)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import Measure
from benchmarks.peer_bench import HERE, _evidently_python
from services.core.policy import load_policy
from services.core.settings import PROJECT_ROOT
from services.evidence.profile import bin_values, reference_for
from services.monitoring.drift import MIN_DAY_ROWS, judge

REFERENCE_ROWS = 5_000
SIZES = (100, 1_000, 10_000)
TRIALS = 20
SHIFTED = "income"


def _frame(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame({
        "income": rng.normal(50, 10, n) + shift * 10,
        "amount": rng.lognormal(8, 1, n),
        "overdraft": np.where(rng.random(n) < 0.8, 0.0, rng.lognormal(7, 1, n)),
        "products": rng.choice([1.0, 2.0, 3.0], n, p=[0.5, 0.3, 0.2]),
        "housing": rng.choice(np.array(["rent", "own", "free"], dtype=object), n,
                              p=[0.6, 0.3, 0.1]),
    })


def run(folder: Path) -> list[Measure]:
    thresholds = load_policy(PROJECT_ROOT / "policy.toml").for_tier("high").drift
    rng = np.random.default_rng(17)
    reference = _frame(rng, REFERENCE_ROWS)
    profiles = {c: reference_for(c, reference[c]) for c in reference.columns}
    ours: dict[str, dict[str, object]] = {}
    for n in SIZES:
        for shift in (0.0, 0.5):
            for trial in range(TRIALS):
                key = f"{n}_{shift}_{trial}"
                current = _frame(rng, n, shift)
                reference.to_parquet(folder / f"reference-{key}.parquet")
                current.to_parquet(folder / f"current-{key}.parquet")
                verdicts = {c: judge(p, bin_values(p, current[c].to_numpy()), thresholds,
                                     MIN_DAY_ROWS) for c, p in profiles.items()}
                drifted = [c for c, v in verdicts.items() if v.drifted]
                ours[key] = {"drifted": drifted, "share": len(drifted) / len(verdicts)}
    answer = subprocess.run([str(_evidently_python()), str(HERE / "evidently_alarms.py"),
                             str(folder)], check=True, capture_output=True, text=True)
    theirs = json.loads(answer.stdout)
    measures = []
    for n in SIZES:
        for shift, what in ((0.0, "false alarms per input, unchanged traffic"),
                            (0.5, f"{SHIFTED} shifted by half an sd: share of windows that "
                                  "see it")):
            keys = [f"{n}_{shift}_{t}" for t in range(TRIALS)]
            for side, answers in (("ours", ours), ("Evidently", theirs)):
                if shift == 0.0:
                    value = float(np.mean([len(answers[k]["drifted"]) / 5 for k in keys]))
                    target, met = ("<= 5%", value <= 0.05) if side == "ours" else ("", None)
                else:
                    value = float(np.mean([SHIFTED in answers[k]["drifted"] for k in keys]))
                    target, met = (">= 90%", value >= 0.9) if side == "ours" and n >= 1_000 \
                        else ("", None)
                measures.append(Measure(f"{n:,} decisions, {what}: {side}", value * 100, "%",
                                        target, met, f"{TRIALS} windows against "
                                        f"{REFERENCE_ROWS:,} hold-out rows, 5 inputs"))
    return measures
