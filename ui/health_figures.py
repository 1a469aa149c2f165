"""Plotly figures of Health over time: daily rates, calibration against outcomes, and the
four-fifths ratio week by week against the policy's bound."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from services.monitoring.fairness_watch import Selection
from services.monitoring.health import HealthDay


def health_rates(days: list[HealthDay]) -> go.Figure:
    """Escalation, override and labelled shares per day: how much people are doing, and how
    much of the ground truth has arrived."""
    frame = pd.DataFrame({"day": d.day, "escalated to a person": d.escalation_rate,
                          "overridden": d.override_rate, "outcome known": d.labelled_share}
                         for d in days)
    # Colours by meaning: people's work in blues, the outcomes arriving in a neutral grey (it
    # falls on recent days because ground truth comes later, not because anything is wrong).
    figure = px.line(frame.melt("day", var_name="share of decisions", value_name="share"),
                     x="day", y="share", color="share of decisions",
                     color_discrete_map={"escalated to a person": "#1f5fa8",
                                         "overridden": "#7fb2e5", "outcome known": "#6b6b6b"})
    figure.update_layout(height=300, yaxis_tickformat=".0%", xaxis_title=None,
                         margin={"l": 0, "r": 0, "t": 10, "b": 0},
                         legend={"orientation": "h", "y": 1.12})
    return figure


def health_calibration(days: list[HealthDay]) -> go.Figure:
    """Mean score against the observed positive rate, for decisions whose outcome is known."""
    frame = pd.DataFrame({"day": d.day, "mean score": d.mean_score,
                          "observed positive rate": d.observed_rate}
                         for d in days if d.labelled)
    figure = px.line(frame.melt("day", var_name="series", value_name="rate"), x="day", y="rate",
                     color="series", markers=True)
    figure.update_layout(height=300, yaxis_tickformat=".0%", xaxis_title=None,
                         margin={"l": 0, "r": 0, "t": 10, "b": 0},
                         legend={"orientation": "h", "y": 1.12})
    return figure


def four_fifths_trend(weeks: list[Selection], bound: float) -> go.Figure:
    """Least over most favoured group's approval rate, week by week, per sensitive input."""
    frame = pd.DataFrame({"week": s.start, "sensitive input": s.feature,
                          "four-fifths ratio": s.four_fifths_ratio} for s in weeks)
    figure = px.line(frame, x="week", y="four-fifths ratio", color="sensitive input",
                     markers=True)
    figure.add_hrect(y0=0, y1=bound, fillcolor="#b3261e", opacity=0.07, line_width=0)
    figure.add_hline(y=bound, line_dash="dash", line_color="#b3261e",
                     annotation_text=f"four-fifths rule {bound:g}")
    figure.update_layout(height=300, yaxis_range=[0, 1.05], xaxis_title=None,
                         margin={"l": 0, "r": 0, "t": 10, "b": 0},
                         legend={"orientation": "h", "y": 1.12})
    return figure
