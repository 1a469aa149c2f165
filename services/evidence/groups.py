"""Sensitive groups: categories as they are, continuous features in the policy's bands."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

MISSING_GROUP = "(missing)"
_CONTINUOUS_MIN_DISTINCT = 10  # fewer distinct numbers than this are treated as categories


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
            groups[column] = values.astype(object).where(values.notna(), MISSING_GROUP) \
                .map(str)
    return pd.DataFrame(groups, index=frame.index).astype(str)


def intersection(groups: pd.DataFrame) -> pd.Series:
    """The intersectional group of each row, e.g. 'female & 25-39'."""
    return groups.astype(str).agg(" & ".join, axis=1).rename(" x ".join(groups.columns))
