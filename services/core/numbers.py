"""Numbers as people read them: one formatter for every page, PDF and CLI report.

Conventions (issue #19):
- a share is shown as a percentage (0.5 -> "50.0%"), rates with one decimal;
- model-quality figures (ROC AUC, differences, drift statistics) with three decimals;
- counts with thousands separators, and a whole number never as "26.0";
- ages in days, differences of percentages in percentage points ("pp");
- an undefined figure (None, NaN, infinite) is UNDEFINED ("—"), with a reason where it
  matters, never "None", "nan" or "inf";
- an empty list or table says what is missing and what to do next (`empty`).
"""

from __future__ import annotations

import math
from enum import StrEnum

UNDEFINED = "—"


class Unit(StrEnum):
    """How a measure is read: the decimals and the unit it is shown in."""

    FIGURE = "figure"  # a unitless model-quality figure or statistic: 3 decimals
    RATE = "rate"  # a share in [0, 1]: a percentage with one decimal
    COUNT = "count"  # a whole number with thousands separators
    DAYS = "days"  # an age or a period, in whole days
    POINTS = "points"  # a difference of two percentages, in percentage points


def defined(value: float | int | None) -> bool:
    """Whether a figure can be shown as a number (not None, NaN or infinite)."""
    return value is not None and not (isinstance(value, float) and not math.isfinite(value))


def undefined(reason: str | None = None) -> str:
    """The undefined mark, with its reason when one is given: "— (too few decisions)"."""
    return f"{UNDEFINED} ({reason})" if reason else UNDEFINED


def figure(value: float | None, *, decimals: int = 3, reason: str | None = None) -> str:
    """A unitless figure, e.g. ROC AUC 0.7124 -> "0.712"."""
    if not defined(value):
        return undefined(reason)
    assert value is not None
    return f"{value:.{decimals}f}"


def signed(value: float | None, *, decimals: int = 3, reason: str | None = None) -> str:
    """A difference with its sign always shown: 0.0123 -> "+0.012", with a true minus sign."""
    if not defined(value):
        return undefined(reason)
    assert value is not None
    return f"{value:+.{decimals}f}".replace("-", "−")


def percent(share: float | None, *, decimals: int = 1, reason: str | None = None) -> str:
    """A share in [0, 1] as a percentage: 0.5 -> "50.0%" (decimals=0: "50%")."""
    if not defined(share):
        return undefined(reason)
    assert share is not None
    return f"{share * 100:.{decimals}f}%"


def points(difference: float | None, *, decimals: int = 1, reason: str | None = None) -> str:
    """A difference of two shares in percentage points: 0.032 -> "+3.2 pp"."""
    if not defined(difference):
        return undefined(reason)
    assert difference is not None
    return f"{difference * 100:+.{decimals}f} pp".replace("-", "−")


def count(value: float | int | None, *, reason: str | None = None) -> str:
    """A count with thousands separators; a whole float reads as an integer (26.0 -> "26")."""
    if not defined(value):
        return undefined(reason)
    assert value is not None
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def days(value: float | int | None, *, reason: str | None = None) -> str:
    """An age or period in whole days: 0.4 -> "0 days", 1 -> "1 day", 180 -> "180 days"."""
    if not defined(value):
        return undefined(reason)
    assert value is not None
    whole = round(value)
    return f"{whole:,} day" if whole == 1 else f"{whole:,} days"


def number(value: float | int | None, *, reason: str | None = None) -> str:
    """A figure of unknown kind: integers as counts, other values to three significant
    decimals (used for bounds read from the policy, e.g. 0.8 -> "0.8", 180 -> "180")."""
    if not defined(value):
        return undefined(reason)
    assert value is not None
    if isinstance(value, int) or float(value).is_integer():
        return count(value)
    return f"{value:.4g}"


def in_unit(value: float | int | None, unit: Unit, *, reason: str | None = None) -> str:
    """A value in its measure's unit (see `Unit`)."""
    if unit is Unit.RATE:
        return percent(value, reason=reason)
    if unit is Unit.COUNT:
        return count(value, reason=reason)
    if unit is Unit.DAYS:
        return days(value, reason=reason)
    if unit is Unit.POINTS:
        return points(value, reason=reason)
    return figure(value, reason=reason)


def empty(what: str, next_step: str | None = None) -> str:
    """The empty-state sentence: "No decisions in this window yet. Ingest some with …"."""
    sentence = f"No {what} yet."
    return f"{sentence} {next_step}" if next_step else sentence
