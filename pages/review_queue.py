"""Review queue: decisions that failed closed wait here for a person, oldest first."""

import pandas as pd
import streamlit as st

from services.core.clock import utcnow
from services.core.glossary import label
from services.core.numbers import UNDEFINED
from services.core.permissions import Action
from ui.data import inventory_rows
from ui.decisions import queue, violations
from ui.principal import page_guard
from ui.tables import fitted_height, readable
from ui.widgets import stop_on_error

page_guard(Action.VIEW_DECISIONS)

st.title("Review queue")
st.caption("Low-confidence, incomplete or errored decisions the models may not settle alone.")

with stop_on_error():
    models = [row.name for row in inventory_rows()]
model = st.selectbox("Model", ["All models", *models], key="queue_model")
with stop_on_error():
    waiting = queue(None if model == "All models" else model, 1)

now = utcnow()
cols = st.columns(2)
cols[0].metric("Waiting for a person", f"{waiting.total:,}")
cols[1].metric("Oldest waiting", f"{(now - waiting.oldest).days} days" if waiting.oldest
               else "—")
if waiting.rows:
    table = pd.DataFrame({
        "Decision": r.decision_id, "Waiting (days)": (now - r.decided_at).days,
        "Model": r.model_name, "Version": f"v{r.model_version}", "Subject": r.subject_ref,
        "Score": r.score, "Why": label(r.escalation_reason or r.outcome),
    } for r in waiting.rows)
    # No score when an input was missing: the cell says "—" rather than "None".
    chosen = st.dataframe(readable(table), hide_index=True, width="stretch",
                          on_select="rerun", selection_mode="single-row", key="queue_table",
                          height=fitted_height(len(table)), placeholder=UNDEFINED)
    st.caption(f"The {len(waiting.rows)} oldest of {waiting.total:,}. Select one to resolve it "
               "in its case file.")
    if chosen.selection.rows:
        st.switch_page("pages/case_file.py", query_params={
            "decision": waiting.rows[chosen.selection.rows[0]].decision_id})
else:
    st.success("Nothing is waiting for a person.", icon=":material/task_alt:")

st.subheader("Control check")
# A window keeps the check's cost to the period looked at; "all time" reads the whole log.
WINDOWS = {"Last 30 days": 30, "Last 90 days": 90, "Last 365 days": 365, "All time": None}
window = st.radio("Decided in", list(WINDOWS), index=1, horizontal=True, key="control_window")
with stop_on_error():
    slipped = violations(1, days=WINDOWS[window])
if slipped.total:
    st.error(f"**{slipped.total:,} automatic decisions should have gone to a person**: their "
             "score was within the policy's confidence margin of the threshold.",
             icon=":material/policy:")
    checked = st.dataframe(pd.DataFrame({
        "Decision": r.decision_id, "Decided at": r.decided_at, "Model": r.model_name,
        "Version": f"v{r.model_version}", "Score": r.score, "Threshold": r.threshold,
        "Outcome": r.outcome} for r in slipped.rows), hide_index=True, width="stretch",
        on_select="rerun", selection_mode="single-row", key="control_table",
        column_config={"Decided at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                       "Score": st.column_config.NumberColumn(format="%.3f")},
                           placeholder=UNDEFINED)
    st.caption("Select one to open its case file.")
    if checked.selection.rows:
        st.switch_page("pages/case_file.py", query_params={
            "decision": slipped.rows[checked.selection.rows[0]].decision_id})
else:
    st.success(f"No automatic decision fell inside the confidence margin ({window.lower()}).",
               icon=":material/verified:")
