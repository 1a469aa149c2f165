"""The letter to the applicant (issue #19): contesting offered for adverse decisions only, a
sensitive input never given as a reason and named plainly when it moved the score, and no raw
codes."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from pypdf import PdfReader

from services.decisions.case_file import CaseFile
from services.decisions.explain import Contribution, Explanation, ExplanationMethod
from services.decisions.search import DecisionRow
from services.reports.letter import case_pdf


def _letter(outcome: str, effects: dict[str, float], *, sensitive: frozenset[str] = frozenset(),
            reason: str | None = None, savings: str = "little") -> str:
    row = DecisionRow(decision_id="d-1", model_name="credit-risk", model_version="2",
                      decided_at=datetime(2026, 11, 2, 10, 0), subject_ref="APP-1",
                      score=0.3 + sum(effects.values()), threshold=0.5, outcome=outcome,
                      escalation_reason=reason, shadow=False, overridden=False)
    file = CaseFile(row, {"savings": savings}, None, None, (), None, None, (), ())
    explanation = Explanation(0.3, tuple(Contribution(k, 1.0, savings if k == "savings" else "35",
                                                      v) for k, v in effects.items()),
                              0.3 + sum(effects.values()), ExplanationMethod.EXACT, 50)
    pdf = case_pdf(file, explanation=explanation, replayed=None, outcome_word="repayment",
                   sensitive=sensitive)
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def test_a_declined_applicant_is_told_how_to_contest() -> None:
    assert "How to contest this decision" in _letter("declined", {"debt": -0.1})


@pytest.mark.parametrize("outcome", ["approved", "escalated", "error"])
def test_no_contest_section_when_nothing_adverse_was_decided(outcome: str) -> None:
    assert "contest" not in _letter(outcome, {"debt": 0.1}).lower()


@pytest.mark.parametrize("feature", ["age", "sex", "customer_age"])
def test_a_sensitive_input_is_no_reason_and_is_named_plainly(feature: str) -> None:
    text = _letter("declined", {feature: -0.12, "debt": -0.05},
                   sensitive=frozenset({feature}))
    said = feature.replace("_", " ")
    assert f"{said} (35) lowered" not in text
    assert "debt (35) lowered the chance of repayment most" in text
    assert f"also used your {said}, which the law protects" in text
    assert "may not be a reason for this decision" in text


def test_a_sensitive_input_that_did_not_move_the_score_is_not_mentioned() -> None:
    text = _letter("declined", {"age": 0.0, "debt": -0.05}, sensitive=frozenset({"age"}))
    assert "protects" not in text


def test_the_letter_shows_no_raw_codes() -> None:
    text = _letter("escalated", {"savings": -0.1}, reason="low_confidence", savings="not_known")
    assert "not_known" not in text and "low_confidence" not in text
    assert "savings (not known) lowered" in text


def test_without_an_explanation_the_scoring_services_reason_codes_are_given() -> None:
    """A vendor model's decision has no explanation of ours: its reason codes are the reasons
    there are, and the person is owed them."""
    row = DecisionRow(decision_id="d-2", model_name="bureau-score", model_version="1",
                      decided_at=datetime(2026, 11, 2, 10, 0), subject_ref="APP-2",
                      score=0.2, threshold=0.5, outcome="declined", escalation_reason=None,
                      shadow=False, overridden=False)
    with_codes = CaseFile(row, {"income": 20.0}, ["IDV07", "IDV12"], None, (), None, None, (),
                          ())
    without = CaseFile(row, {"income": 20.0}, None, None, (), None, None, (), ())

    def text(file: CaseFile) -> str:
        pdf = case_pdf(file, explanation=None, replayed=None, outcome_word="repayment")
        return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
                        .split())
    assert "gave these reason codes: IDV07, IDV12" in text(with_codes)
    assert "could not be produced" not in text(with_codes)
    assert "could not be produced" in text(without)
