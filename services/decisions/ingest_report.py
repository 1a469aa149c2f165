"""What an ingest batch answers: row by row (stored, skipped, quarantined, with the reason and
any note), and in sum (counts, the first reason of each kind of problem, warnings about the
batch as a whole). Files, the API and the client all answer with these."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from services.decisions.files import Row
from services.store.models import IngestBatch

RowStatus = Literal["stored", "skipped", "quarantined"]
_REASON_CHARS = 90  # a summary's reason is cut at a word, not inside one


@dataclass(frozen=True)
class RowResult:
    """What became of one row: stored, skipped (already stored with identical content) or
    quarantined (with the reason). row: its position in the batch (a file's line or row
    number), from 1. note: said of a stored row a person should look at (a failed-closed
    decision whose inputs do not fit the signature, a verdict with an input missing)."""

    row: int
    decision_id: str | None
    status: RowStatus
    reason: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class IngestReport:
    kind: str
    source: str
    batch_id: int | None
    already_ingested: bool
    accepted: int
    duplicates: int  # already stored with identical content: skipped
    quarantined: int
    # The first row's reason of each kind of problem -> how many rows had a reason of its kind.
    reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    rows: tuple[RowResult, ...] = ()  # row by row, when the caller asked (the API does)
    noted: int = 0  # stored rows with a note
    # The quarantined and noted rows, by row number (whether or not the caller asked per row).
    problems: tuple[RowResult, ...] = ()
    warnings: tuple[str, ...] = ()  # about the batch as a whole


@dataclass
class Tally:
    """What a batch's rows came to, counted as they are judged (one per chunk, added up)."""

    accepted: int = 0
    duplicates: int = 0  # already stored, or earlier in the batch, with identical content
    bad: list[tuple[int, str, str]] = field(default_factory=list)
    duplicate_rows: list[int] = field(default_factory=list)
    noted: list[tuple[int, str]] = field(default_factory=list)  # stored rows with a note
    models: set[str] = field(default_factory=set)  # of the stored rows
    scored: int = 0  # checked rows with a score
    extreme: int = 0  # ... of exactly 0 or 1

    def add(self, other: Tally) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.bad += other.bad
        self.duplicate_rows += other.duplicate_rows
        self.noted += other.noted
        self.models |= other.models

    def skipped(self, number: int) -> None:
        self.duplicates += 1
        self.duplicate_rows.append(number)


def batch_report(kind: str, source: str, batch_id: int, tally: Tally, started: float,
                 rows: list[Row], per_row: bool) -> IngestReport:
    """The batch's answer; started: its time.perf_counter() at the start (seconds taken)."""
    kinds = Counter(reason_kind(reason) for _, reason, _ in tally.bad)
    first: dict[str, str] = {}  # each kind's first real reason, shown instead of its template
    for _, reason, _ in sorted(tally.bad):
        first.setdefault(reason_kind(reason), reason)
    reasons = {first[k][:300]: n for k, n in kinds.most_common(10)}
    results = _row_results(rows, tally, every=per_row)
    warnings: tuple[str, ...] = ()
    if tally.scored and tally.extreme == tally.scored:
        # A class label logged as the score (MLflow pyfunc predict of a classifier): nothing
        # would escalate for low confidence, and no replay reproduces it.
        warnings = (f"Every score of this batch ({tally.scored:,}) is exactly 0 or 1: is the "
                    "serving system logging the predicted class instead of the probability of "
                    "the positive label (predict_proba)?",)
    return IngestReport(kind, source, batch_id, False, tally.accepted, tally.duplicates,
                        len(tally.bad), reasons, time.perf_counter() - started,
                        results if per_row else (), len(tally.noted),
                        tuple(r for r in results if r.status == "quarantined" or r.note),
                        warnings)


def _row_results(rows: list[Row], tally: Tally, *, every: bool) -> tuple[RowResult, ...]:
    """Each row's result (every=False: only the quarantined and noted ones)."""
    refused = {number: reason for number, reason, _ in tally.bad}
    noted = dict(tally.noted)
    skipped = set(tally.duplicate_rows)
    results = []
    for number, row in rows:
        if not every and number not in refused and number not in noted:
            continue
        decision_id = row.get("decision_id") if isinstance(row, Mapping) else None
        named = decision_id if isinstance(decision_id, str) else None
        if number in refused:
            results.append(RowResult(number, named, "quarantined", refused[number]))
        else:
            results.append(RowResult(number, named, "skipped" if number in skipped
                                     else "stored", note=noted.get(number)))
    return tuple(results)


def already_stored(kind: str, source: str, batch: IngestBatch) -> IngestReport:
    return IngestReport(kind, source, batch.id, True, 0, 0, 0, {}, 0.0)


def reason_kind(reason: str) -> str:
    """A reason with its particulars (values, numbers) elided, to count its siblings together
    in a summary: "feature amount should be a number, not 'x'" and "... not 'y'" are one."""
    first = reason.split(";")[0].split(", not ")[0]
    kind = re.sub(r"'[^']*'|\d[\d,.:-]*( \d[\d:]*)?", "…", first)
    if len(kind) <= _REASON_CHARS:
        return kind
    return kind[:_REASON_CHARS].rsplit(" ", 1)[0] + " …"
