"""One outcome (ground truth) record checked against the decision it belongs to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.decisions.times import CLOCK_SKEW, parse_time
from services.decisions.validate import RowRejected

LABELS = (0, 1)  # a decision's outcome is binary: 1 the positive label, 0 the other


def clean_outcome(row: dict[str, Any], known: dict[str, tuple[str, datetime]],
                  now: datetime) -> dict[str, Any]:
    """A row ready to insert ({decision_id, label 0.0 or 1.0, observed_at, model_name}), or
    RowRejected naming every problem: an unknown decision, a label other than 0, 1, true or
    false, a time before the decision's."""
    problems: list[str] = []
    decision_id = row.get("decision_id")
    if not isinstance(decision_id, str) or decision_id not in known:
        problems.append(f"no stored decision has the id {decision_id!r}"[:200])
    label = row.get("label")
    if isinstance(label, bool):
        label = int(label)
    if not isinstance(label, int | float) or label not in LABELS:
        # Monitoring reads labels as the positive class or not: a 2 would count as neither.
        problems.append(f"label must be 0 or 1 (or true or false), not {label!r}"[:200])
    observed = (parse_time(row.get("observed_at"), now, problems, "observed_at")
                if row.get("observed_at") is not None else now)
    decision = known.get(decision_id) if isinstance(decision_id, str) else None
    if decision and observed and observed < decision[1] - CLOCK_SKEW:
        # Monitoring finds a model's labels from their time: one before its decision is wrong.
        problems.append(f"observed_at {observed:%Y-%m-%d %H:%M} is before the decision was "
                        f"made ({decision[1]:%Y-%m-%d %H:%M})")
    if problems or decision is None or not isinstance(label, int | float):
        raise RowRejected("; ".join(problems))
    return {"decision_id": decision_id, "label": float(label),
            "observed_at": observed, "model_name": decision[0]}
