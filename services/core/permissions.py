"""Who may do what. Every write service calls require(); pages only hide what it refuses."""

from __future__ import annotations

from enum import StrEnum

from services.core.errors import PermissionDenied
from services.core.principal import Principal, Role


class Action(StrEnum):
    RUN_EVIDENCE = "run evidence"
    INGEST = "ingest decisions or outcomes"
    OVERRIDE = "confirm or override a decision"
    REQUEST_PROMOTION = "request a promotion"
    SIGN_OFF = "sign off a promotion"
    GRANT_EXCEPTION = "grant a policy exception"
    EXECUTE_PROMOTION = "retry moving an approved promotion's alias"
    ROLLBACK = "roll an alias back"
    MANAGE_USERS = "manage accounts and roles"
    ACKNOWLEDGE_ALERT = "acknowledge an alert and record the action taken"
    RAISE_FINDING = "raise or change a validation finding"
    WORK_FINDING = "work a finding's remediation"
    REVIEW_FINDING = "close a finding, accept it as a limitation or send it back"
    RECORD_REVIEW = "record a periodic review of a model"
    GOVERN_VENDOR_MODEL = "register a vendor model or record a document received with it"
    # Reads that show personal data or the trail itself, not only what the executive sees.
    VIEW_DECISIONS = "view individual decisions"
    VIEW_AUDIT = "view the audit trail"


PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.RUN_EVIDENCE: frozenset({Role.VALIDATOR, Role.MODEL_OWNER, Role.ADMIN}),
    Action.INGEST: frozenset({Role.MODEL_OWNER, Role.ADMIN, Role.INGEST}),
    Action.OVERRIDE: frozenset({Role.ANALYST, Role.ADMIN}),
    Action.REQUEST_PROMOTION: frozenset({Role.MODEL_OWNER, Role.VALIDATOR}),
    Action.SIGN_OFF: frozenset({Role.VALIDATOR}),
    Action.GRANT_EXCEPTION: frozenset({Role.ADMIN}),
    Action.EXECUTE_PROMOTION: frozenset({Role.VALIDATOR, Role.ADMIN}),
    Action.ROLLBACK: frozenset({Role.VALIDATOR, Role.ADMIN}),
    Action.MANAGE_USERS: frozenset({Role.ADMIN}),
    Action.ACKNOWLEDGE_ALERT: frozenset({Role.MODEL_OWNER, Role.VALIDATOR, Role.ADMIN}),
    Action.RAISE_FINDING: frozenset({Role.VALIDATOR, Role.ADMIN}),
    Action.WORK_FINDING: frozenset({Role.MODEL_OWNER, Role.ADMIN}),
    Action.REVIEW_FINDING: frozenset({Role.VALIDATOR}),
    # Second line only: the model's own owner is refused by the service (four eyes).
    Action.RECORD_REVIEW: frozenset({Role.VALIDATOR}),
    Action.GOVERN_VENDOR_MODEL: frozenset({Role.MODEL_OWNER, Role.ADMIN}),
    Action.VIEW_DECISIONS: frozenset({Role.ANALYST, Role.VALIDATOR, Role.AUDITOR, Role.ADMIN}),
    Action.VIEW_AUDIT: frozenset({Role.AUDITOR, Role.VALIDATOR, Role.ADMIN}),
}


def allowed(actor: Principal, action: Action) -> bool:
    return bool(actor.roles & PERMISSIONS[action])


def require(actor: Principal, action: Action) -> None:
    """Raise PermissionDenied naming the roles that may, unless the actor holds one."""
    if not allowed(actor, action):
        roles = ", ".join(sorted(r.value for r in PERMISSIONS[action]))
        raise PermissionDenied(f"{actor.name} may not {action.value}.",
                               hint=f"This needs one of the roles: {roles}.")
