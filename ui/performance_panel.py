"""Estimated performance of a served version, week by week, on screen: the estimate with its
band against the tier's floors, the realised figure where outcomes have arrived, whether the
calibration map can be trusted, and what the estimate assumes. Drawn by the Model page and
Health over time."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from services.core.errors import NotFound
from services.core.numbers import UNDEFINED, Unit
from services.monitoring.estimate import METRIC_NAMES, METRICS, MIN_ESTIMATE_ROWS
from services.monitoring.performance import ASSUMPTIONS, PerformanceWindow
from ui import monitoring
from ui.context import policy
from ui.performance_figures import estimated_performance
from ui.tables import fitted_height, readable
from ui.widgets import figure_row, show_error


def performance_panel(model: str, version: str, tier: str | None, start: date, end: date, *,
                      key: str, table: bool = True) -> None:
    """The version's weeks from start to end (exclusive); `key` keeps the metric picker apart
    on each page."""
    try:
        weeks = monitoring.performance_weeks(model, version, tier, start, end)
    except NotFound as exc:
        show_error(exc)
        return
    floors = policy().for_tier(tier).metric_floors
    metric = st.radio("Metric", METRICS, horizontal=True, key=key,
                      format_func=lambda m: METRIC_NAMES[m],
                      index=0) or METRICS[0]
    latest = next((w for w in reversed(weeks) if w.estimate.judged), None)
    if latest is None:
        st.info(f"No week of v{version} has {MIN_ESTIMATE_ROWS} decisions with a score: too "
                "few to judge.")
        return
    figure = latest.estimate.figure(metric)
    cols = figure_row()
    cols.metric(f"Estimated {METRIC_NAMES[metric]}, week from {latest.start:%d %b}",
                f"{figure.estimate:.3f}" if figure and figure.estimate is not None else "—",
                width="content",
                help="From the week's scores and the calibration map stored with the "
                     "version's reference profile; no outcome is needed.")
    cols.metric("95% band", f"{figure.low:.3f} – {figure.high:.3f}"
                if figure and figure.low is not None and figure.high is not None else "—",
                width="content",
                help="Where the realised figure of a week this size is expected to fall.")
    cols.metric("Outcomes known that week", f"{latest.realised.labelled_share or 0:.0%}",
                width="content")
    if figure is not None and not figure.trustworthy:
        st.warning(f"{METRIC_NAMES[metric].capitalize()}: {figure.caveat}.",
                   icon=":material/warning:")
    st.plotly_chart(estimated_performance(weeks, metric, floors.get(metric)), width="stretch")
    calibration = latest.calibration
    if calibration.trustworthy:
        st.caption(calibration.why)
    else:
        st.warning(calibration.why, icon=":material/warning:")
    st.caption(f"{ASSUMPTIONS} Weeks with fewer than {MIN_ESTIMATE_ROWS} scored decisions are "
               "too few to judge and are not drawn.")
    if table:
        # A week without outcomes has no realised figure: "—", not "None".
        st.dataframe(readable(_weeks_table(weeks, metric), {"Labelled": Unit.RATE}),
                     hide_index=True, width="stretch", height=fitted_height(len(weeks)),
                         placeholder=UNDEFINED)


def _weeks_table(weeks: list[PerformanceWindow], metric: str) -> pd.DataFrame:
    rows = []
    for week in weeks:
        figure = week.estimate.figure(metric)
        on_labelled = week.realised.estimate.figure(metric)
        rows.append({
            "Week from": week.start, "Decisions": week.estimate.decisions,
            "Estimate": figure.estimate if figure else None,
            "Band low": figure.low if figure else None,
            "Band high": figure.high if figure else None,
            "Realised": week.realised.figures.get(metric),
            "Labelled": week.realised.labelled_share,
            "Estimate on the labelled": on_labelled.estimate if on_labelled else None,
        })
    return pd.DataFrame(rows)
