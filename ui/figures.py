"""Plotly figure builders. Pages ask for a figure; they never assemble one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from services.core import glossary, numbers
from services.core.numbers import UNDEFINED, percent
from services.evidence.groups import group_order
from services.evidence.payloads import ClassificationEvaluation, FeatureAssessment, GroupRates
from services.registry.aliases import AliasTenure

if TYPE_CHECKING:  # for annotations only
    from pandas.io.formats.style import Styler

    from services.governance.model_card import ModelCard

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


def roc_figure(curves: dict[str, ClassificationEvaluation]) -> go.Figure:
    """ROC curves, one per labelled evaluation, with the chance diagonal."""
    figure = go.Figure()
    for label, evaluation in curves.items():
        figure.add_scatter(x=evaluation.roc_curve.fpr, y=evaluation.roc_curve.tpr,
                           mode="lines",
                           name=f"{label} (AUC {_figure(evaluation.metrics.roc_auc)})")
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance",
                       line={"dash": "dot", "color": "#999"})
    return _square(figure, "False positive rate", "True positive rate", "ROC")


def pr_figure(curves: dict[str, ClassificationEvaluation]) -> go.Figure:
    figure = go.Figure()
    for label, evaluation in curves.items():
        figure.add_scatter(x=evaluation.pr_curve.recall, y=evaluation.pr_curve.precision,
                           mode="lines",
                           name=f"{label} (AP {_figure(evaluation.metrics.pr_auc)})")
    base = next(iter(curves.values())).positive_rate
    figure.add_hline(y=base, line_dash="dot", line_color="#999",
                     annotation_text="base rate")
    return _square(figure, "Recall", "Precision", "Precision-recall")


def calibration_figure(curves: dict[str, ClassificationEvaluation]) -> go.Figure:
    figure = go.Figure()
    for label, evaluation in curves.items():
        figure.add_scatter(x=evaluation.calibration.predicted,
                           y=evaluation.calibration.observed, mode="lines+markers", name=label)
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                       line={"dash": "dot", "color": "#999"})
    return _square(figure, "Mean predicted probability", "Observed frequency", "Calibration")


def confusion_figure(evaluation: ClassificationEvaluation) -> go.Figure:
    cells = evaluation.confusion_matrix
    matrix = [[cells.tn, cells.fp], [cells.fn, cells.tp]]
    figure = px.imshow(matrix, x=["predicted 0", "predicted 1"], y=["actual 0", "actual 1"],
                       text_auto=True, color_continuous_scale="Blues")
    figure.update_layout(title=f"Confusion matrix at threshold {evaluation.threshold:g}",
                         coloraxis_showscale=False, height=340,
                         margin={"l": 0, "r": 0, "t": 40, "b": 0})
    return figure


def fairness_figure(assessment: FeatureAssessment, four_fifths: float) -> go.Figure:
    """Favourable-outcome rate per group with its interval, and the four-fifths line."""
    groups = sorted(assessment.groups, key=lambda g: group_order(g.group))
    rates = [g.favourable_rate or 0.0 for g in groups]
    low = [r - (g.ci.favourable_rate[0] or r) for g, r in zip(groups, rates, strict=True)]
    high = [(g.ci.favourable_rate[1] or r) - r for g, r in zip(groups, rates, strict=True)]
    colours = ["#1f4e79" if g.judged else "#bbbbbb" for g in groups]
    figure = go.Figure(go.Bar(
        x=[g.group for g in groups], y=rates, marker_color=colours,
        error_y={"type": "data", "symmetric": False, "array": high, "arrayminus": low},
        customdata=[[g.count, "judged" if g.judged else "too few to judge"] for g in groups],
        hovertemplate="%{x}: %{y:.1%} (n=%{customdata[0]}, %{customdata[1]})<extra></extra>"))
    judged = [g.favourable_rate for g in groups if g.judged and g.favourable_rate]
    if judged:
        line = four_fifths * max(judged)
        figure.add_hline(y=line, line_dash="dash", line_color="#c0392b",
                         annotation_text=f"four-fifths of the most favoured ({line:.1%})")
    figure.update_layout(title=f"Favourable outcome rate by {assessment.feature}",
                         yaxis_tickformat=".0%", height=360,
                         margin={"l": 0, "r": 0, "t": 40, "b": 0})
    # Group names are names: "1", "2" and "(missing)" on a numeric axis would drop the last.
    figure.update_xaxes(type="category")
    return figure




def group_rates_table(assessment: FeatureAssessment) -> pd.DataFrame:
    """Each group's rates as text: "—" (undefined) where a group cannot have the rate (TPR without
    positives, FPR without negatives, precision without predicted positives), never 0."""
    return pd.DataFrame({
        "Group": g.group, "People": g.count, "Positives": g.positives,
        "Negatives": g.negatives, "Judged for": _judged_for(g),
        "Favourable rate": _rate(g.favourable_rate),
        "Interval": _interval(g.ci.favourable_rate),
        # Records written before undefined rates were kept hold fairlearn's 0 there.
        "TPR": _rate(g.true_positive_rate if g.positives else None),
        "FPR": _rate(g.false_positive_rate if g.negatives else None),
        "Precision": _rate(g.precision),
    } for g in sorted(assessment.groups, key=lambda g: group_order(g.group)))


def _judged_for(group: GroupRates) -> str:
    if not group.judged:
        return "nothing: too few people"
    judged = ["favourable rate"] + [rate.upper() for rate in ("tpr", "fpr")
                                    if group.judged_for(rate)]
    return ", ".join(judged)


def _rate(value: float | None) -> str:
    return percent(value)


def _interval(bounds: tuple[float | None, float | None]) -> str:
    low, high = bounds
    return UNDEFINED if low is None or high is None else f"{percent(low)}–{percent(high)}"


def _figure(value: float | None) -> str:
    return numbers.figure(value)


def _square(figure: go.Figure, x: str, y: str, title: str) -> go.Figure:
    figure.update_layout(title=title, xaxis_title=x, yaxis_title=y, height=360,
                         margin={"l": 0, "r": 0, "t": 40, "b": 0},
                         legend={"orientation": "h", "y": -0.25})
    figure.update_xaxes(range=[0, 1])
    figure.update_yaxes(range=[0, 1.02])
    return figure


def representation_figure(feature: str, frame: pd.DataFrame) -> go.Figure:
    """Each group's share of the hold-out set beside its share of the decided population."""
    long = frame.melt(id_vars="group", value_vars=["holdout_share", "decided_share"],
                      var_name="where", value_name="share")
    long["where"] = long["where"].map({"holdout_share": "hold-out set",
                                       "decided_share": "decided (90 days)"})
    figure = px.bar(long, x="group", y="share", color="where", barmode="group",
                    color_discrete_sequence=["#1f4e79", "#e07b39"])
    figure.update_layout(title=f"Representation by {feature}", yaxis_tickformat=".0%",
                         height=300, margin={"l": 0, "r": 0, "t": 40, "b": 0},
                         legend_title=None)
    figure.update_xaxes(type="category")
    return figure


GATES_PASSING = "Gates passing"


def compare_table(mine: ModelCard, theirs: ModelCard) -> pd.DataFrame:
    """Two model cards' headline figures side by side, and the difference in a last column
    headed by its direction ("v3 − v2": the other version's figure minus this one's)."""
    rows: dict[str, tuple[float | None, float | None]] = {}
    ours, other = mine.metrics, theirs.metrics
    for key in sorted(set(ours) | set(other)):
        rows[glossary.label(key)] = (ours.get(key), other.get(key))
    my_ratios = {h.feature: h.summary.four_fifths_ratio for h in mine.fairness_headlines()}
    their_ratios = {h.feature: h.summary.four_fifths_ratio for h in theirs.fairness_headlines()}
    for feature in sorted(set(my_ratios) | set(their_ratios)):
        rows[f"Four-fifths ratio by {feature}"] = (my_ratios.get(feature),
                                                   their_ratios.get(feature))
    rows[GATES_PASSING] = (float(sum(g.passed for g in mine.gates.results)),
                           float(sum(g.passed for g in theirs.gates.results)))
    left, right = f"v{mine.version.version}", f"v{theirs.version.version}"
    frame = pd.DataFrame(rows, index=[left, right]).T
    frame[f"{right} − {left}"] = frame[right] - frame[left]
    return frame


def compare_style(frame: pd.DataFrame) -> Styler:
    """The comparison as people read it: figures to three decimals, gate counts as whole
    numbers, signed differences, undefined as "—", large differences shaded."""
    styler = frame.style.apply(highlight_differences, axis=1)
    difference = frame.columns[-1]
    for row in frame.index:
        decimals = 0 if row == GATES_PASSING else 3
        styler = styler.format(_shown(numbers.figure, decimals),
                               subset=pd.IndexSlice[[row], list(frame.columns[:-1])])
        styler = styler.format(_shown(numbers.signed, decimals),
                               subset=pd.IndexSlice[[row], [difference]])
    return styler


def _shown(formatter: Callable[..., str], decimals: int) -> Callable[[object], str]:
    def cell(value: object) -> str:
        return formatter(float(value) if isinstance(value, int | float) else None,
                         decimals=decimals)
    return cell


def highlight_differences(row: pd.Series) -> list[str]:
    """Shade the difference cell (the last) when the versions differ by more than 0.02."""
    difference = row.iloc[-1]
    big = difference is not None and pd.notna(difference) and abs(difference) > 0.02
    return ["" for _ in row.index[:-1]] + ["background-color: #fde2cf" if big else ""]
