"""CSV that a spreadsheet opens as text: no cell it would evaluate as a formula.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula (OWASP, "CSV Injection"); text that came from
outside the console (a sign-in name, an ingested decision id) could then fetch a URL or run a
command on the auditor's machine. Such cells get a leading apostrophe, OWASP's remedy, which
spreadsheets show as text and do not display. Numbers are left alone: only text is a threat,
and a negative number must stay a number. JSON exports stay byte-faithful and do not pass
through here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(value: Any) -> Any:
    """The value, or for text a spreadsheet would evaluate, the text with a leading "'"."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """UTF-8 CSV of the rows under a header of fields, every text cell made inert."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fields))
    writer.writeheader()
    for row in rows:
        writer.writerow({key: inert_cell(value) for key, value in row.items()})
    return out.getvalue().encode()
