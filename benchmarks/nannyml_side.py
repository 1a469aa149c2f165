"""NannyML's side of the performance-estimation comparison. Runs in its own virtual environment
(NannyML pins older plotly and pandas), so it imports nothing of the project: frames in,
CBPE's estimates and times out."""

import json
import sys
import time

import nannyml as nml
import pandas as pd

METRICS = ["roc_auc", "accuracy", "precision", "recall", "f1"]

reference = pd.read_parquet(sys.argv[1])
analysis = pd.read_parquet(sys.argv[2])
started = time.perf_counter()
estimator = nml.CBPE(y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="y_true",
                     problem_type="classification_binary", metrics=METRICS, chunk_number=1)
estimator.fit(reference)
fitted = time.perf_counter()
frame = estimator.estimate(analysis).to_df()
estimated = time.perf_counter()
values = {m: float(frame[(m, "value")].iloc[-1]) for m in METRICS}
json.dump({"fit_seconds": fitted - started, "estimate_seconds": estimated - fitted,
           "version": nml.__version__, "values": values}, sys.stdout)
