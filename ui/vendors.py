"""A vendor model on the Model page: who supplies it and which release, what the console cannot
do for it, the documents received with their SHA-256 (each downloadable, re-hashed on the way
out), and a model owner's or admin's form to keep one more."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
import streamlit as st

from services.core.clock import utcnow
from services.core.errors import GovernanceError
from services.core.numbers import UNDEFINED
from services.core.permissions import Action, allowed
from services.core.principal import Principal
from services.governance.vendors import (
    MAX_DOCUMENT_BYTES,
    VendorDocumentRecord,
    document_content,
    record_vendor_document,
    vendor_documents,
)
from services.registry.adapter import ModelSummary, ModelVersionSummary
from services.registry.vendor import no_artifact
from services.store.engine import session_scope
from ui import context
from ui.data import model_view
from ui.widgets import figure_row, plain, submit

NOTICE = "vendor_document_notice"


def documents_of(name: str) -> list[VendorDocumentRecord]:
    return _documents(context.settings().database_url, name)


@st.cache_data(ttl=30, show_spinner=False)
def _documents(database_url: str, name: str) -> list[VendorDocumentRecord]:
    with session_scope(context.engine()) as session:
        return vendor_documents(session=session, model_name=name)


def _content(document_id: int) -> bytes:
    # Read on the click only (st.download_button with a callable), checked against its SHA-256.
    with session_scope(context.engine()) as session:
        return document_content(session=session, document_id=document_id)[1]


def vendor_panel(model: ModelSummary, principal: Principal,
                 versions: Sequence[ModelVersionSummary]) -> None:
    """The vendor facts (the release of the version that serves, else the latest: each
    version records its own), the documents received and, for those who may, the upload
    form."""
    facts = figure_row()
    facts.metric("Vendor", model.tags.get("vendor") or "missing", width="content")
    serving = model.aliases.get("champion")
    shown = serving or model.latest_version
    release = next((v.tags.get("vendor_version") for v in versions if v.version == shown),
                   None)
    facts.metric("Vendor release", release or "missing", width="content",
                 help=(f"The release of v{shown}, " + ("the champion" if serving else
                       "the latest version (none is champion)")
                       + ": each version's own release is in the versions table and its "
                         "lineage below.") if shown else None)
    st.info(f"{plain(no_artifact(model.name))} Its decisions are ingested and monitored for "
            "drift, escalation, performance and fairness over time; evidence comes from a "
            "hold-out set the vendor scored.", icon=":material/storefront:")
    st.subheader("Documents received from the vendor")
    if st.session_state.get(NOTICE):
        st.success(st.session_state.pop(NOTICE), icon=":material/task_alt:")
    documents = documents_of(model.name)
    if documents:
        st.dataframe(pd.DataFrame({
            "Title": d.title, "File": d.file_name, "About": f"v{d.model_version}"
            if d.model_version else "the model", "Received": d.received_on,
            "Size (bytes)": d.size_bytes, "SHA-256": d.sha256, "Recorded by": d.recorded_by,
        } for d in documents), hide_index=True, width="stretch", placeholder=UNDEFINED)
        chosen = st.selectbox("Download a document", documents, key="vendor_document_pick",
                              format_func=lambda d: f"{d.title} ({d.file_name})")
        if chosen is not None:
            st.download_button(f"Download {plain(chosen.file_name)}", on_click="ignore",
                               data=lambda: _content(chosen.id), file_name=chosen.file_name,
                               icon=":material/download:", key="vendor_document_download")
            st.caption(f"SHA-256 {chosen.sha256}: the bytes are checked against it before "
                       "they are handed out.")
    else:
        st.caption("No document received from the vendor is kept yet: its model "
                   "documentation and validation reports belong here.")
    if allowed(principal, Action.GOVERN_VENDOR_MODEL):
        _upload_form(model, principal)


def _upload_form(model: ModelSummary, principal: Principal) -> None:
    with st.form("vendor_document_form", clear_on_submit=True):
        st.markdown("**Keep a document received from the vendor**")
        title = st.text_input("Title", placeholder="e.g. Model documentation, release 4.2",
                              key="vendor_document_title")
        received = st.date_input("Received on", value=utcnow().date(),
                                 max_value=utcnow().date(), key="vendor_document_received")
        # Streamlit's own note says the server's upload limit; a document is kept up to 25 MB.
        upload = st.file_uploader(f"File (at most {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB)",
                                  key="vendor_document_file",
                                  help="Documents are kept up to 25 MB each; keep a larger "
                                       "file elsewhere and record a note with its SHA-256.")
        sent = st.form_submit_button("Keep the document", type="primary",
                                     key="vendor_document_submit")
    if not sent:
        return
    if upload is None:
        st.error("Choose the file received from the vendor.")
        return
    submit(lambda: _record(principal, model.name, title, upload.name, upload.getvalue(),
                           received if isinstance(received, date) else None),
           lambda d: f"Kept {d.file_name} ({d.size_bytes:,} bytes), SHA-256 {d.sha256}.",
           key=NOTICE)


def _record(actor: Principal, name: str, title: str, file_name: str, content: bytes,
            received: date | None) -> VendorDocumentRecord:
    recorded = record_vendor_document(engine=context.engine(), registry=context.registry(),
                                      actor=actor, model_name=name, title=title,
                                      file_name=file_name, content=content,
                                      received_on=received)
    _documents.clear()
    return recorded



def vendor_notice(model_name: str, version: str) -> str | None:
    """For a vendor model's decision: who scored it and why nothing is replayed or explained;
    None for a model the organisation trained (or one the registry cannot answer for now:
    the case file still draws)."""
    try:
        model = model_view(model_name).model
    except GovernanceError:
        return None
    if not model.is_vendor:
        return None
    return (f"Scored by {model.tags.get('vendor') or 'the vendor'}. "
            f"{no_artifact(model_name, version)} The inputs, score, outcome, overrides and "
            "audit trail below are as logged.")
