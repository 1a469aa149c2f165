"""Plotly figure builders. Pages ask for a figure; they never assemble one."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from services.aliases import AliasTenure

ALIAS_COLOURS = {"champion": "#1f4e79", "challenger": "#e07b39"}


def alias_timeline(tenures: list[AliasTenure], *, now: datetime) -> go.Figure:
    """Who held each alias when: one bar per tenure, labelled with the version."""
    frame = pd.DataFrame(
        {
            "alias": t.alias,
            "version": f"v{t.version}",
            "since": t.since,
            "until": t.until or now,
            "moved by": t.changed_by,
            "reason": t.reason,
        }
        for t in tenures
    )
    figure = px.timeline(
        frame, x_start="since", x_end="until", y="alias", color="alias", text="version",
        hover_data={"moved by": True, "reason": True, "alias": False},
        color_discrete_map=ALIAS_COLOURS,
    )
    # White outlines keep a handover visible where one version's bar meets the next.
    figure.update_traces(textposition="inside", insidetextanchor="middle",
                         marker_line_color="white", marker_line_width=2)
    figure.update_layout(height=170, margin={"l": 0, "r": 0, "t": 10, "b": 0},
                         showlegend=False, xaxis_title=None, yaxis_title=None)
    return figure
