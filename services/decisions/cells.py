"""Spreadsheet cells read as what they mean: by the version's signature for inputs, by the log's
format for the decision's own fields.

A CSV cell is only text. Guessing its type (every number-looking cell a float) turned a
postcode `02134` into 2134.0 and a boolean `TRUE` into text; the signature says what each input
is, so inputs are converted once the row's version is known, and a cell that does not convert
stays as written for validation to name ("feature owner should be true or false, not 'maybe'").
"""

from __future__ import annotations

import re
from typing import Any

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "1.0"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "0.0"})
NUMERIC_TYPES = frozenset({"double", "float", "long", "integer"})
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_EPOCH = re.compile(r"^\d{9,13}(\.\d+)?$")


class TextCells(dict[str, str]):
    """A CSV row's inputs, still text: read by the version's signature in validation.

    decimal_comma: the file is `;`-separated, so `0,82` is a number written the European way.
    """

    decimal_comma: bool = False

    def __init__(self, cells: dict[str, str], *, decimal_comma: bool) -> None:
        super().__init__(cells)
        self.decimal_comma = decimal_comma


def typed_inputs(cells: TextCells, schema: dict[str, str]) -> dict[str, Any]:
    """Each cell as its input's signature type; an empty cell is missing (None); a cell that
    does not convert, or an input the signature lacks, stays as written."""
    typed: dict[str, Any] = {}
    for name, cell in cells.items():
        kind = schema.get(name)
        if cell == "" and kind is not None:
            typed[name] = None
        elif kind in NUMERIC_TYPES:
            typed[name] = number(cell, decimal_comma=cells.decimal_comma)
        elif kind == "boolean":
            typed[name] = flag(cell)
        else:
            typed[name] = cell  # text (a postcode "02134") is kept exactly as written
    return typed


def number(cell: str, *, decimal_comma: bool) -> float | str:
    """A number cell as a float; unreadable ones stay text (validation names them)."""
    text = cell.strip()
    if decimal_comma and _DECIMAL_COMMA.match(text):
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return cell


def flag(cell: str) -> bool | str:
    """A boolean in its usual spellings (TRUE, true, 1, yes, y, t and their negatives)."""
    word = cell.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return cell


def moment(cell: str) -> str | float:
    """A time cell: epoch seconds or milliseconds as a number, anything else as written."""
    text = cell.strip()
    return float(text) if _EPOCH.match(text) else text


def label(cell: str, *, decimal_comma: bool) -> bool | float | str | None:
    """An outcome label cell: a boolean word or a number; empty is missing."""
    if not cell.strip():
        return None
    word = flag(cell)
    if isinstance(word, bool) and cell.strip().lower() not in ("1", "0", "1.0", "0.0"):
        return word
    return number(cell, decimal_comma=decimal_comma)
