"""What kind of workspace this is: empty, the demo (being built or ready), or a real one."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from services.store.models import Decision, Evidence, User, WorkspaceSetting

DEMO_KEY = "demo"


class WorkspaceState(StrEnum):
    EMPTY = "empty"
    DEMO_BUILDING = "demo_building"  # a demo build started and has not finished
    DEMO = "demo"
    WORKSPACE = "workspace"  # a real one: accounts, decisions or evidence, and no demo marker


def workspace_state(*, session: Session) -> WorkspaceState:
    marker = session.get(WorkspaceSetting, DEMO_KEY)
    if marker is not None:
        return WorkspaceState.DEMO if marker.value == "ready" else WorkspaceState.DEMO_BUILDING
    # Accounts count: a workspace whose admin has added people, before any decision or
    # evidence arrives, is already somebody's real one.
    has_records = any(session.scalar(select(exists().where(table.id.is_not(None))))
                      for table in (User, Decision, Evidence))
    return WorkspaceState.WORKSPACE if has_records else WorkspaceState.EMPTY


def is_demo(*, session: Session) -> bool:
    """True only for a finished demo workspace: the app then offers demo personas."""
    return workspace_state(session=session) == WorkspaceState.DEMO


def set_setting(*, session: Session, key: str, value: str) -> None:
    session.merge(WorkspaceSetting(key=key, value=value))
