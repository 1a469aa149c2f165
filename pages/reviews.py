"""Reviews: the periodic review calendar by owner, when each falls due, one model's review
history with the state frozen at each review, and a validator's form to record a review."""

import streamlit as st

from services.monitoring.reviews import ReviewState
from ui import reviews
from ui.data import model_view
from ui.pickers import pick_model
from ui.principal import page_guard
from ui.tables import fitted_height
from ui.widgets import figure_row, plain, stop_on_error

actor = page_guard()
st.title("Reviews")
st.caption("Periodic review (SR 26-2, risk-based): each model is reviewed every "
           "review_cycle_days of its tier, and sooner when a trigger of policy.toml fires "
           "since its last review (a drift or performance alert, a new champion, an expired "
           "policy exception, an open high-severity finding). A review freezes the model's "
           "state and records a conclusion; `govern reviews list` prints this calendar.")
if notice := st.session_state.pop(reviews.NOTICE, None):
    st.success(notice, icon=":material/task_alt:")

with stop_on_error():
    calendar = reviews.calendar()
counts = {state: sum(s.state is state for s in calendar) for state in ReviewState}
row = figure_row()
for state, label in ((ReviewState.OVERDUE, "Overdue"), (ReviewState.TRIGGERED, "Triggered"),
                     (ReviewState.DUE, "Due"), (ReviewState.DUE_SOON, "Due soon")):
    row.metric(label, counts[state], width=140)

st.subheader("Calendar, by owner")
if calendar:
    st.dataframe(reviews.calendar_table(calendar), hide_index=True, width="stretch",
                 height=fitted_height(len(calendar)),
                 column_config={"Why": st.column_config.TextColumn(
                     width="large", help="Cut to the column's width: each reason is written "
                                         "out in full under the table.")})
    # A table cell does not wrap: the reasons in full, one per model, where they can be read.
    with st.expander("Why each review is due, in full", icon=":material/notes:"):
        st.markdown("\n".join(f"- **{plain(s.model_name)}** ({plain(s.state)}): "
                               f"{plain(s.reason)}" for s in calendar))
    st.plotly_chart(reviews.due_timeline(calendar), width="stretch", key="review_timeline")
else:
    st.info("No registered model.")
    st.stop()

st.subheader("A model's reviews")
name = pick_model([s.model_name for s in calendar], key="review_model")
status = next(s for s in calendar if s.model_name == name)
st.markdown(f"**{plain(status.state)}** · {plain(status.reason)}")
with stop_on_error():
    past = reviews.history(status.model_name)
    versions = [v.version for v in model_view(status.model_name).versions]
if not past:
    st.caption(f"{plain(status.model_name)} has never been reviewed.")
for review in past:
    with st.expander(f"#{review.id} · {review.reviewed_at:%Y-%m-%d} · v{review.model_version} "
                     f"· {review.conclusion} · by {plain(review.reviewed_by)}",
                     expanded=review is past[0]):
        st.text(review.justification)
        if review.conditions:
            st.markdown("**Conditions**")
            st.text(review.conditions)
        st.caption(f"Triggers due then: {', '.join(review.triggers) or 'none'} · next review "
                   f"due {review.next_due_on:%Y-%m-%d} · state SHA-256 {review.state_sha256}"
                   + (" (verified)" if review.intact else " (DOES NOT MATCH the stored state)"))
        st.json(review.state, expanded=False)
if versions:
    reviews.review_form(status, versions, actor)
