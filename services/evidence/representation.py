"""How the hold-out set's groups compare with the population the model decides on.

Both sides are counted by group key (groups.group_key), so the hold-out's 1 and the log's 1.0,
or its True and the log's 1, are one row, shown as the hold-out writes it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pandas as pd
from sqlalchemy import String, case, cast, func, select
from sqlalchemy.orm import Session

from services.core.clock import utcnow
from services.evidence.groups import MISSING_GROUP, band_labels, group_key
from services.store.models import Decision

WINDOW_DAYS = 90


def decided_population(*, session: Session, model_name: str, feature: str, continuous: bool,
                       edges: Sequence[float]) -> dict[str, int]:
    """Counts per group key among the model's acted-on decisions of the last 90 days (counted
    in SQL per value as logged, then merged by key: 1, 1.0 and true are a few rows)."""
    if continuous:
        value = _number(feature, session.get_bind().dialect.name)
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
    counts: Counter[str] = Counter()
    for g, n in rows:
        counts[str(g) if continuous else group_key(g)] += int(n)
    return dict(counts)


def _number(feature: str, dialect: str) -> Any:
    """The input as a number in SQL, NULL (so counted as missing) when it is logged as text: a
    failed-closed decision keeps its inputs as received, and PostgreSQL's cast of text to a
    float would fail the whole count, SQLite's would read it as 0."""
    raw = Decision.features[feature]
    if dialect == "postgresql":
        numeric = func.json_typeof(raw).in_(("number",))
    else:
        numeric = func.json_type(Decision.features, f'$."{feature}"').in_(("integer", "real"))
    return case((numeric, raw.as_float()), else_=None)


def representation(holdout_groups: pd.Series, population: dict[str, int]) -> list[dict[str, Any]]:
    """Each group's share of the hold-out set beside its share of the decided population.

    Args:
        holdout_groups: each hold-out row's group label (groups.sensitive_groups).
        population: decided rows per group key (decided_population).
    """
    held: Counter[str] = Counter()
    labels: dict[str, str] = {}
    for label, n in holdout_groups.value_counts().items():
        key = group_key(label)
        held[key] += int(n)
        labels.setdefault(key, str(label))
    decided: Counter[str] = Counter()
    for group, n in population.items():
        decided[group_key(group)] += n
    total_held, total_decided = sum(held.values()), sum(decided.values())
    rows = []
    for key in sorted(set(held) | set(decided), key=lambda k: labels.get(k, k)):
        rows.append({"group": labels.get(key, key), "holdout_rows": held[key],
                     "holdout_share": held[key] / total_held if total_held else None,
                     "decided_rows": decided[key],
                     "decided_share": decided[key] / total_decided if total_decided else None})
    return rows
