"""The control matrix, evidence packs and the portfolio report: what they claim is what the
store and the chain hold."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, select

from services.audit.chain import GENESIS
from services.cli.main import main
from services.core.errors import PermissionDenied
from services.core.policy import load_policy
from services.core.principal import Principal, Role
from services.core.settings import PROJECT_ROOT, Settings
from services.evidence.records import add_evidence
from services.governance.controls import control_matrix
from services.governance.frameworks import chosen, load_frameworks
from services.registry.adapter import Registry
from services.reports.pack import build_evidence_pack, canonical_pack, pack_json
from services.reports.pack_document import EvidencePack
from services.reports.pack_pdf import pack_pdf
from services.store.engine import make_engine, session_scope
from services.store.models import AuditEvent, Evidence
from tests.factories import behind_the_apps_back

AUDITOR = Principal("audrey", "Audrey", frozenset({Role.AUDITOR}))
ANALYST = Principal("ana", "Ana", frozenset({Role.ANALYST}))
POLICY = load_policy(PROJECT_ROOT / "policy.toml")
DEFAULT_FRAMEWORKS = chosen(load_frameworks())  # SR 26-2 / OCC 2026-13 and the EU AI Act


def _pdf_text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_control_matrix_shows_the_challengers_fairness_gap(demo_env: Settings) -> None:
    registry = Registry(demo_env.mlflow_tracking_uri)
    with session_scope(make_engine(demo_env.database_url)) as session:
        challenger = control_matrix(session=session, registry=registry, policy=POLICY,
                                    model_name="credit-risk", version="3",
                                    frameworks=DEFAULT_FRAMEWORKS)
        champion = control_matrix(session=session, registry=registry, policy=POLICY,
                                  model_name="credit-risk", version="2",
                                  frameworks=DEFAULT_FRAMEWORKS)
        ungoverned = control_matrix(session=session, registry=registry, policy=POLICY,
                                    model_name="marketing-propensity", version="1",
                                    frameworks=DEFAULT_FRAMEWORKS)
    data = {c.ref: c for c in challenger.controls}["Art. 10"]
    assert data.status == "gap" and "four-fifths ratio by sex" in data.evidence
    validation = {c.title: c for c in champion.controls}["Validation and effective challenge"]
    # Its evidence passes the gates, but the demo's alias history was seeded, not signed off.
    assert validation.framework == "SR 26-2 / OCC 2026-13" and "gates pass" in validation.evidence
    assert validation.status == "gap" and "No promotion of this version" in validation.evidence
    # Nothing is a pass without its record: the ungoverned model meets no control at all.
    assert {c.status for c in ungoverned.controls} <= {"gap", "partial", "not applicable"}
    assert not [c for c in ungoverned.controls if c.status == "met"]
    assert len(champion.controls) == 18 and all(
        c.link.startswith("/") for c in champion.controls if c.status != "not applicable")


def test_the_champions_evidence_pack_matches_the_store_and_the_chain(
        demo_copy: Settings) -> None:
    engine = make_engine(demo_copy.database_url)
    pack = build_evidence_pack(engine=engine, registry=Registry(demo_copy.mlflow_tracking_uri),
                               policy=POLICY, actor=AUDITOR, model_name="credit-risk")
    assert pack.version == "2" and pack.aliases == ("champion",)
    with session_scope(engine) as session:
        stored = {e.id: e.payload_sha256 for e in session.scalars(select(Evidence).where(
            Evidence.model_name == "credit-risk", Evidence.model_version == "2"))}
        chain = {e.id: (e.prev_hash, e.hash) for e in session.scalars(select(AuditEvent))}
        exported = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "evidence_pack.exported")).all()[-1]
    assert {r.id: r.payload_sha256 for r in pack.evidence} == stored
    assert all(r.intact and r.payload_sha256 == r.payload_sha256_recomputed
               for r in pack.evidence)
    events = pack.audit.events
    assert events and all(chain[e.id] == (e.prev_hash, e.hash) and e.hash_matches
                          for e in events)
    assert pack.audit.verification.intact
    # The pack's hash is over its canonical form, and the export put it in the chain.
    assert hashlib.sha256(canonical_pack(pack).encode()).hexdigest() == pack.pack_sha256
    # ... and can be recomputed from the JSON file alone.
    from_file = json.loads(pack_json(pack))
    assert hashlib.sha256(canonical_pack(from_file).encode()).hexdigest() == pack.pack_sha256
    assert exported.payload["pack_sha256"] == pack.pack_sha256
    # The file reads back as the typed pack, byte for byte.
    assert canonical_pack(EvidencePack.model_validate(from_file)) == canonical_pack(from_file)
    # The PDF reads as text and carries the same hashes.
    words = _pdf_text(pack_pdf(pack)).replace("\n", " ")
    assert pack.pack_sha256 in words.replace(" ", "")
    for record in pack.evidence:
        assert record.payload_sha256 in words.replace(" ", "")
    assert "Control matrix" in words and "Audit trail excerpt" in words


def test_an_analyst_cannot_export_a_pack_and_the_refusal_is_recorded(
        demo_copy: Settings) -> None:
    engine = make_engine(demo_copy.database_url)
    with pytest.raises(PermissionDenied):
        build_evidence_pack(engine=engine, registry=Registry(demo_copy.mlflow_tracking_uri),
                            policy=POLICY, actor=ANALYST, model_name="credit-risk")
    with session_scope(engine) as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last is not None and last.action == "evidence_pack.export.refused"
    assert last.actor == "ana"


def test_an_altered_evidence_record_shows_in_the_pack(engine: Engine, registry_uri: str) -> None:
    with session_scope(engine) as session:
        record = add_evidence(session=session, kind="evaluation", model_name="loan-approval",
                              model_version="2", data_sha256="a" * 64,
                              payload={"metrics": {"roc_auc": 0.9}}, policy_sha256=POLICY.sha256,
                              code_version="abc", created_by="val")
    behind_the_apps_back(engine, "evidence", "UPDATE evidence SET payload = :p WHERE id = :id",
                         p=json.dumps({"metrics": {"roc_auc": 0.99}}), id=record.id)
    pack = build_evidence_pack(engine=engine, registry=Registry(registry_uri), policy=POLICY,
                               actor=AUDITOR, model_name="loan-approval", version="2")
    altered = next(r for r in pack.evidence if r.id == record.id)
    assert not altered.intact
    assert altered.payload_sha256 != altered.payload_sha256_recomputed
    assert "NO" in _pdf_text(pack_pdf(pack))
    first = pack.audit.events[0]
    assert first.prev_hash == GENESIS and first.hash_matches


def test_govern_report_writes_the_pack_and_the_portfolio(
        demo_copy: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "credit-risk", "3", "--out", str(tmp_path)]) == 0
    assert main(["report", "--portfolio", "--out", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names[:2] == ["evidence-pack-credit-risk-v3.json", "evidence-pack-credit-risk-v3.pdf"]
    portfolio = next(p for p in tmp_path.iterdir() if p.name.startswith("portfolio-"))
    words = _pdf_text(portfolio.read_bytes())
    assert "fraud-screening v1 - at risk" in words and "Headlines" in words
    assert "Models at risk over time" in words and "Drift" in words  # the trend strips
    pack = json.loads((tmp_path / names[0]).read_text())
    assert pack["version"] == "3" and "challenger" in pack["aliases"]
    assert main(["report", "--out", str(tmp_path)]) == 2
    assert "Name a model, or pass --portfolio" in capsys.readouterr().err
