"""Evidence: evaluation and fairness plots, earlier runs, and two versions side by side."""

import pandas as pd
import streamlit as st

from services.core.glossary import label, shown, term
from services.core.numbers import UNDEFINED, Unit
from services.core.permissions import Action, allowed
from services.evidence.groups import group_order
from services.evidence.payloads import ClassificationEvaluation
from ui import figures
from ui.context import policy
from ui.data import evidence_records, model_card
from ui.evidence_run import evidence_run_controls
from ui.findings import findings_panel
from ui.pickers import pick_model_version, version_label
from ui.principal import page_guard
from ui.tables import fitted_height, labelled, readable
from ui.widgets import plain, stop_on_error

principal = page_guard()

st.title("Evidence")
view, version = pick_model_version("evidence")
name = view.model.name

if allowed(principal, Action.RUN_EVIDENCE):
    evidence_run_controls(view.model, version, principal)
else:
    st.caption("Your roles can read evidence but not run it (validators, model owners and "
               "admins can).")

with stop_on_error():
    records = evidence_records(name, version)
evaluations = [r for r in records if r.kind == "evaluation"]
if not evaluations:
    st.info(f"No evidence has been run for {plain(name)} v{version} yet.")
    findings_panel(name, version, principal, view.model.owner, ())
    st.stop()

chosen = st.selectbox(
    "Evaluation run", evaluations,
    format_func=lambda r: f"#{r.id} · {r.created_at:%Y-%m-%d %H:%M} · by {r.created_by}"
    + (" (latest)" if r is evaluations[0] else ""), key=f"run_{name}_{version}")
# A run writes its evaluation and then its fairness record in one transaction.
fairness = min((r for r in records if r.kind == "fairness" and r.id > chosen.id),
               key=lambda r: r.id, default=None)
st.caption(f"Hold-out SHA-256 `{chosen.data_sha256}` · payload SHA-256 "
           f"`{chosen.payload_sha256}` · policy `{chosen.policy_sha256[:12]}…` · "
           + ("payload intact" if chosen.intact else "**payload does not match its hash**"))
with stop_on_error():
    evaluation = chosen.evaluation()

evaluation_tab, fairness_tab, data_tab, compare_tab = st.tabs(
    ["Evaluation", "Fairness", "Data", "Compare versions"])

with evaluation_tab:
    if not isinstance(evaluation, ClassificationEvaluation):
        st.dataframe(labelled(pd.DataFrame([evaluation.metrics.figures()])), hide_index=True,
            placeholder=UNDEFINED)
    else:
        headline = evaluation.metrics.figures()
        for column, (key, value) in zip(st.columns(len(headline)), headline.items(),
                                        strict=True):
            column.metric(label(key), shown(key, value))
        curves = {f"v{version}": evaluation}
        left, right = st.columns(2)
        left.plotly_chart(figures.roc_figure(curves), width="stretch")
        right.plotly_chart(figures.pr_figure(curves), width="stretch")
        left, right = st.columns(2)
        left.plotly_chart(figures.calibration_figure(curves), width="stretch")
        right.plotly_chart(figures.confusion_figure(evaluation), width="stretch")
        st.markdown("**Performance by segment**")
        for feature, segments in evaluation.segments.items():
            st.caption(feature)
            in_order = sorted(segments, key=lambda s: group_order(s.group))  # <25 before 25-39
            st.dataframe(labelled(pd.DataFrame(s.as_stored() for s in in_order)),
                         hide_index=True, width="stretch", placeholder=UNDEFINED)

with fairness_tab:
    if fairness is None:
        st.info("This run has no fairness record.")
    else:
        four_fifths = policy().for_tier(view.model.risk_tier) \
            .fairness_bounds["four_fifths_ratio_min"]
        with stop_on_error():
            fair = fairness.fairness()
        st.caption(f"Favourable outcome: prediction {fair.favourable_prediction}. Groups "
                   f"under {fair.min_group_size} people are grey: too few to judge. "
                   f"True-positive rates are compared over groups with at least "
                   f"{fair.min_class_count} positives, false-positive rates over groups with "
                   f"at least {fair.min_class_count} negatives. A rate a group cannot have "
                   f"is undefined. Intervals: {fair.confidence_level:.0%} bootstrap, "
                   f"{fair.bootstrap_resamples} resamples.")
        for assessment in fair.features.values():
            st.plotly_chart(figures.fairness_figure(assessment, four_fifths), width="stretch")
            st.dataframe(figures.group_rates_table(assessment), hide_index=True,
                         width="stretch", placeholder=UNDEFINED)

with data_tab:
    data = evaluation.data
    if data is None:
        st.info("This run profiled no hold-out data.")
    else:
        st.markdown(f"**{data.rows:,} hold-out rows**")
        st.dataframe(readable(pd.DataFrame({
            "Column": c.column, "Type": c.dtype, "Missing": c.missing, "Min": c.min,
            "Mean": c.mean, "Max": c.max, "Distinct": c.distinct,
            "Most frequent": ", ".join(map(term, c.top))} for c in data.columns),
            {"Distinct": Unit.COUNT}), hide_index=True, width="stretch",
            height=fitted_height(len(data.columns)), placeholder=UNDEFINED)
        st.markdown("**Representation: hold-out set against the population decided on "
                    "(last 90 days)**")
        for feature, rows in data.representation.items():
            frame = pd.DataFrame(r.as_stored() for r in rows)
            st.plotly_chart(figures.representation_figure(feature, frame), width="stretch")

with compare_tab:
    others = [v.version for v in view.versions if v.version != version]
    if not others:
        st.info("This model has one version only.")
    else:
        default = view.model.aliases.get("challenger") if version == view.model.aliases.get(
            "champion") else view.model.aliases.get("champion")
        other = st.selectbox("Compare with", others,
                             index=others.index(default) if default in others else 0,
                             format_func=lambda v: version_label(view, v))
        with stop_on_error():
            mine, theirs = model_card(name, version), model_card(name, other)
        comparison = figures.compare_table(mine, theirs)
        st.dataframe(figures.compare_style(comparison), width="stretch", placeholder=UNDEFINED)
        st.caption(f"The last column is v{other}'s figure minus v{version}'s.")
        if isinstance(mine.evaluation, ClassificationEvaluation) and \
                isinstance(theirs.evaluation, ClassificationEvaluation):
            st.plotly_chart(figures.roc_figure({f"v{version}": mine.evaluation,
                                                f"v{other}": theirs.evaluation}),
                            width="stretch")

findings_panel(name, version, principal, view.model.owner,
               (chosen.id, fairness.id) if fairness else (chosen.id,))
