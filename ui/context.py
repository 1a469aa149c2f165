"""Cached connections to the two sources of truth, and the workspace's state."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from sqlalchemy import Engine

from services.core.policy import Policy, load_policy
from services.core.settings import Settings, load_settings
from services.registry.adapter import Registry
from services.registry.transport import fail_fast_mlflow_http
from services.store.engine import make_engine, session_scope
from services.store.migrate import check_schema
from services.store.workspace import is_demo


@dataclass(frozen=True)
class Workspace:
    settings: Settings
    demo: bool


def settings() -> Settings:
    # Cheap to read, and reading it each run lets tests point the app at their own workspace.
    return load_settings()


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return make_engine(url)


@st.cache_resource(show_spinner=False)
def _registry(tracking_uri: str, registry_uri: str) -> Registry:
    fail_fast_mlflow_http()  # the console's process owns its environment
    return Registry(tracking_uri, registry_uri)


@st.cache_data(ttl=60, show_spinner=False)
def _policy(path: str, modified: float) -> Policy:
    return load_policy(Path(path))


def policy() -> Policy:
    """The policy in force; re-read when the file changes."""
    path = settings().policy_path
    try:
        modified = path.stat().st_mtime
    except OSError:
        modified = 0.0  # load_policy then says the file cannot be read
    return _policy(str(path), modified)


def engine() -> Engine:
    return _engine(settings().database_url)


def registry() -> Registry:
    current = settings()
    return _registry(current.mlflow_tracking_uri, current.mlflow_registry_uri)


@st.cache_data(ttl=15, show_spinner=False)
def _demo_flag(database_url: str) -> bool:
    # Failures raise and are not cached, so an unreachable store is checked again next run.
    store = _engine(database_url)
    check_schema(store)
    with session_scope(store) as session:
        return is_demo(session=session)


def open_workspace() -> Workspace:
    """The workspace this app serves; raises SourceUnavailable or SchemaOutOfDate."""
    current = settings()
    return Workspace(settings=current, demo=_demo_flag(current.database_url))
