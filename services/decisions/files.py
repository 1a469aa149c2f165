"""Read decision and outcome files (JSONL, CSV, Parquet) into rows, one bad line at a time.

A line that cannot be read becomes an Unreadable with its reason; the rest of the file goes on.
CSV and Parquet may carry features as `feature.<name>` columns.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.core.errors import InvalidInput

MAX_LINE_BYTES = 1 << 20  # a longer line is refused unread
RAW_KEPT = 10_000  # characters of a refused row kept for the person who fixes it
FEATURE_PREFIX = "feature."
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
           ".parquet": "parquet", ".pq": "parquet"}


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
        while line := handle.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(line) > MAX_LINE_BYTES:
                # Skip the rest of an overlong line in blocks: memory stays bounded however
                # long it is (a 100 MB line costs 1 MiB).
                head, skipped = line, len(line)
                while not line.endswith(b"\n") and (line := handle.readline(MAX_LINE_BYTES)):
                    skipped += len(line)
                yield number, Unreadable(f"line is {skipped:,} bytes, over the 1 MiB limit",
                                         _keep(head))
                continue
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
                yield number, Unreadable(f"not valid JSON: {exc.msg} at column {exc.colno}",
                                         text[:RAW_KEPT])
                continue
            if not isinstance(value, dict):
                yield number, Unreadable("a line must hold one JSON object", text[:RAW_KEPT])
                continue
            yield number, value


def _csv(path: Path) -> Iterator[Row]:
    text = path.read_bytes().decode("utf-8", errors="replace")
    for number, record in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=1):
        if None in record:  # more cells than the header names
            yield number, Unreadable("more cells than the header has columns",
                                     json.dumps(record, default=str)[:RAW_KEPT])
            continue
        if any("\ufffd" in (v or "") for v in record.values()):
            yield number, Unreadable("not UTF-8 text", json.dumps(record)[:RAW_KEPT])
            continue
        yield number, _from_text(record)


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


def _from_text(record: dict[str, str]) -> dict[str, Any]:
    """A CSV row with numbers, flags and empties read as such; features nested."""
    row: dict[str, Any] = {}
    for key, value in record.items():
        value = value.strip() if value is not None else ""
        if key in ("score", "threshold", "label") or key.startswith(FEATURE_PREFIX):
            row[key] = _number_or_text(value)
        elif key == "shadow":
            row[key] = value.lower() in ("1", "true", "yes")
        elif key == "reason_codes":
            row[key] = [c for c in value.split(";") if c] if value else None
        else:
            row[key] = value or None
    return _nest_features(row)


def _number_or_text(value: str) -> Any:
    if value == "":
        return None
    try:
        return float(value)
    except ValueError:
        return value


def _keep(line: bytes) -> str:
    return line[:RAW_KEPT].decode("utf-8", errors="replace")
