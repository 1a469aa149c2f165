"""Audit trail: is the chain intact, who did what to which model when, and exports."""

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from services.audit.trail import AuditFilter
from services.core.clock import utcnow
from services.core.numbers import UNDEFINED
from services.core.permissions import Action
from ui import context, governance
from ui.data import inventory_rows
from ui.principal import page_guard
from ui.traces import trail_download
from ui.widgets import plain, stop_on_error

principal = page_guard(Action.VIEW_AUDIT)

st.title("Audit trail")
st.caption("Every write appends an event whose hash covers the one before it; the database "
           "refuses to change or remove events, and verification finds any that were.")

with stop_on_error():
    verdict = governance.chain_verdict()
status, again = st.columns([5, 1])
if verdict.intact:
    status.success(f"**The chain is intact**: {verdict.events:,} events verified at "
                   f"{verdict.checked_at:%H:%M:%S} UTC. Head hash `{verdict.head_hash}` "
                   "(write it down elsewhere to anchor the chain).", icon=":material/verified:")
else:
    where = f" at event #{verdict.broken_at}" if verdict.broken_at else ""
    status.error(f"**The chain is broken{where}.** {plain(verdict.problem)}. "
                 f"{verdict.events:,} events before it verified.\n\n**What to do:** treat "
                 "the store as tampered with; compare with the last exported trail and your "
                 "database's own logs.", icon=":material/gpp_bad:")
if again.button("Verify again", icon=":material/refresh:"):
    governance.reverify()
    st.rerun()

with stop_on_error():
    actors, actions = governance.facets(context.settings().database_url)
    models = [row.name for row in inventory_rows()]
cols = st.columns(4)
actor = cols[0].selectbox("Actor", ["Anyone", *actors])
action = cols[1].selectbox("Action", ["Any", *actions])
model = cols[2].selectbox("Model", ["Any", *models])
today = utcnow().date()
span = cols[3].date_input("Between", (today - timedelta(days=90), today), max_value=today)
start, end = (span[0], span[1]) if isinstance(span, tuple) and len(span) == 2 else (None, None)
filters = AuditFilter(
    actor=None if actor == "Anyone" else actor, action=None if action == "Any" else action,
    model_name=None if model == "Any" else model,
    start=datetime.combine(start, time.min) if start else None,
    end=datetime.combine(end, time.min) + timedelta(days=1) if end else None)

page_number = st.session_state.get("audit_page", 1)
with stop_on_error():
    page = governance.events(filters, page_number)
    if page_number > page.pages:  # the filters changed under a later page
        st.session_state["audit_page"] = 1
        page = governance.events(filters, 1)
st.write(f"**{page.total:,} events** match; newest first.")
if page.events:
    table = pd.DataFrame({
        "Event": e.id, "At (UTC)": e.at, "Actor": e.actor, "Action": e.action,
        "Subject": f"{e.subject_type} {e.subject_id}", "Model": e.model_name or "",
        "Hash": e.hash[:16] + "…",
    } for e in page.events)
    chosen = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun",
                          selection_mode="single-row", key="audit_table",
                          column_config={"At (UTC)": st.column_config.DatetimeColumn(
                              format="YYYY-MM-DD HH:mm:ss")}, placeholder=UNDEFINED)
    st.number_input(f"Page (of {page.pages})", min_value=1, max_value=page.pages,
                    key="audit_page")
    if chosen.selection.rows:
        event = page.events[chosen.selection.rows[0]]
        st.markdown(f"**Event #{event.id}**: previous hash `{event.prev_hash}`, "
                    f"hash `{event.hash}`")
        st.json(event.payload)  # shown as data: a justification's markup stays text
left, right = st.columns(2)
# Exported and recorded (`audit.exported`, with these filters) when the button is clicked.
left.download_button("Export CSV", on_click="ignore",
                     data=trail_download(principal, filters, "csv"),
                     file_name="audit-trail.csv", mime="text/csv", icon=":material/download:")
right.download_button("Export JSON", on_click="ignore",
                      data=trail_download(principal, filters, "json"),
                      file_name="audit-trail.json", mime="application/json",
                      icon=":material/download:")
