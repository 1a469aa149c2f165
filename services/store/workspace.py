"""What kind of workspace this is: empty, the demo (being built or ready), or a real one."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from services.store.models import Decision, Evidence, WorkspaceSetting

DEMO_KEY = "demo"
WorkspaceState = Literal["empty", "demo_building", "demo", "workspace"]


def workspace_state(*, session: Session) -> WorkspaceState:
    marker = session.get(WorkspaceSetting, DEMO_KEY)
    if marker is not None:
        return "demo" if marker.value == "ready" else "demo_building"
    has_records = session.scalar(select(exists().where(Decision.id.is_not(None)))) or \
        session.scalar(select(exists().where(Evidence.id.is_not(None))))
    return "workspace" if has_records else "empty"


def is_demo(*, session: Session) -> bool:
    """True only for a finished demo workspace: the app then offers demo personas."""
    return workspace_state(session=session) == "demo"


def set_setting(*, session: Session, key: str, value: str) -> None:
    session.merge(WorkspaceSetting(key=key, value=value))
