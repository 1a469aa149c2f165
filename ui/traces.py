"""Reads and exports recorded where the page shows or hands over the data.

st.download_button with a callable as `data` runs it only when the person clicks (on a thread
of its own, outside the page's run). The callables here produce the file and record the
export in that same call: the event exists exactly when a file was produced for somebody, not
each time a page merely offered one. Should recording fail, the callable raises and no file is
handed over. They take the engine from the page's run, as the thread has no script context.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from services.audit.reads import (
    export_trail,
    record_case_file_exported,
    record_case_file_viewed,
    record_evidence_pack_downloaded,
    record_model_card_exported,
)
from services.audit.trail import AuditFilter
from services.core.principal import Principal
from services.decisions.case_file import CaseFile
from ui import context

_VIEWED = "case_files_viewed"

Document = bytes | str


def case_file_opened(actor: Principal, file: CaseFile) -> None:
    """Record that the actor opened this case file, once per decision per browser session.

    Streamlit runs the page again on every click in it (a filter, a verdict, a rerun): an
    event per run would bury the one fact that matters, who opened whose file, under dozens
    of identical links, and every append queues behind the chain's one writer lock. Raises
    what the service raises; the page then shows nothing of the file.
    """
    seen: set[str] = st.session_state.setdefault(_VIEWED, set())
    key = f"{actor.id}\n{file.row.decision_id}"  # another account signing in reads anew
    if key in seen:
        return
    record_case_file_viewed(engine=context.engine(), actor=actor,
                            decision_id=file.row.decision_id, model_name=file.row.model_name,
                            model_version=file.row.model_version)
    seen.add(key)


def case_file_download(actor: Principal, file: CaseFile,
                       produce: Callable[[], bytes]) -> Callable[[], bytes]:
    """data= for the case-file PDF: produced on click, recorded as `case_file.exported`."""
    engine = context.engine()

    def download() -> bytes:
        document = produce()
        record_case_file_exported(engine=engine, actor=actor, decision_id=file.row.decision_id,
                                  model_name=file.row.model_name,
                                  model_version=file.row.model_version, document=document)
        return document
    return download


def model_card_download(actor: Principal, model_name: str, version: str, fmt: str,
                        produce: Callable[[], Document]) -> Callable[[], Document]:
    """data= for one model-card format: produced on click, recorded as `model_card.exported`."""
    engine = context.engine()

    def download() -> Document:
        document = produce()
        record_model_card_exported(engine=engine, actor=actor, model_name=model_name,
                                   version=version, fmt=fmt, document=document)
        return document
    return download


def evidence_pack_download(actor: Principal, model_name: str, version: str, fmt: str,
                           pack_sha256: str, document: Document) -> Callable[[], Document]:
    """data= for a built pack's file: handed over on click, recorded with its format."""
    engine = context.engine()

    def download() -> Document:
        record_evidence_pack_downloaded(engine=engine, actor=actor, model_name=model_name,
                                        version=version, fmt=fmt, pack_sha256=pack_sha256,
                                        document=document)
        return document
    return download


def trail_download(actor: Principal, filters: AuditFilter, fmt: str) -> Callable[[], bytes]:
    """data= for the audit export: exported on click, recorded as `audit.exported`."""
    engine = context.engine()
    return lambda: export_trail(engine=engine, actor=actor, filters=filters, fmt=fmt)
