"""The decision log's bulk insert: the one place that writes rows below SQLAlchemy.

Ingest must take tens of thousands of decisions a second; SQLAlchemy's per-row parameter
processing costs more than the database does. Values are written exactly as SQLAlchemy's own
types write them (tested by reading them back through the ORM), in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection

DECISION_COLUMNS = ("decision_id", "model_name", "model_version", "decided_at", "subject_ref",
                    "request_id", "features", "score", "threshold", "outcome",
                    "escalation_reason", "reason_codes", "shadow", "batch_id")


def insert_decisions(connection: Connection, rows: Sequence[dict[str, Any]],
                     batch_id: int) -> None:
    """Insert cleaned decision rows (as services.decisions.validate makes them)."""
    if not rows:  # a chunk wholly of decisions already stored: nothing to insert
        return
    if connection.dialect.name == "postgresql":
        _copy_decisions(connection, rows, batch_id)
        return
    sqlite = connection.dialect.name == "sqlite"
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    cast = "" if sqlite else "::json"  # PostgreSQL: text parameters into json columns
    marks = [f"{mark}{cast}" if c in ("features", "reason_codes") else mark
             for c in DECISION_COLUMNS]
    statement = (f"INSERT INTO decisions ({', '.join(DECISION_COLUMNS)}) "
                 f"VALUES ({', '.join(marks)})")
    dumps = _json
    parameters = [
        (row["decision_id"], row["model_name"], row["model_version"],
         _time(row["decided_at"], sqlite), row["subject_ref"], row.get("request_id"),
         dumps(row["features"]), row.get("score"), row.get("threshold"), row["outcome"],
         row.get("escalation_reason"),
         dumps(row["reason_codes"]) if row.get("reason_codes") is not None else None,
         int(bool(row.get("shadow"))) if sqlite else bool(row.get("shadow")), batch_id)
        for row in rows
    ]
    connection.exec_driver_sql(statement, parameters)


def refresh_statistics(connection: Connection) -> None:
    """Let the planner see the log's new size, so searches keep using the right index.

    Bounded on SQLite (sampled analysis); PostgreSQL's ANALYZE samples by design.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA analysis_limit=2000")
        connection.exec_driver_sql("ANALYZE decisions")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ANALYZE decisions")


def _copy_decisions(connection: Connection, rows: Sequence[dict[str, Any]],
                    batch_id: int) -> None:
    """PostgreSQL's COPY, in the caller's transaction: several times executemany's speed."""
    dumps = _json
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
            f"COPY decisions ({', '.join(DECISION_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((
                row["decision_id"], row["model_name"], row["model_version"], row["decided_at"],
                row["subject_ref"], row.get("request_id"), dumps(row["features"]),
                row.get("score"), row.get("threshold"), row["outcome"],
                row.get("escalation_reason"),
                dumps(row["reason_codes"]) if row.get("reason_codes") is not None else None,
                bool(row.get("shadow")), batch_id))


def _json(value: Any) -> str:
    # orjson: a decision's features encode several times faster than with json.dumps, and
    # NaN (never stored: validation turns it into a missing input) would become null, not NaN.
    return orjson.dumps(value).decode()


def _time(moment: datetime, sqlite: bool) -> Any:
    # SQLAlchemy's SQLite DateTime storage format ("%Y-%m-%d %H:%M:%S.%f"), without strftime's
    # format parsing per row.
    return moment.isoformat(" ", "microseconds") if sqlite else moment
