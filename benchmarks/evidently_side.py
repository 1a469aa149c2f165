"""Evidently's side of the drift comparison. Runs in its own virtual environment (Evidently
needs pandas < 3), so it imports nothing of the project: frames in, figures and time out."""

import json
import sys
import time

import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset

reference = pd.read_parquet(sys.argv[1])
current = pd.read_parquet(sys.argv[2])
started = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(current, reference)
seconds = time.perf_counter() - started
columns = {m["config"]["column"]: {"method": m["config"]["method"], "value": m["value"]}
           for m in snapshot.dict()["metrics"] if m["config"]["type"].endswith("ValueDrift")}
json.dump({"seconds": seconds, "columns": columns}, sys.stdout)
