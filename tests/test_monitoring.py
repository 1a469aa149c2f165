"""`govern monitor`, alerts with owners, acknowledgement, and `govern drift --json`."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select

from services.cli.main import main
from services.core.clock import utcnow
from services.core.errors import InvalidInput, PermissionDenied
from services.core.policy import load_policy
from services.core.principal import Principal, Role
from services.core.settings import Settings
from services.monitoring.alerts import acknowledge_alert, list_alerts
from services.monitoring.monitor import monitor
from services.registry.adapter import Registry
from services.store.engine import make_engine, session_scope
from services.store.models import Alert, AuditEvent

OWNER = Principal("demo.jonas", "Jonas", frozenset({Role.MODEL_OWNER}))
ANALYST = Principal("ana", "Ana", frozenset({Role.ANALYST}))
NOTE = "Retraining on the last 30 days with the new merchant category included."


def test_the_demos_drift_has_an_open_alert_owned_by_the_models_owner(
        demo_copy: Settings) -> None:
    engine = make_engine(demo_copy.database_url)
    report = monitor(engine=engine, registry=Registry(demo_copy.mlflow_tracking_uri),
                     policy=load_policy(demo_copy.policy_path), actor=OWNER)
    assert not report.opened  # the demo build already opened them: no duplicates
    assert "drift" in {f.kind for f in report.findings["fraud-screening"]}
    with session_scope(engine) as session:
        drift = next(a for a in list_alerts(session=session)
                     if a.model_name == "fraud-screening" and a.kind == "drift")
    assert drift.owner == "demo.jonas" and drift.figure is not None and drift.bound is not None
    assert drift.figure >= drift.bound and "amount" in drift.message


def _alert(engine: Engine) -> int:
    with session_scope(engine) as session:
        alert = Alert(model_name="m", model_version="1", kind="drift", severity="high",
                      owner="demo.jonas", figure=0.6, bound=0.5, message="drifted",
                      opened_at=utcnow(), status="open")
        session.add(alert)
        session.flush()
        return alert.id


def test_an_owner_acknowledges_with_an_action_and_it_is_audited(engine: Engine) -> None:
    alert_id = _alert(engine)
    done = acknowledge_alert(engine=engine, actor=OWNER, alert_id=alert_id, action="retrain",
                             note=NOTE)
    assert done.status == "acknowledged" and done.acknowledged_by == "demo.jonas"
    with pytest.raises(InvalidInput, match="already acknowledged"):
        acknowledge_alert(engine=engine, actor=OWNER, alert_id=alert_id, action="accept",
                          note=NOTE)
    with session_scope(engine) as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["alert.acknowledged", "alert.acknowledge.refused"]


@pytest.mark.parametrize(("actor", "action", "note", "error"), [
    (ANALYST, "retrain", NOTE, PermissionDenied),
    (OWNER, "ignore", NOTE, InvalidInput),
    (OWNER, "accept", "fine", InvalidInput),
])
def test_an_acknowledgement_needs_the_role_an_action_and_a_reason(
        engine: Engine, actor: Principal, action: str, note: str, error: type) -> None:
    alert_id = _alert(engine)
    with pytest.raises(error):
        acknowledge_alert(engine=engine, actor=actor, alert_id=alert_id, action=action,
                          note=note)
    with session_scope(engine) as session:
        assert session.get(Alert, alert_id).status == "open"  # type: ignore[union-attr]


def test_govern_drift_json_prints_each_inputs_statistics(
        demo_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", "fraud-screening", "--days", "14", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    amount = next(f for f in report["features"] if f["feature"] == "amount")
    assert {"psi", "js", "ks", "wasserstein", "drifted"} <= set(amount)
    assert report["dataset_drift"] is True and report["version"] == "1"


def test_a_model_whose_scores_no_longer_rank_outcomes_gets_a_performance_alert(
        engine: Engine, registry_uri: str) -> None:
    from datetime import timedelta

    import numpy as np
    from sqlalchemy import insert

    from services.core.settings import PROJECT_ROOT
    from services.store.models import Decision, IngestBatch, Outcome
    from tests.factories import decision_row

    rng = np.random.default_rng(5)
    scores = rng.random(400)
    now = utcnow()
    with session_scope(engine) as session:
        batch = IngestBatch(kind="decisions", source="test", content_sha256="1" * 64,
                            ingested_by="test", ingested_at=now)
        session.add(batch)
        session.flush()
        session.execute(insert(Decision), [decision_row(
            f"d-{i}", model_name="loan-approval", model_version="2", score=float(s),
            decided_at=now - timedelta(days=1 + i % 60), batch_id=batch.id)
            for i, s in enumerate(scores)])
        # The outcomes run against the scores: the model ranks people backwards now.
        session.execute(insert(Outcome), [
            {"decision_id": f"d-{i}", "label": float(s < 0.5), "observed_at": now,
             "model_name": "loan-approval"} for i, s in enumerate(scores)])
    report = monitor(engine=engine, registry=Registry(registry_uri),
                     policy=load_policy(PROJECT_ROOT / "policy.toml"), actor=OWNER)
    performance = next(f for f in report.findings["loan-approval"] if f.kind == "performance")
    assert performance.figure is not None and performance.figure < 0.1
    assert performance.bound == 0.70 and "400 decisions" in performance.message


def test_a_versions_performance_is_judged_on_its_own_outcomes_only(demo_env: Settings) -> None:
    from datetime import timedelta

    from sqlalchemy import func

    from services.monitoring.assessment import PERFORMANCE_DAYS, assess
    from services.store.models import Decision, Outcome

    policy = load_policy(demo_env.policy_path)
    now = utcnow()
    with session_scope(make_engine(demo_env.database_url)) as session:
        per_version = dict(session.execute(
            select(Decision.model_version, func.count())
            .select_from(Outcome).join(Decision, Decision.decision_id == Outcome.decision_id)
            .where(Outcome.model_name == "credit-risk", Decision.shadow.is_(False),
                   Decision.score.is_not(None),
                   Decision.decided_at >= now - timedelta(days=PERFORMANCE_DAYS))
            .group_by(Decision.model_version)).all())
        judged = assess(session=session, model_name="credit-risk", version="2",
                        tier=policy.for_tier("high"), as_of=now, gates=None)
    assert len(per_version) > 1  # the demo's window holds outcomes of more than one version
    reason = judged.pillars["performance"].reason
    assert "v2" in reason or "Estimated" in reason or "estimate" in reason
    assert f"{sum(per_version.values()):,} decisions" not in reason
