"""How the hold-out set's groups compare with the population the model decides on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pandas as pd
from sqlalchemy import String, case, cast, func, select
from sqlalchemy.orm import Session

from services.core.clock import utcnow
from services.evidence.groups import MISSING_GROUP, band_labels
from services.store.models import Decision

WINDOW_DAYS = 90


def decided_population(*, session: Session, model_name: str, feature: str, continuous: bool,
                       edges: Sequence[float]) -> dict[str, int]:
    """Counts per group among the model's acted-on decisions of the last 90 days (in SQL)."""
    if continuous:
        value = Decision.features[feature].as_float()
        labels = band_labels(edges)
        whens = [(value < edge, labels[i]) for i, edge in enumerate(edges)]
        group: Any = case((value.is_(None), MISSING_GROUP), *whens, else_=labels[-1])
    else:
        group = func.coalesce(cast(Decision.features[feature].as_string(), String), MISSING_GROUP)
    rows = session.execute(
        select(group.label("group"), func.count().label("n"))
        .where(Decision.model_name == model_name, Decision.shadow.is_(False),
               Decision.decided_at >= utcnow() - timedelta(days=WINDOW_DAYS))
        .group_by(group)
    ).all()
    return {str(g): int(n) for g, n in rows}


def representation(holdout_groups: pd.Series, population: dict[str, int]) -> list[dict[str, Any]]:
    """Each group's share of the hold-out set beside its share of the decided population."""
    held = holdout_groups.value_counts()
    total_held, total_decided = int(held.sum()), sum(population.values())
    rows = []
    for group in sorted(set(held.index.astype(str)) | set(population)):
        held_share = int(held.get(group, 0)) / total_held if total_held else None
        decided_share = population.get(group, 0) / total_decided if total_decided else None
        rows.append({"group": group, "holdout_rows": int(held.get(group, 0)),
                     "holdout_share": held_share, "decided_rows": population.get(group, 0),
                     "decided_share": decided_share})
    return rows
