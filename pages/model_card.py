"""Model card: one version on one page, from purpose to gates, with exports."""

from functools import partial

import pandas as pd
import streamlit as st

from services.core.glossary import label, shown
from services.core.numbers import UNDEFINED
from services.reports.card import (
    card_html,
    card_json,
    card_markdown,
    card_pdf,
    limitation_line,
    vendor_statement,
)
from ui.data import model_card
from ui.pickers import pick_model_version
from ui.principal import page_guard
from ui.reports import evidence_pack_panel
from ui.tables import fitted_height, readable
from ui.traces import model_card_download
from ui.widgets import plain, status_style, stop_on_error

principal = page_guard()

view, version = pick_model_version("card")
with stop_on_error():
    card = model_card(view.model.name, version)
tags = card.model.tags

st.title(f"Model card: {plain(card.model.name)} v{version}")
if card.gates.passed:
    st.success(f"Every gate of the {card.gates.risk_tier}-risk policy passes "
               f"(policy {card.gates.policy_version}).", icon=":material/verified:")
else:
    st.error(f"**{len(card.gates.failing)} of {len(card.gates.results)} gates do not pass** "
             f"under the {card.gates.risk_tier}-risk policy {card.gates.policy_version}. "
             "See the gates below.", icon=":material/gpp_bad:")

purpose, facts = st.columns([3, 2])
with purpose:
    st.markdown(plain(card.model.description) or "_No description._")
    st.markdown(f"**Intended use.** {plain(tags.get('intended_use')) or '_Not stated: a gap._'}")
    st.markdown(f"**Limitations.** {plain(tags.get('limitations')) or '_Not stated: a gap._'}")
with facts:
    st.markdown(f"**Owner** {plain(tags.get('owner')) or '—'}  \n"
                f"**Risk tier** {plain(tags.get('risk_tier')) or '—'}  \n"
                f"**Aliases** {', '.join(card.version.aliases) or 'none'}  \n"
                f"**Sensitive features** {plain(tags.get('sensitive_features')) or '—'}  \n"
                + (f"**Vendor** {plain(tags.get('vendor')) or 'missing'}  \n"
                   f"**Vendor release** {plain(card.lineage.vendor_version) or 'missing'}"
                   if card.model.is_vendor else
                   f"**Code version** {plain(card.lineage.code_version) or 'missing'}  \n"
                   f"**Training run** {plain(card.lineage.run_name)}"))
if card.model.is_vendor:
    st.info(plain(vendor_statement(card)), icon=":material/storefront:")
    if card.documents:
        st.dataframe(pd.DataFrame({
            "Document received": d.title, "File": d.file_name, "Received": d.received_on,
            "SHA-256": d.sha256} for d in card.documents), hide_index=True, width="stretch",
            placeholder=UNDEFINED)

st.subheader("Evaluation")
metrics = card.metrics
if metrics:
    headline = [key for key in ("roc_auc", "pr_auc", "accuracy", "f1", "brier", "rmse", "mae",
                                "r2") if key in metrics]
    figures = st.container(horizontal=True, wrap=True, gap="medium")  # wraps, never cuts
    for key in headline:
        figures.metric(label(key), shown(key, metrics[key]), width=150)
else:
    st.info("No evaluation evidence for this version yet: run it on the Evidence page.")

st.subheader("Fairness")
headlines = card.fairness_headlines()
if headlines:
    st.dataframe(pd.DataFrame({
        "Sensitive feature": h.feature,
        "Four-fifths ratio": h.summary.four_fifths_ratio,
        "Least favoured": h.summary.least_favoured_group,
        "Most favoured": h.summary.most_favoured_group,
        "Parity difference": h.summary.demographic_parity_difference,
        "Equal opportunity difference": h.summary.equal_opportunity_difference,
        "Equalized odds difference": h.summary.equalized_odds_difference,
        "Left out": h.summary.left_out() or "—",
    } for h in headlines).pipe(readable), hide_index=True, width="stretch", placeholder=UNDEFINED)
    st.caption("True-positive rates are compared over groups with enough positives, "
               "false-positive rates over groups with enough negatives; a rate a group "
               "cannot have is undefined, never 0.")
else:
    st.info("No fairness evidence for this version yet.")

st.subheader("Gates")
# Each figure in its gate's unit: the evidence-age gates read "0 days" against "180 days".
gates = pd.DataFrame({
    "Gate": label(g.gate),
    "Status": g.status.replace("_", " "),
    "Figure": shown(g.gate, g.figure),
    "Bound": shown(g.gate, g.bound),
    "Detail": g.detail,
    "Policy clause": g.clause,
} for g in card.gates.results)
st.dataframe(gates.style.map(status_style, subset=["Status"]), hide_index=True,
             width="stretch", height=fitted_height(len(gates), most=40), placeholder=UNDEFINED)

st.subheader("Known gaps")
if card.contract.gaps:
    for item in card.contract.gaps:
        st.markdown(f"- **{plain(item.requirement)}**: {plain(item.detail)}")
else:
    st.caption("No gaps: every record of the governance contract is present.")

st.subheader("Findings and known limitations")
if card.findings:
    st.dataframe(pd.DataFrame({
        "Finding": f"#{f.id} {f.title}", "Severity": f.severity.value,
        "Status": f.status.value.replace("_", " "), "Owner": f.owner, "Due": f.due_on,
    } for f in card.findings), hide_index=True, width="stretch",
        height=fitted_height(len(card.findings), most=20), placeholder=UNDEFINED)
    for f in card.limitations:
        st.markdown(f"- **Limitation:** {plain(limitation_line(f))}")
    st.caption("Validators raise and close findings on the Evidence page.")
else:
    st.caption("No validator has raised a finding on this version.")

st.subheader("Approval history")
if card.tenures:
    for tenure in card.tenures:
        until = f"until {tenure.until:%Y-%m-%d}" if tenure.until else "to now"
        st.markdown(f"- **{tenure.alias}** from {tenure.since:%Y-%m-%d} {until}, moved by "
                    f"{plain(tenure.changed_by)}: {plain(tenure.reason)}")
else:
    st.caption("This version has held no alias.")

st.subheader("Export")
stem = f"model-card-{card.model.name}-v{version}"
# Each file is made when its button is clicked, and recorded then as `model_card.exported`.
recorded = partial(model_card_download, principal, card.model.name, version)
exports = st.columns(4)
exports[0].download_button("PDF", on_click="ignore", data=recorded("pdf", lambda: card_pdf(card)),
                           file_name=f"{stem}.pdf",
                           mime="application/pdf", icon=":material/picture_as_pdf:")
exports[1].download_button("HTML", on_click="ignore",
                           data=recorded("html", lambda: card_html(card)),
                           file_name=f"{stem}.html",
                           mime="text/html", icon=":material/html:")
exports[2].download_button("Markdown", on_click="ignore",
                           data=recorded("markdown", lambda: card_markdown(card)),
                           file_name=f"{stem}.md", mime="text/markdown",
                           icon=":material/description:")
exports[3].download_button("JSON", on_click="ignore",
                           data=recorded("json", lambda: card_json(card)),
                           file_name=f"{stem}.json",
                           mime="application/json", icon=":material/data_object:")

st.subheader("Evidence pack")
st.caption("For auditors: the card, every evidence record with its hashes, the gates then and "
           "now, the control matrix, drift and health, promotions with sign-offs, the alias "
           "history and the model's audit events with the chain's verification.")
evidence_pack_panel(principal, card.model.name, version)
