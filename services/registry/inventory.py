"""The model inventory: one row per registered model, as the portfolio lists it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.registry.adapter import ModelSummary, Registry
from services.registry.contract import (
    ContractItem,
    format_items,
    tag_items,
    vendor_items,
    vendor_version_items,
)


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
    # With check_versions: the served (else latest) version's flavor and signature gaps, as
    # "vN: requirement: what to do".
    version_gaps: tuple[str, ...] = ()


def inventory(*, registry: Registry, check_versions: bool = False) -> list[InventoryRow]:
    """Every registered model with its owner, tier, aliases and governance gaps.

    check_versions: also read the MLmodel file of each model's champion (else its latest
    version) for a flavor the console loads and an input signature (one registry read each);
    for a vendor model, its release and signature instead (it has no flavor to load), as the
    Model page's contract checks (services.registry.contract.check_contract).
    """
    return [
        InventoryRow(
            name=model.name,
            owner=model.owner,
            risk_tier=model.risk_tier,
            champion=model.aliases.get("champion"),
            challenger=model.aliases.get("challenger"),
            version_count=model.version_count,
            last_change=model.last_updated,
            contract_gaps=sum(not item.satisfied for item in _model_items(model)),
            version_gaps=_version_gaps(registry, model) if check_versions else (),
        )
        for model in registry.list_models()
    ]


def _model_items(model: ModelSummary) -> tuple[ContractItem, ...]:
    return tag_items(model) + (vendor_items(model, None) if model.is_vendor else ())


def _version_gaps(registry: Registry, model: ModelSummary) -> tuple[str, ...]:
    version = model.aliases.get("champion") or model.latest_version
    if version is None:
        return ()
    try:
        fmt = registry.model_format(model.name, version)
    except Exception:  # an unreadable MLmodel file is itself the gap
        fmt = None
    if model.is_vendor:
        release = registry.get_version(model.name, version).tags.get("vendor_version")
        items = vendor_version_items(release, fmt)
    else:
        items = format_items(fmt)
    return tuple(f"v{version}: {item.requirement}: {item.detail}"
                 for item in items if not item.satisfied)
