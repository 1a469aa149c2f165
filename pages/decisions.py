"""Decisions: find the decision a complaint is about. Filters run in SQL, a page at a time."""

from datetime import date, datetime, time, timedelta

import pandas as pd
import streamlit as st

from services.core.glossary import label
from services.core.numbers import UNDEFINED
from services.core.outcomes import OUTCOMES
from services.core.permissions import Action
from services.decisions.search import DecisionFilter
from ui.data import inventory_rows
from ui.decisions import search
from ui.next_steps import NO_DECISIONS
from ui.principal import page_guard
from ui.tables import readable
from ui.widgets import plain, stop_on_error

page_guard(Action.VIEW_DECISIONS)

st.title("Decisions")
st.caption("Every automated decision a governed model made. Select a row for its case file.")

with stop_on_error():
    models = [row.name for row in inventory_rows()]

with st.form("decision_search"):
    top = st.columns([2, 1, 2, 2])
    model = top[0].selectbox("Model", ["All models", *models])
    version = top[1].text_input("Version", placeholder="any")
    today = date.today()
    window = top[2].date_input("Decided between", (today - timedelta(days=30), today),
                               max_value=today)
    outcomes = top[3].multiselect("Outcome", OUTCOMES, placeholder="any outcome")
    bottom = st.columns([2, 2, 2, 1])
    subject = bottom[0].text_input("Subject reference", placeholder="e.g. APP-123456",
                                   help="Its beginning is enough, in any letter case.")
    wanted_id = bottom[1].text_input("Decision id", placeholder="e.g. 7f3a",
                                     help="Its beginning is enough, as written. A decision id "
                                          "is looked for on every date.")
    scores = bottom[2].slider("Score between", 0.0, 1.0, (0.0, 1.0), step=0.01)
    shadow = bottom[3].checkbox("Include shadow scores", help="Challengers' scores of the same "
                                "requests, never acted on.")
    st.form_submit_button("Search", type="primary", icon=":material/search:")

if isinstance(window, tuple):  # while a range is being picked, it holds its first day only
    start, end = (window[0], window[-1]) if window else (None, None)
else:
    start, end = window, window
if wanted_id.strip():  # an id names its decision whenever it was made
    start = end = None
filters = DecisionFilter(
    model_name=None if model == "All models" else model,
    model_version=version.strip().removeprefix("v") or None,
    start=datetime.combine(start, time.min) if start else None,
    end=datetime.combine(end, time.max) if end else None,
    outcomes=tuple(outcomes), subject_ref=subject or None, decision_id=wanted_id or None,
    score_min=scores[0] if scores[0] > 0 else None,
    score_max=scores[1] if scores[1] < 1 else None,
    include_shadow=shadow,
)
page_number = st.session_state.get("decisions_page", 1)
with stop_on_error():
    page = search(filters, page_number)
    if not page.rows and page_number > 1:  # the filters changed under a deep page
        st.session_state["decisions_page"] = 1
        page = search(filters, 1)

matching = f"more than {page.total - 1:,}" if page.capped else f"{page.total:,}"
counts = st.columns(1 + len(OUTCOMES))
counts[0].metric("Matching decisions", matching,
                 help="Searches count up to 100,000 matches, so that they stay fast at any "
                      "log size; narrow the filters for exact counts.")
for column, outcome in zip(counts[1:], OUTCOMES, strict=True):
    column.metric(outcome.capitalize(), "—" if page.capped
                  else f"{page.counts_by_outcome.get(outcome, 0):,}")

if not page.rows:
    with stop_on_error():  # an empty log needs its first ingest, not wider filters
        log_is_empty = search(DecisionFilter(include_shadow=True), 1, 1).total == 0
    if log_is_empty:
        st.info(NO_DECISIONS)
    elif wanted_id.strip():
        st.info(f"No decision id begins with {plain(wanted_id.strip())} among the other "
                "filters. Check the id, or clear the other filters.")
    else:
        st.info("No decision matches these filters. Widen the dates or clear a filter.")
    st.stop()

table = pd.DataFrame({
    "Decision": r.decision_id, "Decided at": r.decided_at, "Model": r.model_name,
    "Version": f"v{r.model_version}", "Subject": r.subject_ref, "Score": r.score,
    "Threshold": r.threshold, "Outcome": r.outcome + (" (overridden)" if r.overridden else ""),
    "Why escalated": label(r.escalation_reason) if r.escalation_reason else "",
    "Shadow": r.shadow,
} for r in page.rows)
selection = st.dataframe(
    readable(table), hide_index=True, width="stretch", on_select="rerun",
    selection_mode="single-row", key="decision_table",
    column_config={"Decided at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
        placeholder=UNDEFINED)
pager = st.columns([1, 3])
pager[0].number_input(f"Page (of {page.pages:,})", min_value=1, max_value=page.pages,
                      key="decisions_page")
pager[1].caption(f"Showing {len(page.rows)} of {matching}, newest first.")
if selection.selection.rows:
    chosen = page.rows[selection.selection.rows[0]].decision_id
    st.switch_page("pages/case_file.py", query_params={"decision": chosen})
