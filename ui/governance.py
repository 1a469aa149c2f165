"""Promotions, point in time, the control matrix and the audit trail for pages: cached reads,
uncached writes."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import streamlit as st

from services.audit.trail import (
    AuditFilter,
    AuditPage,
    ChainVerdict,
    audit_facets,
    search_events,
)
from services.core.principal import Principal
from services.governance.controls import ControlMatrix, control_matrix
from services.governance.frameworks import (
    EVIDENCE_KINDS,
    FIX_HINT,
    Framework,
    FrameworkLibrary,
    chosen,
    read_frameworks,
)
from services.governance.promotions import execution, requests
from services.governance.promotions.history import ServedAt, served_at
from services.governance.promotions.status import OPEN_STATUSES
from services.governance.promotions.views import PromotionView, list_promotions
from services.monitoring.chain_watch import verify_and_alert
from services.store.engine import session_scope
from ui import context, data
from ui.widgets import plain


def promotions(*, waiting: bool) -> list[PromotionView]:
    return _promotions(context.settings().database_url, waiting)


@st.cache_data(ttl=10, show_spinner=False)
def _promotions(database_url: str, waiting: bool) -> list[PromotionView]:
    with session_scope(context.engine()) as session:
        return list_promotions(session=session, statuses=OPEN_STATUSES if waiting else ())


def point_in_time(model_name: str, at: datetime) -> ServedAt:
    return _point_in_time(context.settings().database_url, model_name, at)


@st.cache_data(ttl=30, show_spinner=False)
def _point_in_time(database_url: str, model_name: str, at: datetime) -> ServedAt:
    with session_scope(context.engine()) as session:
        return served_at(session=session, model_name=model_name, at=at)


def _changed() -> None:
    """Every governance write changes requests, aliases, cards and the trail."""
    _promotions.clear()
    _point_in_time.clear()
    _verdict.clear()
    _events.clear()
    data.clear_model_reads()


def request(actor: Principal, model_name: str, version: str, alias: str,
            justification: str) -> PromotionView:
    try:
        return requests.request_promotion(
            engine=context.engine(), registry=context.registry(), policy=context.policy(),
            actor=actor, model_name=model_name, version=version, alias=alias,
            justification=justification)
    finally:
        _changed()


def sign(actor: Principal, request_id: int, verdict: str,
         justification: str) -> execution.ExecutionResult:
    try:
        return requests.sign_off(engine=context.engine(), registry=context.registry(),
                                 policy=context.policy(), actor=actor, request_id=request_id,
                                 verdict=verdict, justification=justification)
    finally:
        _changed()


def grant(actor: Principal, request_id: int, gates: tuple[str, ...], justification: str,
          expires_on: date) -> PromotionView:
    try:
        return requests.grant_exception(engine=context.engine(), actor=actor,
                                        request_id=request_id, gates=gates,
                                        justification=justification, expires_on=expires_on)
    finally:
        _changed()


def withdraw(actor: Principal, request_id: int, justification: str) -> PromotionView:
    try:
        return requests.withdraw_promotion(engine=context.engine(), actor=actor,
                                           request_id=request_id, justification=justification)
    finally:
        _changed()


def retry(actor: Principal, request_id: int) -> execution.ExecutionResult:
    try:
        return execution.retry_promotion(engine=context.engine(), registry=context.registry(),
                                         actor=actor, request_id=request_id)
    finally:
        _changed()


def rollback_preview(model_name: str) -> execution.RollbackPreview:
    with session_scope(context.engine()) as session:
        return execution.rollback_preview(session=session, model_name=model_name)


def rollback(actor: Principal, model_name: str, justification: str) -> execution.ExecutionResult:
    try:
        return execution.rollback_alias(engine=context.engine(), registry=context.registry(),
                                        actor=actor, model_name=model_name,
                                        justification=justification)
    finally:
        _changed()


def chain_verdict() -> ChainVerdict:
    return _verdict(context.settings().database_url)


@st.cache_data(ttl=60, show_spinner="Verifying the audit chain…")
def _verdict(database_url: str) -> ChainVerdict:
    # A break found here opens the chain alert (once) for admins, auditors and the portfolio.
    return verify_and_alert(engine=context.engine())


def reverify() -> None:
    _verdict.clear()


def events(filters: AuditFilter, page: int) -> AuditPage:
    return _events(context.settings().database_url, filters, page)


@st.cache_data(ttl=10, show_spinner=False)
def _events(database_url: str, filters: AuditFilter, page: int) -> AuditPage:
    with session_scope(context.engine()) as session:
        return search_events(session=session, filters=filters, page=page)


@st.cache_data(ttl=60, show_spinner=False)
def facets(database_url: str) -> tuple[list[str], list[str]]:
    with session_scope(context.engine()) as session:
        return audit_facets(session=session)


def framework_library() -> FrameworkLibrary:
    """The shipped frameworks and the organisation's own (GOVERNANCE_FRAMEWORKS_DIR), with the
    files refused: one bad file is refused on its own and every good file still shows."""
    return _frameworks(context.settings().frameworks_dir)


def frameworks() -> list[Framework]:
    """The frameworks that loaded (refused files left out: say them with say_refused)."""
    return list(framework_library().frameworks)


def say_refused(library: FrameworkLibrary) -> None:
    """Each refused framework file once, with all its problems (the call sits in the page, not
    in a cached read, so it is drawn once per run)."""
    for refused in library.refused:
        problems = "\n".join(f"- {plain(p)}" for p in refused.problems)
        if any("does not produce" in p for p in refused.problems):
            problems += f"\n\nThe kinds of evidence are: {plain(', '.join(EVIDENCE_KINDS))}."
        st.error(f"**The framework file {plain(refused.path)} is refused**; the other "
                 f"frameworks are shown.\n\n{problems}\n\n**What to do:** {plain(FIX_HINT)}",
                 icon=":material/rule:")


@st.cache_data(ttl=60, show_spinner=False)
def _frameworks(folder: Path | None) -> FrameworkLibrary:
    return read_frameworks(folder)


def controls(model_name: str, version: str, framework_ids: tuple[str, ...]) -> ControlMatrix:
    current = context.settings()
    return _controls(current.mlflow_registry_uri, current.database_url, model_name, version,
                     framework_ids)


@st.cache_data(ttl=60, show_spinner="Judging the controls…")
def _controls(registry_uri: str, database_url: str, model_name: str, version: str,
              framework_ids: tuple[str, ...]) -> ControlMatrix:
    with session_scope(context.engine()) as session:
        return control_matrix(session=session, registry=context.registry(),
                              policy=context.policy(), model_name=model_name, version=version,
                              frameworks=chosen(frameworks(), framework_ids))
