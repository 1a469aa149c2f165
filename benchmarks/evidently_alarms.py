"""Evidently's side of the false-alarm comparison, in its own virtual environment: for each
pair of frames in a folder (reference-K.parquet, current-K.parquet), the columns its
DataDriftPreset calls drifted at its defaults, and whether it calls dataset drift."""

import json
import sys
from pathlib import Path

import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset

folder = Path(sys.argv[1])
answers = {}
for reference_path in sorted(folder.glob("reference-*.parquet")):
    key = reference_path.stem.split("-", 1)[1]
    reference = pd.read_parquet(reference_path)
    current = pd.read_parquet(folder / f"current-{key}.parquet")
    metrics = Report([DataDriftPreset()]).run(current, reference).dict()["metrics"]
    drifted, share = [], None
    for m in metrics:
        kind = m["config"]["type"]
        if kind.endswith("ValueDrift"):
            threshold = m["config"].get("threshold")
            method = m["config"]["method"]
            value = m["value"]
            # p-value tests drift below their threshold, distances above it
            is_p_value = "p_value" in method or "test" in method.lower()
            if (value < threshold) if is_p_value else (value >= threshold):
                drifted.append(m["config"]["column"])
        elif kind.endswith("DriftedColumnsCount"):
            share = m["value"]["share"]
    answers[key] = {"drifted": drifted, "share": share}
json.dump(answers, sys.stdout)
