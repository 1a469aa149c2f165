"""The model inventory: one row per registered model, as the portfolio lists it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.registry.adapter import Registry
from services.registry.contract import tag_items


@dataclass(frozen=True)
class InventoryRow:
    name: str
    owner: str | None
    risk_tier: str | None
    champion: str | None
    challenger: str | None
    version_count: int
    last_change: datetime | None
    contract_gaps: int  # missing model-level records; version-level ones show on the model page


def inventory(*, registry: Registry) -> list[InventoryRow]:
    """Every registered model with its owner, tier, aliases and governance gaps."""
    return [
        InventoryRow(
            name=model.name,
            owner=model.owner,
            risk_tier=model.risk_tier,
            champion=model.aliases.get("champion"),
            challenger=model.aliases.get("challenger"),
            version_count=model.version_count,
            last_change=model.last_updated,
            contract_gaps=sum(not item.satisfied for item in tag_items(model)),
        )
        for model in registry.list_models()
    ]
