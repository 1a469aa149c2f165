"""Periodic reviews on SQLite and PostgreSQL against a real MLflow registry: a review freezes the
model's state (later changes leave its JSON and hash alone), four eyes keeps a model's owner from
reviewing it, refusals are audited, the next due date follows the tier's cycle, each trigger of
the policy makes a review due now, and the calendar lists what is overdue by owner."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select, update

from services.cli.main import main
from services.core.clock import utcnow
from services.core.errors import GovernanceError, InvalidInput, PermissionDenied
from services.core.policy import Policy, load_policy
from services.core.principal import Principal, Role
from services.core.settings import PROJECT_ROOT
from services.evidence.findings import FindingStatus
from services.evidence.records import add_evidence
from services.governance.findings import raise_finding, work_finding
from services.governance.promotions.requests import grant_exception, request_promotion
from services.governance.reviews import record_review
from services.monitoring.reviews import (
    Conclusion,
    ReviewState,
    review_calendar,
    review_history,
    review_status,
    reviews_due,
)
from services.registry.adapter import Registry
from services.store.engine import session_scope
from services.store.models import Alert, AliasChange, AuditEvent, PeriodicReview, User
from tests.factories import behind_the_apps_back

MODEL = "loan-approval"  # owner alice, high tier, champion v2 (tests.conftest.registry_uri)
ALICE = Principal("alice", "Alice", frozenset({Role.MODEL_OWNER, Role.VALIDATOR}))
VICTOR = Principal("victor", "Victor", frozenset({Role.VALIDATOR}))
ADMIN = Principal("adam", "Adam", frozenset({Role.ADMIN}))
WHY = "Performance and fairness hold on the current evidence; no open high finding."
POLICY = load_policy(PROJECT_ROOT / "policy.toml")


def _review(engine: Engine, registry: Registry, conclusion: str = "continue",
            policy: Policy = POLICY, **kwargs: object):  # type: ignore[no-untyped-def]
    return record_review(engine=engine, registry=registry, policy=policy, actor=VICTOR,
                         model_name=MODEL, conclusion=conclusion, justification=WHY,
                         **kwargs)  # type: ignore[arg-type]


def _status(engine: Engine, registry: Registry, days_on: int = 0, policy: Policy = POLICY):  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        return review_status(session=session, registry=registry, policy=policy,
                             model_name=MODEL, now=utcnow() + timedelta(days=days_on))


def _evaluation(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_evidence(session=session, kind="evaluation", model_name=MODEL, model_version="2",
                     data_sha256="a" * 64, payload={"metrics": {"roc_auc": 0.8}},
                     policy_sha256=POLICY.sha256, code_version="abc", created_by="victor")


def _alert(engine: Engine, kind: str) -> None:
    # What `govern monitor` writes when it finds drift or a performance breach.
    with session_scope(engine) as session:
        session.add(Alert(model_name=MODEL, model_version="2", kind=kind, severity="high",
                          owner="alice", figure=0.4, bound=0.25, message=f"{kind} found",
                          opened_at=utcnow(), status="open"))


def test_a_review_freezes_the_state_and_later_changes_leave_it_alone(
        engine: Engine, registry: Registry) -> None:
    finding = raise_finding(engine=engine, registry=registry, actor=VICTOR, model_name=MODEL,
                            version="2", title="Hold-out too small", severity="medium",
                            category="data", description="The hold-out has 200 rows only.",
                            due_on=utcnow().date() + timedelta(days=30))
    review = _review(engine, registry)
    assert review.intact and review.model_version == "2" and review.reviewed_by == "victor"
    assert review.state["model"]["version_reviewed"] == "2"
    assert review.state["aliases"] == {"challenger": "1", "champion": "2"}
    assert [f["status"] for f in review.state["findings"]] == ["open"]
    assert review.state["evidence"] == [] and review.state["open_alerts"] == []
    assert {"drift", "performance", "gates"} <= set(review.state["health"])
    assert not review.state["gates"]["passed"]
    frozen, digest = json.dumps(review.state, sort_keys=True), review.state_sha256

    work_finding(engine=engine, registry=registry, actor=ALICE, finding_id=finding.id,
                 status=FindingStatus.REMEDIATION_IN_PROGRESS, note="Collecting more rows now.")
    _evaluation(engine)
    _alert(engine, "drift")
    with session_scope(engine) as session:
        [again] = review_history(session=session, model_name=MODEL)
    assert again.intact and again.state_sha256 == digest
    assert json.dumps(again.state, sort_keys=True) == frozen


def test_a_stored_review_cannot_be_changed_or_removed(engine: Engine,
                                                      registry: Registry) -> None:
    _review(engine, registry)
    for statement in (update(PeriodicReview).values(conclusion="retire"),
                      delete(PeriodicReview)):
        with pytest.raises(GovernanceError) as refused, session_scope(engine) as session:
            session.execute(statement)
        assert "append-only" in f"{refused.value.message} {refused.value.hint}"


def test_the_review_is_audited_with_its_state_hash(engine: Engine, registry: Registry) -> None:
    review = _review(engine, registry)
    with session_scope(engine) as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "review.recorded")).one()
    assert event.payload["state_sha256"] == review.state_sha256
    assert event.subject_id == str(review.id) and event.actor == "victor"


def test_a_models_owner_cannot_review_their_own_model(engine: Engine,
                                                      registry: Registry) -> None:
    with pytest.raises(PermissionDenied, match="owns loan-approval"):
        record_review(engine=engine, registry=registry, policy=POLICY, actor=ALICE,
                      model_name=MODEL, conclusion="continue", justification=WHY)


def test_a_non_validator_is_refused_and_the_refusal_audited(engine: Engine,
                                                            registry: Registry) -> None:
    with pytest.raises(PermissionDenied, match="may not record a periodic review"):
        record_review(engine=engine, registry=registry, policy=POLICY, actor=ADMIN,
                      model_name=MODEL, conclusion="continue", justification=WHY)
    with session_scope(engine) as session:
        assert list(session.scalars(select(AuditEvent.action))) == ["review.record.refused"]
        assert session.scalar(select(PeriodicReview.id)) is None


def test_continuing_with_conditions_needs_the_conditions(engine: Engine,
                                                         registry: Registry) -> None:
    with pytest.raises(InvalidInput, match="needs the conditions written out: 0 visible"):
        _review(engine, registry, "continue with conditions", conditions="  ")
    review = _review(engine, registry, "continue with conditions",
                     conditions="Retrain on the 2026 vintage before the end of the quarter.")
    assert review.conclusion is Conclusion.CONTINUE_WITH_CONDITIONS
    assert review.conditions.startswith("Retrain")
    with pytest.raises(InvalidInput, match="not a review's conclusion"):
        _review(engine, registry, "carry on")
    for conclusion in ("continue", "retire"):  # conditions left over from another review
        with pytest.raises(InvalidInput, match=f"concluding {conclusion} takes no conditions"):
            _review(engine, registry, conclusion, conditions="Vendor to deliver the report.")


def test_a_model_concluded_retire_that_still_serves_is_due_now(engine: Engine,
                                                               registry: Registry) -> None:
    """A review moves no alias: the calendar keeps asking until the model is retired."""
    _review(engine, registry, "retire")
    status = _status(engine, registry)
    assert status.state is ReviewState.TRIGGERED and status.due_on == utcnow().date()
    assert "Concluded retire, yet v2 still serves" in status.reason


@pytest.mark.parametrize(("tier", "conclusion", "days"), [
    ("high", "continue", 365), ("medium", "continue", 730), ("low", "retire", 1095),
    ("high", "remediate", 90), ("medium", "remediate", 90)])
def test_the_next_review_falls_due_a_tier_cycle_later(engine: Engine, registry: Registry,
                                                      tier: str, conclusion: str,
                                                      days: int) -> None:
    # The model's tier tag is high: hold it to another tier's clauses instead.
    policy = replace(POLICY, tiers={**POLICY.tiers, "high": POLICY.tiers[tier]})
    review = _review(engine, registry, conclusion, policy=policy)
    assert review.next_due_on == utcnow().date() + timedelta(days=days)


def test_a_review_can_be_brought_forward_but_not_pushed_past_the_cycle(
        engine: Engine, registry: Registry) -> None:
    soon = utcnow().date() + timedelta(days=21)
    assert _review(engine, registry, next_due_on=soon).next_due_on == soon
    with pytest.raises(InvalidInput, match="at most 365 days"):
        _review(engine, registry, next_due_on=utcnow().date() + timedelta(days=400))


def test_due_soon_then_overdue_as_the_cycle_runs_out(engine: Engine, registry: Registry) -> None:
    _review(engine, registry)
    assert _status(engine, registry).state is ReviewState.NOT_DUE
    assert _status(engine, registry, 350).state is ReviewState.DUE_SOON
    late = _status(engine, registry, 400)
    assert late.state is ReviewState.OVERDUE and "Overdue since" in late.reason


def test_a_model_never_reviewed_is_due_a_cycle_after_its_champions_evaluation(
        engine: Engine, registry: Registry) -> None:
    never = _status(engine, registry)
    assert never.state is ReviewState.DUE and "never validated" in never.reason
    _evaluation(engine)
    status = _status(engine, registry)
    assert status.last_review is None and status.state is ReviewState.NOT_DUE
    assert status.due_on == utcnow().date() + timedelta(days=365)


@pytest.mark.parametrize("trigger", ["drift_alert", "performance_alert", "material_change",
                                     "exception_expired", "open_high_finding"])
def test_each_trigger_makes_a_review_due_now(engine: Engine, registry: Registry,
                                             trigger: str) -> None:
    _review(engine, registry)
    days_on = 0
    if trigger == "drift_alert":
        _alert(engine, "drift")
    elif trigger == "performance_alert":
        _alert(engine, "performance_estimate")
    elif trigger == "material_change":
        with session_scope(engine) as session:  # as an executed promotion records it
            session.add(AliasChange(model_name=MODEL, alias="champion", version="1",
                                    previous_version="2", changed_at=utcnow(),
                                    changed_by="victor", reason="rolled back"))
    elif trigger == "exception_expired":
        request = request_promotion(engine=engine, registry=registry, policy=POLICY,
                                    actor=VICTOR, model_name=MODEL, version="1",
                                    justification="Challenger beats the champion on AUC.")
        grant_exception(engine=engine, actor=ADMIN, request_id=request.id,
                        justification="Evidence is being rerun this week; accepted till then.",
                        expires_on=utcnow().date() + timedelta(days=5))
        days_on = 10
    else:
        raise_finding(engine=engine, registry=registry, actor=VICTOR, model_name=MODEL,
                      version="2", title="Unstable scores", severity="high",
                      category="performance", description="Scores move by 0.2 between runs.",
                      due_on=utcnow().date() + timedelta(days=30))
    status = _status(engine, registry, days_on)
    assert status.state is ReviewState.TRIGGERED and [f.trigger for f in status.fired] == [
        trigger]
    assert status.due_on == (utcnow() + timedelta(days=days_on)).date()
    # A tier that does not watch this trigger leaves the review where its cycle puts it.
    quiet = replace(POLICY, tiers={**POLICY.tiers, "high": replace(
        POLICY.tiers["high"], review_triggers=())})
    assert _status(engine, registry, days_on, policy=quiet).state is ReviewState.NOT_DUE


def test_what_happened_before_the_review_does_not_trigger_it_again(
        engine: Engine, registry: Registry) -> None:
    _evaluation(engine)  # never reviewed: triggers count from the champion's evaluation
    _alert(engine, "drift")
    assert _status(engine, registry).state is ReviewState.TRIGGERED
    review = _review(engine, registry)
    assert review.triggers == ("drift_alert",)  # due then, recorded with the review
    assert _status(engine, registry).state is ReviewState.NOT_DUE
    # A high finding on the challenger does not trigger the champion's review.
    raise_finding(engine=engine, registry=registry, actor=VICTOR, model_name=MODEL,
                  version="1", title="Challenger gap", severity="high", category="fairness",
                  description="Group b approved at 0.7 times group a.",
                  due_on=utcnow().date() + timedelta(days=30))
    assert _status(engine, registry).state is ReviewState.NOT_DUE


def test_the_calendar_lists_overdue_reviews_by_owner(engine: Engine,
                                                     registry: Registry) -> None:
    _review(engine, registry)
    later = utcnow() + timedelta(days=400)
    with session_scope(engine) as session:
        calendar = review_calendar(session=session, registry=registry, policy=POLICY,
                                   now=later)
        due = reviews_due(session=session, registry=registry, policy=POLICY, now=later)
    assert [(s.model_name, s.owner, s.state) for s in calendar] == [
        (MODEL, "alice", ReviewState.OVERDUE), ("bare-model", None, ReviewState.NOT_DUE)]
    assert [s.model_name for s in due] == [MODEL]


def test_the_cli_lists_the_calendar_and_records_a_review_as_a_named_validator(
        engine: Engine, registry_uri: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", engine.url.render_as_string(
        hide_password=False))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry_uri)
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    with session_scope(engine) as session:  # victor's account, for --as
        session.add(User(username="victor", display_name="Victor", roles=["validator"],
                         created_at=utcnow()))
    _evaluation(engine)
    # Validated 400 days ago and never reviewed since: overdue (exit 1, as other checks).
    behind_the_apps_back(engine, "evidence", "UPDATE evidence SET created_at = :at",
                         at=utcnow() - timedelta(days=400))
    assert main(["reviews", "list", "--json"]) == 1
    listed = json.loads(capsys.readouterr().out)
    assert [(r["model"], r["owner"], r["state"]) for r in listed][0] == \
        (MODEL, "alice", "overdue")
    assert main(["reviews", "record", MODEL, "--conclusion", "continue",
                 "--justification", WHY]) == 2  # the operator is no validator
    assert "may not record a periodic review" in capsys.readouterr().err
    assert main(["reviews", "record", MODEL, "--conclusion", "continue",
                 "--justification", WHY, "--as", "victor"]) == 0
    assert "next review due" in capsys.readouterr().out
    assert main(["reviews", "list", "--due"]) == 0
    assert "No review is due" in capsys.readouterr().out
    assert main(["reviews", "record", MODEL, "--conclusion", "continue",
                 "--justification", WHY, "--as", "nobody"]) == 2
    assert "no account" in capsys.readouterr().err.lower()
