"""Promotions: requests waiting for sign-off, asking for one, rollback, and point in time."""

from datetime import datetime, time

import pandas as pd
import streamlit as st

from services.core.glossary import label
from services.core.numbers import UNDEFINED
from services.core.permissions import Action, allowed
from ui import governance
from ui.context import policy
from ui.data import inventory_rows, model_card, model_view
from ui.pickers import version_label
from ui.principal import page_guard
from ui.promotion_panel import excused, request_panel
from ui.widgets import justification_box, plain, stop_on_error, submit

actor = page_guard()

st.title("Promotions")
st.caption("A version takes an alias only when the policy's number of distinct validators "
           "approve. Neither the model's owner nor the requester may approve; a failing gate "
           "blocks approval unless an admin records an exception.")
if notice := st.session_state.pop("promotion_notice", None):
    st.success(notice, icon=":material/published_with_changes:")

with stop_on_error():
    waiting = governance.promotions(waiting=True)
    models = {row.name: row for row in inventory_rows()}

tab_waiting, tab_request, tab_rollback, tab_when, tab_history = st.tabs(
    [f"Waiting ({len(waiting)})", "Request a promotion", "Roll back", "Point in time",
     "History"])

with tab_waiting:
    if not waiting:
        st.success("No request is waiting for a sign-off.", icon=":material/task_alt:")
    for view in waiting:
        model = models.get(view.model_name)
        with st.container(border=True):
            request_panel(view, actor, model.owner if model else None,
                          policy().for_tier(model.risk_tier if model else None))

with tab_request:
    if not allowed(actor, Action.REQUEST_PROMOTION):
        st.info("Model owners and validators request promotions.", icon=":material/lock:")
    else:
        name = st.selectbox("Model", list(models), key="request_model")
        with stop_on_error():
            requested = model_view(name)
        versions = [v.version for v in requested.versions]
        challenger = requested.model.aliases.get("challenger")
        left, right = st.columns(2)
        version = left.selectbox("Version", versions, key=f"request_version_{name}",
                                 index=versions.index(challenger) if challenger in versions
                                 else 0, format_func=lambda v: version_label(requested, v))
        alias = right.selectbox("Alias", ["champion", "challenger"], key="request_alias")
        with stop_on_error():
            gates = model_card(name, version).gates
        if gates.passed:
            st.success(f"v{version} passes every gate now.", icon=":material/verified:")
        else:
            needed = policy().for_tier(models[name].risk_tier if name in models else None) \
                .exception_approvers
            st.error(f"v{version} fails {len(gates.failing)} gate(s) now: "
                     f"{plain(', '.join(label(g.gate) for g in gates.failing))}. Approval will "
                     f"need a policy exception from {needed} admin(s).",
                     icon=":material/gpp_bad:")
        with st.form("request_promotion"):
            why = justification_box(placeholder="Why this version.")
            if st.form_submit_button("Request promotion", type="primary"):
                submit(lambda: governance.request(actor, name, version, alias, why),
                       lambda made: f"Request #{made.id} is waiting for sign-off.",
                       key="promotion_notice")

with tab_rollback:
    if not allowed(actor, Action.ROLLBACK):
        st.info("Validators and admins roll an alias back.", icon=":material/lock:")
    else:
        name = st.selectbox("Model", list(models), key="rollback_model")
        champion = models[name].champion if name in models else None
        with stop_on_error():
            preview = governance.rollback_preview(name)
        if not champion:
            st.info(f"No version of {plain(name)} holds @champion now, so there is nothing to "
                    "roll back.")
        elif preview.target is None:
            st.info(f"@champion is v{champion} now. {plain(preview.reason)}",
                    icon=":material/block:")
        else:
            st.write(f"@champion is v{champion} now. {plain(preview.reason)} The rollback has "
                     "a record of its own.")
        with st.form("rollback"):
            why = justification_box(placeholder="What went wrong.")
            if st.form_submit_button("Roll back @champion",
                                     disabled=not champion or preview.target is None):
                submit(lambda: governance.rollback(actor, name, why),
                       lambda done: f"Rolled back: {plain(name)} @champion is "
                                    f"v{done.request.model_version} again.",
                       key="promotion_notice")

with tab_when:
    name = st.selectbox("Model", list(models), key="when_model")
    day_col, time_col = st.columns(2)
    day = day_col.date_input("Date", key="when_day")
    moment = time_col.time_input("Time (UTC)", time(12, 0), key="when_time")
    with stop_on_error():
        served = governance.point_in_time(name, datetime.combine(day, moment))
    if served.tenure is None:
        st.info(f"No version of {plain(name)} held @champion then, as far as the console recorded.")
    else:
        t = served.tenure
        st.metric("Served as @champion", f"v{t.version}")
        st.write(f"From {t.since:%Y-%m-%d %H:%M} UTC "
                 f"{'until ' + format(t.until, '%Y-%m-%d %H:%M') if t.until else 'until now'}, "
                 f"moved by {plain(t.changed_by)}.")
        if served.request and served.request.kind == "rollback":
            st.write(f"Given back by rollback #{served.request.id} "
                     f"({plain(served.request.requested_by)}).")
            if (grounds := served.approved_under) is not None:
                st.write(f"It had been promoted by request #{grounds.id} "
                         f"({plain(grounds.requested_by)}), approved by "
                         f"{plain(', '.join(grounds.approvers))}{excused(grounds)}.")
            else:
                st.write("It held the alias before the console's promotions began.")
        elif served.request:
            st.write(f"Request #{served.request.id} by {plain(served.request.requested_by)}; "
                     f"approved by {plain(', '.join(served.request.approvers))}"
                     f"{excused(served.request)}.")
        st.dataframe(pd.DataFrame({
            "Evidence": kind, "Record": f"#{record.id}", "Recorded": record.created_at,
            "Payload SHA-256": record.payload_sha256, "Hold-out SHA-256": record.data_sha256,
        } for kind, record in served.evidence.items()), hide_index=True, width="stretch",
            placeholder=UNDEFINED)

with tab_history:
    with stop_on_error():
        history = governance.promotions(waiting=False)
    st.dataframe(pd.DataFrame({
        "Request": f"#{v.id}", "Kind": v.kind, "Model": v.model_name,
        "Version": f"v{v.model_version}", "Alias": v.alias, "Status": v.status.replace("_", " "),
        "Requested by": v.requested_by, "Approved by": ", ".join(v.approvers),
        "Requested": v.requested_at, "Executed": v.executed_at,
    } for v in history), hide_index=True, width="stretch", placeholder=UNDEFINED)
