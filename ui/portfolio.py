"""The portfolio's cached read and its figures: the status grid and the per-pillar trends."""

from __future__ import annotations

import textwrap
from html import escape

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from services.core.clock import utcnow
from services.monitoring.alerts import AlertView
from services.monitoring.chain_watch import chain_alert
from services.monitoring.portfolio import (
    PILLARS,
    STATUS_WORDS,
    Portfolio,
    PortfolioRow,
    TrendPoint,
    portfolio,
)
from services.store.engine import session_scope
from ui import context
from ui.widgets import BadgeColour

STATUS_COLOURS = {"green": "#2e7d32", "amber": "#f0a500", "red": "#c62828", "grey": "#b0b7c3"}
BADGE_COLOURS: dict[str, BadgeColour] = {"green": "green", "amber": "orange", "red": "red",
                                         "grey": "gray"}
STATUS_MARKS = {"green": "● ok", "amber": "▲ watch", "red": "■ at risk", "grey": "○ unknown"}
PILLAR_TITLES = {"evidence": "Evidence", "gates": "Gates", "drift": "Drift",
                 "performance": "Performance", "fairness": "Fairness", "alerts": "Alerts",
                 "revalidation": "Revalidation", "oversight": "Oversight"}


def broken_chain_alert() -> AlertView | None:
    """The open audit_chain_broken alert, if any. Not cached: one indexed row, and a break
    must show at once."""
    with session_scope(context.engine()) as session:
        return chain_alert(session=session)


def portfolio_view() -> Portfolio:
    current = context.settings()
    return _portfolio(current.mlflow_registry_uri, current.database_url)


@st.cache_data(ttl=60, show_spinner="Reading the portfolio…")
def _portfolio(registry_uri: str, database_url: str) -> Portfolio:
    with session_scope(context.engine()) as session:
        return portfolio(session=session, registry=context.registry(), policy=context.policy(),
                         now=utcnow())


def status_grid(rows: list[PortfolioRow]) -> go.Figure:
    """Models by pillars, coloured by status; hovering a cell gives its reason."""
    order = list(STATUS_COLOURS)  # z codes 0..3
    z = [[order.index(row.pillars[p].status) for p in PILLARS] for row in rows]
    # Names and reasons may carry text from registry tags: escaped, so they stay text.
    hover = [[f"<b>{escape(row.name)} · {PILLAR_TITLES[p]}</b><br>"
              f"{_wrap(escape(row.pillars[p].reason))}"
              for p in PILLARS] for row in rows]
    scale = [[i / 3, colour] for i, colour in enumerate(STATUS_COLOURS.values())]
    figure = go.Figure(go.Heatmap(
        z=z, x=[PILLAR_TITLES[p] for p in PILLARS], y=[row.name for row in rows],
        text=[[STATUS_WORDS[row.pillars[p].status] for p in PILLARS] for row in rows],
        texttemplate="%{text}", hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
        colorscale=scale, zmin=0, zmax=3,
        showscale=False, xgap=3, ygap=3))
    figure.update_layout(height=80 + 42 * len(rows), margin={"l": 10, "r": 10, "t": 10, "b": 10},
                         yaxis={"autorange": "reversed"}, xaxis={"side": "top"})
    return figure


def pillar_trends(points: list[TrendPoint]) -> go.Figure:
    """Small multiples: how many models were red (and amber) per pillar, day by day."""
    # Pillars judged on fewer than two days (evidence and gates before the first live runs)
    # have no trend yet.
    pillars = [p for p in PILLARS if len({t.day for t in points if t.pillar == p}) > 1]
    figure = make_subplots(rows=1, cols=max(len(pillars), 1), shared_yaxes=True,
                           subplot_titles=[PILLAR_TITLES[p] for p in pillars])
    for column, pillar in enumerate(pillars, start=1):
        mine = [t for t in points if t.pillar == pillar]
        for status in ("red", "amber"):
            figure.add_trace(go.Scatter(
                x=[t.day for t in mine], y=[getattr(t, status) for t in mine], mode="lines",
                line={"color": STATUS_COLOURS[status], "width": 2, "shape": "hv"},
                name=status, showlegend=column == 1, legendgroup=status,
                hovertemplate=f"%{{x|%Y-%m-%d}}: %{{y}} {status}<extra>{pillar}</extra>"),
                row=1, col=column)
    figure.update_xaxes(showticklabels=False)
    figure.update_yaxes(rangemode="tozero", dtick=1)
    figure.update_layout(height=170, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         legend={"orientation": "h", "y": -0.1})
    return figure


def _wrap(text: str, width: int = 60) -> str:
    return "<br>".join(textwrap.wrap(text, width))
