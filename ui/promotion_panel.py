"""One promotion request on screen: its frozen gates, sign-offs, exceptions and the acts the
signed-in person may take. Services decide; these forms only ask."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pandas as pd
import streamlit as st

from services.core.clock import utcnow
from services.core.glossary import label
from services.core.numbers import UNDEFINED
from services.core.permissions import Action, allowed
from services.core.policy import TierPolicy
from services.core.principal import Principal
from services.governance.promotions.execution import ExecutionResult
from services.governance.promotions.status import PromotionStatus
from services.governance.promotions.views import PromotionView
from ui import governance
from ui.widgets import justification_box, plain, status_style, submit

_WHY = "Why, in your own words; shown exactly as written."


def request_panel(view: PromotionView, actor: Principal, owner: str | None,
                  tier: TierPolicy) -> None:
    approvals_needed = tier.approvers
    st.subheader(f"Request #{view.id}: {plain(view.model_name)} v{plain(view.model_version)} → "
                 f"@{view.alias}")
    st.caption(f"{view.kind.capitalize()} requested by {plain(view.requested_by)} on "
               f"{view.requested_at:%Y-%m-%d %H:%M} UTC · status "
               f"**{view.status.replace('_', ' ')}** · approvals {len(view.approvers)} of "
               f"{approvals_needed} · replaces v{view.previous_version or '—'}")
    st.text(view.justification)  # never rendered as Markdown or HTML
    if view.status == PromotionStatus.APPROVED_NOT_EXECUTED:
        st.error(f"**Approved, but the alias did not move.** {plain(view.execution_error)}",
                 icon=":material/sync_problem:")
    _gates(view, tier.exception_approvers)
    _sign_offs(view)
    _actions(view, actor, owner)


def _gates(view: PromotionView, exception_approvers: int) -> None:
    if not view.gate_results:
        return
    today = utcnow().date()
    blocking = view.unexcused_gates(today, exception_approvers)
    st.markdown(f"**Gates as frozen on the request** (policy `{view.policy_sha256[:12]}…`): "
                + (f"{len(blocking)} block approval." if blocking else "none block approval."))
    table = pd.DataFrame({
        "Gate": g.gate, "Status": g.status.replace("_", " "), "Figure": g.figure,
        "Bound": g.bound, "Clause": g.clause,
        "Excused": "" if g.passed else
        f"by {len(view.excused_by(g.gate, today))} of {exception_approvers} admin(s)",
    } for g in view.gate_results)
    st.dataframe(table.style.map(status_style, subset=["Status"]), hide_index=True,
                 width="stretch",
                 column_config={"Figure": st.column_config.NumberColumn(format="%.3f"),
                                "Bound": st.column_config.NumberColumn(format="%.4g")},
                                    placeholder=UNDEFINED)
    for exception in view.exceptions:
        st.warning(f"Policy exception by {plain(exception.granted_by)} for "
                   f"{plain(', '.join(exception.gates))}, until "
                   f"{exception.expires_on:%Y-%m-%d}:", icon=":material/rule:")
        st.text(exception.justification)


def _sign_offs(view: PromotionView) -> None:
    for s in view.sign_offs:
        verdict = "Approved" if s.verdict == "approve" else "Rejected"
        st.markdown(f"**{verdict}** by {plain(s.validator)} on {s.signed_at:%Y-%m-%d %H:%M} UTC")
        st.text(s.justification)


def _actions(view: PromotionView, actor: Principal, owner: str | None) -> None:
    if view.status == PromotionStatus.OPEN and allowed(actor, Action.SIGN_OFF):
        mine = next((s for s in view.sign_offs if s.validator == actor.id), None)
        if mine is not None:  # one sign-off per validator: the form would only be refused
            verdict = "approved" if mine.verdict == "approve" else "rejected"
            st.info(f"You {verdict} this request on {mine.signed_at:%Y-%m-%d %H:%M} UTC; "
                    "another validator signs next.", icon=":material/how_to_reg:")
        elif actor.id in (owner, view.requested_by):
            st.info("Four eyes: you own this model or asked for this promotion, so another "
                    "validator must sign it off.", icon=":material/visibility:")
        else:
            _sign_off_form(view, actor)
    if view.status == PromotionStatus.OPEN and view.failing_gates \
            and allowed(actor, Action.GRANT_EXCEPTION):
        _exception_form(view, actor)
    if view.status == PromotionStatus.APPROVED_NOT_EXECUTED \
            and allowed(actor, Action.EXECUTE_PROMOTION) \
            and st.button("Retry moving the alias", key=f"retry_{view.id}",
                          icon=":material/sync:"):
        _done(lambda: governance.retry(actor, view.id))
    if view.status == PromotionStatus.OPEN and actor.id == view.requested_by:
        with st.expander("Withdraw this request"), st.form(f"withdraw_{view.id}"):
            why = justification_box(placeholder=_WHY)
            if st.form_submit_button("Withdraw"):
                _done(lambda: governance.withdraw(actor, view.id, why))


def _sign_off_form(view: PromotionView, actor: Principal) -> None:
    with st.form(f"sign_off_{view.id}", clear_on_submit=False):
        st.markdown("**Your sign-off**")
        verdict = st.radio("Verdict", ["approve", "reject"], horizontal=True,
                           format_func=str.capitalize, key=f"verdict_{view.id}")
        why = justification_box(placeholder=_WHY, key=f"why_{view.id}")
        if st.form_submit_button("Sign", type="primary"):
            _done(lambda: governance.sign(actor, view.id, verdict, why))


def _exception_form(view: PromotionView, actor: Principal) -> None:
    with st.expander("Record a policy exception (admin)"), st.form(f"exception_{view.id}"):
        gates = st.multiselect("Gates it covers", view.failing_gates,
                               default=list(view.failing_gates))
        expires = st.date_input("Expires on", utcnow().date() + timedelta(days=30),
                                min_value=utcnow().date())
        why = justification_box(placeholder=_WHY)
        if st.form_submit_button("Record exception"):
            _done(lambda: governance.grant(actor, view.id, tuple(gates), why, expires))


def _done(act: Callable[[], object]) -> None:
    """Run a write; say what happened (or why not) where the person is looking."""
    submit(act, _notice, key="promotion_notice")


def _notice(result: object) -> str:
    if isinstance(result, ExecutionResult) and result.alias_moved:
        return (f"The alias moved: {result.request.model_name} @{result.request.alias} is now "
                f"v{result.request.model_version}.")
    if isinstance(result, ExecutionResult) and result.failed:
        return "Approved, but the alias did not move."
    return "Recorded."


def excused(view: PromotionView) -> str:
    """", under policy exceptions by A, B for N failing gate(s)" when the request rested on
    them: point in time names who let a version past its gates, not only who approved it."""
    gates = sorted({g for e in view.exceptions for g in e.gates})
    if not gates:
        return ""
    admins = ", ".join(sorted({e.granted_by for e in view.exceptions}))
    return (f", under policy exceptions by {plain(admins)} for {len(gates)} failing gate(s) "
            f"({plain(', '.join(label(g) for g in gates))})")
