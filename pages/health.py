"""Health over time: volume, people's share of the work, and scores against outcomes."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from services.core.clock import utcnow
from services.core.numbers import UNDEFINED, Unit, count, empty, percent
from services.evidence.groups import group_order
from ui import monitoring
from ui.context import policy
from ui.data import inventory_rows
from ui.health_figures import four_fifths_trend, health_calibration, health_rates
from ui.performance_panel import performance_panel
from ui.pickers import pick_model
from ui.principal import page_guard
from ui.tables import readable
from ui.widgets import plain, stop_on_error

page_guard()
st.title("Health over time")
st.caption("Acted-on decisions of a model by day: how many went to a person or were overridden, "
           "how much of the ground truth has arrived, and whether scores still match outcomes.")

with stop_on_error():
    names = [row.name for row in inventory_rows() if row.champion]
left, right = st.columns([3, 2])
name = pick_model(names, key="health_model", container=left, among="the models serving a champion")
span = right.radio("Window", [30, 90, 180], index=1, horizontal=True,
                   format_func=lambda d: f"{d} days", key="health_span")
end = utcnow().date() + timedelta(days=1)
if name is None:
    st.info(empty("model serving a champion", "Health over time follows a model once a "
                  "version holds its champion alias and decisions are ingested."))
    st.stop()
with stop_on_error():
    days = monitoring.health(name, end - timedelta(days=span), end)
if not days:
    st.info(f"No decisions of {plain(name)} in the last {span} days.")
    st.stop()

total = sum(d.decisions for d in days)
figures = st.container(horizontal=True, wrap=True, gap="medium")  # wraps at 900 px, never cuts
figures.metric("Decisions", count(total), width=170)
figures.metric("Went to a person", percent(sum(d.escalated for d in days) / total), width=170)
figures.metric("Overridden", percent(sum(d.overridden for d in days) / total), width=170)
figures.metric("Outcome known", percent(sum(d.labelled for d in days) / total), width=170,
               help="Ground truth arrives later: recent days have fewer outcomes (label delay).")

st.subheader("People's share of the work, and outcomes arriving")
st.plotly_chart(health_rates(days), width="stretch")
st.subheader("Scores against outcomes")
if any(d.labelled for d in days):
    st.plotly_chart(health_calibration(days), width="stretch")
    st.caption("For decisions whose outcome is known: the mean score and the share with the "
               "positive label. A widening gap is a model losing calibration.")
else:
    st.info("No outcome has arrived yet for this window.")

st.subheader("Estimated performance, before the outcomes arrive")
served = next(r for r in inventory_rows() if r.name == name)
performance_panel(name, str(served.champion), served.risk_tier, end - timedelta(days=span), end,
                  key="health_metric")

st.subheader("Approval rate by group")
tier = policy().for_tier(next(r.risk_tier for r in inventory_rows() if r.name == name))
bound = tier.fairness_bounds["four_fifths_ratio_min"]
with stop_on_error():
    whole = monitoring.selection_by_group(name, end - timedelta(days=span), end,
                                          tier.min_group_size, by_week=False)
    weeks = monitoring.selection_by_group(name, end - timedelta(days=span), end,
                                          tier.min_group_size, by_week=True)
if not whole:
    st.info(f"No sensitive input of {plain(name)} is logged with its decisions, so approval "
            "rates by group cannot be followed here; the fairness evidence on the hold-out still "
            "applies.")
else:
    st.plotly_chart(four_fifths_trend(weeks, bound), width="stretch")
    st.caption(f"Groups with fewer than {tier.min_group_size} automatic decisions in a week "
               "are left out of that week's ratio: too few to judge.")
    st.dataframe(pd.DataFrame({
        "Sensitive input": s.feature, "Group": group, "Automatic decisions": decided,
        "Approved": approved, "Approval rate": approved / decided if decided else None,
        "Four-fifths ratio (window)": s.four_fifths_ratio,
    } for s in whole for group, (decided, approved) in sorted(
        s.groups.items(), key=lambda item: group_order(item[0]))).pipe(
        readable, {"Approval rate": Unit.RATE}), hide_index=True, width="stretch",
            placeholder=UNDEFINED)
