"""What a real workspace's empty states tell people to do next.

A real workspace fills up by its own people's work, never by building the demo workspace
(which refuses to be built there), so none of these texts suggests it.
"""

from __future__ import annotations

NO_MODELS = (
    "The MLflow registry has no registered models yet. A model owner registers one with the "
    "tags, hold-out set and code version listed under *The governance contract* in the README "
    "(`MLFLOW_TRACKING_URI` names the registry the console reads); it shows here once "
    "registered.")

# The portfolio is every newcomer's first page: it also says how the others get in.
FIRST_STEPS = (
    f"{NO_MODELS} An administrator gives colleagues their accounts with "
    "`govern users add NAME --role ROLE`, and decisions arrive by `govern ingest decisions FILE` "
    "or the Python API.")

NO_DECISIONS = (
    "The decision log is empty. Serving systems log decisions through the console's Python"
    " API, or "
    "an operator loads them with `govern ingest decisions FILE` (JSONL, CSV or Parquet) and "
    "their outcomes later with `govern ingest outcomes FILE`; see *The decision log* in the "
    "README.")
