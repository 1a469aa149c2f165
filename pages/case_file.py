"""Case file: one decision, what the model saw, why it scored so, and what people did."""

import pandas as pd
import streamlit as st

from services.core.errors import GovernanceError
from services.core.numbers import UNDEFINED
from services.core.outcomes import VERDICTS
from services.core.permissions import Action, allowed
from services.decisions.explain import sentences
from services.decisions.overrides import reasons_for
from services.evidence.findings import limitations
from services.reports.letter import case_pdf
from ui.case_figures import contribution_waterfall
from ui.decisions import case, outcome_word, override, sensitive_inputs, why
from ui.findings import version_findings
from ui.principal import page_guard
from ui.traces import case_file_download, case_file_opened
from ui.vendors import vendor_notice
from ui.widgets import justification_box, plain, show_error, stop_on_error

principal = page_guard(Action.VIEW_DECISIONS)

asked = st.query_params.get("decision", "")
decision_id = st.text_input("Decision id", value=asked, placeholder="e.g. cr-0001234").strip()
if not decision_id:
    st.title("Case file")
    st.info("Enter a decision id, or open one from the Decisions or Review queue page.")
    st.stop()
st.query_params["decision"] = decision_id
with stop_on_error():
    file = case(decision_id)
    case_file_opened(principal, file)  # recorded before any of it is shown
row = file.row

st.title(f"Decision {plain(decision_id)}")
held = f" ({plain(', '.join(file.aliases_then))} at the time)" if file.aliases_then else ""
when = f"{row.decided_at:%Y-%m-%d %H:%M}"
st.caption(f"{plain(row.model_name)} v{plain(row.model_version)}{held} · decided {when} UTC · "
           f"subject {plain(row.subject_ref) or 'not given'}"
           + (" · shadow score, never acted on" if row.shadow else ""))
vendor = vendor_notice(row.model_name, row.model_version)
if vendor is not None:
    st.info(plain(vendor), icon=":material/storefront:")
facts = st.columns(4)
facts[0].metric("Outcome now", file.current_outcome,
                delta="overridden" if file.overrides else None, delta_color="off")
facts[1].metric("Logged outcome", row.outcome, help=plain(row.escalation_reason) or None)
facts[2].metric("Score", "none" if row.score is None else f"{row.score:.3f}")
facts[3].metric("Threshold", "—" if row.threshold is None else f"{row.threshold:g}")
if row.escalation_reason:
    st.warning(f"Sent to a person: {plain(row.escalation_reason.replace('_', ' '))}.",
               icon=":material/front_hand:")

explained = why(file)  # never raises: what cannot be done is said in its own section
inputs, reasons = st.columns([2, 3])
with inputs:
    st.subheader("Inputs as logged")
    st.dataframe(pd.DataFrame({"Input": list(explained.shown_inputs),
                               "Value": list(explained.shown_inputs.values())}),
                 hide_index=True, width="stretch", height=38 + 35 * len(file.features),
                     placeholder=UNDEFINED)
with reasons:
    st.subheader("Why the model scored it so")
    explanation = explained.explanation
    if explanation is not None and explanation.adds_up:
        st.plotly_chart(contribution_waterfall(explanation), width="stretch")
        for line in sentences(explanation, outcome_word=outcome_word(row.model_name)):
            st.markdown(f"- {plain(line)}")
        st.caption(f"Shapley values of the logged inputs ({explanation.method} method) against "
                   f"{explanation.background_rows} hold-out rows, in probability. Checked: they "
                   f"add up to the replayed score {explanation.replayed_score:.6f} (off by "
                   f"{explanation.difference:.1e}).")
    elif explanation is not None:
        st.error(f"**Explanation does not add up.** The contributions sum to "
                 f"{explanation.explained_score:.6f}, but the version scores these inputs "
                 f"{explanation.replayed_score:.6f} (off by {explanation.difference:.6f}). They "
                 "are not shown as the reasons for this decision: tell the model's owner, with "
                 "this decision's id.", icon=":material/error:")
    elif vendor is not None:  # the notice above says why, once
        st.caption("No explanation: a vendor model has no artifact to explain (see above).")
    else:
        st.info(plain(explained.explanation_problem or "No explanation."), icon=":material/info:")
    if explained.flip is not None:
        flip = explained.flip
        st.markdown(f"**What would have changed the outcome:** {plain(flip.feature)} "
                    f"{plain(flip.shown_changed)} instead of {plain(flip.shown_logged)} "
                    f"(score {flip.new_score:.3f}), the smallest single change found. "
                    "Sensitive inputs are never changed for this hint.")
    elif explained.flip_note:
        st.caption(plain(explained.flip_note))

st.subheader("Replay check")
if explained.replay is not None:
    replayed = explained.replay
    if replayed.matches:
        st.success(f"Reproduced: version {plain(row.model_version)}, reloaded from MLflow, "
                   f"scores the logged inputs {replayed.recomputed:.6f}; the log says "
                   f"{row.score:.6f}.",
                   icon=":material/check_circle:")
    else:
        st.error(f"Not reproduced: version {plain(row.model_version)} now scores the logged inputs "
                 f"{replayed.recomputed:.6f}, but the log says {row.score}. The record or the "
                 "model is not what served this decision.", icon=":material/error:")
elif vendor is not None:
    st.caption("No replay: a vendor model has no artifact to rescore the inputs (see above).")
else:
    st.info(plain(explained.replay_problem or "No replay."), icon=":material/info:")

st.download_button(
    "Case file and letter to the applicant (PDF)", on_click="ignore",
    icon=":material/picture_as_pdf:",
    data=case_file_download(principal, file, lambda: case_pdf(
        file, explanation=explanation, replayed=explained.replay,
        outcome_word=outcome_word(row.model_name), shown_inputs=explained.shown_inputs,
        sensitive=sensitive_inputs(file),
        limitations=tuple(f.applicant_statement for f in limitations(
            version_findings(row.model_name, row.model_version)) if f.applicant_statement),
        replay_problem=explained.replay_problem)),
    file_name=f"case-{decision_id}.pdf", mime="application/pdf")

st.subheader("What happened next")
known = st.columns(2)
if file.outcome_label is not None and file.outcome_observed_at is not None:
    known[0].metric("Outcome observed", f"{file.outcome_label:g}",
                    help=f"Observed {file.outcome_observed_at:%Y-%m-%d}")
else:
    known[0].caption("No outcome has been observed for this decision yet.")
if file.shadow_twins:
    known[1].dataframe(pd.DataFrame({
        "Other version": f"v{t.model_version}", "Score": t.score, "Would have": t.outcome,
        "Shadow": t.shadow} for t in file.shadow_twins), hide_index=True, placeholder=UNDEFINED)

st.subheader("Overrides")
if file.overrides:
    st.dataframe(pd.DataFrame({
        "When": o.created_at, "Reviewer": o.reviewer, "New outcome": o.new_outcome,
        "Reason": o.reason_category, "Justification": o.justification,
    } for o in file.overrides), hide_index=True, width="stretch",
        column_config={"When": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
            placeholder=UNDEFINED)
else:
    st.caption("No person has overridden or confirmed this decision.")

if row.shadow:
    st.stop()
if not allowed(principal, Action.OVERRIDE):
    st.caption("Your roles can read case files but not override them (analysts and admins "
               "can).")
    st.stop()
# No st.form: the reasons offered follow the verdict chosen, and the text typed is kept when
# the service refuses it. A second click while the first is still running sends the same
# verdict again, which the service answers with the one already stored (idempotent).
st.markdown("**Record a person's verdict** (the logged decision stays as it was)")
form = f"override_{decision_id}_{st.session_state.get('override_round', 0)}"
choice = st.columns(2)
verdict = choice[0].radio("New outcome", VERDICTS, horizontal=True, key=f"{form}_verdict")
reason = choice[1].selectbox("Reason", reasons_for(row.outcome, verdict), key=f"{form}_reason")
justification = justification_box(key=f"{form}_why")
if st.button("Record verdict", type="primary", key=f"{form}_record"):
    try:
        override(decision_id, principal, verdict, reason, justification)
    except GovernanceError as exc:
        show_error(exc)
    else:
        st.session_state["override_round"] = st.session_state.get("override_round", 0) + 1
        st.toast(f"Verdict recorded for {plain(decision_id)}.")
        st.rerun()
