"""Promotion requests and their sign-offs: four eyes, gates frozen on the request, exceptions.

Every function here is a write: it checks permission, takes the audit trail's lock before it
reads what it decides on, and appends its audit event in the same transaction. A refusal
leaves only its own audit event.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.audit.actions import AuditAction
from services.audit.chain import append, lock_trail, refusals_recorded
from services.core.clock import utcnow
from services.core.errors import GateFailed, InvalidInput, NotFound, PermissionDenied
from services.core.justification import justified
from services.core.permissions import Action, require
from services.core.policy import Policy
from services.core.principal import Principal, Role
from services.evidence.gates import gates_for_version
from services.governance.promotions.execution import ExecutionResult, execute_promotion
from services.governance.promotions.status import OPEN_STATUSES, PromotionStatus
from services.governance.promotions.views import PromotionView, promotion_view
from services.notify.kinds import NotificationKind
from services.notify.outbox import accounts_with_roles, enqueue
from services.registry.adapter import Registry
from services.store.engine import session_scope
from services.store.models import PolicyException, PromotionRequest, SignOff

MAX_EXCEPTION_DAYS = 365
_ALIAS = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def request_promotion(*, engine: Engine, registry: Registry, policy: Policy, actor: Principal,
                      model_name: str, version: str, justification: str,
                      alias: str = "champion") -> PromotionView:
    """Ask for a version to take an alias; the gates of this moment are frozen on the request."""
    with refusals_recorded(engine, actor, AuditAction.PROMOTION_REQUEST_REFUSED, "model",
                           model_name, model_name):
        require(actor, Action.REQUEST_PROMOTION)
        text = justified(justification)
        if not _ALIAS.match(alias):
            raise InvalidInput(f"{alias!r} is not an alias name.",
                               hint="Use lower-case letters, digits, '-' and '_'.")
        registry.get_version(model_name, version)  # NotFound names what does not exist
        owner = registry.get_model(model_name).owner
        holder = registry.alias_holder(model_name, alias)
        if holder == str(version):
            raise InvalidInput(f"Version {version} of {model_name} already holds @{alias}.")
        with session_scope(engine) as session:
            lock_trail(session=session)
            pending = session.scalar(select(PromotionRequest.id).where(
                PromotionRequest.model_name == model_name, PromotionRequest.alias == alias,
                PromotionRequest.status.in_(OPEN_STATUSES)))
            if pending is not None:
                raise InvalidInput(f"Promotion request #{pending} for {model_name} @{alias} "
                                   "is still open.",
                                   hint="Sign it off, or withdraw it, before asking again.")
            gates = gates_for_version(session=session, registry=registry, policy=policy,
                                      model_name=model_name, version=str(version))
            request = PromotionRequest(
                model_name=model_name, model_version=str(version), alias=alias,
                requested_by=actor.id, requested_at=utcnow(), justification=text,
                status=PromotionStatus.OPEN, gate_results=[r.as_stored() for r in gates.results],
                policy_sha256=gates.policy_sha256, previous_version=holder)
            session.add(request)
            session.flush()
            append(session=session, actor=actor, action=AuditAction.PROMOTION_REQUESTED,
                   subject_type="promotion_request", subject_id=request.id,
                   model_name=model_name,
                   payload={"version": str(version), "alias": alias, "justification": text,
                            "previous_version": holder, "gates_passed": gates.passed,
                            "failing_gates": [r.gate for r in gates.failing],
                            "policy_sha256": gates.policy_sha256})
            # Those who may sign it: validators other than the requester and the owner.
            signers = [a for a in accounts_with_roles(session, [Role.VALIDATOR])
                       if a not in (actor.id, owner)]
            failing = f"; it fails {len(gates.failing)} gate(s)" if gates.failing else ""
            enqueue(session, kind=NotificationKind.PROMOTION_WAITING,
                    subject=f"Promotion of {model_name} v{version} to @{alias} waits for your "
                            "sign-off",
                    desk_subject=f"Promotion of {model_name} v{version} to @{alias} waits for "
                                 "a validator's sign-off",
                    text=f"Promotion request #{request.id}: {actor.name} asks for {model_name} "
                         f"v{version} to take @{alias}{failing}. It needs a validator's "
                         "sign-off.",
                    link=f"/promotions?model={model_name}",
                    data={"request_id": request.id, "model": model_name,
                          "version": str(version), "alias": alias,
                          "gates_passed": gates.passed}, to=signers)
            return promotion_view(session=session, request_id=request.id)


def sign_off(*, engine: Engine, registry: Registry, policy: Policy, actor: Principal,
             request_id: int, verdict: str, justification: str) -> ExecutionResult:
    """A validator approves or rejects; the last approval needed moves the alias."""
    with refusals_recorded(engine, actor, AuditAction.PROMOTION_SIGN_OFF_REFUSED,
                           "promotion_request", request_id):
        require(actor, Action.SIGN_OFF)
        if verdict not in ("approve", "reject"):
            raise InvalidInput(f"A sign-off approves or rejects, not {verdict!r}.")
        text = justified(justification)
        with session_scope(engine) as session:
            lock_trail(session=session)
            request = _open_request(session, request_id)
            model = registry.get_model(request.model_name)
            view = promotion_view(session=session, request_id=request_id)
            _four_eyes(actor, model.owner, view)
            tier = policy.for_tier(model.risk_tier)
            if verdict == "approve" and (blocking := view.unexcused_gates(
                    utcnow().date(), tier.exception_approvers)):
                raise GateFailed(
                    f"Request #{request_id} fails {len(blocking)} gate(s): "
                    f"{', '.join(blocking)}.",
                    hint=f"It cannot be approved unless {tier.exception_approvers} admin(s) "
                         "each record a policy exception for those gates, with a "
                         "justification and an expiry date.")
            session.add(SignOff(request_id=request_id, validator=actor.id, verdict=verdict,
                                justification=text, signed_at=utcnow()))
            needed = tier.approvers
            approvals = len(view.approvers) + (verdict == "approve")
            if verdict == "reject":
                request.status = PromotionStatus.REJECTED
            elif approvals >= needed:
                request.status = PromotionStatus.APPROVED
            append(session=session, actor=actor,
                   action=AuditAction.PROMOTION_REJECTED if verdict == "reject"
                   else AuditAction.PROMOTION_APPROVED,
                   subject_type="promotion_request", subject_id=request_id,
                   model_name=request.model_name,
                   payload={"version": request.model_version, "alias": request.alias,
                            "justification": text, "approvals": approvals,
                            "approvals_needed": needed, "status": request.status})
            approved = request.status == PromotionStatus.APPROVED
    if approved:
        return execute_promotion(engine=engine, registry=registry, actor=actor,
                                 request_id=request_id)
    with session_scope(engine) as session:
        return ExecutionResult(promotion_view(session=session, request_id=request_id), False)


def _four_eyes(actor: Principal, owner: str | None, view: PromotionView) -> None:
    if owner and actor.id == owner:
        raise PermissionDenied(f"{actor.name} owns {view.model_name} and may not sign off its "
                               "promotion.", hint="Four eyes: another validator must.")
    if actor.id == view.requested_by:
        raise PermissionDenied(f"{actor.name} requested this promotion and may not sign it off.",
                               hint="Four eyes: another validator must.")
    if any(s.validator == actor.id for s in view.sign_offs):
        raise InvalidInput(f"{actor.name} has already signed request #{view.id}.",
                           hint="Each validator signs a request once.")


def grant_exception(*, engine: Engine, actor: Principal, request_id: int, justification: str,
                    expires_on: date, gates: tuple[str, ...] = ()) -> PromotionView:
    """An admin lets a request past failing gates until a date, saying why. Where the tier's
    policy sets exception_approvers above one, the gates stay blocking until that many
    distinct admins have each recorded one (each admin once per gate)."""
    with refusals_recorded(engine, actor, AuditAction.POLICY_EXCEPTION_GRANT_REFUSED,
                           "promotion_request", request_id):
        require(actor, Action.GRANT_EXCEPTION)
        text = justified(justification)
        today = utcnow().date()
        if not today <= expires_on <= today + timedelta(days=MAX_EXCEPTION_DAYS):
            raise InvalidInput(f"An exception expires between today and {MAX_EXCEPTION_DAYS} "
                               f"days from now, not on {expires_on:%Y-%m-%d}.")
        with session_scope(engine) as session:
            lock_trail(session=session)
            request = _open_request(session, request_id)
            failing = promotion_view(session=session, request_id=request_id).failing_gates
            covered = tuple(gates) or failing
            if not failing:
                raise InvalidInput(f"Request #{request_id} fails no gate: it needs no exception.")
            if unknown := [g for g in covered if g not in failing]:
                raise InvalidInput(f"These are not failing gates of request #{request_id}: "
                                   f"{', '.join(unknown)}.")
            view = promotion_view(session=session, request_id=request_id)
            if already := [g for g in covered if actor.id in view.excused_by(g, today)]:
                raise InvalidInput(f"{actor.name} has already excused {', '.join(already)} on "
                                   f"request #{request_id}.",
                                   hint="Where the tier needs more than one, another admin "
                                        "must record the exception too.")
            session.add(PolicyException(request_id=request_id, gates=list(covered),
                                        justification=text, expires_on=expires_on,
                                        granted_by=actor.id, granted_at=utcnow()))
            append(session=session, actor=actor, action=AuditAction.POLICY_EXCEPTION_GRANTED,
                   subject_type="promotion_request", subject_id=request_id,
                   model_name=request.model_name,
                   payload={"gates": list(covered), "justification": text,
                            "expires_on": expires_on.isoformat()})
            session.flush()
            return promotion_view(session=session, request_id=request_id)


def withdraw_promotion(*, engine: Engine, actor: Principal, request_id: int,
                       justification: str) -> PromotionView:
    """The requester (or an admin) takes back a request nobody has approved yet."""
    with refusals_recorded(engine, actor, AuditAction.PROMOTION_WITHDRAW_REFUSED,
                           "promotion_request", request_id):
        text = justified(justification)
        with session_scope(engine) as session:
            lock_trail(session=session)
            request = _open_request(session, request_id)
            if actor.id != request.requested_by and not actor.has(Role.ADMIN):
                raise PermissionDenied(f"{actor.name} did not request #{request_id} and may "
                                       "not withdraw it.",
                                       hint="Only its requester, or an admin, may.")
            request.status = PromotionStatus.WITHDRAWN
            append(session=session, actor=actor, action=AuditAction.PROMOTION_WITHDRAWN,
                   subject_type="promotion_request", subject_id=request_id,
                   model_name=request.model_name, payload={"justification": text})
            session.flush()
            return promotion_view(session=session, request_id=request_id)


def _open_request(session: Session, request_id: int) -> PromotionRequest:
    request = session.get(PromotionRequest, request_id)
    if request is None:
        raise NotFound(f"There is no promotion request #{request_id}.")
    if request.status != PromotionStatus.OPEN:
        raise InvalidInput(f"Promotion request #{request_id} is {request.status.replace('_', ' ')}"
                           "; it takes no more sign-offs or changes.")
    return request
