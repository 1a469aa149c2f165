"""The case file's figure: from the average score to this decision's, input by input."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go

if TYPE_CHECKING:  # for annotations only: explain.py imports pandas and the explainers
    from services.decisions.explain import Explanation


def contribution_waterfall(explanation: Explanation, *, top: int = 8) -> go.Figure:
    """The background's mean score, then each input's effect (largest first, the rest summed),
    ending at this decision's score; in percentage points of probability."""
    shown = list(explanation.contributions[:top])
    labels = [f"{c.feature} = {c.shown}" for c in shown]
    effects = [c.effect * 100 for c in shown]
    if len(explanation.contributions) > top:
        labels.append(f"{len(explanation.contributions) - top} other inputs")
        effects.append(sum(c.effect for c in explanation.contributions[top:]) * 100)
    figure = go.Figure(go.Waterfall(
        orientation="h", measure=["absolute", *["relative"] * len(effects), "total"],
        y=["average of the hold-out set", *labels, "this decision"],
        x=[explanation.base_value * 100, *effects, 0],
        text=[f"{explanation.base_value:.1%}", *[f"{e:+.1f}" for e in effects],
              f"{explanation.explained_score:.1%}"],
        increasing={"marker": {"color": "#1e7b34"}}, decreasing={"marker": {"color": "#b3261e"}},
        totals={"marker": {"color": "#1f4e79"}}, connector={"line": {"color": "#bbb"}}))
    figure.update_layout(
        title=f"Contributions to the score (percentage points); this decision's score "
              f"{explanation.explained_score:.3f}",
        xaxis={"title": "score, %"},
        yaxis={"autorange": "reversed"}, height=120 + 32 * (len(labels) + 2),
        margin={"l": 0, "r": 0, "t": 40, "b": 0}, showlegend=False)
    return figure
