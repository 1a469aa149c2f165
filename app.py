"""Router only: page config, the workspace check, who is acting, and the pages they may use."""

import streamlit as st

from ui.context import open_workspace
from ui.navigation import console_navigation, signed_out_navigation
from ui.notifications import start_delivery as start_notification_delivery
from ui.principal import current_principal
from ui.widgets import demo_marker, stop_on_error

st.set_page_config(page_title="Model Governance Console", page_icon=":material/shield:",
                   layout="wide")

with stop_on_error():
    workspace = open_workspace()
if workspace.demo:
    demo_marker()

principal = current_principal(demo=workspace.demo)
if principal is None:
    # The sign-in form (or the reason there is none) is drawn. st.navigation is still called:
    # until it has run once, Streamlit serves pages/ scripts directly for deep links. Every
    # address is registered, so a deep link keeps its page and query through the sign-in.
    st.session_state.pop("principal", None)
    signed_out_navigation()
    st.stop()
st.session_state["principal"] = principal
start_notification_delivery()  # only when e-mail or a webhook is configured
console_navigation(principal, demo=workspace.demo)
