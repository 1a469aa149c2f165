"""Typed payloads: what the store holds as JSON (evidence payloads, gate results frozen on a
promotion request) reads back as typed models, byte for byte, including records written by the
previous code and records lacking keys added since."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import Engine, select

from services.core.canonical import canonical_json
from services.core.errors import InvalidInput
from services.core.policy import load_policy
from services.core.principal import Principal, Role
from services.core.settings import PROJECT_ROOT
from services.decisions.daily_profiles import reference_profile
from services.evidence.gates import GateResult, GateStatus, evaluate_gates, gates_for_version
from services.evidence.payloads import (
    ClassificationEvaluation,
    FairnessPayload,
    ReferenceProfilePayload,
    read_evaluation,
)
from services.evidence.records import EvidenceRecord, add_evidence, evidence_history
from services.evidence.run import run_evidence
from services.governance.model_card import build_model_card
from services.governance.promotions.views import list_promotions
from services.registry.adapter import Registry
from services.registry.contract import ContractReport
from services.store.engine import make_engine, session_scope
from services.store.migrate import upgrade
from services.store.models import PromotionRequest

LEGACY_DUMP = Path(__file__).parent / "data" / "store_at_0007.sql"
POLICY = load_policy(PROJECT_ROOT / "policy.toml")
VALIDATOR = Principal("v", "V", frozenset({Role.VALIDATOR}))


@pytest.fixture
def legacy_store(tmp_path: Path) -> Engine:
    """A store written by the code before typed payloads (commit 68e7c5a), migrated to head."""
    path = tmp_path / "legacy.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(LEGACY_DUMP.read_text())
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def _records(engine: Engine) -> list[EvidenceRecord]:
    with session_scope(engine) as session:
        return [r for version in ("1", "2")
                for r in evidence_history(session=session, model_name="loan-approval",
                                          model_version=version)]


def _typed(record: EvidenceRecord) -> BaseModel:
    readers = {"evaluation": record.evaluation, "fairness": record.fairness,
               "reference_profile": record.reference_profile}
    return readers[record.kind]()


def _untyped(value: Any, where: str = "payload") -> list[str]:
    """Keys a model kept as extras (not typed), anywhere in it."""
    if isinstance(value, BaseModel):
        found = [f"{where}.{key}" for key in value.model_extra or {}]
        return found + [name for field in type(value).model_fields
                        for name in _untyped(getattr(value, field), f"{where}.{field}")]
    if isinstance(value, dict):
        return [name for key, item in value.items() for name in _untyped(item, f"{where}.{key}")]
    if isinstance(value, tuple | list):
        return [name for i, item in enumerate(value) for name in _untyped(item, f"{where}[{i}]")]
    return []


def test_evidence_written_by_the_previous_code_reads_typed_to_the_same_bytes(
        legacy_store: Engine) -> None:
    records = _records(legacy_store)
    assert sorted(r.kind for r in records) == ["evaluation", "evaluation", "fairness",
                                               "fairness", "reference_profile",
                                               "reference_profile"]
    for record in records:
        typed = _typed(record)
        assert canonical_json(typed.model_dump(mode="json", exclude_unset=True)) == \
            canonical_json(record.payload), record.kind
        assert record.intact and not _untyped(typed), record.kind
    evaluation = next(r for r in records if r.kind == "evaluation").evaluation()
    assert isinstance(evaluation, ClassificationEvaluation)
    assert evaluation.metrics.roc_auc is not None and 0.5 < evaluation.metrics.roc_auc <= 1
    assert evaluation.confusion_matrix.tp + evaluation.confusion_matrix.fn > 0
    fairness = next(r for r in records if r.kind == "fairness").fairness()
    assert fairness.features["group"].summary.least_favoured_group in {"a", "b"}


def test_gates_frozen_by_the_previous_code_read_as_typed_results(legacy_store: Engine) -> None:
    with session_scope(legacy_store) as session:
        [view] = list_promotions(session=session, model_name="loan-approval")
        stored = session.scalars(select(PromotionRequest.gate_results)).one()
    assert all(isinstance(g, GateResult) and g.status is GateStatus.PASS
               for g in view.gate_results)
    assert view.failing_gates == ()
    # Written back as they were frozen: the evidence-age bound stays the whole number 180.
    assert [g.as_stored() for g in view.gate_results] == stored
    assert canonical_json([g.as_stored() for g in view.gate_results]) == canonical_json(stored)


def test_fairness_gates_on_records_written_before_rates_were_judged_apart_keep_their_verdicts(
        legacy_store: Engine) -> None:
    with session_scope(legacy_store) as session:
        frozen = {g["gate"]: g for g in session.scalars(select(PromotionRequest.gate_results))
                  .one() if " by " in g["gate"]}
        now = evaluate_gates(session=session, policy=POLICY, model_name="loan-approval",
                             version="2", risk_tier="high", contract=ContractReport(()))
    again = {r.gate: r for r in now.results if r.gate in frozen}
    assert len(again) == len(frozen) == 4
    for gate, result in again.items():
        assert (result.status, result.figure, result.detail) == (
            frozen[gate]["status"], frozen[gate]["figure"], frozen[gate]["detail"]), gate


def test_a_reference_profile_written_by_the_previous_code_still_serves_drift(
        legacy_store: Engine) -> None:
    with legacy_store.connect() as connection:
        profile = reference_profile(connection, "loan-approval", "2")
    assert profile is not None and profile.inputs
    assert all(f.rows > 0 and len(f.coarse) == len(f.coarse_edges) + 1 for f in profile.inputs)


def test_payloads_lacking_keys_added_since_read_with_defaults_and_write_back_without_them(
        legacy_store: Engine) -> None:
    records = {r.kind: r for r in _records(legacy_store)}
    reference = {k: v for k, v in records["reference_profile"].payload.items()
                 if k != "sensitive"}  # written before sensitive inputs were profiled
    read = ReferenceProfilePayload.from_stored(reference, what="test")
    assert read.sensitive == () and read.as_stored() == reference
    # Records made outside an evidence run carry no run context and no data profile.
    bare = {k: v for k, v in records["evaluation"].payload.items()
            if k not in ("data", "model_name", "model_version", "holdout_artifact",
                         "policy_version", "risk_tier")}
    evaluation = read_evaluation(bare, what="test")
    assert evaluation.data is None and evaluation.model_name is None
    assert evaluation.as_stored() == bare


def test_fresh_evidence_is_typed_in_every_key_and_reads_back_to_the_same_bytes(
        engine: Engine, registry_uri: str) -> None:
    run_evidence(engine=engine, registry=Registry(registry_uri), policy=POLICY, actor=VALIDATOR,
                 model_name="loan-approval", version="2")
    with session_scope(engine) as session:
        records = evidence_history(session=session, model_name="loan-approval",
                                   model_version="2")
    assert {r.kind for r in records} == {"evaluation", "fairness", "reference_profile"}
    for record in records:
        typed = _typed(record)
        assert _untyped(typed) == [], record.kind
        assert canonical_json(typed.model_dump(mode="json", exclude_unset=True)) == \
            canonical_json(record.payload)
    fairness = next(r for r in records if r.kind == "fairness").fairness()
    assert isinstance(fairness, FairnessPayload) and fairness.model_version == "2"


def test_a_payload_without_its_kinds_shape_fails_its_gates_closed_and_leaves_the_card_blank(
        engine: Engine, registry_uri: str) -> None:
    registry = Registry(registry_uri)
    with session_scope(engine) as session:
        record = add_evidence(session=session, kind="evaluation", model_name="loan-approval",
                              model_version="2", data_sha256="a" * 64,
                              payload={"metrics": {"roc_auc": 0.99}},
                              policy_sha256=POLICY.sha256, code_version="abc", created_by="val")
    with pytest.raises(InvalidInput, match="cannot be read as evaluation evidence"):
        record.evaluation()
    with pytest.raises(InvalidInput, match="not fairness evidence"):
        record.fairness()
    with session_scope(engine) as session:
        report = gates_for_version(session=session, registry=registry, policy=POLICY,
                                   model_name="loan-approval", version="2")
        card = build_model_card(session=session, registry=registry, policy=POLICY,
                                model_name="loan-approval", version="2")
    gate = next(r for r in report.results if r.gate == "roc_auc")
    assert gate.status is GateStatus.FAIL and "cannot be read" in gate.detail
    assert gate.evidence_id == record.id and not report.passed
    assert card.evaluation is None and card.metrics == {}
