"""Read decision and outcome files (JSONL, CSV, Parquet) into rows, one bad line at a time.

A line that cannot be read becomes an Unreadable with its reason; the rest of the file goes on.
CSV and Parquet may carry features as `feature.<name>` columns. Files are read as spreadsheets
and editors write them: with or without a UTF-8 byte-order mark, with LF, CRLF or CR line
endings, and (CSV) separated by commas, semicolons or tabs.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from services.core.errors import InvalidInput
from services.decisions import cells

MAX_LINE_BYTES = 1 << 20  # a longer line is refused unread
RAW_KEPT = 10_000  # characters of a refused row kept for the person who fixes it
FEATURE_PREFIX = "feature."
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
           ".parquet": "parquet", ".pq": "parquet"}
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Unreadable:
    reason: str
    raw: str


Row = tuple[int, dict[str, Any] | Unreadable]  # (line or row number from 1, content)


def file_format(path: Path) -> str:
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise InvalidInput(f"{path.name}: unknown file type {path.suffix or '(none)'}.",
                           hint="Use .jsonl, .csv or .parquet.")
    return kind


def read_rows(path: Path) -> Iterator[Row]:
    """The file's rows, numbered from 1. Raises InvalidInput (when iterated, for CSV) when the
    file as a whole cannot be read: an unknown type, a damaged Parquet file, or a
    comma-separated file whose numbers were written with decimal commas."""
    kind = file_format(path)
    if not path.is_file():
        raise InvalidInput(f"There is no file {path}.")
    if kind == "jsonl":
        return _jsonl(path)
    if kind == "csv":
        return _csv(path)
    return _parquet(path)


def _jsonl(path: Path) -> Iterator[Row]:
    with path.open("rb") as handle:
        number = 0
        for line, overlong in _lines(handle):
            number += 1
            if overlong:
                yield number, Unreadable(f"line is {overlong:,} bytes, over the 1 MiB limit",
                                         _keep(line))
                continue
            if number == 1:
                line = line.removeprefix(_BOM)  # "UTF-8 with BOM", as Windows editors save
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, Unreadable(f"not UTF-8 text (byte {exc.start})", _keep(line))
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                yield number, Unreadable(f"not valid JSON: {exc.msg} (column {exc.colno})",
                                         text[:RAW_KEPT])
                continue
            if not isinstance(value, dict):
                yield number, Unreadable("a line must hold one JSON object", text[:RAW_KEPT])
                continue
            yield number, value


def _lines(handle: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """The file's lines without their endings (LF, CRLF or a lone CR), each with its length in
    bytes when it is over the limit (then only its head is given), else 0."""
    while line := handle.readline(MAX_LINE_BYTES + 1):
        if len(line) > MAX_LINE_BYTES:
            # Skip the rest of an overlong line in blocks: memory stays bounded however
            # long it is (a 100 MB line costs 1 MiB).
            head, skipped = line, len(line)
            while not line.endswith(b"\n") and (line := handle.readline(MAX_LINE_BYTES)):
                skipped += len(line)
            yield head, skipped
            continue
        body = line.rstrip(b"\r\n")
        if b"\r" in body:
            # A raw CR cannot be inside a JSON value (strings escape it): it ends a line, as
            # old Mac exports write them.
            yield from ((part, 0) for part in body.split(b"\r"))
        else:
            yield body, 0


def _csv(path: Path) -> Iterator[Row]:
    text = path.read_bytes().decode("utf-8", errors="replace").removeprefix("\ufeff")
    separator = _separator(text)
    # Universal line endings: the csv module ends a record at LF, CRLF or a lone CR.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    header = [name.strip() for name in next(reader, [])]
    records = list(reader)
    _refuse_split_decimals(path, separator, len(header), records)
    decimal_comma = separator != ","  # with ';' or a tab between cells, 0,82 is a number
    for number, row_cells in enumerate(records, start=1):
        if not any(cell.strip() for cell in row_cells):
            continue  # a blank line, as spreadsheets leave at the end
        if len(row_cells) > len(header):
            yield number, Unreadable(f"{len(row_cells)} cells, but the header names "
                                     f"{len(header)} columns",
                                     separator.join(row_cells)[:RAW_KEPT])
            continue
        if any("\ufffd" in cell for cell in row_cells):
            yield number, Unreadable("not UTF-8 text", separator.join(row_cells)[:RAW_KEPT])
            continue
        padded = row_cells + [""] * (len(header) - len(row_cells))
        yield number, _from_text(dict(zip(header, padded, strict=True)),
                                 decimal_comma=decimal_comma)


def _separator(text: str) -> str:
    """The cell separator, read from the header line: a comma, a semicolon (spreadsheets in
    locales whose decimal mark is a comma write these) or a tab."""
    ends = [i for i in (text.find("\n"), text.find("\r")) if i >= 0]
    header = text[:min(ends)] if ends else text
    return max((",", ";", "\t"), key=header.count) if header else ","


def _refuse_split_decimals(path: Path, separator: str, columns: int,
                           records: list[list[str]]) -> None:
    """Refuse the whole file when most rows have more cells than the header names: numbers
    written with decimal commas (0,82) in a comma-separated file, each split in two. Storing
    its rows one by one would quarantine all of them with no word about the cause."""
    sample = [row for row in records[:200] if any(c.strip() for c in row)]
    if separator != "," or not sample:
        return
    split = sum(len(row) > columns for row in sample)
    if split * 2 > len(sample):
        raise InvalidInput(
            f"{path.name} is separated by commas (,) but {split} of its first {len(sample)} "
            "rows have more cells than its header, as when numbers are written with decimal "
            "commas (0,82).",
            hint="Export it again with semicolons (;) between cells, or with decimal points; "
                 "nothing from it was stored.")


def _parquet(path: Path) -> Iterator[Row]:
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise InvalidInput(f"{path.name} is not a readable Parquet file: "
                           f"{str(exc).splitlines()[0][:200]}",
                           hint="Write the file again; nothing from it was stored.") from exc
    number = 0
    for batch in table.iter_batches(batch_size=10_000):
        for record in batch.to_pylist():
            number += 1
            yield number, _nest_features(record)


def _nest_features(record: dict[str, Any]) -> dict[str, Any]:
    features = {k[len(FEATURE_PREFIX):]: v for k, v in record.items()
                if k.startswith(FEATURE_PREFIX)}
    if features:
        record = {k: v for k, v in record.items() if not k.startswith(FEATURE_PREFIX)}
        record["features"] = features
    return record


def _from_text(record: dict[str, str], *, decimal_comma: bool) -> dict[str, Any]:
    """A CSV row's own fields read as the log's format says; its inputs left as text, read by
    the version's signature when the row is checked (a postcode "02134" stays "02134")."""
    row: dict[str, Any] = {}
    features: dict[str, str] = {}
    for key, cell in record.items():
        value = cell.strip()
        if key.startswith(FEATURE_PREFIX):
            features[key[len(FEATURE_PREFIX):]] = cell
        elif key == "model_name":
            row[key] = cell or None  # matched exactly as registered: "scorecard " is a name
        elif key in ("score", "threshold"):
            row[key] = cells.number(value, decimal_comma=decimal_comma) if value else None
        elif key == "label":
            row[key] = cells.label(value, decimal_comma=decimal_comma)
        elif key in ("decided_at", "observed_at"):
            row[key] = cells.moment(value) if value else None
        elif key == "shadow":
            row[key] = cells.flag(value) is True
        elif key == "reason_codes":
            row[key] = [c for c in value.split(";") if c] if value else None
        else:
            row[key] = value or None
    if features:
        row["features"] = cells.TextCells(features, decimal_comma=decimal_comma)
    return row


def _keep(line: bytes) -> str:
    return line[:RAW_KEPT].decode("utf-8", errors="replace")
