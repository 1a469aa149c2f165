"""Cached read services for pages. Keys are the sources' URIs, never per-user data."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from services.aliases import AliasTenure, alias_tenures
from services.contract import ContractReport, check_contract
from services.inventory import InventoryRow, inventory
from services.registry import Lineage, ModelSummary, ModelVersionSummary
from services.store.engine import session_scope
from ui import context


@dataclass(frozen=True)
class ModelView:
    model: ModelSummary
    versions: list[ModelVersionSummary]
    tenures: list[AliasTenure]


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
    return ModelView(model, registry.list_versions(name), tenures)


def version_view(name: str, version: str) -> VersionView:
    current = context.settings()
    return _version_view(current.mlflow_registry_uri, name, version)


@st.cache_data(ttl=60, show_spinner="Reading the version's lineage…")
def _version_view(registry_uri: str, name: str, version: str) -> VersionView:
    registry = context.registry()
    lineage = registry.lineage(name, version)
    return VersionView(lineage, check_contract(registry.get_model(name), lineage))
