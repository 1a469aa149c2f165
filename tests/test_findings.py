"""Findings on SQLite and PostgreSQL against a real MLflow registry: raised by validators,
worked by the model's owner, closed by another validator (four eyes), every change audited,
every refusal recorded, an open high finding failing a promotion's gates, an overdue one
turning the gates pillar red."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select

from services.core.clock import utcnow
from services.core.errors import InvalidInput, PermissionDenied
from services.core.policy import Policy
from services.core.principal import Principal, Role
from services.evidence.findings import FindingStatus, finding, findings_for_version
from services.evidence.gates import GateStatus, gates_for_version
from services.governance.findings import (
    ReviewVerdict,
    raise_finding,
    review_finding,
    update_finding,
    work_finding,
)
from services.governance.promotions.requests import request_promotion
from services.monitoring.assessment import PillarStatus, gates_pillar
from services.registry.adapter import Registry
from services.store.engine import session_scope
from services.store.models import AuditEvent

MODEL = "loan-approval"  # owner alice (tests.factories.GOVERNED_TAGS), high tier
ALICE = Principal("alice", "Alice (owns the model)", frozenset({Role.MODEL_OWNER}))
OWNER_VALIDATOR = Principal("alice", "Alice", frozenset({Role.MODEL_OWNER, Role.VALIDATOR}))
VICTOR = Principal("victor", "Victor", frozenset({Role.VALIDATOR}))
WANDA = Principal("wanda", "Wanda", frozenset({Role.VALIDATOR}))
ADMIN = Principal("adam", "Adam", frozenset({Role.ADMIN}))
NOTE = "Reweighted the training data and re-ran the fairness evidence."
GATE = "open high-severity findings"


def _raise(engine: Engine, registry: Registry, *, severity: str = "high",
           actor: Principal = VICTOR, version: str = "1", owner: str | None = None) -> int:
    return raise_finding(
        engine=engine, registry=registry, actor=actor, model_name=MODEL, version=version,
        title="Approval gap by group", severity=severity, category="fairness",
        description="Group b is approved at 0.7 times the rate of group a on the hold-out.",
        due_on=utcnow().date() + timedelta(days=30), owner=owner).id


def _ready(engine: Engine, registry: Registry, finding_id: int,
           worker: Principal = ALICE) -> None:
    for status in (FindingStatus.REMEDIATION_IN_PROGRESS, FindingStatus.READY_FOR_REVIEW):
        work_finding(engine=engine, registry=registry, actor=worker, finding_id=finding_id,
                     status=status, note=NOTE)


def _actions(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_raised_finding_is_open_and_assigned_to_the_models_owner(
        engine: Engine, registry: Registry) -> None:
    finding_id = _raise(engine, registry)
    with session_scope(engine) as session:
        [found] = findings_for_version(session=session, model_name=MODEL, version="1")
    assert (found.id, found.status, found.owner, found.raised_by) == \
        (finding_id, FindingStatus.OPEN, "alice", "victor")


def test_another_validator_closes_a_finding_the_owner_worked(engine: Engine,
                                                             registry: Registry) -> None:
    finding_id = _raise(engine, registry)
    _ready(engine, registry, finding_id)
    closed = review_finding(engine=engine, registry=registry, actor=WANDA,
                            finding_id=finding_id, verdict=ReviewVerdict.CLOSE, note=NOTE)
    assert closed.status is FindingStatus.CLOSED and closed.closed_by == "wanda"
    assert [s.status for s in closed.steps] == [
        FindingStatus.OPEN, FindingStatus.REMEDIATION_IN_PROGRESS,
        FindingStatus.READY_FOR_REVIEW, FindingStatus.CLOSED]


def test_the_validator_who_raised_it_may_close_it_when_someone_else_worked_it(
        engine: Engine, registry: Registry) -> None:
    finding_id = _raise(engine, registry)
    _ready(engine, registry, finding_id)
    assert review_finding(engine=engine, registry=registry, actor=VICTOR, finding_id=finding_id,
                          verdict="close", note=NOTE).status is FindingStatus.CLOSED


def test_whoever_worked_it_may_not_close_it(engine: Engine, registry: Registry) -> None:
    finding_id = _raise(engine, registry)
    worker = Principal("wanda", "Wanda", frozenset({Role.VALIDATOR, Role.ADMIN}))
    _ready(engine, registry, finding_id, worker=worker)
    with pytest.raises(PermissionDenied, match="worked finding"):
        review_finding(engine=engine, registry=registry, actor=worker, finding_id=finding_id,
                       verdict=ReviewVerdict.CLOSE, note=NOTE)
    assert _actions(engine)[-1] == "finding.review.refused"


@pytest.mark.parametrize("verdict", [ReviewVerdict.CLOSE, ReviewVerdict.ACCEPT])
def test_the_models_owner_may_not_settle_its_finding(engine: Engine, registry: Registry,
                                                     verdict: ReviewVerdict) -> None:
    finding_id = _raise(engine, registry)
    _ready(engine, registry, finding_id)
    with pytest.raises(PermissionDenied, match="owns loan-approval"):
        review_finding(engine=engine, registry=registry, actor=OWNER_VALIDATOR,
                       finding_id=finding_id, verdict=verdict, note=NOTE)
    with session_scope(engine) as session:
        [found] = findings_for_version(session=session, model_name=MODEL, version="1")
    assert found.status is FindingStatus.READY_FOR_REVIEW


def test_only_a_finding_ready_for_review_can_be_closed(engine: Engine,
                                                       registry: Registry) -> None:
    finding_id = _raise(engine, registry)
    with pytest.raises(InvalidInput, match="only a finding ready for review"):
        review_finding(engine=engine, registry=registry, actor=WANDA, finding_id=finding_id,
                       verdict=ReviewVerdict.CLOSE, note=NOTE)


def test_a_finding_accepted_as_a_limitation_joins_the_register(engine: Engine,
                                                               registry: Registry) -> None:
    finding_id = _raise(engine, registry, severity="medium")
    accepted = review_finding(engine=engine, registry=registry, actor=WANDA,
                              finding_id=finding_id, verdict=ReviewVerdict.ACCEPT, note=NOTE)
    assert accepted.is_limitation and not accepted.unresolved


def test_someone_who_owns_neither_the_finding_nor_the_model_may_not_work_it(
        engine: Engine, registry: Registry) -> None:
    finding_id = _raise(engine, registry)
    stranger = Principal("bob", "Bob", frozenset({Role.MODEL_OWNER}))
    with pytest.raises(PermissionDenied, match="neither owns"):
        work_finding(engine=engine, registry=registry, actor=stranger, finding_id=finding_id,
                     status=FindingStatus.READY_FOR_REVIEW, note=NOTE)
    assert _actions(engine)[-1] == "finding.work.refused"


@pytest.mark.parametrize("actor", [ALICE, Principal("ann", "Analyst", frozenset({Role.ANALYST}))])
def test_only_validators_and_admins_raise_findings(engine: Engine, registry: Registry,
                                                   actor: Principal) -> None:
    with pytest.raises(PermissionDenied):
        _raise(engine, registry, actor=actor)
    assert _actions(engine) == ["finding.raise.refused"]


def test_a_link_to_evidence_of_another_version_is_refused(engine: Engine,
                                                          registry: Registry) -> None:
    with pytest.raises(InvalidInput, match="No evidence record #99"):
        raise_finding(engine=engine, registry=registry, actor=VICTOR, model_name=MODEL,
                      version="1", title="Stale", severity="low", category="data",
                      description="The hold-out predates the last data refresh by a year.",
                      due_on=utcnow().date(), evidence_ids=[99])


def test_a_due_date_in_the_past_is_refused(engine: Engine, registry: Registry) -> None:
    with pytest.raises(InvalidInput, match="falls due between today"):
        raise_finding(engine=engine, registry=registry, actor=VICTOR, model_name=MODEL,
                      version="1", title="Stale", severity="low", category="data",
                      description="The hold-out predates the last data refresh by a year.",
                      due_on=date(2000, 1, 1))


def test_every_change_is_an_audit_event(engine: Engine, registry: Registry) -> None:
    finding_id = _raise(engine, registry)
    update_finding(engine=engine, registry=registry, actor=ADMIN, finding_id=finding_id,
                   severity="medium", note="Only one of two groups is affected; medium is right.")
    _ready(engine, registry, finding_id)
    review_finding(engine=engine, registry=registry, actor=WANDA, finding_id=finding_id,
                   verdict=ReviewVerdict.SEND_BACK, note="The rerun evidence is not linked yet.")
    work_finding(engine=engine, registry=registry, actor=ALICE, finding_id=finding_id,
                 status=FindingStatus.READY_FOR_REVIEW, note=NOTE)
    review_finding(engine=engine, registry=registry, actor=WANDA, finding_id=finding_id,
                   verdict=ReviewVerdict.CLOSE, note=NOTE)
    assert _actions(engine) == ["finding.raised", "finding.updated",
                                "finding.remediation_started", "finding.ready_for_review",
                                "finding.sent_back", "finding.ready_for_review",
                                "finding.closed"]


def test_a_settled_finding_takes_no_more_changes(engine: Engine, registry: Registry) -> None:
    finding_id = _raise(engine, registry, severity="low")
    review_finding(engine=engine, registry=registry, actor=WANDA, finding_id=finding_id,
                   verdict=ReviewVerdict.ACCEPT, note=NOTE)
    with pytest.raises(InvalidInput, match="takes no more changes"):
        update_finding(engine=engine, registry=registry, actor=VICTOR,
                       finding_id=finding_id, severity="high",
                       note="It matters more than we thought at first.")
    assert _actions(engine)[-1] == "finding.update.refused"


def test_an_open_high_finding_fails_the_promotion_requests_gates(
        engine: Engine, registry: Registry, policy: Policy) -> None:
    _raise(engine, registry, severity="high")
    request = request_promotion(engine=engine, registry=registry, policy=policy, actor=VICTOR,
                                model_name=MODEL, version="1",
                                justification="Challenger is ready for its sign-off now.")
    assert GATE in request.failing_gates


@pytest.mark.parametrize("severity", ["medium", "low"])
def test_an_open_finding_below_high_passes_the_gate(engine: Engine, registry: Registry,
                                                    policy: Policy, severity: str) -> None:
    _raise(engine, registry, severity=severity)
    with session_scope(engine) as session:
        gates = gates_for_version(session=session, registry=registry, policy=policy,
                                  model_name=MODEL, version="1")
    [gate] = [g for g in gates.results if g.gate == GATE]
    assert gate.status is GateStatus.PASS


def test_a_closed_high_finding_no_longer_fails_the_gate(engine: Engine, registry: Registry,
                                                        policy: Policy) -> None:
    finding_id = _raise(engine, registry)
    _ready(engine, registry, finding_id)
    review_finding(engine=engine, registry=registry, actor=WANDA, finding_id=finding_id,
                   verdict=ReviewVerdict.CLOSE, note=NOTE)
    with session_scope(engine) as session:
        gates = gates_for_version(session=session, registry=registry, policy=policy,
                                  model_name=MODEL, version="1")
    assert [g.status for g in gates.results if g.gate == GATE] == [GateStatus.PASS]


def test_a_finding_past_its_due_date_turns_the_gates_pillar_red(
        engine: Engine, registry: Registry, policy: Policy) -> None:
    _raise(engine, registry, severity="low", version="2")
    with session_scope(engine) as session:
        gates = gates_for_version(session=session, registry=registry, policy=policy,
                                  model_name=MODEL, version="2")
    # Judged as of a day after it fell due (no wall clock: the report's own moment, moved).
    later = replace(gates, evaluated_at=gates.evaluated_at + timedelta(days=31),
                    results=tuple(g for g in gates.results if g.gate == GATE))
    pillar = gates_pillar(later)
    assert pillar.status is PillarStatus.RED and "past its due date" in pillar.reason
    on_time = replace(later, evaluated_at=gates.evaluated_at)
    assert gates_pillar(on_time).status is PillarStatus.GREEN


def test_the_models_owner_may_not_lower_a_finding_against_it(engine: Engine,
                                                             registry: Registry) -> None:
    """A validator who owns the model lowering a high finding would pass its gate alone."""
    finding_id = _raise(engine, registry, severity="high")
    with pytest.raises(PermissionDenied, match="owns loan-approval and may not change"):
        update_finding(engine=engine, registry=registry, actor=OWNER_VALIDATOR,
                       finding_id=finding_id, severity="low",
                       note="Low is enough: only one group is affected by it.")
    assert _actions(engine)[-1] == "finding.update.refused"
    _ready(engine, registry, finding_id, worker=ADMIN)
    later = utcnow().date() + timedelta(days=300)
    with pytest.raises(PermissionDenied, match="worked finding"):  # nor whoever worked it
        update_finding(engine=engine, registry=registry, actor=ADMIN, finding_id=finding_id,
                       due_on=later, note="More time is needed for the data refresh.")


def test_a_change_says_what_it_was_and_what_it_became(engine: Engine,
                                                      registry: Registry) -> None:
    finding_id = _raise(engine, registry, severity="high")
    due = utcnow().date() + timedelta(days=45)
    changed = update_finding(engine=engine, registry=registry, actor=WANDA,
                             finding_id=finding_id, severity="medium", due_on=due,
                             note="Only one of two groups is affected; medium is right.")
    assert changed.steps[-1].note.startswith("severity high → medium; due on ")
    assert f"→ {due:%Y-%m-%d}" in changed.steps[-1].note
    with session_scope(engine) as session:
        payload = session.scalars(select(AuditEvent.payload)
                                  .where(AuditEvent.action == "finding.updated")).one()
    assert payload["severity"] == {"from": "high", "to": "medium"}


def test_whoever_raised_a_finding_may_not_also_accept_it_as_a_limitation(
        engine: Engine, registry: Registry) -> None:
    finding_id = _raise(engine, registry, severity="low")  # raised by Victor
    with pytest.raises(PermissionDenied, match="raised finding .* may not also accept"):
        review_finding(engine=engine, registry=registry, actor=VICTOR, finding_id=finding_id,
                       verdict=ReviewVerdict.ACCEPT, note=NOTE)
    accepted = review_finding(engine=engine, registry=registry, actor=WANDA,
                              finding_id=finding_id, verdict=ReviewVerdict.ACCEPT, note=NOTE)
    assert accepted.status is FindingStatus.ACCEPTED_AS_LIMITATION


def test_a_finding_goes_only_to_someone_who_can_work_it(engine: Engine,
                                                       registry: Registry) -> None:
    from services.store.models import User

    with session_scope(engine) as session:
        for name, roles in (("olga", ["model_owner"]), ("vera", ["validator"])):
            session.add(User(username=name, display_name=name.title(), roles=roles,
                             created_at=utcnow()))
    with pytest.raises(InvalidInput, match="vera is not a model owner or admin"):
        _raise(engine, registry, owner="vera")
    with pytest.raises(InvalidInput, match="no account 'no.such.person'"):
        _raise(engine, registry, owner="no.such.person")
    finding_id = _raise(engine, registry, owner="olga")  # another model owner: fine
    with pytest.raises(InvalidInput, match="vera is not a model owner"):
        update_finding(engine=engine, registry=registry, actor=WANDA, finding_id=finding_id,
                       owner="vera", note="Vera knows the data pipeline best of all.")
    # The model's owner tag names someone who may sign in through OIDC: no account needed.
    with session_scope(engine) as session:
        assert finding(session=session, finding_id=_raise(engine, registry)).owner == "alice"


def test_a_limitation_is_told_to_applicants_only_in_the_words_written_for_them(
        engine: Engine, registry: Registry) -> None:
    plain_words = "The model has little data on applicants over 75; a person checks them."
    told = _raise(engine, registry, severity="low")
    untold = _raise(engine, registry, severity="low")
    with pytest.raises(InvalidInput, match="20 to 500 characters"):
        review_finding(engine=engine, registry=registry, actor=WANDA, finding_id=told,
                       verdict=ReviewVerdict.ACCEPT, note=NOTE, applicant_statement="Old.")
    accepted = review_finding(engine=engine, registry=registry, actor=WANDA, finding_id=told,
                              verdict=ReviewVerdict.ACCEPT, note=NOTE,
                              applicant_statement=f" {plain_words}\u200b ")
    assert accepted.applicant_statement == plain_words
    silent = review_finding(engine=engine, registry=registry, actor=WANDA, finding_id=untold,
                            verdict=ReviewVerdict.ACCEPT, note=NOTE)
    assert silent.applicant_statement is None
    closing = _raise(engine, registry)
    _ready(engine, registry, closing)
    with pytest.raises(InvalidInput, match="Only a finding accepted as a limitation"):
        review_finding(engine=engine, registry=registry, actor=WANDA, finding_id=closing,
                       verdict=ReviewVerdict.CLOSE, note=NOTE, applicant_statement=plain_words)
    with session_scope(engine) as session:
        payload = session.scalars(select(AuditEvent.payload)
                                  .where(AuditEvent.action == "finding.accepted")).first()
    assert payload is not None and payload["applicant_statement"] == plain_words
