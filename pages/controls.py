"""Controls: each chosen framework (SR 26-2 / OCC 2026-13 and the EU AI Act by default; ISO/IEC
42001, the NIST AI RMF, the superseded SR 11-7 and an organisation's own on request), control by
control, with the evidence that meets each and what is missing. A gap is shown as a gap, never
as a pass."""

import streamlit as st

from services.governance.controls import ControlStatus
from ui.governance import controls, framework_library, say_refused
from ui.pickers import pick_model_version
from ui.principal import may_open, page_guard
from ui.widgets import BadgeColour, plain, stop_on_error

STATUS_MARKS = {ControlStatus.MET: "● met", ControlStatus.PARTIAL: "▲ partial",
                ControlStatus.GAP: "■ gap", ControlStatus.NOT_APPLICABLE: "○ n/a"}
STATUS_COLOURS: dict[str, BadgeColour] = {
    ControlStatus.MET: "green", ControlStatus.PARTIAL: "orange", ControlStatus.GAP: "red",
    ControlStatus.NOT_APPLICABLE: "gray"}
WIDTHS = [3, 1.2, 6, 1.2]

principal = page_guard()

st.title("Control matrix")
st.caption("What each framework asks of a model, and the record in this console that meets "
           "each control. Open a row's link for the evidence. Frameworks are data files; an "
           "organisation adds its own in GOVERNANCE_FRAMEWORKS_DIR.")
view, version = pick_model_version("controls")
with stop_on_error():
    library = framework_library()
say_refused(library)
available = library.frameworks
labels = {f.id: f.name + (" (superseded)" if f.status == "superseded" else "")
          for f in available}
# The chosen frameworks are kept in the URL (?framework=sr-26-2&framework=iso-iec-42001), as
# ?model= and ?version= are, so a shared link opens the same matrix.
asked = st.query_params.get_all("framework")
if unknown := [i for i in asked if i not in labels]:
    st.warning(f"The link names {', '.join(plain(i) for i in unknown)}, not among the "
               "frameworks here; it is left out.", icon=":material/link_off:")
picked = st.multiselect("Frameworks", list(labels), format_func=labels.__getitem__,
                        default=[i for i in asked if i in labels] or
                        [f.id for f in available if f.shown_by_default],
                        key="controls_frameworks")
st.query_params["framework"] = picked
if not picked:
    st.info("Choose at least one framework.")
    st.stop()
with stop_on_error():
    matrix = controls(view.model.name, version, tuple(picked))

judged = [c for c in matrix.controls if c.status != ControlStatus.NOT_APPLICABLE]
met = sum(c.status == ControlStatus.MET for c in judged)
held = ", ".join(matrix.aliases) or "no alias"
if matrix.gaps:
    st.error(f"**{len(matrix.gaps)} of {len(judged)} controls are not met** for "
             f"{plain(matrix.model_name)} v{version} ({plain(held)}).", icon=":material/gpp_bad:")
else:
    st.success(f"All {met} controls are met for {plain(matrix.model_name)} v{version} "
               f"({plain(held)}).", icon=":material/verified:")

for framework in matrix.frameworks:
    st.subheader(labels.get(framework.id, framework.name))
    st.caption(f"{plain(framework.title)} · [source]({framework.source})"
               + (f" · {plain(framework.note)}" if framework.note else ""))
    if framework.status == "superseded":
        st.warning("Superseded: shown for reading records judged against it. SR 11-7 was "
                   "rescinded on 17 April 2026; SR 26-2 with OCC Bulletin 2026-13 is the "
                   "current US guidance.", icon=":material/history:")
    for column, label in zip(st.columns(WIDTHS), ("Control", "Status", "Evidence in the console",
                                                  "Dated"), strict=True):
        column.caption(label)
    for c in matrix.of(framework):
        control, status, evidence, dated = st.columns(WIDTHS, vertical_alignment="top")
        control.markdown(f"**{plain(c.ref)}** {plain(c.title)}", help=plain(c.asks))
        status.badge(STATUS_MARKS[c.status], color=STATUS_COLOURS[c.status])
        # Evidence text can carry registry tags: escaped, so it stays text. The link is ours.
        opens = f" [open]({c.link})" if c.link and may_open(principal, c.link) else ""
        evidence.markdown(f"{plain(c.evidence)}{opens}")
        dated.write(f"{c.dated:%Y-%m-%d}" if c.dated else "—")
