"""Policy gates from stored evidence: the demo's champion passes, its challenger does not."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine

from services.cli.main import main
from services.core.errors import GovernanceError
from services.core.policy import load_policy
from services.core.principal import Principal, Role
from services.core.settings import PROJECT_ROOT, Settings
from services.evidence.gates import GateReport, gates_for_version
from services.evidence.run import run_evidence
from services.registry.adapter import Registry
from services.store.engine import make_engine, session_scope
from tests.factories import behind_the_apps_back


def _gates(settings: Settings, model: str, version: str) -> GateReport:
    with session_scope(make_engine(settings.database_url)) as session:
        return gates_for_version(session=session, registry=Registry(settings.mlflow_tracking_uri),
                                 policy=load_policy(settings.policy_path), model_name=model,
                                 version=version)


def test_the_demo_champion_passes_every_gate(demo_env: Settings) -> None:
    report = _gates(demo_env, "credit-risk", "2")
    assert report.passed, report.failing
    assert report.risk_tier == "high"
    assert any(r.gate == "four-fifths ratio by sex" for r in report.results)


def test_the_demo_challenger_fails_the_four_fifths_gate_by_sex(demo_env: Settings) -> None:
    report = _gates(demo_env, "credit-risk", "3")
    failing = {r.gate: r for r in report.failing}
    gate = failing["four-fifths ratio by sex"]
    assert gate.status == "fail" and gate.figure is not None and gate.figure < 0.8
    assert gate.bound == 0.8 and gate.clause == "tiers.high.fairness_bounds.four_fifths_ratio_min"
    assert gate.detail.startswith("female against male")


def test_a_model_outside_the_contract_fails_closed(demo_env: Settings) -> None:
    report = _gates(demo_env, "marketing-propensity", "1")
    statuses = {r.gate: r.status for r in report.results}
    assert statuses["contract: code version"] == "fail"
    assert statuses["evaluation evidence"] == "missing_evidence"
    assert not report.passed


def test_the_store_refuses_to_change_or_remove_an_evidence_record(engine: Engine) -> None:
    from sqlalchemy import delete, select, update

    from services.evidence.records import add_evidence
    from services.store.models import Evidence

    with session_scope(engine) as session:
        add_evidence(session=session, kind="evaluation", model_name="loan-approval",
                     model_version="2", data_sha256="a" * 64, payload={"metrics": {}},
                     policy_sha256="0" * 64, code_version="abc", created_by="val")
    for statement in (update(Evidence).values(payload={"metrics": {"roc_auc": 0.99}}),
                      delete(Evidence)):
        with pytest.raises(GovernanceError) as refused, session_scope(engine) as session:
            session.execute(statement)
        assert "append-only" in f"{refused.value.message} {refused.value.hint}"
    with session_scope(engine) as session:
        assert session.scalar(select(Evidence.payload)) == {"metrics": {}}


def test_a_payload_changed_behind_the_apps_back_fails_its_gate(
        engine: Engine, registry_uri: str) -> None:
    policy = load_policy(PROJECT_ROOT / "policy.toml")
    registry = Registry(registry_uri)
    run_evidence(engine=engine, registry=registry, policy=policy,
                 actor=Principal("v", "V", frozenset({Role.VALIDATOR})),
                 model_name="loan-approval", version="2")
    behind_the_apps_back(engine, "evidence", "UPDATE evidence SET payload = :p "
                         "WHERE kind = 'evaluation'", p='{"metrics": {"roc_auc": 0.99}}')
    with session_scope(engine) as session:
        report = gates_for_version(session=session, registry=registry, policy=policy,
                                   model_name="loan-approval", version="2")
    gate = next(r for r in report.results if r.gate == "evaluation evidence")
    assert gate.status == "fail" and "no longer matches its SHA-256" in gate.detail


def test_govern_gates_exits_zero_only_when_every_gate_passes(
        demo_env: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gates", "credit-risk", "2"]) == 0
    assert "PASSED" in capsys.readouterr().out
    assert main(["gates", "credit-risk", "3", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is False
    assert {"gate", "status", "figure", "bound", "clause"} <= set(report["results"][0])


def test_govern_evaluate_json_prints_the_stored_records(
        demo_copy: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "fraud-screening", "2", "--json"]) == 0
    stored = json.loads(capsys.readouterr().out)
    assert stored["evaluation"]["kind"] == "evaluation"
    assert len(stored["evaluation"]["data_sha256"]) == 64
    assert stored["fairness"]["payload"]["favourable_prediction"] == 0  # not flagged is good


def test_govern_evaluate_explains_bad_input(demo_env: Settings,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "marketing-propensity", "1"]) == 2
    assert "has no label, positive_label, sensitive_features tag" in capsys.readouterr().err
