"""Drift and alerts for pages: cached reads keyed by the store, uncached writes."""

from __future__ import annotations

from datetime import date

import streamlit as st

from services.core.principal import Principal
from services.monitoring.alerts import AlertStatus, AlertView, acknowledge_alert, list_alerts
from services.monitoring.drift import DayCell, DriftWindow, Statistic, daily_drift, drift_window
from services.monitoring.fairness_watch import Selection, selection
from services.monitoring.health import HealthDay, health_by_day
from services.monitoring.performance import PerformanceWindow, performance_by_week
from services.store.engine import session_scope
from ui import context


def window(model: str, version: str, tier: str | None, start: date, end: date) -> DriftWindow:
    return _window(context.settings().database_url, model, version, tier, start, end)


@st.cache_data(ttl=60, show_spinner="Summing daily profiles…")
def _window(database_url: str, model: str, version: str, tier: str | None, start: date,
            end: date) -> DriftWindow:
    with context.engine().connect() as connection:
        return drift_window(connection=connection, thresholds=context.policy().for_tier(
            tier).drift, model_name=model, version=version, start=start, end=end)


def days(model: str, version: str, tier: str | None, start: date, end: date,
         statistic: Statistic) -> list[DayCell]:
    return _days(context.settings().database_url, model, version, tier, start, end, statistic)


@st.cache_data(ttl=60, show_spinner=False)
def _days(database_url: str, model: str, version: str, tier: str | None, start: date,
          end: date, statistic: Statistic) -> list[DayCell]:
    with context.engine().connect() as connection:
        return daily_drift(connection=connection, thresholds=context.policy().for_tier(
            tier).drift, model_name=model, version=version, start=start, end=end,
            statistic=statistic)


def alerts(status: AlertStatus | None) -> list[AlertView]:
    return _alerts(context.settings().database_url, status)


@st.cache_data(ttl=15, show_spinner=False)
def _alerts(database_url: str, status: AlertStatus | None) -> list[AlertView]:
    with session_scope(context.engine()) as session:
        return list_alerts(session=session, status=status)


def acknowledge(actor: Principal, alert_id: int, action: str, note: str) -> AlertView:
    try:
        return acknowledge_alert(engine=context.engine(), actor=actor, alert_id=alert_id,
                                 action=action, note=note)
    finally:
        _alerts.clear()


def health(model: str, start: date, end: date) -> list[HealthDay]:
    return _health(context.settings().database_url, model, start, end)


@st.cache_data(ttl=60, show_spinner="Counting decisions by day…")
def _health(database_url: str, model: str, start: date, end: date) -> list[HealthDay]:
    with session_scope(context.engine()) as session:
        return health_by_day(session=session, model_name=model, start=start, end=end)


def selection_by_group(model: str, start: date, end: date, min_group_size: int,
                       by_week: bool) -> list[Selection]:
    return _selection(context.settings().database_url, model, start, end, min_group_size,
                      by_week)


@st.cache_data(ttl=60, show_spinner=False)
def _selection(database_url: str, model: str, start: date, end: date, min_group_size: int,
               by_week: bool) -> list[Selection]:
    with context.engine().connect() as connection:
        return selection(connection=connection, model_name=model, start=start, end=end,
                         min_group_size=min_group_size, by_week=by_week)


def performance_weeks(model: str, version: str, tier: str | None, start: date,
                      end: date) -> list[PerformanceWindow]:
    """Estimated and realised performance week by week (NotFound without a calibration map)."""
    return _performance_weeks(context.settings().database_url, model, version, tier, start, end)


@st.cache_data(ttl=60, show_spinner="Estimating performance from the score profiles…")
def _performance_weeks(database_url: str, model: str, version: str, tier: str | None,
                       start: date, end: date) -> list[PerformanceWindow]:
    with context.engine().connect() as connection:
        return performance_by_week(connection=connection, model_name=model, version=version,
                                   start=start, end=end,
                                   floors=context.policy().for_tier(tier).metric_floors)
