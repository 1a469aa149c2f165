"""Cached reads and the writes of the decision screens."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from services.core.clock import utcnow
from services.core.errors import GovernanceError
from services.core.principal import Principal
from services.decisions.case_file import CaseFile, case_file
from services.decisions.explain import DecisionExplainer
from services.decisions.overrides import OverrideRecord, override_decision
from services.decisions.review_queue import QueuePage, control_violations, review_queue
from services.decisions.search import DecisionFilter, DecisionPage, search_decisions
from services.decisions.why import CaseExplanation, explain_case, prepare_explainer
from services.store.engine import session_scope
from ui import context
from ui.data import inventory_rows, model_view


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
def _explainer(registry_uri: str, name: str, version: str) -> DecisionExplainer:
    # Per version, shared by every session: the model and its hold-out background, read-only.
    return prepare_explainer(registry=context.registry(), model_name=name, version=version)


def why(file: CaseFile) -> CaseExplanation:
    """The replay, explanation and counterfactual of one decision; every problem is words (a
    version that cannot be loaded included), so the case file's actions always render."""
    name, version = file.row.model_name, file.row.model_version
    explainer, problem = None, None
    try:
        explainer = _explainer(context.settings().mlflow_registry_uri, name, version)
    except GovernanceError as exc:
        problem = f"{exc.message} {exc.hint}".strip()
    except Exception as exc:  # a library failing while loading: words, and the actions stay
        problem = (f"Version {version} of {name!r} could not be prepared for replay "
                   f"({type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}). "
                   "Tell the model's owner, with this decision's id.")
    sensitive = sensitive_inputs(file)
    if explainer is None:
        return explain_case(file, None, load_problem=problem, sensitive=sensitive)
    return _explained(context.settings().mlflow_registry_uri, file.row.decision_id,
                      tuple(sorted(sensitive)), file, explainer)


def sensitive_inputs(file: CaseFile) -> frozenset[str]:
    """The model's sensitive inputs (registered-model tag); every input when unknown, so none
    is changed in a hint nor given as a reason by mistake."""
    try:
        tag = model_view(file.row.model_name).model.tags.get("sensitive_features", "")
        return frozenset(s.strip() for s in tag.split(",") if s.strip())
    except GovernanceError:
        return frozenset(file.features)


@st.cache_data(ttl=600, show_spinner="Replaying and explaining the decision…", max_entries=256)
def _explained(registry_uri: str, decision_id: str, sensitive: tuple[str, ...], _file: CaseFile,
               _explainer: DecisionExplainer) -> CaseExplanation:
    # A logged decision and a registered version never change: each rerun of the page (every
    # click in the override form) reuses the result instead of scoring thousands of rows again.
    return explain_case(_file, _explainer, sensitive=frozenset(sensitive))


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
    try:
        tags = model_view(model_name).model.tags
    except GovernanceError:
        return "the positive label"
    meaning = tags.get("positive_meaning") or tags.get("label", "the positive label")
    return str(meaning).removeprefix("is_").replace("_", " ")
