"""Drift: how far a version's traffic has moved from its reference, by input and by day."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from services.core.clock import utcnow
from services.core.glossary import term
from services.core.numbers import UNDEFINED, count, figure, percent
from services.evidence.profile import SCORE
from services.monitoring.drift import MIN_DAY_ROWS, MIN_WINDOW_ROWS, STATISTICS
from ui import monitoring
from ui.drift_figures import drift_heatmap, drift_trend, feature_histograms
from ui.pickers import pick_model_version
from ui.principal import page_guard
from ui.tables import fitted_height, readable
from ui.widgets import stop_on_error

page_guard()
st.title("Drift")
view, version = pick_model_version("drift")
name, tier = view.model.name, view.model.risk_tier

left, right = st.columns(2)
span = left.radio("Window", ["7 days", "30 days", "90 days", "Custom"], index=1,
                  horizontal=True, key="drift_span")
today = utcnow().date()
if span == "Custom":
    picked = left.date_input("From – to", (today - timedelta(days=30), today), max_value=today)
    start, last = picked if isinstance(picked, tuple) and len(picked) == 2 else (today, today)
else:
    start, last = today - timedelta(days=int(span.split()[0]) - 1), today
end = last + timedelta(days=1)
statistic = right.selectbox("Statistic", list(STATISTICS),
                            format_func=lambda chosen: STATISTICS[chosen], key="drift_statistic")

with stop_on_error():
    window = monitoring.window(name, version, tier, start, end)
    cells = monitoring.days(name, version, tier, start, end, statistic)
bound = {"psi": window.thresholds["psi_max"], "js": window.thresholds["jensen_shannon_max"],
         "ks": window.thresholds["ks_statistic_max"]}.get(statistic)

cols = st.columns(4)
cols[0].metric("Decisions in the window", count(window.rows))
if not window.judged:
    st.warning(f"Too few decisions to judge drift: {window.rows:,} in the window, at least "
               f"{MIN_WINDOW_ROWS} needed. This is not a verdict of *no drift*; widen the "
               "window.", icon=":material/hourglass_empty:")
else:
    share = window.drifted_share or 0.0
    dataset_bound = percent(window.thresholds["drifted_share_max"], decimals=0)
    cols[1].metric("Inputs drifted", percent(share, decimals=0),
                   help=f"Dataset drift at {dataset_bound} or more.")
    cols[2].metric("Dataset drift", "yes" if window.dataset_drift else "no")
    if window.prediction and window.prediction.psi is not None:
        cols[3].metric("Score PSI", figure(window.prediction.psi),
                       help="Prediction drift: the PSI of the score against the reference.")
    drifted = sum(bool(f.drifted) for f in window.features)
    # Green only when nothing drifted: some inputs drifting below the dataset bound is a
    # warning, not good news.
    (st.error if window.dataset_drift else st.warning if drifted else st.success)(
        f"{drifted} of "
        f"{sum(f.drifted is not None for f in window.features)} inputs judged of "
        f"v{version} drifted from its reference profile (evidence #{window.reference_id}, "
        f"{window.reference_rows:,} hold-out rows) under the {tier or 'high'}-risk policy.")

st.subheader(f"{STATISTICS[statistic]} by input and day")
if cells and all(c.value is None for c in cells):
    # Empty charts would look like a fault: say why no day is drawn.
    st.info(f"No day of this window had {MIN_DAY_ROWS} decisions, the fewest a day is judged "
            "on alone, so there is no day-by-day view; the window as a whole is judged above.",
            icon=":material/info:")
elif cells:
    st.plotly_chart(drift_heatmap(cells, statistic, bound), width="stretch")
    st.caption(f"Blank: fewer than {MIN_DAY_ROWS} decisions that day. The dashed band edge "
               "below is the policy's bound.")
    worst = [f.feature for f in window.features if f.drifted] or \
        [f.feature for f in window.features[:3]]
    shown = st.multiselect("Trend of", [*(f.feature for f in window.features), SCORE],
                           default=worst[:4], format_func=term,
                           key=f"drift_trend_{name}_{version}")
    if shown:
        st.plotly_chart(drift_trend(cells, shown, statistic, bound), width="stretch")
else:
    st.info("No decisions of this version in the window.")

st.subheader("By input")
rows = [*window.features, *([window.prediction] if window.prediction else [])]
st.dataframe(readable(pd.DataFrame({
    "Input": term(f.feature), "Kind": f.kind, "Decisions": f.rows, "Missing": f.missing,
    "PSI": f.psi, "Jensen-Shannon": f.js, "KS D": f.ks, "Wasserstein / std": f.wasserstein,
    "Chi-square": f.chi_square,
    "Drifted": "cannot be judged" if f.drifted is None else ("yes" if f.drifted else "no"),
    "Why": f.why,
    "Held to (PSI / JS / KS)": " / ".join(figure(f.bounds[s]) for s in ("psi", "js", "ks")
                                          if s in f.bounds),
} for f in rows)), hide_index=True, width="stretch", height=fitted_height(len(rows)),
    placeholder=UNDEFINED)
st.caption("Each statistic is held to the larger of the policy's bound and the value it "
           "reaches by chance alone (1 time in 100) for a window of this many decisions against "
           "a hold-out of this size: small windows are held to higher bounds, so unchanged "
           "traffic is not called drifted.")

judged = [f for f in rows if f.drifted is not None]
if judged:
    chosen = st.selectbox("Compare histograms of", [f.feature for f in judged],
                          format_func=term, key=f"drift_feature_{name}_{version}")
    st.plotly_chart(feature_histograms(next(f for f in judged if f.feature == chosen)),
                    width="stretch")
