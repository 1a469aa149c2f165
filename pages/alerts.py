"""Alerts: what `govern monitor` found, oldest first, each with an owner until acted on."""

import pandas as pd
import streamlit as st

from services.core.clock import utcnow
from services.core.glossary import label, shown
from services.core.numbers import UNDEFINED, days, empty
from services.core.permissions import Action, allowed
from services.monitoring.alerts import ACTIONS, AlertStatus
from ui import monitoring
from ui.principal import page_guard
from ui.tables import fitted_height
from ui.widgets import justification_box, plain, stop_on_error, submit

actor = page_guard()
st.title("Alerts")
st.caption("Opened by `govern monitor` (run it on a schedule) when a served model breaks its "
           "policy: drift, escalation or override rates, decisions that skipped a person. An "
           "alert stays open until someone records what they are doing about it.")

with stop_on_error():
    waiting = monitoring.alerts(AlertStatus.OPEN)
now = utcnow()
if not waiting:
    st.success("No open alert.", icon=":material/notifications_off:")
else:
    st.dataframe(pd.DataFrame({
        "Alert": f"#{a.id}", "What": a.message, "Open for": days((now - a.opened_at).days),
        "Owner": a.owner, "Model": a.model_name,
        "Version": f"v{a.model_version}" if a.model_version else "—",
        "Kind": label(a.kind), "Severity": a.severity,
        "Figure": shown(a.kind, a.figure), "Bound": shown(a.kind, a.bound),
    } for a in waiting), hide_index=True, width="stretch", height=fitted_height(len(waiting)),
        column_config={"What": st.column_config.TextColumn(width="large")}, placeholder=UNDEFINED)
    # A grid cell cuts a long sentence: each alert's whole message is written out below it.
    with st.expander("What each alert says, in full"):
        for a in waiting:
            st.markdown(f"**#{a.id} {plain(a.model_name)}**: {plain(a.message)}")

    if allowed(actor, Action.ACKNOWLEDGE_ALERT):
        with st.form("acknowledge"):
            st.markdown("**Acknowledge an alert**")
            chosen = st.selectbox("Alert", waiting,
                                  format_func=lambda a: f"#{a.id} {a.model_name}: "
                                                        f"{label(a.kind)}")
            action = st.radio("Action", ACTIONS, horizontal=True,
                              format_func=lambda a: "accept with reason" if a == "accept"
                              else a)
            note = justification_box("What you are doing and why",
                                     placeholder="Shown exactly as written.")
            if st.form_submit_button("Acknowledge", type="primary"):
                submit(lambda: monitoring.acknowledge(actor, chosen.id, action, note),
                       lambda done: f"Alert #{done.id} acknowledged: {done.action}.",
                       key="alerts_notice")
    else:
        st.info("Model owners, validators and admins acknowledge alerts.", icon=":material/lock:")

if notice := st.session_state.pop("alerts_notice", None):
    st.success(notice)

st.subheader("Acknowledged")
with stop_on_error():
    handled = monitoring.alerts(AlertStatus.ACKNOWLEDGED)
if handled:
    for a in reversed(handled[-20:]):
        st.markdown(f"**#{a.id} {plain(a.model_name)} · {plain(label(a.kind))}**: "
                    f"{plain(a.action)} by {plain(a.acknowledged_by)} on "
                    f"{a.acknowledged_at:%Y-%m-%d %H:%M} UTC")
        st.text(a.action_note or "")
else:
    st.caption(empty("acknowledged alerts"))
