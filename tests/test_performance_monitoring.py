"""Estimated performance in `govern monitor` (an alert when the band lies wholly below the
floor) and in `govern performance`, over a real registry, store and the demo workspace."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from services.cli.main import main
from services.core.clock import utcnow
from services.core.policy import load_policy
from services.core.principal import Principal, Role
from services.core.settings import PROJECT_ROOT, Settings
from services.decisions.daily_profiles import DailyProfiler
from services.evidence.profile import reference_payload
from services.evidence.records import add_evidence
from services.monitoring.alerts import list_alerts
from services.monitoring.monitor import monitor
from services.registry.adapter import Registry
from services.store.engine import session_scope
from tests.factories import decision_row

OWNER = Principal("demo.jonas", "Jonas", frozenset({Role.MODEL_OWNER}))


def _weak_model_with_traffic(engine: Engine, rng: np.random.Generator) -> None:
    """loan-approval v2, whose hold-out shows its scores barely rank outcomes, with a week of
    decisions and no outcome yet."""
    scores = rng.random(5_000)
    labels = (rng.random(5_000) < 0.3 + 0.05 * scores).astype(int)
    with session_scope(engine) as session:
        add_evidence(session=session, kind="reference_profile", model_name="loan-approval",
                     model_version="2", data_sha256="0" * 64,
                     payload=reference_payload(pd.DataFrame({"income": rng.normal(50, 10,
                                                                                  5_000)}),
                                               scores, labels, 0.5),
                     policy_sha256="0" * 64, code_version=None, created_by="test")
        now = utcnow()
        rows = [decision_row(f"d-{i}", model_name="loan-approval", model_version="2",
                             score=float(s), decided_at=now - timedelta(hours=1 + i % 100),
                             features={"income": float(rng.normal(50, 10))})
                for i, s in enumerate(rng.random(2_000))]
        profiler = DailyProfiler(session.connection())
        profiler.add(rows)
        profiler.write()


def test_monitor_opens_an_alert_when_the_estimates_band_lies_below_the_floor(
        engine: Engine, registry_uri: str) -> None:
    _weak_model_with_traffic(engine, np.random.default_rng(11))
    report = monitor(engine=engine, registry=Registry(registry_uri),
                     policy=load_policy(PROJECT_ROOT / "policy.toml"), actor=OWNER)
    finding = next(f for f in report.findings["loan-approval"]
                   if f.kind == "performance_estimate")
    assert finding.bound == 0.70 and finding.figure is not None and finding.figure < 0.6
    assert "estimated ROC AUC" in finding.message and "2,000 decisions" in finding.message
    with session_scope(engine) as session:
        alerts = [a for a in list_alerts(session=session) if a.kind == "performance_estimate"]
    assert len(alerts) == 1 and alerts[0].model_version == "2"
    again = monitor(engine=engine, registry=Registry(registry_uri),
                    policy=load_policy(PROJECT_ROOT / "policy.toml"), actor=OWNER)
    assert not [a for a in again.opened if a.kind == "performance_estimate"]  # not twice


def test_govern_performance_estimates_the_demos_recent_weeks_before_their_outcomes(
        demo_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["performance", "credit-risk", "--days", "28", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["window"]["version"] == "2" and report["window"]["threshold"] == 0.5
    auc = report["window"]["estimate"]["figures"]["roc_auc"]
    assert auc["low"] <= auc["estimate"] <= auc["high"]
    # Credit outcomes take 30 to 60 days: the last weeks are estimated, none of them labelled.
    recent = report["weeks"][-1]
    assert recent["estimate"]["judged"] and recent["realised"]["labelled"] == 0
    assert recent["estimate"]["figures"]["roc_auc"]["estimate"] is not None
    assert "concept drift" in report["assumptions"]


def test_govern_performance_prints_the_estimate_beside_the_realised_figures(
        demo_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["performance", "fraud-screening", "--days", "21"]) == 0
    out = capsys.readouterr().out
    assert "fraud-screening v1" in out and "ROC AUC" in out and "labelled" in out
    assert "Calibration on the hold-out" in out and "concept drift" in out
    assert "expected at the threshold: TP" in out


def test_govern_performance_names_an_unknown_version(
        demo_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["performance", "credit-risk", "--version", "9"]) == 2
    assert "9" in capsys.readouterr().err
