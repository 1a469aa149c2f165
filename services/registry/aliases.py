"""Alias history: which version held which alias, from when, moved by whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.store.models import AliasChange


@dataclass(frozen=True)
class AliasTenure:
    """One stretch of time during which a version held an alias (until None: still holds)."""

    alias: str
    version: str
    since: datetime
    until: datetime | None
    changed_by: str
    reason: str


def alias_tenures(*, session: Session, model_name: str) -> list[AliasTenure]:
    """The model's alias history as tenures, oldest first."""
    changes = session.scalars(
        select(AliasChange)
        .where(AliasChange.model_name == model_name)
        .order_by(AliasChange.alias, AliasChange.changed_at, AliasChange.id)
    ).all()
    tenures: list[AliasTenure] = []
    for index, change in enumerate(changes):
        following = changes[index + 1] if index + 1 < len(changes) else None
        until = following.changed_at if following and following.alias == change.alias else None
        if change.version is not None:
            tenures.append(AliasTenure(change.alias, change.version, change.changed_at, until,
                                       change.changed_by, change.reason))
    return sorted(tenures, key=lambda t: t.since)
