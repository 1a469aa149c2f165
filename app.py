"""Router only: page config, the workspace check, who is acting, and the pages they may use."""

import streamlit as st

from ui.context import open_workspace
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
    st.error(
        "**Sign-in is not configured for this workspace.** Only the demo workspace offers "
        "demo personas; a real workspace needs accounts.\n\n**What to do:** run "
        "`govern demo` for the demo workspace, or configure sign-in as the README describes."
    )
    st.stop()
st.session_state["principal"] = principal

pages = [
    st.Page("pages/portfolio.py", title="Portfolio", icon=":material/dashboard:",
            default=True),
    st.Page("pages/model.py", title="Model", icon=":material/model_training:",
            url_path="model"),
    st.Page("pages/model_card.py", title="Model card", icon=":material/badge:",
            url_path="card"),
    st.Page("pages/evidence.py", title="Evidence", icon=":material/query_stats:",
            url_path="evidence"),
    st.Page("pages/decisions.py", title="Decisions", icon=":material/manage_search:",
            url_path="decisions"),
    st.Page("pages/case_file.py", title="Case file", icon=":material/folder_open:",
            url_path="case"),
    st.Page("pages/review_queue.py", title="Review queue", icon=":material/front_hand:",
            url_path="queue"),
]
st.navigation(pages).run()
