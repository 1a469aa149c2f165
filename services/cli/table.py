"""Plain-text tables for the `govern` list commands: each column as wide as its longest value
(header included), so long model or owner names never push the columns out of line."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from services.core.visible import visible

GAP = "  "  # between columns


def width(text: str) -> int:
    """Terminal columns the text takes: East Asian wide and full-width characters take two,
    combining marks none (Unicode's East Asian Width, UAX #11)."""
    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def cell(value: object) -> str:
    """A value as one line of visible text (line breaks and tabs become spaces)."""
    return " ".join(visible("" if value is None else str(value)).split())


def table(header: Sequence[str], rows: Iterable[Sequence[object]], *,
          right: Iterable[int] = ()) -> list[str]:
    """The lines of a table: the header, then one line per row. Columns are padded to their
    widest value; those whose index is in `right` are right-aligned (figures), the last
    column is not padded (so no line ends in spaces)."""
    cells = [[cell(h) for h in header], *([cell(v) for v in row] for row in rows)]
    widths = [max(width(r[i]) for r in cells) for i in range(len(header))]
    to_right = set(right)
    lines = []
    for row in cells:
        parts = []
        for i, text in enumerate(row):
            pad = " " * (widths[i] - width(text))
            last = i == len(row) - 1
            parts.append(pad + text if i in to_right else text + ("" if last else pad))
        lines.append(GAP.join(parts))
    return lines


def print_table(header: Sequence[str], rows: Iterable[Sequence[object]], *,
                right: Iterable[int] = ()) -> None:
    for line in table(header, rows, right=right):
        print(line)
