"""Promotions against a real MLflow registry, on SQLite and PostgreSQL: four eyes, gates,
exceptions, alias moves, failed registry writes, rollback, concurrency and point in time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient
from sqlalchemy import Engine, func, select, update

from services.core.clock import utcnow
from services.core.errors import (
    GateFailed,
    GovernanceError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SourceUnavailable,
)
from services.core.policy import Policy
from services.core.principal import Principal, Role
from services.evidence.gates import GateStatus
from services.evidence.run import run_evidence
from services.governance.promotions.execution import (
    retry_promotion,
    rollback_alias,
    rollback_preview,
)
from services.governance.promotions.history import served_at
from services.governance.promotions.requests import grant_exception, request_promotion, sign_off
from services.registry.adapter import Registry
from services.store.engine import session_scope
from services.store.models import (
    AliasChange,
    AuditEvent,
    PolicyException,
    PromotionRequest,
    SignOff,
)
from tests.conftest import closed_port
from tests.factories import GOVERNED_TAGS, log_version

OWNER = Principal("alice", "Alice (owns the model, also a validator)",
                  frozenset({Role.MODEL_OWNER, Role.VALIDATOR}))
VICTOR = Principal("victor", "Victor", frozenset({Role.VALIDATOR}))
WANDA = Principal("wanda", "Wanda", frozenset({Role.VALIDATOR}))
XAVIER = Principal("xavier", "Xavier", frozenset({Role.VALIDATOR}))
ADMIN = Principal("adam", "Adam", frozenset({Role.ADMIN}))
ADMIN2 = Principal("bea", "Bea", frozenset({Role.ADMIN}))
WHY = "Better discrimination on the hold-out and no fairness regressions found."
MODEL = "loan-approval"


@pytest.fixture(scope="module")
def promotion_registry_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Three governed versions of a high-risk model (owner alice); v1 is champion."""
    folder = tmp_path_factory.mktemp("promotions")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(uri, uri)
    experiment = client.create_experiment("p", artifact_location=(folder / "a").as_uri())
    for seed in (0, 1, 2):
        log_version(client, experiment, MODEL, governed=True, seed=seed)
    for key, value in GOVERNED_TAGS.items():
        client.set_registered_model_tag(MODEL, key, value)
    return uri


@pytest.fixture
def registry(promotion_registry_uri: str) -> Iterator[Registry]:
    """The registry with v1 as champion again, and the console's history to match."""
    MlflowClient(promotion_registry_uri).set_registered_model_alias(MODEL, "champion", "1")
    yield Registry(promotion_registry_uri)


def _request(engine: Engine, registry: Registry, policy: Policy, version: str = "2",
             actor: Principal = OWNER) -> int:
    return request_promotion(engine=engine, registry=registry, policy=policy, actor=actor,
                             model_name=MODEL, version=version, justification=WHY).id


def _sign(engine: Engine, registry: Registry, policy: Policy, actor: Principal,
          request_id: int, verdict: str = "approve"):  # type: ignore[no-untyped-def]
    return sign_off(engine=engine, registry=registry, policy=policy, actor=actor,
                    request_id=request_id, verdict=verdict, justification=WHY)


def _excuse(engine: Engine, request_id: int, admins: tuple[Principal, ...] = (ADMIN, ADMIN2),
            days: int = 30) -> None:
    """Exceptions by two admins: the high-risk tier needs both (exception_approvers)."""
    for admin in admins:
        grant_exception(engine=engine, actor=admin, request_id=request_id,
                        justification="Accepted for the test: evidence is run nightly instead.",
                        expires_on=utcnow().date() + timedelta(days=days))


def _count(engine: Engine, table: type, **where: object) -> int:
    with session_scope(engine) as session:
        query = select(func.count()).select_from(table)
        for key, value in where.items():
            query = query.where(getattr(table, key) == value)
        return int(session.scalar(query) or 0)


def _actions(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_request_freezes_the_gates_under_the_policy_of_its_day(
        engine: Engine, registry: Registry, policy: Policy) -> None:
    view = request_promotion(engine=engine, registry=registry, policy=policy, actor=OWNER,
                             model_name=MODEL, version="2", justification=WHY)
    assert view.status == "open" and view.previous_version == "1"
    assert view.policy_sha256 == policy.sha256 and view.gate_results
    assert GateStatus.MISSING_EVIDENCE in {g.status for g in view.gate_results}  # nothing run yet
    assert _actions(engine) == ["promotion.requested"]


def test_a_validator_cannot_approve_a_model_they_own(engine: Engine, registry: Registry,
                                                      policy: Policy) -> None:
    request_id = _request(engine, registry, policy, actor=VICTOR)
    with pytest.raises(PermissionDenied, match="owns loan-approval"):
        _sign(engine, registry, policy, OWNER, request_id)
    assert _count(engine, SignOff) == 0
    assert _actions(engine)[-1] == "promotion.sign_off.refused"


def test_the_requester_cannot_approve_their_own_request(engine: Engine, registry: Registry,
                                                        policy: Policy) -> None:
    request_id = _request(engine, registry, policy, actor=VICTOR)
    with pytest.raises(PermissionDenied, match="requested this promotion"):
        _sign(engine, registry, policy, VICTOR, request_id)


def test_a_failing_gate_blocks_approval_until_an_admin_records_an_exception(
        engine: Engine, registry: Registry, policy: Policy) -> None:
    request_id = _request(engine, registry, policy)
    with pytest.raises(GateFailed, match="policy exception"):
        _sign(engine, registry, policy, VICTOR, request_id)
    with pytest.raises(PermissionDenied):
        grant_exception(engine=engine, actor=VICTOR, request_id=request_id, justification=WHY,
                        expires_on=utcnow().date() + timedelta(days=5))
    with pytest.raises(InvalidInput, match="expires"):
        grant_exception(engine=engine, actor=ADMIN, request_id=request_id, justification=WHY,
                        expires_on=utcnow().date() - timedelta(days=1))
    _excuse(engine, request_id)
    assert _sign(engine, registry, policy, VICTOR, request_id).request.status == "open"


def test_two_distinct_validators_move_the_alias_of_a_high_risk_model(
        engine: Engine, registry: Registry, policy: Policy) -> None:
    for version in ("1", "2"):
        run_evidence(engine=engine, registry=registry, policy=policy, actor=XAVIER,
                     model_name=MODEL, version=version)
    request_id = _request(engine, registry, policy)
    first = _sign(engine, registry, policy, VICTOR, request_id)
    assert first.request.status == "open" and registry.alias_holder(MODEL, "champion") == "1"
    second = _sign(engine, registry, policy, WANDA, request_id)
    assert second.alias_moved and second.request.status == "executed"
    assert registry.alias_holder(MODEL, "champion") == "2"
    assert second.request.approvers == ("victor", "wanda")
    with session_scope(engine) as session:
        change = session.scalars(select(AliasChange)).one()
    assert (change.version, change.previous_version, change.request_id) == ("2", "1", request_id)
    assert _actions(engine)[-1] == "alias.moved"


def test_one_person_signs_once_and_a_closed_request_takes_no_more(
        engine: Engine, registry: Registry, policy: Policy) -> None:
    request_id = _request(engine, registry, policy)
    _excuse(engine, request_id)
    _sign(engine, registry, policy, VICTOR, request_id)
    with pytest.raises(InvalidInput, match="already signed"):
        _sign(engine, registry, policy, VICTOR, request_id)
    assert _sign(engine, registry, policy, WANDA, request_id, "reject").request.status == \
        "rejected"
    with pytest.raises(InvalidInput, match="is rejected"):
        _sign(engine, registry, policy, XAVIER, request_id)
    assert registry.alias_holder(MODEL, "champion") == "1"


def test_a_version_that_does_not_exist_leaves_only_the_refusal(
        engine: Engine, registry: Registry, policy: Policy) -> None:
    with pytest.raises(NotFound, match="Version 99 of .loan-approval. is not in"):
        _request(engine, registry, policy, version="99")
    assert _count(engine, PromotionRequest) == 0
    assert _actions(engine) == ["promotion.request.refused"]


def test_an_analyst_cannot_escalate_into_a_sign_off(engine: Engine, registry: Registry,
                                                    policy: Policy) -> None:
    request_id = _request(engine, registry, policy)
    crafted = Principal("ana", "Ana", frozenset({Role.ANALYST}))
    with pytest.raises(PermissionDenied, match="may not sign off"):
        _sign(engine, registry, policy, crafted, request_id)
    assert _count(engine, SignOff) == 0


class _RegistryThatRefusesWrites(Registry):
    """The MLflow write fails (the server went away between the read and the write)."""

    refusals = 1

    def set_alias(self, name: str, alias: str, version: str) -> None:
        if self.refusals:
            self.refusals -= 1
            raise SourceUnavailable("The MLflow registry cannot be reached: connection reset")
        super().set_alias(name, alias, version)


def test_a_failed_alias_move_stays_approved_not_executed_until_a_retry(
        engine: Engine, registry: Registry, policy: Policy) -> None:
    flaky = _RegistryThatRefusesWrites(registry.tracking_uri)
    request_id = _request(engine, flaky, policy)
    _excuse(engine, request_id)
    _sign(engine, flaky, policy, VICTOR, request_id)
    failed = _sign(engine, flaky, policy, WANDA, request_id)
    assert failed.failed and not failed.alias_moved
    assert "connection reset" in (failed.request.execution_error or "")
    assert registry.alias_holder(MODEL, "champion") == "1" and _count(engine, AliasChange) == 0
    retried = retry_promotion(engine=engine, registry=flaky, actor=WANDA, request_id=request_id)
    assert retried.request.status == "executed" and registry.alias_holder(MODEL,
                                                                          "champion") == "2"


def test_an_unreachable_registry_refuses_the_sign_off(engine: Engine, registry: Registry,
                                                      policy: Policy) -> None:
    request_id = _request(engine, registry, policy)
    _excuse(engine, request_id)
    gone = Registry(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(SourceUnavailable):
        _sign(engine, gone, policy, VICTOR, request_id)
    assert _count(engine, SignOff) == 0


def test_a_rollback_gives_the_alias_back_with_its_own_record(
        engine: Engine, registry: Registry, policy: Policy) -> None:
    request_id = _request(engine, registry, policy)
    _excuse(engine, request_id)
    _sign(engine, registry, policy, VICTOR, request_id)
    _sign(engine, registry, policy, WANDA, request_id)
    with pytest.raises(InvalidInput, match="characters"):
        rollback_alias(engine=engine, registry=registry, actor=VICTOR, model_name=MODEL,
                       justification="oops")
    back = rollback_alias(engine=engine, registry=registry, actor=VICTOR, model_name=MODEL,
                          justification="Complaints doubled within a day of the switch.")
    assert back.request.kind == "rollback" and back.request.status == "executed"
    assert registry.alias_holder(MODEL, "champion") == "1"
    assert _count(engine, AliasChange) == 2


def test_two_validators_approving_at_once_execute_exactly_once(
        engine: Engine, registry: Registry, policy: Policy) -> None:
    request_id = _request(engine, registry, policy)
    _excuse(engine, request_id)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def approve(actor: Principal) -> None:
        start.wait()
        try:
            _sign(engine, Registry(registry.tracking_uri), policy, actor, request_id)
        except GovernanceError as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=approve, args=(a,)) for a in (VICTOR, WANDA)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert _count(engine, SignOff, request_id=request_id) == 2
    assert _count(engine, AliasChange) == 1
    assert _actions(engine).count("alias.moved") == 1


def test_point_in_time_names_the_version_its_approvals_and_its_evidence_then(
        engine: Engine, registry: Registry, policy: Policy, tmp_path: Path) -> None:
    request_id = _request(engine, registry, policy)
    _excuse(engine, request_id)
    _sign(engine, registry, policy, VICTOR, request_id)
    _sign(engine, registry, policy, WANDA, request_id)
    with session_scope(engine) as session:
        before = served_at(session=session, model_name=MODEL, at=utcnow() - timedelta(days=1))
        now = served_at(session=session, model_name=MODEL, at=utcnow())
    assert before.version is None  # the console recorded no holder before its first move
    assert now.version == "2" and now.request is not None
    assert now.request.approvers == ("victor", "wanda") and now.request.exceptions


def test_one_admins_exception_does_not_excuse_a_high_risk_gate(
        engine: Engine, registry: Registry, policy: Policy) -> None:
    request_id = _request(engine, registry, policy)
    _excuse(engine, request_id, admins=(ADMIN,))
    with pytest.raises(GateFailed, match="2 admin"):
        _sign(engine, registry, policy, VICTOR, request_id)
    with pytest.raises(InvalidInput, match="already excused"):
        _excuse(engine, request_id, admins=(ADMIN,))
    _excuse(engine, request_id, admins=(ADMIN2,))
    _sign(engine, registry, policy, VICTOR, request_id)
    assert _count(engine, SignOff) == 1


def test_a_rollback_after_a_rollback_is_refused(engine: Engine, registry: Registry,
                                                policy: Policy) -> None:
    request_id = _request(engine, registry, policy)
    _excuse(engine, request_id)
    _sign(engine, registry, policy, VICTOR, request_id)
    _sign(engine, registry, policy, WANDA, request_id)
    with session_scope(engine) as session:
        before = rollback_preview(session=session, model_name=MODEL)
    assert before.target == "1" and "back to version 1" in before.reason
    rollback_alias(engine=engine, registry=registry, actor=VICTOR, model_name=MODEL,
                   justification="Complaints doubled within a day of the switch.")
    with session_scope(engine) as session:
        after = rollback_preview(session=session, model_name=MODEL)
    assert after.target is None and "only an executed promotion" in after.reason
    with pytest.raises(InvalidInput, match="only an executed promotion can be rolled back"):
        rollback_alias(engine=engine, registry=registry, actor=WANDA, model_name=MODEL,
                       justification="Pressing it again to see whether v2 comes back.")
    assert registry.alias_holder(MODEL, "champion") == "1"
    assert _actions(engine)[-1] == "alias.rollback.refused"


def test_a_rollback_does_not_restore_a_version_whose_exception_has_expired(
        engine: Engine, registry: Registry, policy: Policy) -> None:
    first = _request(engine, registry, policy, version="2")
    _excuse(engine, first)
    _sign(engine, registry, policy, VICTOR, first)
    _sign(engine, registry, policy, WANDA, first)
    second = _request(engine, registry, policy, version="3")
    _excuse(engine, second)
    _sign(engine, registry, policy, VICTOR, second)
    _sign(engine, registry, policy, WANDA, second)
    with session_scope(engine) as session:  # v2's exception lapses while v3 serves
        session.execute(update(PolicyException).where(PolicyException.request_id == first)
                        .values(expires_on=utcnow().date() - timedelta(days=1)))
    with pytest.raises(InvalidInput, match="expired"):
        rollback_alias(engine=engine, registry=registry, actor=VICTOR, model_name=MODEL,
                       justification="v3 misbehaves; we want v2 back at once.")
    assert registry.alias_holder(MODEL, "champion") == "3"


def test_point_in_time_after_a_rollback_names_who_had_approved_the_version(
        engine: Engine, registry: Registry, policy: Policy) -> None:
    first = _request(engine, registry, policy, version="2")
    _excuse(engine, first)
    _sign(engine, registry, policy, VICTOR, first)
    _sign(engine, registry, policy, WANDA, first)
    second = _request(engine, registry, policy, version="3")
    _excuse(engine, second)
    _sign(engine, registry, policy, WANDA, second)
    _sign(engine, registry, policy, XAVIER, second)
    rollback_alias(engine=engine, registry=registry, actor=VICTOR, model_name=MODEL,
                   justification="v3 misbehaves; we want v2 back at once.")
    with session_scope(engine) as session:
        now = served_at(session=session, model_name=MODEL, at=utcnow())
    assert now.version == "2" and now.request is not None and now.request.kind == "rollback"
    assert now.approved_under is not None and now.approved_under.id == first
    assert now.approved_under.approvers == ("victor", "wanda")


def test_the_control_matrix_says_a_promotion_rested_on_exceptions_and_a_rollback_approves_nothing(
        engine: Engine, registry: Registry, policy: Policy) -> None:
    from services.governance.controls import control_matrix
    from services.governance.frameworks import chosen, load_frameworks

    sr_26_2 = chosen(load_frameworks(), ["sr-26-2"])
    request_id = _request(engine, registry, policy)
    _excuse(engine, request_id)
    _sign(engine, registry, policy, VICTOR, request_id)
    _sign(engine, registry, policy, WANDA, request_id)
    rollback_alias(engine=engine, registry=registry, actor=VICTOR, model_name=MODEL,
                   justification="Complaints doubled within a day of the switch.")
    with session_scope(engine) as session:
        promoted = control_matrix(session=session, registry=registry, policy=policy,
                                  model_name=MODEL, version="2", frameworks=sr_26_2)
        restored = control_matrix(session=session, registry=registry, policy=policy,
                                  model_name=MODEL, version="1", frameworks=sr_26_2)
    governance = {c.title: c for c in promoted.controls}["Governance, roles and records"]
    assert governance.status == "partial" and "under policy exceptions by adam, bea" in \
        governance.evidence
    governance = {c.title: c for c in restored.controls}["Governance, roles and records"]
    assert governance.status == "gap" and "through rollback #" in governance.evidence
