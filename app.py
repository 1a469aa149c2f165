"""Router only: page config, the workspace check, who is acting, and the pages they may use."""

import streamlit as st

from services.core.permissions import allowed
from ui.context import open_workspace
from ui.principal import RESTRICTED_PAGES, current_principal
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
    # until it has run once, Streamlit serves pages/ scripts directly for deep links.
    st.session_state.pop("principal", None)
    st.navigation([st.Page(lambda: None, title="Sign in", url_path="sign-in")]).run()
    st.stop()
st.session_state["principal"] = principal

models = [
    st.Page("pages/portfolio.py", title="Portfolio", icon=":material/dashboard:",
            default=True),
    st.Page("pages/model.py", title="Model", icon=":material/model_training:",
            url_path="model"),
    st.Page("pages/model_card.py", title="Model card", icon=":material/badge:",
            url_path="card"),
    st.Page("pages/evidence.py", title="Evidence", icon=":material/query_stats:",
            url_path="evidence"),
    st.Page("pages/controls.py", title="Controls", icon=":material/fact_check:",
            url_path="controls"),
    st.Page("pages/promotions.py", title="Promotions", icon=":material/how_to_reg:",
            url_path="promotions"),
    st.Page("pages/drift.py", title="Drift", icon=":material/ssid_chart:", url_path="drift"),
    st.Page("pages/health.py", title="Health over time", icon=":material/monitor_heart:",
            url_path="health"),
    st.Page("pages/alerts.py", title="Alerts", icon=":material/notifications:",
            url_path="alerts"),
]
decisions = [
    st.Page("pages/decisions.py", title="Decisions", icon=":material/manage_search:",
            url_path="decisions"),
    st.Page("pages/case_file.py", title="Case file", icon=":material/folder_open:",
            url_path="case"),
    st.Page("pages/review_queue.py", title="Review queue", icon=":material/front_hand:",
            url_path="queue"),
]
oversight = [
    st.Page("pages/audit.py", title="Audit trail", icon=":material/receipt_long:",
            url_path="audit"),
]
# A page a role may not use is not registered at all: its URL answers "page not found".
sections = {"Models": models}
if allowed(principal, RESTRICTED_PAGES["decisions"]):
    sections["Decisions"] = decisions
if allowed(principal, RESTRICTED_PAGES["audit"]):
    sections["Oversight"] = oversight
st.navigation(sections).run()
