"""Periodic reviews for pages: the calendar and a model's history (cached reads keyed by the
sources), the timeline of due dates, and the validator's form to record a review (a write:
never cached, and it clears the reads it changes). The service decides who may."""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from services.core.clock import utcnow
from services.core.permissions import Action, allowed
from services.core.principal import Principal
from services.governance.reviews import REMEDIATE_DAYS, RETIRE_NOTE, record_review
from services.monitoring.reviews import (
    Conclusion,
    ReviewRecord,
    ReviewState,
    ReviewStatus,
    review_calendar,
    review_history,
)
from services.store.engine import session_scope
from ui import context
from ui.data import clear_model_reads
from ui.portfolio import _portfolio
from ui.widgets import justification_box, plain, submit

NOTICE = "review_notice"
STATE_COLOURS = {ReviewState.OVERDUE: "#b3261e", ReviewState.TRIGGERED: "#c25400",
                 ReviewState.DUE: "#8a6d00", ReviewState.DUE_SOON: "#8a6d00",
                 ReviewState.NOT_DUE: "#1e7b34"}


def calendar() -> list[ReviewStatus]:
    current = context.settings()
    return _calendar(current.mlflow_registry_uri, current.database_url)


@st.cache_data(ttl=30, show_spinner="Reading the review calendar…")
def _calendar(registry_uri: str, database_url: str) -> list[ReviewStatus]:
    with session_scope(context.engine()) as session:
        return review_calendar(session=session, registry=context.registry(),
                               policy=context.policy())


def history(name: str) -> list[ReviewRecord]:
    return _history(context.settings().database_url, name)


@st.cache_data(ttl=30, show_spinner=False)
def _history(database_url: str, name: str) -> list[ReviewRecord]:
    with session_scope(context.engine()) as session:
        return review_history(session=session, model_name=name)


def calendar_table(statuses: list[ReviewStatus]) -> pd.io.formats.style.Styler:
    """One row per model, by owner: the state coloured, the due date, the last review."""
    table = pd.DataFrame([{
        "Owner": s.owner or "—", "Model": s.model_name, "Tier": s.risk_tier or "—",
        "Champion": f"v{s.champion}" if s.champion else "—", "State": str(s.state),
        "Due": f"{s.due_on:%Y-%m-%d}" if s.due_on else "—",
        "Last review": (f"{s.last_review.reviewed_at:%Y-%m-%d} {s.last_review.conclusion}"
                        if s.last_review else "never"),
        "Why": s.reason} for s in statuses])
    return table.style.map(state_style, subset=["State"])


def state_style(state: object) -> str:
    colour = STATE_COLOURS.get(ReviewState(str(state)), "inherit")
    return f"color: {colour}; font-weight: 600"


def due_timeline(statuses: list[ReviewStatus]) -> go.Figure:
    """Each served model's next review on a date axis, coloured by state, with today marked:
    what falls due when, at a glance."""
    dated = [s for s in statuses if s.due_on is not None]
    figure = go.Figure()
    for state in ReviewState:
        points = [s for s in dated if s.state is state]
        if points:
            figure.add_trace(go.Scatter(
                x=[s.due_on for s in points], y=[s.model_name for s in points], mode="markers",
                name=str(state), marker={"size": 14, "color": STATE_COLOURS[state]},
                customdata=[[s.owner or "no owner", s.reason] for s in points],
                hovertemplate="%{y}: due %{x|%Y-%m-%d}<br>owner %{customdata[0]}"
                              "<br>%{customdata[1]}<extra></extra>"))
    today = utcnow().date()
    figure.add_vline(x=today.isoformat(), line_dash="dot", line_color="#5f5f5f")
    figure.add_annotation(x=today.isoformat(), y=1, yref="paper", text="today",
                          showarrow=False, yanchor="bottom")
    figure.update_layout(height=120 + 40 * len({s.model_name for s in dated}),
                         margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         xaxis_title="Review due", legend_title="State")
    return figure


def review_form(status: ReviewStatus, versions: list[str], actor: Principal) -> None:
    """A validator's form: version, conclusion, justification, conditions, next due date."""
    if not allowed(actor, Action.RECORD_REVIEW):
        st.info("Validators record periodic reviews.", icon=":material/lock:")
        return
    if status.owner and actor.id == status.owner:
        st.info(f"Four eyes: you own {plain(status.model_name)}, so another validator reviews "
                "it.", icon=":material/visibility:")
        return
    today = utcnow().date()
    cycle_due = date.fromordinal(today.toordinal() + status.cycle_days)
    if st.session_state.get(_FORM_MODEL) != status.model_name:
        # Another model: nothing typed for the last one may be recorded against this one.
        _clear_form()
        st.session_state[_FORM_MODEL] = status.model_name
    with st.form("record_review"):
        st.markdown(f"**Record a review of {plain(status.model_name)}**")
        left, right = st.columns(2)
        default = versions.index(status.champion) if status.champion in versions else 0
        version = left.selectbox("Version reviewed", versions, index=default,
                                 format_func=lambda v: f"v{v}", key="review_version")
        due = right.date_input("Next review due", cycle_due, min_value=today,
                               max_value=cycle_due, key="review_next_due",
                               help=f"The tier's cycle: {status.cycle_days} days. Bring it "
                                    f"forward if needed; 'remediate' caps it at "
                                    f"{REMEDIATE_DAYS} days.")
        conclusion = st.radio("Conclusion", list(Conclusion), horizontal=True,
                              key="review_conclusion")
        justification = justification_box("Justification", key="review_justification",
                                           placeholder="What you examined and why you conclude "
                                                       "so; shown as written.")
        conditions = st.text_area("Conditions (required for 'continue with conditions')",
                                  key="review_conditions",
                                  placeholder="What must hold, and by when.")
        if st.form_submit_button("Record review", type="primary", key="review_submit"):
            chosen = Conclusion(str(conclusion))
            # The date field defaults to the cycle: only a date moved earlier brings it forward
            # (remediate's own shorter cycle then applies unless the date is earlier still).
            forward = due if due != cycle_due else None
            submit(lambda: _record(actor, status.model_name, version, chosen, justification,
                                   conditions, forward), _notice, key=NOTICE)


_FORM_MODEL = "review_form_model"
_FORM_KEYS = ("review_version", "review_next_due", "review_conclusion", "review_justification",
              "review_conditions")


def _clear_form() -> None:
    for key in _FORM_KEYS:
        st.session_state.pop(key, None)


def _record(actor: Principal, name: str, version: str, conclusion: Conclusion,
            justification: str, conditions: str, next_due: date | None) -> ReviewRecord:
    review = record_review(engine=context.engine(), registry=context.registry(),
                           policy=context.policy(), actor=actor, model_name=name,
                           conclusion=conclusion, justification=justification,
                           conditions=conditions, version=version, next_due_on=next_due)
    _clear_form()  # recorded: the same text pressed again would be a second review
    _calendar.clear()
    _history.clear()
    _portfolio.clear()
    clear_model_reads()
    return review


def _notice(review: ReviewRecord) -> str:
    said = (f"Review #{review.id} of {review.model_name} v{review.model_version} recorded: "
            f"{review.conclusion}; next review due {review.next_due_on:%Y-%m-%d}.")
    return f"{said} {RETIRE_NOTE}" if review.conclusion is Conclusion.RETIRE else said


def review_line(name: str) -> None:
    """One line on the Model page: the last review, its conclusion and when the next is due,
    with a link to the Reviews page, where a validator records one."""
    status = next((s for s in calendar() if s.model_name == name), None)
    if status is None or status.due_on is None:
        return
    last = status.last_review
    said = (f"Last reviewed {last.reviewed_at:%Y-%m-%d} by {plain(last.reviewed_by)}: "
            f"**{last.conclusion}**" if last else "Never reviewed")
    colour = {ReviewState.OVERDUE: "red", ReviewState.TRIGGERED: "orange",
              ReviewState.DUE: "orange", ReviewState.DUE_SOON: "orange"}.get(status.state,
                                                                              "green")
    st.markdown(f"**Periodic review.** {said}; next due {status.due_on:%Y-%m-%d} "
                f":{colour}[{status.state}]. {plain(status.reason)}")
    st.page_link("pages/reviews.py", label="Reviews", icon=":material/event_repeat:",
                 query_params={"model": name})
