"""Cached read services for pages. Keys are the sources' URIs, never per-user data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from services.core.principal import Principal
from services.decisions.shadow import ShadowComparison, shadow_comparisons
from services.evidence.records import EvidenceRecord, evidence_history
from services.evidence.run import EvidenceRun, Progress, run_evidence
from services.governance.model_card import ModelCard, build_model_card
from services.registry.adapter import Lineage, ModelSummary, ModelVersionSummary
from services.registry.aliases import AliasTenure, alias_tenures
from services.registry.contract import ContractReport, check_contract
from services.registry.inventory import InventoryRow, inventory
from services.store.engine import session_scope
from ui import context


@dataclass(frozen=True)
class ModelView:
    model: ModelSummary
    versions: list[ModelVersionSummary]
    tenures: list[AliasTenure]
    shadows: list[ShadowComparison]


@dataclass(frozen=True)
class VersionView:
    lineage: Lineage
    contract: ContractReport


def inventory_rows() -> list[InventoryRow]:
    current = context.settings()
    return _inventory(current.mlflow_tracking_uri, current.mlflow_registry_uri)


@st.cache_data(ttl=60, show_spinner="Reading the model registry…")
def _inventory(tracking_uri: str, registry_uri: str) -> list[InventoryRow]:
    return inventory(registry=context.registry())


def model_view(name: str) -> ModelView:
    current = context.settings()
    return _model_view(current.mlflow_registry_uri, current.database_url, name)


@st.cache_data(ttl=60, show_spinner="Reading the model…")
def _model_view(registry_uri: str, database_url: str, name: str) -> ModelView:
    registry = context.registry()
    model = registry.get_model(name)
    with session_scope(context.engine()) as session:
        tenures = alias_tenures(session=session, model_name=name)
        shadows = shadow_comparisons(session=session, model_name=name)
    return ModelView(model, registry.list_versions(name), tenures, shadows)


def version_view(name: str, version: str) -> VersionView:
    current = context.settings()
    return _version_view(current.mlflow_registry_uri, name, version)


@st.cache_data(ttl=60, show_spinner="Reading the version's lineage…")
def _version_view(registry_uri: str, name: str, version: str) -> VersionView:
    registry = context.registry()
    lineage = registry.lineage(name, version)
    return VersionView(lineage, check_contract(registry.get_model(name), lineage))


def model_card(name: str, version: str) -> ModelCard:
    current = context.settings()
    return _model_card(current.mlflow_registry_uri, current.database_url, name, version)


@st.cache_data(ttl=30, show_spinner="Reading the model card…")
def _model_card(registry_uri: str, database_url: str, name: str, version: str) -> ModelCard:
    with session_scope(context.engine()) as session:
        return build_model_card(session=session, registry=context.registry(),
                                policy=context.policy(), model_name=name, version=version)


def evidence_records(name: str, version: str) -> list[EvidenceRecord]:
    """Every evidence record of a version, newest first."""
    return _evidence_records(context.settings().database_url, name, version)


@st.cache_data(ttl=30, show_spinner=False)
def _evidence_records(database_url: str, name: str, version: str) -> list[EvidenceRecord]:
    with session_scope(context.engine()) as session:
        return evidence_history(session=session, model_name=name, model_version=version)


def run_evidence_now(name: str, version: str, actor: Principal, progress: Progress,
                     scored_file: Path | None = None) -> EvidenceRun:
    """A write: never cached, and it clears the reads it changes. scored_file: a vendor
    model's scored hold-out set (services.evidence.scored)."""
    run = run_evidence(engine=context.engine(), registry=context.registry(),
                       policy=context.policy(), actor=actor, model_name=name, version=version,
                       progress=progress, scored_file=scored_file)
    _model_card.clear()
    _evidence_records.clear()
    return run


def clear_model_reads() -> None:
    """After a promotion or rollback: aliases, cards and the inventory are read afresh."""
    _inventory.clear()
    _model_view.clear()
    _version_view.clear()
    _model_card.clear()
