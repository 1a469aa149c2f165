"""Portfolio: which models are healthy, which are at risk and why, and what is overdue."""

import pandas as pd
import streamlit as st

from services.core.numbers import UNDEFINED, Unit, count
from services.monitoring.portfolio import PILLARS
from services.reports.portfolio_pdf import portfolio_pdf
from ui.next_steps import FIRST_STEPS
from ui.portfolio import (
    PILLAR_TITLES,
    STATUS_MARKS,
    broken_chain_alert,
    pillar_trends,
    portfolio_view,
    status_grid,
)
from ui.principal import page_guard
from ui.tables import fitted_height, readable
from ui.widgets import plain, stop_on_error

page_guard()

st.title("Portfolio")
st.caption("Every model in the registry, judged per pillar against the policy of its risk "
           "tier. Hover a cell of the grid for its reason; select a row to open the model.")

with stop_on_error():
    broken = broken_chain_alert()
if broken is not None:  # above everything: no figure below can be trusted to the trail
    st.error(f"**The audit trail does not verify.** {plain(broken.message)} (alert "
             f"#{broken.id}, opened {broken.opened_at:%Y-%m-%d %H:%M} UTC)",
             icon=":material/gpp_bad:")

with stop_on_error():
    view = portfolio_view()

if not view.rows:
    st.info(FIRST_STEPS)
    st.stop()

judged = view.last_judged
if judged is None:
    st.warning("No model has been judged yet, so drift, performance, fairness and oversight "
               "show as unknown. Run `govern monitor` (schedule it daily).")
elif (view.as_of - judged).days >= 2:
    st.warning(f"The last `govern monitor` run was on {judged:%Y-%m-%d %H:%M} UTC: the judged "
               "pillars are that old. Schedule it daily.")
else:
    st.caption(f"Judged by `govern monitor` at {judged:%Y-%m-%d %H:%M} UTC; alerts and "
               "revalidation dates are live.")

# A wrapping row: at 900 px the figures go on two lines instead of cutting their labels.
headlines = st.container(horizontal=True, wrap=True, gap="medium")
for headline in view.headlines:
    delta = None if headline.previous is None else headline.value - headline.previous
    # Worse is red whatever the sign: one more override or alert is not good news.
    headlines.metric(headline.short or headline.label, count(headline.value), width=170,
                  delta=None if delta is None else f"{delta:+,} vs prior 30 d" if delta
                  else "as 30 d ago",
                  delta_color="off" if not delta or headline.worse_when_up is None else
                  "inverse" if headline.worse_when_up else "normal",
                  delta_arrow="auto" if delta else "off",
                  help=f"**{headline.label}**: {headline.help}")

st.download_button("Portfolio report (PDF)", on_click="ignore", data=lambda: portfolio_pdf(view),
                   file_name=f"portfolio-{view.as_of:%Y-%m-%d}.pdf", mime="application/pdf",
                   icon=":material/picture_as_pdf:")

if view.trends:
    st.subheader("Models red or amber per pillar, last 90 days")
    st.plotly_chart(pillar_trends(view.trends), width="stretch",
                    config={"displayModeBar": False})

filters = st.columns([2, 2, 2, 3])
rows = view.rows
tiers = filters[0].multiselect("Risk tier", sorted({r.risk_tier or "unset" for r in rows}))
owners = filters[1].multiselect("Owner", sorted({r.owner or "—" for r in rows}))
statuses = filters[2].multiselect("Status", list(STATUS_MARKS),
                                  format_func=lambda s: STATUS_MARKS[s])
search = filters[3].text_input("Search models", placeholder="name contains…")
shown = [r for r in rows
         if (not tiers or (r.risk_tier or "unset") in tiers)
         and (not owners or (r.owner or "—") in owners)
         and (not statuses or r.status in statuses)
         and search.lower() in r.name.lower()]
if not shown:
    st.info("No model matches these filters.")
    st.stop()

st.subheader("Status by pillar")
serving = [r for r in shown if r.champion]
if serving:
    st.plotly_chart(status_grid(serving), width="stretch", config={"displayModeBar": False})
if idle := [r.name for r in shown if not r.champion]:
    st.caption(f"Registered but not serving (no champion alias): {', '.join(idle)}.")

table = pd.DataFrame(
    {
        "Model": r.name,
        "Status": STATUS_MARKS[r.status] if r.champion else "not serving",
        "Owner": r.owner or "—",
        "Risk tier": r.risk_tier or "unset",
        "Champion": f"v{r.champion}" if r.champion else "—",
        "Champion for": (view.as_of - r.champion_since).days if r.champion_since else None,
        **{PILLAR_TITLES[p]: STATUS_MARKS[r.pillars[p].status] for p in PILLARS},
        "Open alerts": r.open_alerts,
        "Revalidation due": r.revalidation_due,
        "Decisions (30 d)": r.decisions,
        "Escalated": r.escalation_rate,
        "Overridden": r.override_rate,
        "Contract gaps": r.contract_gaps,
        "Why": " · ".join(r.reasons) or ("—" if r.champion else "No champion serves."),
    }
    for r in shown
)
selection = st.dataframe(
    # A model that does not serve has no champion age or rates: "—", not "None".
    readable(table, {"Champion for": Unit.DAYS, "Decisions (30 d)": Unit.COUNT,
                     "Escalated": Unit.RATE, "Overridden": Unit.RATE}),
    hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
    key="portfolio", height=fitted_height(len(table)),
    column_config={
        "Escalated": st.column_config.Column(help="Share sent to a person, 30 days."),
        "Overridden": st.column_config.Column(help="Share a person overrode, 30 days."),
        "Revalidation due": st.column_config.DateColumn(format="YYYY-MM-DD"),
        "Contract gaps": st.column_config.NumberColumn(
            help="Missing governance records; open the model to see which."),
        "Why": st.column_config.TextColumn(width="large"),
    },
    placeholder=UNDEFINED)
chosen = selection.selection.rows
if chosen:
    st.switch_page("pages/model.py", query_params={"model": shown[chosen[0]].name})
