"""Tables as people read them: every figure through the one number formatter
(services/core/numbers.py), an undefined cell as "—" (never Streamlit's grey "None"), and the
table as tall as its rows."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from pandas.io.formats.style import Styler

from services.core import glossary, numbers
from services.core.numbers import UNDEFINED, Unit

ROW_PX = 35  # Streamlit's default row height, the header's too


def readable(frame: pd.DataFrame, units: Mapping[str, Unit] | None = None) -> Styler:
    """The frame with each numeric column shown in its unit (FIGURE, three decimals, unless
    named in units; whole-number columns as counts) and undefined cells as "—". The values
    stay numbers, so a column still sorts by value."""
    units = dict(units or {})
    formats = {}
    for column in frame.columns:
        unit = units.get(column)
        if unit is None:
            if pd.api.types.is_bool_dtype(frame[column]):
                continue
            if pd.api.types.is_integer_dtype(frame[column]):
                unit = Unit.COUNT
            elif pd.api.types.is_float_dtype(frame[column]):
                unit = Unit.FIGURE
            else:
                continue
        formats[column] = (lambda value, unit=unit:
                           numbers.in_unit(None if pd.isna(value) else value, unit))
    return frame.style.format(formats, na_rep=UNDEFINED)  # type: ignore[arg-type]


def fitted_height(rows: int, *, most: int = 20) -> int:
    """Pixels that show every row up to `most` (then it scrolls), header included: a short
    table never hides its last rows behind a scroll bar."""
    return (min(rows, most) + 1) * ROW_PX + 3


def labelled(frame: pd.DataFrame) -> Styler:
    """A frame whose columns are stored names (roc_auc, predicted_positive_rate): headed by
    their labels and shown in their units (services/core/glossary.py)."""
    units = {glossary.label(c): glossary.unit(c) for c in frame.columns
             if pd.api.types.is_float_dtype(frame[c]) or glossary.unit(c) is not Unit.FIGURE}
    return readable(frame.rename(columns=glossary.label), units)
