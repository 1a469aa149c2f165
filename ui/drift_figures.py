"""Plotly figures of drift: the features-by-day heatmap, trends against the policy's band, and
a feature's reference and current histograms."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from services.core.glossary import term
from services.monitoring.drift import DayCell, FeatureDrift


def drift_heatmap(cells: list[DayCell], statistic: str, bound: float | None) -> go.Figure:
    """Inputs down, days across; blank where a day had too few decisions to judge."""
    frame = pd.DataFrame({"day": c.day, "feature": c.feature, "value": c.value} for c in cells)
    grid = frame.pivot(index="feature", columns="day", values="value")
    # The scale reaches the largest value shown (a fixed top saturated: 1.2 drew as 0.7), and
    # at least past the bound, so the bound's colour step and its tick are always on it.
    largest = float(grid.max().max()) if grid.notna().any().any() else 0.0
    top = max(largest, (bound or 0.0) * 1.25, 1e-6)
    at_bound = min((bound or top) / top, 1.0)
    ticks = {"tickvals": [0, bound, top], "ticktext": ["0", f"bound {bound:g}", f"{top:.2f}"]} \
        if bound else {}
    figure = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=[str(d) for d in grid.columns], y=[term(f) for f in grid.index],
        zmin=0, zmax=top, colorscale=[[0, "#f4f6f9"], [at_bound, "#f3c26b"], [1, "#b3261e"]],
        hovertemplate="%{y}<br>%{x}<br>" + statistic + " %{z:.3f}<extra></extra>",
        colorbar={"title": statistic, **ticks}))
    figure.update_layout(height=max(260, 28 * len(grid.index) + 80),
                         margin={"l": 0, "r": 0, "t": 10, "b": 0})
    return figure


def drift_trend(cells: list[DayCell], features: list[str], statistic: str,
                bound: float | None) -> go.Figure:
    """The statistic per day for the chosen inputs, with the policy's bound as a band edge."""
    frame = pd.DataFrame({"day": c.day, "feature": c.feature, "value": c.value}
                         for c in cells if c.feature in features)
    frame["feature"] = frame["feature"].map(term)
    figure = px.line(frame, x="day", y="value", color="feature", markers=True)
    if bound is not None:
        figure.add_hrect(y0=bound, y1=max(bound * 3, float(frame["value"].max() or 0)),
                         fillcolor="#b3261e", opacity=0.07, line_width=0)
        figure.add_hline(y=bound, line_dash="dash", line_color="#b3261e",
                         annotation_text=f"policy bound {bound:g}")
    figure.update_layout(height=320, yaxis_title=statistic, xaxis_title=None,
                         margin={"l": 0, "r": 0, "t": 10, "b": 0})
    figure.update_yaxes(rangemode="tozero")  # values under the bound stay on the chart
    return figure


def feature_histograms(drift: FeatureDrift) -> go.Figure:
    """The reference's and the window's shares per bin, side by side."""
    figure = go.Figure([
        go.Bar(name="reference (hold-out)", x=drift.bins, y=drift.reference_shares,
               marker_color="#1f4e79"),
        go.Bar(name="this window", x=drift.bins, y=drift.current_shares,
               marker_color="#e07b39"),
    ])
    figure.update_layout(barmode="group", height=320, yaxis_tickformat=".0%",
                         margin={"l": 0, "r": 0, "t": 10, "b": 0},
                         legend={"orientation": "h", "y": 1.1})
    return figure
