"""Page render times through AppTest over a standard demo workspace, cold and warm."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from benchmarks.common import Measure
from services.settings import PROJECT_ROOT

PAGES = {
    "portfolio": ("pages/portfolio.py", None),
    "model": ("pages/model.py", None),
    "model card": ("pages/model_card.py", 1.0),
    "evidence": ("pages/evidence.py", None),
}


def run(home: Path, runs: int = 5) -> list[Measure]:
    os.environ["GOVERNANCE_HOME"] = str(home)
    app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    app.run()  # imports and connections: a server pays this once, not per page
    measures = []
    for name, (page, target) in PAGES.items():
        cold, warm = [], []
        for _ in range(runs):
            st.cache_data.clear()  # every read from the registry and the store again
            cold.append(_render(app, page))
            warm.append(_render(app, page))
        cold_median, warm_median = statistics.median(cold), statistics.median(warm)
        measures.append(Measure(
            f"{name} page render, cold (caches cleared)", cold_median, "s",
            f"< {target:g} s" if target else "", cold_median < target if target else None,
            f"warm (cached reads): {warm_median:.3f} s"))
    return measures


def _render(app: AppTest, page: str) -> float:
    started = time.perf_counter()
    app.switch_page(page).run()
    elapsed = time.perf_counter() - started
    if app.exception:
        raise RuntimeError(f"{page} raised: {app.exception[0].value}")
    return elapsed
