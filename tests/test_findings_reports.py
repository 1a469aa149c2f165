"""Findings where people read them: the model card (and its limitations register), the
evidence pack's card, the control matrix's `findings` evidence, and the applicant's letter."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine

from services.core.clock import utcnow
from services.core.policy import Policy
from services.decisions.case_file import CaseFile
from services.decisions.search import DecisionRow
from services.governance.control_facts import ControlStatus, read_facts
from services.governance.evidence_checks import CHECKS
from services.governance.findings import ReviewVerdict, raise_finding, review_finding
from services.governance.frameworks import load_frameworks
from services.governance.model_card import build_model_card
from services.registry.adapter import Registry
from services.reports.card import card_dict, card_markdown
from services.reports.letter import case_pdf
from services.store.engine import session_scope
from tests.test_findings import MODEL, NOTE, VICTOR, WANDA

LIMITED = "Thin-file applicants are scored with less certainty"


def _raise(engine: Engine, registry: Registry, title: str, severity: str) -> int:
    return raise_finding(
        engine=engine, registry=registry, actor=VICTOR, model_name=MODEL, version="2",
        title=title, severity=severity, category="limitation",
        description="Fewer than 200 applicants with under a year of history in the hold-out.",
        due_on=utcnow().date() + timedelta(days=10)).id


def _findings_check(engine: Engine, registry: Registry, policy: Policy) -> tuple[str, str]:
    with session_scope(engine) as session:
        facts = read_facts(session=session, registry=registry, policy=policy,
                           model_name=MODEL, version="2")
    judged = CHECKS["findings"](facts)
    return judged.status, judged.evidence


def test_the_card_lists_findings_and_an_accepted_limitation(engine: Engine, registry: Registry,
                                                             policy: Policy) -> None:
    _raise(engine, registry, "Approval gap by group", "medium")
    accepted = _raise(engine, registry, LIMITED, "low")
    review_finding(engine=engine, registry=registry, actor=WANDA, finding_id=accepted,
                   verdict=ReviewVerdict.ACCEPT, note=NOTE)
    with session_scope(engine) as session:
        card = build_model_card(session=session, registry=registry, policy=policy,
                                model_name=MODEL, version="2")
    document = card_dict(card)
    assert [f.title for f in document.governance.findings] == ["Approval gap by group",
                                                               LIMITED]
    assert document.considerations.known_limitations == (
        f"{LIMITED} (finding #{accepted}, limitation): {NOTE}",)
    assert "## Known limitations" in card_markdown(card)


def test_the_findings_evidence_is_a_gap_while_a_high_finding_is_open(
        engine: Engine, registry: Registry, policy: Policy) -> None:
    _raise(engine, registry, "Approval gap by group", "high")
    status, evidence = _findings_check(engine, registry, policy)
    assert status == ControlStatus.GAP and "1 high-severity finding(s) open" in evidence


def test_the_findings_evidence_is_met_with_only_lesser_findings_on_time(
        engine: Engine, registry: Registry, policy: Policy) -> None:
    _raise(engine, registry, "Approval gap by group", "medium")
    status, evidence = _findings_check(engine, registry, policy)
    assert status == ControlStatus.MET and "none high-severity, none overdue" in evidence


def test_sr_26_2_validation_and_iso_42001_a_6_2_4_ask_for_findings() -> None:
    frameworks = {f.id: f for f in load_frameworks()}
    asks = {(fid, c.ref, c.title): c.evidence for fid, f in frameworks.items()
            for c in f.controls}
    assert "findings" in asks[("sr-26-2", "§ V", "Validation and effective challenge")]
    assert "findings" in asks[("iso-iec-42001", "A.6.2.4", "Verification and validation")]


@pytest.mark.parametrize("limitations", [(), (LIMITED,)])
def test_the_letter_says_how_the_model_is_limited_only_when_it_is(
        limitations: tuple[str, ...]) -> None:
    row = DecisionRow(decision_id="d-1", model_name="credit-risk", model_version="2",
                      decided_at=datetime(2026, 11, 2, 10, 0), subject_ref="APP-1", score=0.3,
                      threshold=0.5, outcome="declined", escalation_reason=None, shadow=False,
                      overridden=False)
    file = CaseFile(row, {"savings": "little"}, None, None, (), None, None, (), ())
    pdf = case_pdf(file, explanation=None, replayed=None, outcome_word="repayment",
                   limitations=limitations)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert ("How this model is limited" in text) == bool(limitations)
    assert (LIMITED in text) == bool(limitations)
