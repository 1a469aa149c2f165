"""Every write service called as every role: refused exactly when the permission table says.

The calls carry input that would fail later (an unknown request, an unreachable registry), so
a role that may act gets some other answer, and one that may not gets PermissionDenied before
anything is read or written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from services.core.errors import GovernanceError, PermissionDenied
from services.core.permissions import PERMISSIONS, Action
from services.core.policy import load_policy
from services.core.principal import Principal, Role
from services.core.settings import PROJECT_ROOT
from services.decisions.ingest import ingest_decisions_file, record_decisions
from services.decisions.overrides import override_decision
from services.evidence.run import run_evidence
from services.governance.accounts import add_user, disable_user, set_roles
from services.governance.findings import raise_finding, review_finding, work_finding
from services.governance.promotions.execution import retry_promotion, rollback_alias
from services.governance.promotions.requests import grant_exception, request_promotion, sign_off
from services.governance.vendors import record_vendor_document, register_vendor_model
from services.registry.adapter import Registry
from services.store.engine import session_scope
from services.store.models import AuditEvent
from tests.conftest import closed_port

WHY = "A justification that is long enough to be read."
Call = Callable[[Engine, Registry, Principal, Path], Any]
POLICY = load_policy(PROJECT_ROOT / "policy.toml")

WRITES: dict[str, tuple[Action, Call]] = {
    "run evidence": (Action.RUN_EVIDENCE, lambda e, r, a, _: run_evidence(
        engine=e, registry=r, policy=POLICY, actor=a, model_name="m", version="1")),
    "record decisions": (Action.INGEST, lambda e, r, a, _: record_decisions(
        engine=e, registry=r, actor=a, decisions=[])),
    "ingest a file": (Action.INGEST, lambda e, r, a, tmp: ingest_decisions_file(
        engine=e, registry=r, actor=a, path=tmp / "none.jsonl")),
    "override": (Action.OVERRIDE, lambda e, r, a, _: override_decision(
        engine=e, actor=a, decision_id="nope", new_outcome="approved",
        reason_category="complaint upheld", justification=WHY)),
    "request promotion": (Action.REQUEST_PROMOTION, lambda e, r, a, _: request_promotion(
        engine=e, registry=r, policy=POLICY, actor=a, model_name="m", version="1",
        justification=WHY)),
    "sign off": (Action.SIGN_OFF, lambda e, r, a, _: sign_off(
        engine=e, registry=r, policy=POLICY, actor=a, request_id=1, verdict="approve",
        justification=WHY)),
    "grant exception": (Action.GRANT_EXCEPTION, lambda e, r, a, _: grant_exception(
        engine=e, actor=a, request_id=1, justification=WHY, expires_on=date.today())),
    "retry promotion": (Action.EXECUTE_PROMOTION, lambda e, r, a, _: retry_promotion(
        engine=e, registry=r, actor=a, request_id=1)),
    "rollback": (Action.ROLLBACK, lambda e, r, a, _: rollback_alias(
        engine=e, registry=r, actor=a, model_name="m", justification=WHY)),
    "add user": (Action.MANAGE_USERS, lambda e, r, a, _: add_user(
        engine=e, actor=a, username="new", password="x" * 20, roles=frozenset({Role.ADMIN}))),
    "set roles": (Action.MANAGE_USERS, lambda e, r, a, _: set_roles(
        engine=e, actor=a, username="nobody", roles=frozenset({Role.ADMIN}))),
    "disable user": (Action.MANAGE_USERS, lambda e, r, a, _: disable_user(
        engine=e, actor=a, username="nobody")),
    "raise finding": (Action.RAISE_FINDING, lambda e, r, a, _: raise_finding(
        engine=e, registry=r, actor=a, model_name="m", version="1", title="Stale",
        description=WHY, severity="low", category="data", due_on=date.today())),
    "work finding": (Action.WORK_FINDING, lambda e, r, a, _: work_finding(
        engine=e, registry=r, actor=a, finding_id=1, status="ready for review", note=WHY)),
    "review finding": (Action.REVIEW_FINDING, lambda e, r, a, _: review_finding(
        engine=e, registry=r, actor=a, finding_id=1, verdict="close", note=WHY)),
    "register vendor model": (Action.GOVERN_VENDOR_MODEL, lambda e, r, a, _:
                              register_vendor_model(
        engine=e, registry=r, actor=a, name="m", vendor="V", vendor_version="1",
        purpose="Scores", owner="o", risk_tier="low", inputs={"x": "double"}, label="y",
        positive_label="1")),
    "record vendor document": (Action.GOVERN_VENDOR_MODEL, lambda e, r, a, _:
                               record_vendor_document(
        engine=e, registry=r, actor=a, model_name="m", title="Doc", file_name="d.txt",
        content=b"x")),
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("write", list(WRITES))
def test_each_write_checks_the_role_in_services(engine: Engine, tmp_path: Path, role: Role,
                                                write: str) -> None:
    action, call = WRITES[write]
    actor = Principal(f"someone-{role.value}", "Someone", frozenset({role}))
    unreachable = Registry(f"http://127.0.0.1:{closed_port()}")
    try:
        call(engine, unreachable, actor, tmp_path)
        refused = False
    except PermissionDenied as exc:
        refused = "may not" in exc.message
    except GovernanceError:
        refused = False
    assert refused == (role not in PERMISSIONS[action]), f"{write} as {role.value}"


def test_a_refused_write_leaves_one_audit_event_and_nothing_else(engine: Engine,
                                                                 tmp_path: Path) -> None:
    viewer = Principal("exec", "Executive", frozenset({Role.VIEWER}))
    with pytest.raises(PermissionDenied):
        WRITES["sign off"][1](engine, Registry("sqlite://"), viewer, tmp_path)
    with session_scope(engine) as session:
        events = session.scalars(select(AuditEvent)).all()
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 1
    assert events[0].action == "promotion.sign_off.refused" and events[0].actor == "exec"
