"""Getting decisions and outcomes in: good rows kept, bad rows quarantined with reasons."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from services.core.clock import utcnow
from services.core.errors import InvalidInput, PermissionDenied
from services.core.principal import Principal, Role
from services.decisions.ingest import (
    ingest_decisions_file,
    ingest_outcomes_file,
    record_decisions,
)
from services.registry.adapter import Registry
from services.store.engine import session_scope
from services.store.models import Decision, Outcome, QuarantinedRow

OWNER = Principal("svc", "Serving system", frozenset({Role.MODEL_OWNER}))
ANALYST = Principal("ana", "Analyst", frozenset({Role.ANALYST}))
NOW = utcnow().replace(microsecond=0)


def decision(n: int, **changes: Any) -> dict[str, Any]:
    row = {"decision_id": f"d-{n}", "model_name": "loan-approval", "model_version": "2",
           "decided_at": (NOW - timedelta(hours=n)).isoformat(), "subject_ref": f"S-{n}",
           "features": {"income": 50.0 + n, "debt": 10.0}, "score": 0.8, "threshold": 0.5,
           "outcome": "approved"}
    return {**row, **changes}


def _count(engine: Engine, table: Any) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def _jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def _ingest(engine: Engine, uri: str, path: Path, actor: Principal = OWNER):
    return ingest_decisions_file(engine=engine, registry=Registry(uri), actor=actor, path=path)


BAD_ROWS = [
    (decision(101, model_version="9"), "has no version 9"),
    (decision(102, features={"income": "lots", "debt": 1.0}), "income should be a number"),
    (decision(103, decided_at=(utcnow() + timedelta(days=1)).isoformat()), "in the future"),
    (decision(104, features={"income": 1.0, "debt": 1.0, "shoe_size": 9}),
     "not in the version's schema: shoe_size"),
    (decision(105, outcome="maybe"), "outcome 'maybe' is not one of"),
    ({k: v for k, v in decision(106).items() if k != "subject_ref"}, "subject_ref is missing"),
    (decision(107, score=1.7), "outside [0, 1]"),
    ("{not json", "not valid JSON"),
    ("[1, 2]", "one JSON object"),
]


def test_good_rows_are_stored_and_bad_rows_quarantined_with_reasons(
        tmp_path: Path, engine: Engine, registry_uri: str) -> None:
    rows = [decision(n) for n in range(1, 21)] + [row for row, _ in BAD_ROWS]
    report = _ingest(engine, registry_uri, _jsonl(tmp_path / "log.jsonl", rows))
    assert (report.accepted, report.quarantined) == (20, len(BAD_ROWS))
    with session_scope(engine) as session:
        reasons = list(session.scalars(select(QuarantinedRow.reason)
                                       .order_by(QuarantinedRow.row_number)))
    for reason, (_, expected) in zip(reasons, BAD_ROWS, strict=True):
        assert expected in reason
    assert _count(engine, Decision) == 20


def test_reingesting_the_same_file_changes_nothing(tmp_path: Path, engine: Engine,
                                                   registry_uri: str) -> None:
    path = _jsonl(tmp_path / "log.jsonl", [decision(n) for n in range(5)])
    first, again = _ingest(engine, registry_uri, path), _ingest(engine, registry_uri, path)
    assert first.accepted == 5 and again.already_ingested and again.batch_id == first.batch_id
    assert _count(engine, Decision) == 5


def test_the_same_id_with_other_content_is_refused_and_the_log_unchanged(
        tmp_path: Path, engine: Engine, registry_uri: str) -> None:
    _ingest(engine, registry_uri, _jsonl(tmp_path / "a.jsonl", [decision(1), decision(2)]))
    report = _ingest(engine, registry_uri, _jsonl(tmp_path / "b.jsonl", [
        decision(1), decision(2, score=0.1), decision(3)]))
    assert (report.accepted, report.duplicates, report.quarantined) == (1, 1, 1)
    with session_scope(engine) as session:
        assert session.scalar(select(Decision.score).where(Decision.decision_id == "d-2")) == 0.8


def test_csv_and_parquet_carry_features_as_columns(tmp_path: Path, engine: Engine,
                                                   registry_uri: str) -> None:
    frame = pd.DataFrame([{**{k: v for k, v in decision(n).items() if k != "features"},
                           "feature.income": 40.0 + n, "feature.debt": 9.0} for n in range(6)])
    frame.iloc[:3].to_csv(tmp_path / "log.csv", index=False)
    frame.iloc[3:].to_parquet(tmp_path / "log.parquet", index=False)
    assert _ingest(engine, registry_uri, tmp_path / "log.csv").accepted == 3
    assert _ingest(engine, registry_uri, tmp_path / "log.parquet").accepted == 3
    with session_scope(engine) as session:
        stored = session.scalar(select(Decision.features).where(Decision.decision_id == "d-4"))
    assert stored == {"income": 44.0, "debt": 9.0}


def test_a_truncated_parquet_file_is_refused_whole(tmp_path: Path, engine: Engine,
                                                   registry_uri: str) -> None:
    pd.DataFrame([{"decision_id": "x"}]).to_parquet(tmp_path / "whole.parquet")
    (tmp_path / "cut.parquet").write_bytes((tmp_path / "whole.parquet").read_bytes()[:40])
    with pytest.raises(InvalidInput, match="not a readable Parquet file"):
        _ingest(engine, registry_uri, tmp_path / "cut.parquet")
    assert _count(engine, Decision) == 0


def test_a_huge_line_and_bad_encoding_are_quarantined_not_fatal(
        tmp_path: Path, engine: Engine, registry_uri: str) -> None:
    path = _jsonl(tmp_path / "log.jsonl", [decision(1)])
    with path.open("ab") as handle:
        handle.write(b'{"decision_id": "' + b"x" * (2 << 20) + b'"}\n')
        handle.write(b'{"decision_id": "\xff"}\n')
        handle.write((json.dumps(decision(2)) + "\n").encode())
    report = _ingest(engine, registry_uri, path)
    assert (report.accepted, report.quarantined) == (2, 2)
    with session_scope(engine) as session:
        raw = session.scalar(select(func.max(func.length(QuarantinedRow.raw))))
    assert raw is not None and raw <= 10_000


def test_serving_systems_record_decisions_through_the_api(engine: Engine,
                                                          registry_uri: str) -> None:
    report = record_decisions(engine=engine, registry=Registry(registry_uri), actor=OWNER,
                              decisions=[decision(n) for n in range(3)])
    assert report.accepted == 3 and report.kind == "decisions"


def test_only_owners_and_admins_ingest(tmp_path: Path, engine: Engine,
                                       registry_uri: str) -> None:
    with pytest.raises(PermissionDenied):
        _ingest(engine, registry_uri, _jsonl(tmp_path / "a.jsonl", [decision(1)]), ANALYST)
    assert _count(engine, Decision) == 0


def test_outcomes_join_known_decisions_only(tmp_path: Path, engine: Engine,
                                            registry_uri: str) -> None:
    _ingest(engine, registry_uri, _jsonl(tmp_path / "d.jsonl", [decision(1), decision(2)]))
    path = _jsonl(tmp_path / "o.jsonl", [
        {"decision_id": "d-1", "label": 1, "observed_at": utcnow().isoformat()},
        {"decision_id": "d-2", "label": 0},
        {"decision_id": "d-404", "label": 1},
        {"decision_id": "d-1", "label": 0},
    ])
    report = ingest_outcomes_file(engine=engine, actor=OWNER, path=path)
    assert (report.accepted, report.quarantined) == (2, 2)
    assert _count(engine, Outcome) == 2
    with session_scope(engine) as session:  # each outcome knows its decision's model
        assert set(session.scalars(select(Outcome.model_name))) == {"loan-approval"}


def test_an_outcome_observed_before_its_decision_is_quarantined(
        tmp_path: Path, engine: Engine, registry_uri: str) -> None:
    _ingest(engine, registry_uri, _jsonl(tmp_path / "d.jsonl", [decision(3)]))
    early = (NOW - timedelta(hours=4)).isoformat()  # decision 3 was made 3 hours ago
    report = ingest_outcomes_file(engine=engine, actor=OWNER, path=_jsonl(
        tmp_path / "o.jsonl", [{"decision_id": "d-3", "label": 1, "observed_at": early}]))
    assert (report.accepted, report.quarantined) == (0, 1)
    assert "before the decision was made" in next(iter(report.reasons))


def test_two_ingests_of_one_file_at_once_store_it_once(tmp_path: Path, engine: Engine,
                                                       registry_uri: str) -> None:
    path = _jsonl(tmp_path / "log.jsonl", [decision(n) for n in range(200)])
    reports: list[Any] = []
    threads = [threading.Thread(target=lambda: reports.append(_ingest(engine, registry_uri,
                                                                      path))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.already_ingested for r in reports) == [False, True]
    assert _count(engine, Decision) == 200


def test_bulk_written_rows_read_back_exactly_through_the_orm(engine: Engine,
                                                             registry_uri: str) -> None:
    moment = NOW.replace(microsecond=123456)
    record_decisions(engine=engine, registry=Registry(registry_uri), actor=OWNER, decisions=[
        decision(1, decided_at=moment.isoformat(), shadow=True, reason_codes=["R1", "R7"],
                 request_id="req-1", outcome="escalated", score=None,
                 escalation_reason="missing_input",
                 features={"income": None, "debt": 3})])
    with session_scope(engine) as session:
        stored = session.scalar(select(Decision).where(Decision.decision_id == "d-1"))
        assert stored is not None
        assert stored.decided_at == moment and stored.shadow is True
        assert stored.reason_codes == ["R1", "R7"] and stored.request_id == "req-1"
        assert stored.features == {"income": None, "debt": 3.0} and stored.score is None


def test_a_chunk_of_only_stored_decisions_adds_nothing(engine: Engine,
                                                       registry_uri: str) -> None:
    from services.decisions import batches

    rows = [decision(n) for n in range(1, 4)]
    record_decisions(engine=engine, registry=Registry(registry_uri), actor=OWNER,
                     decisions=rows)
    # The same rows in another order (another batch): its one chunk is wholly duplicates.
    report = record_decisions(engine=engine, registry=Registry(registry_uri), actor=OWNER,
                              decisions=rows[::-1])
    assert not report.already_ingested
    assert (report.accepted, report.duplicates) == (0, 3)
    assert batches.CHUNK > 3 and _count(engine, Decision) == 3
