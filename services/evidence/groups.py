"""Sensitive groups: categories under one key whatever their encoding, continuous features in
the policy's bands.

A group has one key everywhere it is counted (hold-out set, decision log, daily profiles,
fairness over time): the hold-out's 1, the log's 1.0 and a CSV's "1" are one group, and so are
True, "true" and 1. People see the group as the hold-out writes it (its label).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import pandas as pd

MISSING_GROUP = "(missing)"
_CONTINUOUS_MIN_DISTINCT = 10  # fewer distinct numbers than this are treated as categories
# Numbers as JSON, Python and CSV write them; not "01" or "+1", which are codes, not numbers.
_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_BOOLEANS = {"true": "1", "false": "0"}
_MISSING_TEXT = {"nan", "nat", "<na>"}  # how pandas and numpy write a missing value


def group_key(value: object) -> str:
    """The one key of the group a value belongs to, whatever its encoding.

    Integers, integral floats and their text are the integer ("1" for 1, 1.0, "1", "1.0",
    np.int64(1)); booleans and "true"/"false" in any case are "1"/"0"; other numbers their
    shortest text ("0.5"); None, NaN, pd.NA and "nan" are MISSING_GROUP; other text is itself
    without surrounding spaces. group_key(group_key(v)) == group_key(v).
    """
    if value is None:
        return MISSING_GROUP
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return _number_key(str(value))  # str, not repr: np.float32(0.1) is "0.1"
    if isinstance(value, Real):  # Fraction and the like
        return _number_key(repr(float(value)))
    text = str(value).strip()  # pd.NA, pd.NaT, Decimal("NaN") read as missing below
    lowered = text.lower()
    if lowered in _BOOLEANS:
        return _BOOLEANS[lowered]
    if lowered in _MISSING_TEXT:
        return MISSING_GROUP
    return _number_key(text) if _NUMBER.fullmatch(text) else text


def _number_key(text: str) -> str:
    if _INTEGER.fullmatch(text):
        return str(int(text))  # exact, however long
    number = float(text)
    if math.isnan(number):
        return MISSING_GROUP
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    if number.is_integer():
        return str(int(number))
    return repr(number)


def group_labels(values: pd.Series) -> dict[str, str]:
    """Each group key among the values, with its label: the value as the hold-out writes it
    (its most frequent spelling when it has several: 1 and "1")."""
    labels: dict[str, str] = {}
    for value in values.value_counts(dropna=False).index:
        key = group_key(value)
        labels.setdefault(key, MISSING_GROUP if key == MISSING_GROUP else str(value))
    return labels


def band_labels(edges: Sequence[float]) -> list[str]:
    """Labels for bands with these lower edges: <25, 25-39, 40-59, 60+."""
    whole = [int(e) if float(e).is_integer() else e for e in edges]
    middle = [f"{lo}-{_below(hi)}" for lo, hi in zip(whole, whole[1:], strict=False)]
    return [f"<{whole[0]}", *middle, f"{whole[-1]}+"]


def _below(edge: float) -> float:
    return edge - 1 if float(edge).is_integer() else edge


def is_continuous(values: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(values)) and \
        values.nunique(dropna=True) > _CONTINUOUS_MIN_DISTINCT


def sensitive_groups(frame: pd.DataFrame, columns: Sequence[str],
                     edges: Sequence[float]) -> pd.DataFrame:
    """One text column of group labels per sensitive feature, banded where continuous."""
    groups = {}
    for column in columns:
        values = frame[column]
        if is_continuous(values):
            banded = pd.cut(values, [-np.inf, *edges, np.inf], right=False,
                            labels=band_labels(edges))
            groups[column] = banded.astype(object).where(banded.notna(), MISSING_GROUP)
        else:
            keys = values.astype(object).map(group_key)
            groups[column] = keys.map(group_labels(values))
    return pd.DataFrame(groups, index=frame.index).astype(str)


def intersection(groups: pd.DataFrame) -> pd.Series:
    """The intersectional group of each row, e.g. 'female & 25-39'."""
    return groups.astype(str).agg(" & ".join, axis=1).rename(" x ".join(groups.columns))


_BAND = re.compile(r"(<)?(-?\d+(?:\.\d+)?)(?:-(-?\d+(?:\.\d+)?)|(\+))?")


def group_order(group: str) -> tuple[tuple[int, float, str], ...]:
    """Sort key for groups as people read them: bands and numbers by their lower edge
    ("<25", "25-39", "40-59", "60+"; "2" before "10"), names alphabetically after them, the
    missing group last. An intersection ('female & 25-39') sorts part by part. Sorting the
    labels as text put "<25" after "60+"."""
    parts = []
    for part in group.split(" & "):
        band = _BAND.fullmatch(part.strip())
        if part == MISSING_GROUP:
            parts.append((2, 0.0, part))
        elif band is not None:
            edge = -math.inf if band.group(1) else float(band.group(2))
            parts.append((0, edge, part))
        else:
            parts.append((1, 0.0, part.casefold()))
    return tuple(parts)
