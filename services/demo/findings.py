"""The demo's findings, raised and worked through the same services people use: a closed one
on the champion (credit-risk v2, worked by its owner and closed by a second validator) and an
open high-severity fairness finding on the challenger (v3), which fails its findings gate."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from services.core.clock import utcnow
from services.core.principal import demo_persona
from services.evidence.findings import Category, FindingStatus, Severity
from services.evidence.records import latest_evidence
from services.governance.findings import (
    ReviewVerdict,
    raise_finding,
    review_finding,
    work_finding,
)
from services.registry.adapter import Registry
from services.store.engine import session_scope

MODEL = "credit-risk"


def seed_findings(*, engine: Engine, registry: Registry) -> None:
    """Raise the demo's two findings (needs the versions' evidence run first)."""
    priya = demo_persona("risk_manager").principal
    kenji = demo_persona("validator").principal
    amara = demo_persona("model_owner").principal
    today = utcnow().date()
    with session_scope(engine) as session:
        champion = latest_evidence(session=session, model_name=MODEL, model_version="2")
        challenger = latest_evidence(session=session, model_name=MODEL, model_version="3")
    closed = raise_finding(
        engine=engine, registry=registry, actor=priya, model_name=MODEL, version="2",
        title="Calibration not shown for the top score decile",
        description="The evaluation reports calibration overall but not for the highest "
                    "scores, where most approvals are made.",
        severity=Severity.MEDIUM, category=Category.PERFORMANCE,
        due_on=today + timedelta(days=60),
        remediation_plan="Add the calibration curve by decile to the evaluation evidence.",
        evidence_ids=[champion["evaluation"].id] if "evaluation" in champion else [])
    for status in (FindingStatus.REMEDIATION_IN_PROGRESS, FindingStatus.READY_FOR_REVIEW):
        work_finding(engine=engine, registry=registry, actor=amara, finding_id=closed.id,
                     status=status, note="Calibration by decile is on the evidence page; the "
                     "top decile is within 0.02 of observed default rates.")
    review_finding(engine=engine, registry=registry, actor=kenji, finding_id=closed.id,
                   verdict=ReviewVerdict.CLOSE, note="Checked the decile curve on the "
                   "hold-out: calibrated where approvals are made.")
    raise_finding(
        engine=engine, registry=registry, actor=priya, model_name=MODEL, version="3",
        title="Approval rate by sex below the four-fifths rule",
        description="On the hold-out, women are approved at under 0.8 times the rate of men; "
                    "the history feature appears to carry the gap.",
        severity=Severity.HIGH, category=Category.FAIRNESS, due_on=today + timedelta(days=30),
        remediation_plan="Retrain without the history proxy or reweight; rerun fairness.",
        evidence_ids=[challenger["fairness"].id] if "fairness" in challenger else [])
