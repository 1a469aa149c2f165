"""Model: one registered model, its versions and aliases, a version's lineage and its gaps."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from services.core.clock import utcnow
from services.core.glossary import term
from services.core.numbers import UNDEFINED
from services.monitoring.portfolio import STATUS_WORDS
from ui.data import inventory_rows, model_view, version_view
from ui.figures import alias_timeline
from ui.next_steps import NO_MODELS
from ui.performance_panel import performance_panel
from ui.pickers import pick_model
from ui.portfolio import BADGE_COLOURS, PILLAR_TITLES, portfolio_view
from ui.principal import page_guard
from ui.reviews import review_line
from ui.vendors import vendor_panel
from ui.widgets import figure_row, plain, stop_on_error

principal = page_guard()

with stop_on_error():
    names = [row.name for row in inventory_rows()]
if not names:
    st.title("Model")
    st.info(NO_MODELS)
    st.stop()

asked = st.query_params.get("model")
model_name = pick_model(names, key="model_picker")
assert model_name is not None  # names is not empty

with stop_on_error():
    view = model_view(model_name)
model = view.model

st.title(model.name)
if model.description:
    st.markdown(plain(model.description))

cols = figure_row()
cols.metric("Owner", model.owner or "missing", width="content")
cols.metric("Risk tier", model.risk_tier or "missing", width=150)
cols.metric("Champion", f"v{model.aliases['champion']}" if "champion" in model.aliases
            else "none", width=150)
challenger = model.aliases.get("challenger")
if challenger is not None and challenger == model.aliases.get("champion"):
    # A promoted challenger keeps its old alias in MLflow; it challenges nobody now.
    cols.metric("Challenger", "none", width=150, help=f"v{challenger} still carries the "
                "challenger alias but is the champion now. A promotion request for the "
                "challenger alias names a new one.")
else:
    cols.metric("Challenger", f"v{challenger}" if challenger else "none", width=150)
if model.is_vendor:
    vendor_panel(model, principal, view.versions)

with stop_on_error():
    health = next((r for r in portfolio_view().rows if r.name == model.name), None)
if health and health.champion:
    st.subheader(f"Health of v{health.champion}: {STATUS_WORDS[health.status]}")
    badges = figure_row()
    for pillar, judged in health.pillars.items():
        badges.badge(f"{PILLAR_TITLES[pillar]}: {STATUS_WORDS[judged.status]}",
                     color=BADGE_COLOURS[judged.status], help=judged.reason)
    for reason in health.reasons:
        st.markdown(f"- {plain(reason)}")
    if health.judged_at:
        st.caption(f"As judged by `govern monitor` at {health.judged_at:%Y-%m-%d %H:%M} UTC; "
                   "hover a badge for its reason.")

with stop_on_error():
    review_line(model.name)

if "champion" in model.aliases:
    st.subheader(f"Estimated performance of v{model.aliases['champion']}, week by week")
    today = utcnow().date() + timedelta(days=1)
    performance_panel(model.name, model.aliases["champion"], model.risk_tier,
                      today - timedelta(weeks=12), today, key="model_metric", table=False)

purpose = st.columns(2)
purpose[0].markdown("**Intended use**")
purpose[0].markdown(plain(model.tags.get("intended_use")) or "_Not stated: a contract gap._")
purpose[1].markdown("**Limitations**")
purpose[1].markdown(plain(model.tags.get("limitations")) or "_Not stated: a contract gap._")

st.subheader("Who served when")
if view.tenures:
    st.plotly_chart(alias_timeline(view.tenures, now=utcnow()), width="stretch")
    # Every move as a row: a tenure of minutes (a promotion and a rollback on one day) is too
    # thin to see on a chart of months.
    st.dataframe(pd.DataFrame({
        "Alias": t.alias, "Version": f"v{t.version}", "From": f"{t.since:%Y-%m-%d %H:%M}",
        "Until": f"{t.until:%Y-%m-%d %H:%M}" if t.until else "holds it now",
        "Moved by": t.changed_by, "Why": t.reason,
    } for t in reversed(view.tenures)), hide_index=True, width="stretch",
        height=min(35 * (len(view.tenures) + 1) + 3, 250), placeholder=UNDEFINED)
else:
    st.caption("No alias moves are recorded in the governance store for this model yet.")

if view.shadows:
    st.subheader("Challengers on live traffic (shadow scoring)")
    st.dataframe(pd.DataFrame({
        "Challenger": f"v{c.challenger_version}",
        "Requests scored by both": c.pairs,
        "Same decision": c.agreement,
        "Mean score difference": c.mean_score_difference,
        "Mean absolute difference": c.mean_absolute_difference,
        "Would approve where declined": c.challenger_more_favourable,
    } for c in view.shadows), hide_index=True, width="stretch", column_config={
        "Same decision": st.column_config.ProgressColumn(format="percent", min_value=0,
                                                         max_value=1),
        "Mean score difference": st.column_config.NumberColumn(format="%+.3f"),
        "Mean absolute difference": st.column_config.NumberColumn(format="%.3f")},
            placeholder=UNDEFINED)
    st.caption("Shadow scores are never acted on: they are the evidence for a canary or "
               "shadow rollout.")

st.subheader("Versions")
st.dataframe(
    pd.DataFrame(
        {
            "Version": f"v{v.version}",
            "Aliases": ", ".join(v.aliases) or "—",
            # A vendor model: the vendor's release each version records.
            **({"Vendor release": v.tags.get("vendor_version") or "missing"}
               if model.is_vendor else {}),
            "Status": v.status,
            "Registered": v.created_at,
            "Run": v.run_id or "—",
            "Description": v.description,
        }
        for v in view.versions
    ),
    hide_index=True,
    width="stretch",
    column_config={"Registered": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    placeholder=UNDEFINED)

versions = [v.version for v in view.versions]
default = model.aliases.get("champion", versions[0] if versions else None)
if default is None:
    st.info("This model has no versions yet.")
    st.stop()
wanted = st.query_params.get("version") if asked == model_name else None
if wanted is not None and wanted not in versions:
    st.warning(f"The link names version {plain(wanted)} of {plain(model_name)}, which it does "
               f"not have. Showing v{default} instead.", icon=":material/link_off:")
elif wanted is not None:
    default = wanted
version = st.selectbox("Lineage of version", versions, index=versions.index(default),
                       key="version_picker",
                       format_func=lambda v: f"v{v}" + (
                           f" ({', '.join(a for a, w in model.aliases.items() if w == v)})"
                           if v in model.aliases.values() else ""))
st.query_params["version"] = version
with stop_on_error():
    detail = version_view(model_name, version)
lineage, contract = detail.lineage, detail.contract

st.subheader(f"Lineage of v{version}")
facts = figure_row()
if model.is_vendor:  # trained by the vendor: no run, code or training data of the console's
    facts.metric("Vendor release", lineage.vendor_version or "missing", width="content")
    facts.metric("Registered", lineage.started_at.strftime("%Y-%m-%d") if lineage.started_at
                 else "—", width="content")
else:
    facts.metric("Training run", lineage.run_name or "—", help=lineage.run_id,
                 width="content")
    facts.metric("Code version", (lineage.code_version or "missing")[:12],
                 help=lineage.code_version, width="content")
    facts.metric("Trained", lineage.started_at.strftime("%Y-%m-%d") if lineage.started_at
                 else "—", width="content")
facts.metric("Hold-out set", "logged" if lineage.holdout_artifact else "missing",
             help=lineage.holdout_uri, width="content")

tables = st.columns(3)
tables[0].markdown("**Parameters**")
tables[0].dataframe(pd.DataFrame(sorted(lineage.params.items()), columns=["Parameter", "Value"]),
                    hide_index=True, width="stretch", placeholder=UNDEFINED)
tables[1].markdown("**Metrics logged by the owner**")
tables[1].dataframe(pd.DataFrame(sorted((term(k), v) for k, v in lineage.metrics.items()),
                                 columns=["Metric", "Value"]),
                    hide_index=True, width="stretch", placeholder=UNDEFINED)
tables[2].markdown("**Data**")
tables[2].dataframe(
    pd.DataFrame(
        [{"Dataset": d.name, "Context": d.context or "—", "MLflow digest": d.digest}
         for d in lineage.datasets],
        columns=["Dataset", "Context", "MLflow digest"],
    ),
    hide_index=True, width="stretch",
    placeholder=UNDEFINED)
st.caption("An MLflow digest identifies a dataset; it does not prove its integrity. Evidence "
           "runs hash the hold-out file with SHA-256.")

st.subheader("Governance contract")
if contract.complete:
    st.success("Every record the governance contract asks for is present.",
               icon=":material/verified:")
else:
    st.warning(f"**{len(contract.gaps)} gap(s).** Gates that need a missing record fail "
               "closed until the model owner supplies it.", icon=":material/report:")
st.dataframe(
    pd.DataFrame(
        {"Requirement": item.requirement, "Present": item.satisfied, "Detail": item.detail}
        for item in contract.items
    ),
    hide_index=True, width="stretch",
    column_config={"Present": st.column_config.CheckboxColumn()},
    placeholder=UNDEFINED)
