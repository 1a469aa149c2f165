"""How MLflow talks to a tracking server, set once by the process that owns its environment.

A console, a `govern` command or the ingest API fails fast against a registry that is down
instead of MLflow's default minutes of retries. This is set at those processes' start, never
on import: the decision log's Python client runs inside a serving process whose environment
is its own.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

FAIL_FAST = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}


def fail_fast_mlflow_http(environ: MutableMapping[str, str] | None = None) -> None:
    """Default MLflow's HTTP retries to none and its timeout to 10 s in this process's
    environment (MLflow reads them per request); values already set are kept."""
    target = os.environ if environ is None else environ
    for name, value in FAIL_FAST.items():
        target.setdefault(name, value)
