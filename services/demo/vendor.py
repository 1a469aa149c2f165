"""The demo's vendor model: Northwind Credit Bureau's repayment score ("bureau-score"), which the
organisation uses but did not train. Registered, documented, evidenced and fed through the same
services people use: no artifact, two documents received with their SHA-256, evidence from a
hold-out set the bureau scored, and six weeks of decisions ingested through the ordinary
ingest, with incomes creeping up in the last fortnight so Drift and Health have something to
show, and repayments arriving for the older ones."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from services.core.policy import Policy
from services.core.principal import Principal, Role, demo_persona
from services.decisions.ingest import record_decisions, record_outcomes
from services.demo.guard import SEED_ACTOR
from services.evidence.run import run_evidence
from services.governance.vendors import record_vendor_document, register_vendor_model
from services.registry.adapter import Registry
from services.store.engine import session_scope
from services.store.models import AliasChange

NAME = "northwind-bureau-score"  # sorts after the demo's own models: pickers open on credit-risk
VENDOR = "Northwind Credit Bureau"
RELEASE = "4.2"
THRESHOLD = 0.55
INPUTS = {"income": "double", "debt_ratio": "double", "accounts_open": "long",
          "region": "string", "age": "long"}
DAYS = 42
DRIFT_DAYS = 14  # incomes move in the last fortnight
HOLDOUT_ROWS = 2_000
_REGIONS = ["north", "south", "east", "west"]
SERVING = Principal(SEED_ACTOR, "Demo seed (serving system)", frozenset({Role.INGEST}))
DOCUMENTS = (
    ("Model documentation, release 4.2", "northwind-bureau-score-4.2.md",
     "# Northwind Bureau Score 4.2\n\nGradient-boosted repayment score trained on 2.1 million "
     "bureau files (2019-2025). Inputs: income, debt ratio, open accounts, region, age band. "
     "Output: probability of repaying a small loan within 12 months.\n\nKnown limits: thin "
     "files (fewer than two accounts) score towards the mean.\n"),
    ("Independent validation summary 2026", "northwind-validation-2026.md",
     "# Validation summary\n\nDiscrimination on the 2025 out-of-time sample: ROC AUC 0.81. "
     "Calibration within 0.03 by decile. Adverse impact ratio by age band 0.86.\n"),
)


def applicants(n: int, rng: np.random.Generator, income_shift: float = 0.0) -> pd.DataFrame:
    """Applicants as the bureau sees them, its score (P(repaid)) and whether they repaid."""
    frame = pd.DataFrame({
        "income": np.round(rng.lognormal(3.6, 0.35, n) + income_shift, 2),
        "debt_ratio": np.round(rng.beta(2, 5, n), 3),
        "accounts_open": rng.poisson(4, n),
        "region": rng.choice(_REGIONS, n, p=[0.3, 0.3, 0.2, 0.2]),
        "age": rng.integers(19, 76, n),
    })
    margin = (0.04 * (frame["income"] - 38) - 4.0 * (frame["debt_ratio"] - 0.28)
              + 0.12 * (frame["accounts_open"] - 4) + 0.015 * (frame["age"] - 40) + 0.4)
    frame["score"] = np.round(1 / (1 + np.exp(-margin)), 6)
    truth = 1 / (1 + np.exp(-(margin * 0.9 + rng.normal(0, 0.3, n))))
    frame["repaid"] = (rng.random(n) < truth).astype(int)
    return frame


def seed_vendor_model(*, engine: Engine, registry: Registry, policy: Policy, artifact_root: Path,
                      now: datetime, seed: int, scale: float,
                      progress: Callable[[str], None]) -> int:
    """Register, document, evidence and feed the vendor model; returns its decisions' count.

    scale: the demo size's share of the standard demo's traffic (1.0 is 6,000 decisions;
    never fewer than 1,500, so each week's groups are large enough to judge)."""
    rng = np.random.default_rng(seed + 42)
    amara = demo_persona("model_owner").principal
    progress(f"Registering {NAME}, {VENDOR}'s repayment score (a vendor model: no artifact)")
    with tempfile.TemporaryDirectory() as folder:
        holdout = Path(folder) / "scored-holdout.parquet"
        applicants(HOLDOUT_ROWS, rng).to_parquet(holdout)
        version = register_vendor_model(
            engine=engine, registry=registry, actor=amara, name=NAME, vendor=VENDOR,
            vendor_version=RELEASE, owner=amara.id, risk_tier="medium", inputs=INPUTS,
            purpose="The bureau's probability that an applicant repays a small loan, used "
                    "beside credit-risk for applicants with a thin file.",
            label="repaid", positive_label="1", sensitive_features="age",
            limitations="Trained and scored by the bureau on its own files: the console "
                        "cannot replay or explain its decisions; thin files score towards "
                        "the mean.",
            decision_threshold=THRESHOLD, scored_holdout=holdout,
            artifact_root=artifact_root).version
    for title, file_name, text in DOCUMENTS:
        record_vendor_document(engine=engine, registry=registry, actor=amara, model_name=NAME,
                               title=title, file_name=file_name, content=text.encode(),
                               version=version, received_on=(now - timedelta(days=60)).date())
    progress(f"Evidence for {NAME} v{version} from the hold-out set the bureau scored")
    run_evidence(engine=engine, registry=registry, policy=policy,
                 actor=demo_persona("risk_manager").principal, model_name=NAME,
                 version=version)
    start = now - timedelta(days=DAYS)
    registry.set_alias(NAME, "champion", version)
    with session_scope(engine) as session:
        session.add(AliasChange(model_name=NAME, alias="champion", version=version,
                                previous_version=None, changed_at=start, changed_by=SEED_ACTOR,
                                reason="Demo history: in service since the contract began"))
    decisions, outcomes = _traffic(version, start, now, max(1_500, round(6_000 * scale)), rng,
                                   policy.for_tier("medium").confidence_margin)
    progress(f"Ingesting {len(decisions):,} {NAME} decisions and {len(outcomes):,} repayments "
             "through the ordinary ingest")
    record_decisions(engine=engine, registry=registry, actor=SERVING, decisions=decisions,
                     source="demo: the bureau's serving system")
    record_outcomes(engine=engine, actor=SERVING, outcomes=outcomes,
                    source="demo: loan servicing")
    return len(decisions)


def _traffic(version: str, start: datetime, now: datetime, n: int, rng: np.random.Generator,
             margin: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    offsets = np.sort(rng.uniform(0, DAYS * 86_400 - 3_600, n))
    times = [start + timedelta(seconds=float(s)) for s in offsets]
    drift_from = now - timedelta(days=DRIFT_DAYS)
    late = sum(t >= drift_from for t in times)  # the times are in order: the last ones
    frame = pd.concat([applicants(n - late, rng), applicants(late, rng, income_shift=14.0)],
                      ignore_index=True)
    decisions, outcomes = [], []
    for i, (t, row) in enumerate(zip(times, frame.to_dict("records"), strict=True)):
        score = float(row["score"])
        low = abs(score - THRESHOLD) < margin
        outcome = "escalated" if low else ("approved" if score >= THRESHOLD else "declined")
        decision_id = f"bs-{i:06d}"
        decisions.append({
            "decision_id": decision_id, "model_name": NAME, "model_version": version,
            "decided_at": t, "subject_ref": f"APP-B{100_000 + i}",
            "features": {k: _plain(row[k]) for k in INPUTS}, "score": score,
            "threshold": THRESHOLD, "outcome": outcome,
            "escalation_reason": "low_confidence" if low else None})
        observed = t + timedelta(days=21)
        if outcome == "approved" and observed <= now:  # repayment is seen for loans made
            outcomes.append({"decision_id": decision_id, "label": int(row["repaid"]),
                             "observed_at": observed})
    return decisions, outcomes


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
