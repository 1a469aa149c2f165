"""Notifications: which kinds reach me by e-mail; for admins, where each delivery stands."""

import pandas as pd
import streamlit as st

from services.core.numbers import UNDEFINED
from services.core.principal import Role
from services.notify.kinds import KIND_LABELS, LOG_LABELS, DeliveryStatus, NotificationKind
from ui import notifications
from ui.principal import page_guard
from ui.tables import fitted_height
from ui.widgets import plain, stop_on_error, submit

actor = page_guard()
st.title("Notifications")
st.caption("The console tells people by e-mail when something waits on them: an alert, a "
           "promotion to sign, a finding assigned or past due, a review due, an audit trail "
           "that does not verify. A message names models, versions, findings and ids, never "
           "anything about an applicant.")

with stop_on_error():
    current = notifications.choices(actor)
    where = notifications.address(actor)
if where is None and notifications.is_demo_persona(actor):
    st.warning("Demo personas have no accounts, so nothing reaches them by e-mail: what would "
               "have is recorded as not sent (an admin sees it below). In a real workspace, an "
               "account's address is set with `govern users add NAME --email …` or "
               "`govern users set-email NAME ADDRESS`.", icon=":material/mail_off:")
elif where is None:
    st.warning("Your account has no e-mail address, so nothing can reach you by e-mail; what "
               "would have is recorded as not sent. An admin sets it: `govern users set-email "
               f"{actor.id} ADDRESS`.", icon=":material/mail_off:")
elif not notifications.mail_configured():
    st.info(f"E-mail would go to {plain(where)}, but no SMTP server is configured "
            "(GOVERNANCE_SMTP_HOST): messages are recorded, not sent.", icon=":material/mail:")
else:
    st.caption(f"E-mail goes to {plain(where)}.")
with st.form("notification_choices"):
    st.markdown("**What reaches me by e-mail**")
    chosen = {kind: st.checkbox(KIND_LABELS[kind], value=current[kind], key=f"notify_{kind}")
              for kind in NotificationKind}
    st.caption("Each reaches you only when it concerns you (your model, your finding, a "
               "sign-off you may give).")
    if st.form_submit_button("Save my choices", type="primary"):
        submit(lambda: notifications.save(actor, chosen),
               lambda _: "Your notification choices are saved.", key="notify_notice")
if notice := st.session_state.pop("notify_notice", None):
    st.success(notice)

if actor.has(Role.ADMIN):
    st.subheader("Recent deliveries")
    status = st.selectbox("Status", [None, *DeliveryStatus], key="notify_status",
                          format_func=lambda s: "any" if s is None else str(s))
    with stop_on_error():
        rows = notifications.recent(status)
    if not rows:
        st.info("No notification yet.", icon=":material/mail:")
    else:
        st.dataframe(pd.DataFrame({
            "#": r.id, "Created (UTC)": f"{r.created_at:%Y-%m-%d %H:%M}",
            "Kind": LOG_LABELS[r.kind], "Channel": "e-mail" if r.channel == "email"
            else "webhook", "To": r.recipient, "Status": r.status.value, "Attempts": r.attempts,
            "Next attempt (UTC)": f"{r.next_attempt_at:%Y-%m-%d %H:%M}"
            if r.next_attempt_at else UNDEFINED,
            "Last error": r.last_error or UNDEFINED} for r in rows), hide_index=True,
            width="stretch", height=fitted_height(len(rows)),
            column_config={"Last error": st.column_config.TextColumn(width="large")})
