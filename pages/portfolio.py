"""Portfolio: the model inventory. Who owns what, how risky, and which version is serving."""

import pandas as pd
import streamlit as st

from ui.data import inventory_rows
from ui.principal import page_guard
from ui.widgets import stop_on_error

page_guard()

st.title("Portfolio")
st.caption("Every model in the registry: owner, risk tier, which version serves, and what "
           "of the governance contract is missing.")

with stop_on_error():
    rows = inventory_rows()

if not rows:
    st.info("The MLflow registry has no registered models yet. Register a model as the "
            "README's governance contract shows, or run `govern demo`.")
    st.stop()

inventory = pd.DataFrame(
    {
        "Model": r.name,
        "Owner": r.owner or "—",
        "Risk tier": r.risk_tier or "unset",
        "Champion": f"v{r.champion}" if r.champion else "—",
        "Challenger": f"v{r.challenger}" if r.challenger else "—",
        "Versions": r.version_count,
        "Last change": r.last_change,
        "Contract gaps": r.contract_gaps,
    }
    for r in rows
)

in_production, high_risk = (inventory["Champion"] != "—").sum(), \
    (inventory["Risk tier"] == "high").sum()
with_gaps = (inventory["Contract gaps"] > 0).sum()
cols = st.columns(4)
cols[0].metric("Registered models", len(inventory))
cols[1].metric("Serving a champion", int(in_production))
cols[2].metric("High risk", int(high_risk))
cols[3].metric("With contract gaps", int(with_gaps),
               help="Models missing registered-model tags the governance contract requires.")

filters = st.columns([2, 2, 3])
tiers = filters[0].multiselect("Risk tier", sorted(inventory["Risk tier"].unique()))
owners = filters[1].multiselect("Owner", sorted(inventory["Owner"].unique()))
search = filters[2].text_input("Search models", placeholder="name contains…")
shown = inventory[
    (inventory["Risk tier"].isin(tiers) if tiers else True)
    & (inventory["Owner"].isin(owners) if owners else True)
    & inventory["Model"].str.contains(search, case=False, regex=False)
]

selection = st.dataframe(
    shown,
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key="inventory",
    column_config={
        "Last change": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "Contract gaps": st.column_config.NumberColumn(
            help="Missing governance records; open the model to see which."),
    },
)
st.caption("Select a row to open the model.")
chosen = selection.selection.rows
if chosen:
    st.switch_page("pages/model.py", query_params={"model": shown.iloc[chosen[0]]["Model"]})
