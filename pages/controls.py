"""Controls: SR 11-7 and the EU AI Act, control by control, with the evidence that meets each
and what is missing. A gap is shown as a gap, never as a pass."""

import streamlit as st

from services.governance.controls import ControlStatus
from ui.governance import controls
from ui.pickers import pick_model_version
from ui.principal import may_open, page_guard
from ui.widgets import BadgeColour, plain, stop_on_error

STATUS_MARKS = {ControlStatus.MET: "● met", ControlStatus.PARTIAL: "▲ partial",
                ControlStatus.GAP: "■ gap"}

principal = page_guard()

st.title("Control matrix")
st.caption("What SR 11-7 and the EU AI Act (high-risk systems) ask of a model, and the record "
           "in this console that meets each control. Open a row's link for the evidence.")
view, version = pick_model_version("controls")
with stop_on_error():
    matrix = controls(view.model.name, version)

met = sum(c.status == ControlStatus.MET for c in matrix.controls)
held = ", ".join(matrix.aliases) or "no alias"
if matrix.gaps:
    st.error(f"**{len(matrix.gaps)} of {len(matrix.controls)} controls are not met** for "
             f"{plain(matrix.model_name)} v{version} ({plain(held)}).", icon=":material/gpp_bad:")
else:
    st.success(f"All {met} controls are met for {plain(matrix.model_name)} v{version} "
               f"({plain(held)}).",
               icon=":material/verified:")

STATUS_COLOURS: dict[str, BadgeColour] = {
    ControlStatus.MET: "green", ControlStatus.PARTIAL: "orange", ControlStatus.GAP: "red"}
widths = [3, 1.1, 6, 1.2]
for framework in ("SR 11-7", "EU AI Act"):
    st.subheader(framework if framework == "SR 11-7" else "EU AI Act, high-risk systems")
    for column, label in zip(st.columns(widths), ("Control", "Status", "Evidence in the console",
                                                  "Dated"), strict=True):
        column.caption(label)
    for c in (c for c in matrix.controls if c.framework == framework):
        control, status, evidence, dated = st.columns(widths, vertical_alignment="top")
        control.markdown(f"**{plain(c.ref)}** {plain(c.title)}", help=c.asks)
        status.badge(STATUS_MARKS[c.status], color=STATUS_COLOURS[c.status])
        # Evidence text can carry registry tags: escaped, so it stays text. The link is ours.
        opens = f" [open]({c.link})" if may_open(principal, c.link) else ""
        evidence.markdown(f"{plain(c.evidence)}{opens}")
        dated.write(f"{c.dated:%Y-%m-%d}" if c.dated else "—")
