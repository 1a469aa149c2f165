"""A version's findings on the Evidence page: the list with status colours, a validator's form
to raise one, the owner's form to work it and another validator's to settle it. Services
decide who may; these forms only ask, and a refusal is said in words where the person looks."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from services.core.clock import utcnow
from services.core.numbers import UNDEFINED
from services.core.permissions import Action, allowed
from services.core.principal import Principal
from services.evidence.findings import (
    Category,
    FindingRecord,
    FindingStatus,
    Severity,
    finding,
    findings_for_version,
)
from services.governance.findings import (
    ReviewVerdict,
    raise_finding,
    review_finding,
    update_finding,
    work_finding,
)
from services.store.engine import session_scope
from ui import context
from ui.data import clear_model_reads
from ui.widgets import justification_box, plain, stop_on_error, submit

NOTICE = "finding_notice"
# What a verdict's notice says was done.
_VERDICT_DONE = {ReviewVerdict.CLOSE: "closed", ReviewVerdict.ACCEPT: "accepted as a limitation",
                 ReviewVerdict.SEND_BACK: "sent back to remediation"}
# Days to remediate by severity: the form's default due date, which the validator may change.
DUE_DAYS = {Severity.HIGH: 30, Severity.MEDIUM: 60, Severity.LOW: 90}
_COLOURS = {FindingStatus.OPEN: "#b3261e", FindingStatus.REMEDIATION_IN_PROGRESS: "#8a6d00",
            FindingStatus.READY_FOR_REVIEW: "#1f5fa8", FindingStatus.CLOSED: "#1e7b34",
            FindingStatus.ACCEPTED_AS_LIMITATION: "#5f5f5f"}


def version_findings(name: str, version: str) -> list[FindingRecord]:
    return _version_findings(context.settings().database_url, name, version)


@st.cache_data(ttl=30, show_spinner=False)
def _version_findings(database_url: str, name: str, version: str) -> list[FindingRecord]:
    with session_scope(context.engine()) as session:
        return [finding(session=session, finding_id=f.id)
                for f in findings_for_version(session=session, model_name=name,
                                              version=version)]


def _written() -> None:
    _version_findings.clear()
    clear_model_reads()  # the card's gates and findings change with them


def findings_panel(name: str, version: str, actor: Principal, owner: str | None,
                   shown_evidence: tuple[int, ...]) -> None:
    """The Findings section. shown_evidence: the records of the run on screen, linked by
    default to a finding raised here."""
    st.subheader("Findings")
    if notice := st.session_state.pop(NOTICE, None):
        st.success(notice, icon=":material/task_alt:")
    with stop_on_error():
        findings = version_findings(name, version)
    today = utcnow().date()
    if findings:
        table = pd.DataFrame({
            "#": f.id, "Finding": f.title, "Severity": f.severity, "Category": f.category,
            "Status": f.status, "Owner": f.owner,
            "Due": f"{f.due_on:%Y-%m-%d}" + (" (overdue)" if f.overdue(today) else ""),
            "Raised by": f.raised_by} for f in findings)
        st.dataframe(table.style.map(_status_style, subset=["Status"]), hide_index=True,
                     width="stretch", placeholder=UNDEFINED)
    else:
        st.caption(f"No finding has been raised against v{version}.")
    for item in findings:
        _finding_detail(item, actor, owner)
    if allowed(actor, Action.RAISE_FINDING):
        _raise_form(name, version, actor, shown_evidence)


def _status_style(status: object) -> str:
    colour = _COLOURS.get(FindingStatus(str(status)), "inherit")
    return f"color: {colour}; font-weight: 600"


def _finding_detail(item: FindingRecord, actor: Principal, owner: str | None) -> None:
    with st.expander(f"#{item.id} {plain(item.title)} · {item.status}",
                     expanded=item.status is not FindingStatus.CLOSED):
        st.text(item.description)
        st.caption(f"{item.severity} · {item.category} · owner {plain(item.owner)} · due "
                   f"{item.due_on:%Y-%m-%d} · linked evidence "
                   f"{', '.join(f'#{i}' for i in item.evidence_ids) or 'none'} · decisions "
                   f"{', '.join(item.decision_ids) or 'none'}")
        if item.remediation_plan:
            st.markdown("**Remediation plan**")
            st.text(item.remediation_plan)
        for step in item.steps:
            st.markdown(f"{step.at:%Y-%m-%d %H:%M} UTC · {plain(step.actor)} → **{step.status}**")
            st.text(step.note)
        if not item.unresolved:
            return
        if allowed(actor, Action.WORK_FINDING) and actor.id in (item.owner, owner):
            _work_form(item, actor)
        if allowed(actor, Action.RAISE_FINDING) \
                and actor.id not in (item.owner, owner, item.worked_by):  # four eyes
            _update_form(item, actor)
        if allowed(actor, Action.REVIEW_FINDING):
            if actor.id in (item.owner, owner, item.worked_by):
                st.info("Four eyes: you own this finding or its model, or worked it, so "
                        "another validator settles it.", icon=":material/visibility:")
            else:
                _review_form(item, actor)


def _work_form(item: FindingRecord, actor: Principal) -> None:
    moves = [FindingStatus.REMEDIATION_IN_PROGRESS, FindingStatus.READY_FOR_REVIEW] \
        if item.status is FindingStatus.OPEN else [FindingStatus.READY_FOR_REVIEW] \
        if item.status is FindingStatus.REMEDIATION_IN_PROGRESS else []
    if not moves:
        st.caption("Waiting for a validator's review.")
        return
    with st.form(f"work_{item.id}"):
        st.markdown("**Work this finding**")
        status = st.radio("Move to", moves, horizontal=True, key=f"work_status_{item.id}")
        note = justification_box("What was done", key=f"work_note_{item.id}",
                                 placeholder="The remediation, and where its evidence is.")
        if st.form_submit_button("Record", type="primary", key=f"work_submit_{item.id}"):
            _act(lambda: work_finding(engine=context.engine(), registry=context.registry(),
                                      actor=actor, finding_id=item.id, status=status,
                                      note=note), f"Finding #{item.id} is now {status}.")


def _review_form(item: FindingRecord, actor: Principal) -> None:
    verdicts = list(ReviewVerdict) if item.status is FindingStatus.READY_FOR_REVIEW \
        else [ReviewVerdict.ACCEPT]
    if actor.id == item.raised_by:  # four eyes: the raiser may not also accept the risk
        verdicts = [v for v in verdicts if v is not ReviewVerdict.ACCEPT]
    if not verdicts:
        st.caption("Four eyes: you raised this finding, so another validator may accept it as "
                   "a limitation; its owner works it first for you to close it.")
        return
    with st.form(f"review_{item.id}"):
        st.markdown("**Review this finding**")
        verdict = st.radio("Verdict", verdicts, horizontal=True,
                           key=f"review_verdict_{item.id}")
        note = justification_box("Why", key=f"review_note_{item.id}")
        statement = st.text_area(
            "What applicants are told (accepting as a limitation; optional)", max_chars=500,
            key=f"review_statement_{item.id}",
            placeholder="e.g. The model has little data on applicants over 75, so their "
                        "applications are checked by a person.",
            help="Plain words for decision letters of this version ('How this model is "
                 "limited'). Empty: the limitation is on the card and in the pack, not in "
                 "letters. The finding's own text is never shown to applicants.")
        if st.form_submit_button("Record verdict", type="primary",
                                 key=f"review_submit_{item.id}"):
            _act(lambda: review_finding(engine=context.engine(), registry=context.registry(),
                                        actor=actor, finding_id=item.id, verdict=verdict,
                                        note=note, applicant_statement=statement),
                 f"Finding #{item.id} {_VERDICT_DONE[ReviewVerdict(verdict)]}.")


def _update_form(item: FindingRecord, actor: Principal) -> None:
    """A validator changes severity, due date, owner or plan, saying why; the status stays."""
    with st.popover("Change severity, due date or owner", icon=":material/edit:"), \
            st.form(f"update_{item.id}"):
        left, middle, right = st.columns(3)
        severity = left.selectbox("Severity", list(Severity), index=list(Severity).index(
            item.severity), key=f"update_severity_{item.id}")
        due = middle.date_input("Due", item.due_on, min_value=min(item.due_on, utcnow().date()),
                                key=f"update_due_{item.id}")
        owner = right.text_input("Owner (account)", item.owner, key=f"update_owner_{item.id}")
        plan = st.text_area("Remediation plan", item.remediation_plan,
                            key=f"update_plan_{item.id}")
        note = justification_box("Why the change", key=f"update_note_{item.id}")
        if st.form_submit_button("Save changes", key=f"update_submit_{item.id}"):
            _act(lambda: update_finding(
                engine=context.engine(), registry=context.registry(), actor=actor,
                finding_id=item.id,
                note=note, severity=severity, due_on=due, owner=owner.strip(),
                remediation_plan=plan), f"Finding #{item.id} changed.")


def _raise_form(name: str, version: str, actor: Principal,
                shown_evidence: tuple[int, ...]) -> None:
    with st.expander("Raise a finding", icon=":material/flag:"), \
            st.form("raise_finding", clear_on_submit=False):
        title = st.text_input("Title", max_chars=200, key="finding_title")
        description = justification_box("What is wrong", key="finding_description",
                                        placeholder="What you found, on which evidence.")
        left, middle, right = st.columns(3)
        severity = left.selectbox("Severity", list(Severity), key="finding_severity") \
            or Severity.HIGH
        category = middle.selectbox("Category", list(Category), key="finding_category") \
            or Category.DATA
        # Empty by default: a form does not run again when its severity changes, so a date
        # filled from the first severity shown would stay 30 days for a low finding.
        chosen_due = right.date_input("Due", None, min_value=utcnow().date(), key="finding_due",
                                      help="Empty: 30 days for high, 60 for medium, 90 for low.")
        owner = st.text_input("Owner (account)", key="finding_owner",
                              placeholder="Empty: the model's owner")
        plan = st.text_area("Remediation plan (optional)", key="finding_plan")
        linked = st.multiselect("Linked evidence (the run shown)", shown_evidence,
                                default=list(shown_evidence), format_func=lambda i: f"#{i}",
                                key="finding_evidence")
        decisions = st.text_input("Linked decision ids (comma-separated, optional)",
                                  key="finding_decisions")
        if st.form_submit_button("Raise finding", type="primary", key="finding_submit"):
            _act(lambda: raise_finding(
                engine=context.engine(), registry=context.registry(), actor=actor,
                model_name=name, version=version, title=title, description=description,
                severity=severity, category=category,
                due_on=chosen_due or utcnow().date() + timedelta(days=DUE_DAYS[severity]),
                owner=owner.strip() or None,
                remediation_plan=plan, evidence_ids=tuple(linked),
                decision_ids=tuple(d.strip() for d in decisions.split(",") if d.strip())),
                "Finding raised.")


def _act(write: object, notice: str) -> None:
    def done() -> object:
        result = write() if callable(write) else None
        _written()
        return result
    submit(done, lambda _: notice, key=NOTICE)
