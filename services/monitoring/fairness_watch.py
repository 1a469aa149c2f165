"""Fairness over time: automatic decisions and approvals per sensitive group, from the daily
profiles of the sensitive inputs that each decision carries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, select

from services.decisions.daily_profiles import SELECTION, sensitive_labels
from services.evidence.groups import group_key
from services.store.models import Profile


@dataclass(frozen=True)
class Selection:
    """Selection rates by group of one sensitive input over a span of days."""

    feature: str
    start: date
    groups: dict[str, tuple[int, int]]  # group -> (automatic decisions, approvals)
    min_group_size: int

    def rate(self, group: str) -> float | None:
        decided, approved = self.groups[group]
        return approved / decided if decided else None

    @property
    def judged(self) -> dict[str, float]:
        """Rates of the groups large enough to judge."""
        return {g: approved / decided for g, (decided, approved) in self.groups.items()
                if decided >= self.min_group_size}

    @property
    def four_fifths_ratio(self) -> float | None:
        rates = self.judged
        if len(rates) < 2 or max(rates.values()) == 0:
            return None
        return min(rates.values()) / max(rates.values())


def selection(*, connection: Connection, model_name: str, start: date, end: date,
              min_group_size: int, by_week: bool = False) -> list[Selection]:
    """Acted-on selection by group over [start, end), whole or per week, every version summed.

    Groups are counted by key (groups.group_key: cells stored before keys were normalised,
    "1.0" or "True", join the "1" of later ones) and named as the model's newest hold-out
    names them."""
    labels = sensitive_labels(connection, model_name)
    spans: dict[tuple[str, date], dict[str, list[int]]] = defaultdict(dict)
    for day, feature, counts in connection.execute(
            select(Profile.day, Profile.feature, Profile.counts)
            .where(Profile.model_name == model_name, Profile.feature.startswith(SELECTION),
                   Profile.day >= start, Profile.day < end)):
        span = day - timedelta(days=day.weekday()) if by_week else start
        name = feature.removeprefix(SELECTION)
        groups = spans[(name, span)]
        for group, (decided, approved) in counts["groups"].items():
            key = group_key(group)
            held = groups.setdefault(labels.get(name, {}).get(key, key), [0, 0])
            held[0], held[1] = held[0] + decided, held[1] + approved
    return [Selection(feature, span, {g: (t[0], t[1]) for g, t in sorted(groups.items())},
                      min_group_size)
            for (feature, span), groups in sorted(spans.items(), key=lambda kv: kv[0][1])]
