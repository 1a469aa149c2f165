"""Page render times through AppTest over a standard demo workspace, cold and warm."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from benchmarks.common import Measure
from services.core.settings import PROJECT_ROOT

PAGES = {
    "portfolio": ("pages/portfolio.py", None),
    "model": ("pages/model.py", None),
    "model card": ("pages/model_card.py", 1.0),
    "evidence": ("pages/evidence.py", None),
    "decisions (last 30 days, all models)": ("pages/decisions.py", None),
    "case file (replay, explanation, counterfactual; model loaded)": ("pages/case_file.py", 1.0),
    "review queue and control check": ("pages/review_queue.py", None),
    "promotions": ("pages/promotions.py", None),
    "drift (30 days)": ("pages/drift.py", None),
    "health over time (90 days)": ("pages/health.py", None),
    "alerts": ("pages/alerts.py", None),
    "audit trail (with chain verification)": ("pages/audit.py", None),
}


def run(home: Path, runs: int = 5) -> list[Measure]:
    os.environ["GOVERNANCE_HOME"] = str(home)
    # The ingest bench's mlflow.set_tracking_uri exported its own registry; the demo's is the
    # one the pages must read (Settings takes MLFLOW_* from the environment first).
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        os.environ.pop(name, None)
    app = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    app.session_state["demo_persona"] = "admin"  # the one role that may open every page
    app.run()  # imports and connections: a server pays this once, not per page
    app.query_params["decision"] = _a_declined_decision(home)
    _render(app, "pages/case_file.py")  # loads the model once, as the first case file does
    measures = [_shap_one_decision(home, runs)]
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


def _shap_one_decision(home: Path, runs: int) -> Measure:
    """SHAP for one decision of the credit model (gradient-boosted trees), once it is loaded."""
    from sqlalchemy import select

    from benchmarks.common import median_seconds
    from services.core.settings import Settings
    from services.decisions.case_file import case_file
    from services.decisions.why import prepare_explainer
    from services.registry.adapter import Registry
    from services.store.engine import make_engine, session_scope
    from services.store.models import Decision

    settings = Settings(GOVERNANCE_HOME=home)  # type: ignore[call-arg]
    with session_scope(make_engine(settings.database_url)) as session:
        decision_id = session.scalar(select(Decision.decision_id).where(
            Decision.model_name == "credit-risk", Decision.model_version == "2",
            Decision.outcome == "declined").limit(1))
        file = case_file(session=session, decision_id=str(decision_id))
    registry = Registry(settings.mlflow_tracking_uri, settings.mlflow_registry_uri)
    explainer = prepare_explainer(registry=registry, model_name=file.row.model_name,
                                  version=file.row.model_version)
    explainer.explain(file.features)  # the first explanation of a process imports its tools
    seconds = median_seconds(lambda: explainer.explain(file.features), runs)
    method = explainer.explain(file.features).method.value
    return Measure("Shapley values for one decision, model loaded (credit-risk v2, boosted "
                   "trees behind one-hot)", seconds * 1000, "ms", "< 300 ms", seconds < 0.3,
                   f"{method} path over the logged inputs, checked to add up")


def _a_declined_decision(home: Path) -> str:
    from sqlalchemy import select

    from services.store.engine import make_engine, session_scope
    from services.store.models import Decision

    with session_scope(make_engine(f"sqlite:///{home / 'governance.db'}")) as session:
        return str(session.scalar(select(Decision.decision_id).where(
            Decision.model_name == "credit-risk", Decision.outcome == "declined").limit(1)))


def _render(app: AppTest, page: str) -> float:
    started = time.perf_counter()
    app.switch_page(page).run()
    elapsed = time.perf_counter() - started
    if app.exception:
        raise RuntimeError(f"{page} raised: {app.exception[0].value}")
    return elapsed
