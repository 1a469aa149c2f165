"""The governance contract: what a model owner supplies so a model can be governed.

A gap is named, never guessed around; gates that need a missing item fail closed.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.core.policy import RISK_TIERS
from services.registry.adapter import Lineage, ModelSummary
from services.registry.loaded import ModelFormat

LOADABLE = "model flavor the console loads"
SIGNATURE = "input signature"

REQUIRED_MODEL_TAGS: dict[str, str] = {
    "owner": "who answers for the model",
    "risk_tier": "high, medium or low",
    "intended_use": "what the model is for",
    "limitations": "where it must not be relied on",
    "sensitive_features": "comma list of the columns fairness is judged on",
    "label": "the hold-out column holding ground truth",
    "positive_label": "the label value the score is the probability of",
}


@dataclass(frozen=True)
class ContractItem:
    requirement: str
    satisfied: bool
    detail: str


@dataclass(frozen=True)
class ContractReport:
    items: tuple[ContractItem, ...]

    @property
    def gaps(self) -> tuple[ContractItem, ...]:
        return tuple(item for item in self.items if not item.satisfied)

    @property
    def complete(self) -> bool:
        return not self.gaps


def tag_items(model: ModelSummary) -> tuple[ContractItem, ...]:
    """The registered-model tags the contract asks for, each present or a gap."""
    items = []
    for tag, meaning in REQUIRED_MODEL_TAGS.items():
        value = model.tags.get(tag, "").strip()
        if not value:
            items.append(ContractItem(f"model tag '{tag}'", False, f"missing: {meaning}"))
        elif tag == "risk_tier" and value not in RISK_TIERS:
            items.append(ContractItem(f"model tag '{tag}'", False,
                                      f"{value!r} is not one of {', '.join(RISK_TIERS)}"))
        else:
            items.append(ContractItem(f"model tag '{tag}'", True, value))
    return tuple(items)


def check_contract(model: ModelSummary, lineage: Lineage | None) -> ContractReport:
    """Check a model's tags and, given a version's lineage, its run-level records."""
    items = list(tag_items(model))
    if model.is_vendor:
        return ContractReport(tuple(items + list(vendor_items(model, lineage))))
    if lineage is None:
        return ContractReport(tuple(items))
    items.append(
        ContractItem("hold-out set (Parquet run artifact)", True, lineage.holdout_artifact)
        if lineage.holdout_artifact
        else ContractItem("hold-out set (Parquet run artifact)", False,
                          "no Parquet file among the run's holdout/ artifacts")
    )
    training = [d for d in lineage.datasets if d.context == "training"]
    items.append(
        ContractItem("training data digest (mlflow.log_input)", True,
                     ", ".join(f"{d.name} ({d.digest})" for d in training))
        if training
        else ContractItem("training data digest (mlflow.log_input)", False,
                          "no dataset logged with context 'training'")
    )
    items.append(
        ContractItem("code version", True, lineage.code_version)
        if lineage.code_version
        else ContractItem("code version", False,
                          "no mlflow.source.git.commit or code_version tag on the run")
    )
    items += format_items(lineage.model_format)
    return ContractReport(tuple(items))


def vendor_items(model: ModelSummary, lineage: Lineage | None) -> tuple[ContractItem, ...]:
    """A vendor model supplies no artifact, training data or code: it names its vendor and
    the version the vendor shipped, and declares the inputs the vendor documents (a signature,
    so ingest checks its decisions). Evidence comes from a hold-out set the vendor scored."""
    vendor = model.tags.get("vendor", "").strip()
    items = (ContractItem("model tag 'vendor'", bool(vendor),
                          vendor or "missing: who supplies the model"),)
    if lineage is None:
        return items
    return items + vendor_version_items(lineage.vendor_version, lineage.model_format)


def vendor_version_items(shipped: str | None,
                         fmt: ModelFormat | None) -> tuple[ContractItem, ...]:
    """A vendor version's records: the release it is and the inputs the vendor documents (no
    flavor: there is nothing to load)."""
    return (ContractItem("version tag 'vendor_version'", bool(shipped),
                         shipped or "missing: the vendor's own version number"),
            ContractItem(SIGNATURE, bool(fmt and fmt.inputs),
                         f"{len(fmt.inputs)} input(s), from the vendor's documents"
                         if fmt and fmt.inputs else "no input signature: register the "
                         "vendor model again with its inputs"))


def format_items(fmt: ModelFormat | None) -> tuple[ContractItem, ...]:
    """A flavor the console loads, and an input signature: without them a version cannot be
    evaluated, its decisions checked at ingest, replayed or explained."""
    if fmt is None:
        unreadable = "the version's MLmodel file cannot be read; register it with log_model"
        return (ContractItem(LOADABLE, False, unreadable),
                ContractItem(SIGNATURE, False, unreadable))
    return (ContractItem(LOADABLE, fmt.flavor is not None,
                         fmt.flavor.value if fmt.flavor else str(fmt.flavor_problem)),
            ContractItem(SIGNATURE, bool(fmt.inputs),
                         f"{len(fmt.inputs)} input(s)" if fmt.inputs
                         else str(fmt.signature_problem)))
