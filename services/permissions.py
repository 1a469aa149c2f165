"""Who may do what. Every write service calls require(); pages only hide what it refuses."""

from __future__ import annotations

from enum import StrEnum

from services.errors import PermissionDenied
from services.principal import Principal, Role


class Action(StrEnum):
    RUN_EVIDENCE = "run evidence"
    INGEST = "ingest decisions or outcomes"
    OVERRIDE = "confirm or override a decision"


PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.RUN_EVIDENCE: frozenset({Role.VALIDATOR, Role.MODEL_OWNER, Role.ADMIN}),
    Action.INGEST: frozenset({Role.MODEL_OWNER, Role.ADMIN}),
    Action.OVERRIDE: frozenset({Role.ANALYST, Role.ADMIN}),
}


def allowed(actor: Principal, action: Action) -> bool:
    return bool(actor.roles & PERMISSIONS[action])


def require(actor: Principal, action: Action) -> None:
    """Raise PermissionDenied naming the roles that may, unless the actor holds one."""
    if not allowed(actor, action):
        roles = ", ".join(sorted(r.value for r in PERMISSIONS[action]))
        raise PermissionDenied(f"{actor.name} may not {action.value}.",
                               hint=f"This needs one of the roles: {roles}.")
