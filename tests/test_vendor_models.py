"""Vendor models on SQLite and PostgreSQL against a real MLflow registry: registered without an
artifact, documents kept with their SHA-256, evidence from a hold-out set the vendor scored,
decisions ingested and watched for drift and fairness over time, and a case file that says why
nothing is replayed or explained."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, select

from services.core.clock import utcnow
from services.core.errors import InvalidInput, PermissionDenied
from services.core.policy import load_policy
from services.core.principal import Principal, Role
from services.core.settings import PROJECT_ROOT
from services.decisions.case_file import case_file
from services.decisions.ingest import record_decisions
from services.decisions.why import explain_case, prepare_explainer
from services.evidence.records import latest_evidence
from services.evidence.run import run_evidence
from services.governance.accounts import add_user
from services.governance.model_card import build_model_card
from services.governance.vendors import (
    document_content,
    record_vendor_document,
    register_vendor_model,
    vendor_documents,
)
from services.monitoring.drift import drift_window
from services.monitoring.fairness_watch import selection
from services.registry.adapter import Registry
from services.reports.card import card_dict, card_pdf, card_sections
from services.reports.letter import case_pdf
from services.store.engine import make_engine, session_scope
from services.store.migrate import upgrade
from services.store.models import AuditEvent, Decision

MODEL = "bureau-score"
OWNER = Principal("olga", "Olga (owns the model)", frozenset({Role.MODEL_OWNER}))
ANALYST = Principal("ana", "Ana", frozenset({Role.ANALYST}))
VALIDATOR = Principal("victor", "Victor", frozenset({Role.VALIDATOR}))
INGEST = Principal("svc", "Serving system", frozenset({Role.INGEST}))
INPUTS = {"income": "double", "debt": "double", "region": "string", "group": "string"}
POLICY = load_policy(PROJECT_ROOT / "policy.toml")


def scored_frame(seed: int, rows: int = 600, income_shift: float = 0.0) -> pd.DataFrame:
    """Applicants as the vendor's service saw them, with its score and the outcome."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"income": rng.normal(50 + income_shift, 10, rows),
                          "debt": rng.normal(10, 3, rows),
                          "region": rng.choice(["north", "south"], rows),
                          "group": rng.choice(["a", "b"], rows)})
    margin = (frame["income"] - 2 * frame["debt"] - 30) / 6
    frame["score"] = 1 / (1 + np.exp(-margin))
    frame["y"] = (rng.random(rows) < frame["score"]).astype(int)
    return frame


def _register(engine: Engine, registry: Registry, actor: Principal = OWNER,
              **changes: Any) -> str:
    fields: dict[str, Any] = {
        "name": MODEL, "vendor": "Northwind Credit Bureau", "vendor_version": "4.2",
        "purpose": "A bureau's score of an applicant's repayment, used to decide small loans.",
        "owner": "olga", "risk_tier": "medium", "inputs": INPUTS, "label": "y",
        "positive_label": "1", "sensitive_features": "group", "decision_threshold": 0.5}
    return register_vendor_model(engine=engine, registry=registry, actor=actor,
                                 **{**fields, **changes}).version


@pytest.fixture(scope="module")
def vendor_registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """A registry of its own holding the vendor model's version 1 (registered once, through a
    throwaway store: the registry is what the tests share, never a store)."""
    folder = tmp_path_factory.mktemp("vendor")
    registry = Registry(f"sqlite:///{folder / 'mlflow.db'}")
    store = make_engine(f"sqlite:///{folder / 'setup.db'}")
    upgrade(store)
    _owner_account(store)
    _register(store, registry, artifact_root=folder / "mlartifacts")
    store.dispose()
    return registry


def _owner_account(engine: Engine) -> None:
    """The model's owner must be an account that may own a model."""
    add_user(engine=engine, actor=Principal("adam", "Adam", frozenset({Role.ADMIN})),
             username="olga", password="a long password 1", roles=frozenset({Role.MODEL_OWNER}))


def _actions(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _decisions(frame: pd.DataFrame, *, start_days_ago: int, days: int) -> list[dict[str, Any]]:
    now = utcnow()
    rows = []
    for i, (_, r) in enumerate(frame.iterrows()):
        decided = now - timedelta(days=start_days_ago - i % days, hours=1)
        rows.append({"decision_id": f"v-{start_days_ago}-{i}", "model_name": MODEL,
                     "model_version": "1", "decided_at": decided, "subject_ref": f"A-{i}",
                     "features": {n: r[n] for n in INPUTS}, "score": float(r["score"]),
                     "threshold": 0.5,
                     "outcome": "approved" if r["score"] >= 0.5 else "declined"})
    return rows


def test_a_registered_vendor_model_carries_its_tags_and_no_artifact(
        vendor_registry: Registry) -> None:
    model = vendor_registry.get_model(MODEL)
    assert model.is_vendor and model.owner == "olga" and model.risk_tier == "medium"
    assert model.tags["vendor"] == "Northwind Credit Bureau"
    lineage = vendor_registry.lineage(MODEL, "1")
    assert lineage.vendor_version == "4.2"
    assert vendor_registry.input_schema(MODEL, "1") == INPUTS
    assert lineage.model_format is not None and lineage.model_format.flavors == ()
    with pytest.raises(InvalidInput, match="vendor model: the console holds no artifact"):
        vendor_registry.load_version(MODEL, "1")


def test_registering_is_audited_and_refused_for_an_analyst(engine: Engine,
                                                           tmp_path: Path) -> None:
    registry = Registry(f"sqlite:///{tmp_path / 'mlflow.db'}")
    _owner_account(engine)
    with pytest.raises(PermissionDenied):
        _register(engine, registry, actor=ANALYST)
    root = tmp_path / "mlartifacts"
    assert _register(engine, registry, artifact_root=root) == "1"
    # The vendor's new release: a new registry version, a material change.
    assert _register(engine, registry, vendor_version="4.3", artifact_root=root) == "2"
    assert len(list(root.glob("*/artifacts/model/MLmodel"))) == 2
    assert registry.lineage(MODEL, "2").vendor_version == "4.3"
    assert [a for a in _actions(engine) if a.startswith("vendor")] == [
        "vendor_model.register.refused", "vendor_model.registered", "vendor_model.registered"]


def test_a_document_is_kept_with_the_sha256_of_its_bytes(engine: Engine,
                                                         vendor_registry: Registry) -> None:
    content = b"%PDF-1.4 Northwind model documentation, release 4.2\n" * 40
    recorded = record_vendor_document(engine=engine, registry=vendor_registry, actor=OWNER,
                                      model_name=MODEL, title="Model documentation 4.2",
                                      file_name="../northwind-4.2.pdf", content=content)
    assert recorded.sha256 == hashlib.sha256(content).hexdigest()
    assert (recorded.file_name, recorded.size_bytes) == ("northwind-4.2.pdf", len(content))
    with session_scope(engine) as session:
        assert [d.id for d in vendor_documents(session=session, model_name=MODEL)] == \
            [recorded.id]
        _, stored = document_content(session=session, document_id=recorded.id)
    assert stored == content
    with pytest.raises(PermissionDenied):
        record_vendor_document(engine=engine, registry=vendor_registry, actor=VALIDATOR,
                               model_name=MODEL, title="A note", file_name="n.txt",
                               content=b"x")
    assert _actions(engine) == ["vendor_document.recorded", "vendor_document.record.refused"]


def test_evidence_from_a_scored_file_then_drift_and_fairness_over_time(
        engine: Engine, vendor_registry: Registry, tmp_path: Path) -> None:
    scored = tmp_path / "scored.csv"
    scored_frame(0).to_csv(scored, index=False)
    run = run_evidence(engine=engine, registry=vendor_registry, policy=POLICY, actor=VALIDATOR,
                       model_name=MODEL, version="1", scored_file=scored)
    assert run.fairness is not None
    assert run.evaluation.data_sha256 == hashlib.sha256(scored.read_bytes()).hexdigest()
    assert run.evaluation.evaluation().metrics.figures()["roc_auc"] > 0.7
    with session_scope(engine) as session:
        evidence = latest_evidence(session=session, model_name=MODEL, model_version="1")
    assert {"evaluation", "fairness", "reference_profile"} <= set(evidence)

    report = record_decisions(engine=engine, registry=vendor_registry, actor=INGEST,
                              decisions=_decisions(scored_frame(1, 700, income_shift=12),
                                                   start_days_ago=20, days=14))
    assert (report.accepted, report.quarantined) == (700, 0)
    start, end = (utcnow() - timedelta(days=30)).date(), (utcnow() + timedelta(days=1)).date()
    with engine.connect() as connection:
        window = drift_window(connection=connection, thresholds=POLICY.for_tier("medium").drift,
                              model_name=MODEL, version="1", start=start, end=end)
        weeks = selection(connection=connection, model_name=MODEL, start=start, end=end,
                          min_group_size=30, by_week=True)
    assert window.rows == 700
    income = next(d for d in window.features if d.feature == "income")
    assert income.drifted is True  # incomes twelve higher than the vendor's hold-out
    assert len(weeks) >= 2 and {"a", "b"} == set(weeks[0].groups)
    assert sum(sum(n for n, _ in s.groups.values()) for s in weeks) == 700


def test_a_vendor_decision_says_why_there_is_no_replay(engine: Engine,
                                                       vendor_registry: Registry) -> None:
    record_decisions(engine=engine, registry=vendor_registry, actor=INGEST,
                     decisions=_decisions(scored_frame(2, 3), start_days_ago=2, days=1))
    with session_scope(engine) as session:
        decision_id = session.scalar(select(Decision.decision_id).limit(1))
        assert decision_id is not None
        file = case_file(session=session, decision_id=decision_id)
    assert file.row.score is not None and file.features["region"] in ("north", "south")
    with pytest.raises(InvalidInput) as refused:
        prepare_explainer(registry=vendor_registry, model_name=MODEL, version="1")
    explained = explain_case(file, None, load_problem=refused.value.message)
    for said in (explained.replay_problem, explained.explanation_problem):
        assert said is not None and "vendor model" in said and "no artifact" in said
    assert explained.shown_inputs["region"] in ("north", "south")
    letter = case_pdf(file, explanation=None, replayed=None, outcome_word="repayment",
                      replay_problem=explained.replay_problem)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(letter)).pages)
    assert "vendor model" in text and "no score was logged" not in text


def test_the_model_card_of_a_vendor_version_has_no_artifact_gaps_and_lists_its_documents(
        engine: Engine, vendor_registry: Registry) -> None:
    content = b"Validation summary: ROC AUC 0.81 out of time."
    record_vendor_document(engine=engine, registry=vendor_registry, actor=OWNER,
                           model_name=MODEL, title="Validation summary", file_name="v.txt",
                           content=content, version="1")
    with session_scope(engine) as session:
        card = build_model_card(session=session, registry=vendor_registry, policy=POLICY,
                                model_name=MODEL, version="1")
    requirements = {i.requirement for i in card.contract.items}
    assert {"model tag 'vendor'", "version tag 'vendor_version'"} <= requirements
    assert not any("flavor" in r or "code version" in r for r in requirements)
    assert card.contract.complete
    document = card_dict(card)
    assert document.vendor is not None and document.vendor.vendor_version == "4.2"
    assert [d.sha256 for d in document.vendor.documents] == \
        [hashlib.sha256(content).hexdigest()]
    vendor = dict(card_sections(card))["Vendor"]
    assert "no artifact to replay or explain" in str(vendor[0])
    assert card_pdf(card).startswith(b"%PDF")
