"""Plotly figure of estimated performance week by week: the estimate with its band, the
realised figure where outcomes have arrived, and the tier's floor."""

from __future__ import annotations

import plotly.graph_objects as go

from services.monitoring.estimate import METRIC_NAMES
from services.monitoring.performance import PerformanceWindow


def estimated_performance(weeks: list[PerformanceWindow], metric: str,
                          floor: float | None) -> go.Figure:
    """One point per week judged: the estimate, its 95% band as an error bar, and beside it the
    realised figure on the week's labelled decisions (hover: how many are labelled)."""
    judged = [(w, f) for w in weeks if (f := w.estimate.figure(metric)) is not None
              and f.estimate is not None]
    name = METRIC_NAMES[metric]
    figure = go.Figure()
    figure.add_trace(go.Scatter(
        x=[w.start for w, _ in judged], y=[f.estimate for _, f in judged],
        mode="lines+markers", name=f"estimated {name} (95% band)",
        error_y={"type": "data", "symmetric": False,
                 "array": [(f.high or 0) - (f.estimate or 0) for _, f in judged],
                 "arrayminus": [(f.estimate or 0) - (f.low or 0) for _, f in judged]},
        customdata=[[w.estimate.decisions] for w, _ in judged],
        hovertemplate="week from %{x|%Y-%m-%d}: %{y:.3f} over %{customdata[0]:,} decisions"
                      "<extra></extra>"))
    realised = [w for w in weeks if w.realised.figures.get(metric) is not None]
    figure.add_trace(go.Scatter(
        x=[w.start for w in realised], y=[w.realised.figures[metric] for w in realised],
        mode="markers", name=f"realised {name} (labelled decisions)",
        marker={"symbol": "diamond", "size": 9},
        customdata=[[w.realised.labelled, w.realised.labelled_share or 0] for w in realised],
        hovertemplate="week from %{x|%Y-%m-%d}: %{y:.3f} on %{customdata[0]:,} labelled "
                      "(%{customdata[1]:.0%} of the week)<extra></extra>"))
    if floor is not None:
        figure.add_hrect(y0=0, y1=floor, fillcolor="#b3261e", opacity=0.07, line_width=0)
        figure.add_hline(y=floor, line_dash="dash", line_color="#b3261e",
                         annotation_text=f"policy floor {floor:g}")
    figure.update_layout(height=320, yaxis_title=name, xaxis_title=None,
                         margin={"l": 0, "r": 0, "t": 10, "b": 0},
                         legend={"orientation": "h", "y": 1.14})
    return figure
