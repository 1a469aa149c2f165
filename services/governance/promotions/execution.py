"""Moving the alias once a promotion is approved, and rolling it back.

The alias moves in MLflow while this transaction holds the audit trail's lock, so two
approvals landing together execute once. If MLflow refuses, the request is recorded as
approved but not executed, with the reason, and can be retried: it is never shown as done
when the registry says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.audit.actions import AuditAction
from services.audit.chain import append, lock_trail, refusals_recorded
from services.core.clock import utcnow
from services.core.errors import InvalidInput, NotFound, SourceUnavailable
from services.core.justification import justified
from services.core.permissions import Action, require
from services.core.principal import Principal
from services.governance.promotions.status import PromotionStatus
from services.governance.promotions.views import PromotionView, promotion_view
from services.registry.adapter import Registry
from services.store.engine import session_scope
from services.store.models import AliasChange, PolicyException, PromotionRequest

EXECUTABLE = (PromotionStatus.APPROVED, PromotionStatus.APPROVED_NOT_EXECUTED)


@dataclass(frozen=True)
class ExecutionResult:
    request: PromotionView
    alias_moved: bool  # True only when this call moved it

    @property
    def failed(self) -> bool:
        return self.request.status == PromotionStatus.APPROVED_NOT_EXECUTED


def execute_promotion(*, engine: Engine, registry: Registry, actor: Principal,
                      request_id: int) -> ExecutionResult:
    """Move the alias of an approved request (the last sign-off, or a retry, calls this)."""
    require(actor, Action.EXECUTE_PROMOTION)
    moved = False
    with session_scope(engine) as session:
        lock_trail(session=session)
        request = session.get(PromotionRequest, request_id)
        if request is None:
            raise NotFound(f"There is no promotion request #{request_id}.")
        if request.status in EXECUTABLE:
            try:
                previous = registry.alias_holder(request.model_name, request.alias)
                if previous != request.model_version:
                    registry.set_alias(request.model_name, request.alias, request.model_version)
            except SourceUnavailable as exc:
                request.status = PromotionStatus.APPROVED_NOT_EXECUTED
                request.execution_error = exc.message
                append(session=session, actor=actor, action=AuditAction.ALIAS_MOVE_FAILED,
                       subject_type="promotion_request", subject_id=request_id,
                       model_name=request.model_name,
                       payload={"version": request.model_version, "alias": request.alias,
                                "error": exc.message})
            else:
                _record_move(session, request, previous, actor)
                moved = True
        session.flush()
        return ExecutionResult(promotion_view(session=session, request_id=request_id), moved)


def retry_promotion(*, engine: Engine, registry: Registry, actor: Principal,
                    request_id: int) -> ExecutionResult:
    """Try again to move the alias of a request whose earlier attempt failed."""
    with refusals_recorded(engine, actor, AuditAction.PROMOTION_EXECUTE_REFUSED,
                           "promotion_request", request_id):
        require(actor, Action.EXECUTE_PROMOTION)
        with session_scope(engine) as session:
            request = session.get(PromotionRequest, request_id)
            if request is None:
                raise NotFound(f"There is no promotion request #{request_id}.")
            if request.status not in EXECUTABLE:
                raise InvalidInput(f"Promotion request #{request_id} is "
                                   f"{request.status.replace('_', ' ')}: there is nothing to "
                                   "execute.")
        return execute_promotion(engine=engine, registry=registry, actor=actor,
                                 request_id=request_id)


def rollback_alias(*, engine: Engine, registry: Registry, actor: Principal, model_name: str,
                   justification: str, alias: str = "champion") -> ExecutionResult:
    """Give the alias back to the version that held it before the last executed promotion.

    Only a promotion is undone this way: when the last move was itself a rollback, going back
    again would put a version in place with no gate check and no second approver, so it needs
    a new request. Nor does a rollback restore a version whose own promotion rested on a
    policy exception that has expired since.

    Raises:
        PermissionDenied: the actor may not roll back.
        InvalidInput: too short a justification; nothing recorded to go back to; the last move
            was a rollback or was made outside the console; the earlier version's exception
            has expired.
    """
    with refusals_recorded(engine, actor, AuditAction.ALIAS_ROLLBACK_REFUSED, "model", model_name,
                           model_name):
        require(actor, Action.ROLLBACK)
        text = justified(justification)
        holder = registry.alias_holder(model_name, alias)
        with session_scope(engine) as session:
            lock_trail(session=session)
            last = session.scalars(select(AliasChange).where(
                AliasChange.model_name == model_name, AliasChange.alias == alias)
                .order_by(AliasChange.changed_at.desc(), AliasChange.id.desc()).limit(1)).first()
            if last is None or last.previous_version is None:
                raise InvalidInput(f"No earlier holder of {model_name} @{alias} is recorded: "
                                   "there is nothing to roll back to.")
            if holder != last.version:
                raise InvalidInput(
                    f"The registry says {model_name} @{alias} is held by version {holder}, but "
                    f"the console last moved it to version {last.version}.",
                    hint="The alias was moved outside the console; promote the version you "
                         "want explicitly instead.")
            _only_a_promotion_is_undone(session, last, model_name, alias)
            request = PromotionRequest(
                kind="rollback", model_name=model_name, model_version=last.previous_version,
                alias=alias, requested_by=actor.id, requested_at=utcnow(), justification=text,
                status=PromotionStatus.APPROVED, gate_results=[], policy_sha256="",
                previous_version=holder)
            session.add(request)
            session.flush()
            append(session=session, actor=actor, action=AuditAction.ALIAS_ROLLBACK_REQUESTED,
                   subject_type="promotion_request", subject_id=request.id,
                   model_name=model_name,
                   payload={"alias": alias, "from_version": holder,
                            "to_version": last.previous_version, "justification": text})
            request_id = request.id
        return execute_promotion(engine=engine, registry=registry, actor=actor,
                                 request_id=request_id)


@dataclass(frozen=True)
class RollbackPreview:
    """What pressing "Roll back" would do now: the version it would restore, or why not."""

    target: str | None  # None: refused, for the reason below
    reason: str  # in words: what it would do, or why it cannot


def rollback_preview(*, session: Session, model_name: str,
                     alias: str = "champion") -> RollbackPreview:
    """The version a rollback of the alias would restore, by the same rules rollback_alias
    applies (it reads the console's alias history only; the registry is checked at the act)."""
    last = session.scalars(select(AliasChange).where(
        AliasChange.model_name == model_name, AliasChange.alias == alias)
        .order_by(AliasChange.changed_at.desc(), AliasChange.id.desc()).limit(1)).first()
    if last is None or last.previous_version is None:
        return RollbackPreview(None, f"No earlier holder of @{alias} is recorded: there is "
                               "nothing to roll back to.")
    try:
        _only_a_promotion_is_undone(session, last, model_name, alias)
    except InvalidInput as exc:
        return RollbackPreview(None, f"{exc.message} {exc.hint or ''}".strip())
    return RollbackPreview(last.previous_version,
                           f"A rollback would give @{alias} back to version "
                           f"{last.previous_version}, which promotion #{last.request_id} "
                           f"replaced with version {last.version}.")


def _only_a_promotion_is_undone(session: Session, last: AliasChange, model_name: str,
                                alias: str) -> None:
    moved_by = session.get(PromotionRequest, last.request_id) if last.request_id else None
    if moved_by is None or moved_by.kind != "promotion":
        how = "a rollback" if moved_by is not None else "not a promotion signed off here"
        raise InvalidInput(
            f"The last move of {model_name} @{alias} (to version {last.version}) was {how}; "
            "only an executed promotion can be rolled back.",
            hint=f"To put version {last.previous_version} back, request its promotion: it "
                 "goes through today's gates and sign-offs.")
    earlier = session.scalars(select(AliasChange).where(
        AliasChange.model_name == model_name, AliasChange.alias == alias,
        AliasChange.version == last.previous_version, AliasChange.id < last.id)
        .order_by(AliasChange.id.desc()).limit(1)).first()
    if earlier is None or earlier.request_id is None:
        return  # it held the alias before the console's promotions began: nothing to re-check
    today = utcnow().date()
    lapsed = session.scalars(select(PolicyException).where(
        PolicyException.request_id == earlier.request_id, PolicyException.expires_on < today)
        .order_by(PolicyException.expires_on)).first()
    if lapsed is not None:
        raise InvalidInput(
            f"Version {last.previous_version} held @{alias} under a policy exception that "
            f"expired on {lapsed.expires_on:%Y-%m-%d}.",
            hint="Request its promotion again: the gates and sign-offs of today apply.")


def _record_move(session: Session, request: PromotionRequest, previous: str | None,
                 actor: Principal) -> None:
    now = utcnow()
    request.status, request.executed_at, request.executed_by = (PromotionStatus.EXECUTED, now,
                                                               actor.id)
    request.previous_version, request.execution_error = previous, None
    session.add(AliasChange(model_name=request.model_name, alias=request.alias,
                            version=request.model_version, previous_version=previous,
                            changed_at=now, changed_by=actor.id, request_id=request.id,
                            reason=request.justification))
    append(session=session, actor=actor, action=AuditAction.ALIAS_MOVED, subject_type="model",
           subject_id=request.model_name, model_name=request.model_name,
           payload={"alias": request.alias, "version": request.model_version,
                    "previous_version": previous, "request_id": request.id,
                    "kind": request.kind})
