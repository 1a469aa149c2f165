"""Cached reads and the writes of the decision screens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pandas as pd
import streamlit as st

from services.core.clock import utcnow
from services.core.errors import GovernanceError
from services.core.principal import Principal
from services.decisions.case_file import CaseFile, case_file
from services.decisions.explain import (
    Counterfactual,
    Explanation,
    Replay,
    explain,
    replay,
    smallest_flip,
)
from services.decisions.overrides import OverrideRecord, override_decision
from services.decisions.review_queue import QueuePage, control_violations, review_queue
from services.decisions.search import DecisionFilter, DecisionPage, search_decisions
from services.store.engine import session_scope
from ui import context
from ui.data import inventory_rows, model_view


@dataclass(frozen=True)
class Why:
    explanation: Explanation | None
    explanation_problem: str | None
    replay: Replay | None
    replay_problem: str | None
    flip: Counterfactual | None = None


def search(filters: DecisionFilter, page: int, page_size: int = 50) -> DecisionPage:
    return _search(context.settings().database_url, filters, page, page_size)


@st.cache_data(ttl=10, show_spinner="Searching the decision log…")
def _search(database_url: str, filters: DecisionFilter, page: int,
            page_size: int) -> DecisionPage:
    with session_scope(context.engine()) as session:
        return search_decisions(session=session, filters=filters, page=page,
                                page_size=page_size)


def case(decision_id: str) -> CaseFile:
    return _case(context.settings().database_url, decision_id)


@st.cache_data(ttl=10, show_spinner=False)
def _case(database_url: str, decision_id: str) -> CaseFile:
    with session_scope(context.engine()) as session:
        return case_file(session=session, decision_id=decision_id)


@st.cache_resource(show_spinner="Loading the exact model version from MLflow…", max_entries=16)
def _model(registry_uri: str, name: str, version: str) -> Any:
    return context.registry().load_model(name, version)


@st.cache_data(ttl=600, show_spinner=False, max_entries=16)
def _background(registry_uri: str, name: str, version: str) -> pd.DataFrame | None:
    # Linear models are explained against their hold-out set; trees need no background.
    registry = context.registry()
    lineage = registry.lineage(name, version)
    if not lineage.holdout_uri:
        return None
    return pd.read_parquet(registry.download(lineage.holdout_uri)).head(200)


def why(file: CaseFile) -> Why:
    """The explanation and replay of one decision; problems are words, not exceptions."""
    uri = context.settings().mlflow_registry_uri
    name, version = file.row.model_name, file.row.model_version
    model = _model(uri, name, version)
    explanation = replayed = None
    explanation_problem = replay_problem = None
    try:
        explanation = explain(model, file.features, _background(uri, name, version))
    except GovernanceError as exc:
        explanation_problem = exc.message
    try:
        replayed = replay(model, file.features, file.row.score)
    except GovernanceError as exc:
        replay_problem = exc.message
    flip = None
    background = _background(uri, name, version)
    if file.row.threshold is not None and background is not None:
        sensitive = model_view(name).model.tags.get("sensitive_features", "")
        categories = {c: sorted(background[c].dropna().unique().tolist())
                      for c in background.columns if background[c].dtype == object}
        flip = smallest_flip(model, file.features, threshold=file.row.threshold,
                             categories=categories,
                             never_change=frozenset(s.strip() for s in sensitive.split(",")))
    return Why(explanation, explanation_problem, replayed, replay_problem, flip)


def override(decision_id: str, actor: Principal, new_outcome: str, reason: str,
             justification: str) -> OverrideRecord:
    """A write: never cached, and it clears the reads it changes."""
    record = override_decision(engine=context.engine(), actor=actor, decision_id=decision_id,
                               new_outcome=new_outcome, reason_category=reason,
                               justification=justification)
    _case.clear()
    _search.clear()
    _queue.clear()
    return record


def queue(model_name: str | None, page: int, page_size: int = 50) -> QueuePage:
    return _queue(context.settings().database_url, model_name, page, page_size)


@st.cache_data(ttl=10, show_spinner=False)
def _queue(database_url: str, model_name: str | None, page: int, page_size: int) -> QueuePage:
    with session_scope(context.engine()) as session:
        return review_queue(session=session, model_name=model_name, limit=page_size,
                            offset=(page - 1) * page_size)


def violations(page: int, page_size: int = 50, days: int | None = None) -> QueuePage:
    """The control check over decisions of the last `days` days (None: all time)."""
    policy = context.policy()
    margins = {row.name: policy.for_tier(row.risk_tier).confidence_margin
               for row in inventory_rows()}
    return _violations(context.settings().database_url, tuple(sorted(margins.items())), page,
                       page_size, days)


@st.cache_data(ttl=30, show_spinner=False)
def _violations(database_url: str, margins: tuple[tuple[str, float], ...], page: int,
                page_size: int, days: int | None) -> QueuePage:
    since = utcnow() - timedelta(days=days) if days else None
    with session_scope(context.engine()) as session:
        return control_violations(session=session, margins=dict(margins), limit=page_size,
                                  offset=(page - 1) * page_size, since=since)


def outcome_word(model_name: str) -> str:
    """What a model's score is the probability of, in words."""
    tags = model_view(model_name).model.tags
    meaning = tags.get("positive_meaning") or tags.get("label", "the positive label")
    return str(meaning).removeprefix("is_").replace("_", " ")
