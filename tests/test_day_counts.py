"""Decision counts per day: kept by every write, equal to the log, and migrated from it."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select, text

from services.decisions.day_counts import DayCounts, outcome_counts, recount_days, window_days
from services.decisions.ingest import record_decisions
from services.registry.adapter import Registry
from services.store.engine import make_engine, session_scope
from services.store.migrate import upgrade
from services.store.models import AuditEvent, Decision, DecisionDay, Outcome
from tests.factories import decision_row
from tests.test_ingest import NOW, OWNER, decision

OUTCOMES = ("approved", "declined", "escalated", "error")


def _from_log(engine: Engine) -> dict[tuple[str, str, str, str], int]:
    """The counts straight from the decisions, in Python: what the rollup must equal."""
    with session_scope(engine) as session:
        rows = session.execute(select(Decision.model_name, Decision.model_version,
                                      Decision.decided_at, Decision.outcome)
                               .where(Decision.shadow.is_(False))).all()
    counted: dict[tuple[str, str, str, str], int] = {}
    for model, version, at, outcome in rows:
        key = (model, version, at.date().isoformat(), outcome)
        counted[key] = counted.get(key, 0) + 1
    return counted


def _stored(engine: Engine) -> dict[tuple[str, str, str, str], int]:
    with session_scope(engine) as session:
        return {(d.model_name, d.model_version, d.day.isoformat(), d.outcome): d.decisions
                for d in session.scalars(select(DecisionDay))}


def _traffic(count: int, offset: int = 0) -> list[dict[str, Any]]:
    return [decision(offset + n, outcome=OUTCOMES[n % 4],
                     score=None if OUTCOMES[n % 4] == "error" else 0.3 + (n % 5) / 10,
                     shadow=n % 7 == 0, decided_at=(NOW - timedelta(hours=5 * n)).isoformat())
            for n in range(count)]


def test_ingest_keeps_the_counts_equal_to_the_log_and_a_resent_batch_adds_nothing(
        engine: Engine, registry_uri: str) -> None:
    registry = Registry(registry_uri)
    record_decisions(engine=engine, registry=registry, actor=OWNER, decisions=_traffic(300))
    record_decisions(engine=engine, registry=registry, actor=OWNER,
                     decisions=_traffic(300)[::-1] + _traffic(50, offset=1000))
    assert _stored(engine) == _from_log(engine)
    assert sum(_stored(engine).values()) == sum(1 for n in range(300) if n % 7) + \
        sum(1 for n in range(50) if n % 7)


def test_a_recount_counts_what_was_written_around_the_ingest(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.execute(insert(Decision), [
            decision_row(f"x-{n}", outcome=OUTCOMES[n % 4], shadow=n % 3 == 0,
                         decided_at=datetime(2026, 11, 1 + n % 20, n % 24, 30))
            for n in range(400)])
    assert _stored(engine) == {}
    assert recount_days(engine=engine, actor=OWNER) == len(_from_log(engine))
    assert _stored(engine) == _from_log(engine)
    with session_scope(engine) as session:
        assert session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())
                              .limit(1)) == "day_counts.rebuilt"


def test_govern_db_recount_counts_the_workspace_log(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from services.cli.main import main
    from services.core.settings import Settings

    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    assert main(["db", "upgrade"]) == 0
    engine = make_engine(Settings().database_url)
    with session_scope(engine) as session:
        session.execute(insert(Decision), [decision_row(f"x-{n}") for n in range(3)])
    assert main(["db", "recount"]) == 0
    assert sum(_stored(engine).values()) == 3
    engine.dispose()


def test_the_writer_adds_to_stored_cells(engine: Engine) -> None:
    row = {"model_name": "m", "model_version": "1", "decided_at": datetime(2026, 11, 2, 9),
           "outcome": "approved"}
    for _ in range(2):
        counts = DayCounts()
        counts.add([row, row, {**row, "shadow": True}])
        with session_scope(engine) as session:
            assert counts.write(session.connection()) == 1
    with session_scope(engine) as session:
        assert outcome_counts(session.connection(), "m", date(2026, 11, 2),
                              date(2026, 11, 2)) == {"approved": 4}
        assert outcome_counts(session.connection(), "m", date(2026, 11, 3),
                              date(2026, 11, 9)) == {}


def test_a_window_is_whole_days_ending_with_the_day_of_as_of() -> None:
    assert window_days(datetime(2026, 11, 23, 10, 0), 7) == (date(2026, 11, 17),
                                                            date(2026, 11, 23))
    # A midnight as_of is the end of the day before (a backfill judges finished days).
    assert window_days(datetime(2026, 11, 23), 1) == (date(2026, 11, 22), date(2026, 11, 22))


def test_migrating_an_existing_log_counts_it_and_gives_outcomes_their_model(
        store_url: str) -> None:
    engine = make_engine(store_url)
    upgrade(engine, "0005")
    with engine.begin() as connection:
        connection.execute(insert(Decision.__table__), [  # type: ignore[arg-type]
            decision_row(f"x-{n}", model_name=("a", "b")[n % 2], outcome=OUTCOMES[n % 4],
                         shadow=n % 5 == 0, decided_at=datetime(2026, 10, 1 + n % 28, 12))
            for n in range(200)])
        connection.execute(text("INSERT INTO outcomes (decision_id, label, observed_at) "
                                "VALUES ('x-1', 1, '2026-11-01 00:00:00'), "
                                "('x-2', 0, '2026-11-01 00:00:00')"))
    upgrade(engine)
    assert _stored(engine) == _from_log(engine)
    with engine.connect() as connection:
        assert dict(connection.execute(text(
            "SELECT decision_id, model_name FROM outcomes ORDER BY decision_id")).all()) == \
            {"x-1": "b", "x-2": "a"}
        assert connection.scalar(select(func.count()).select_from(DecisionDay)) > 0
    engine.dispose()


def test_health_over_time_equals_a_scan_of_the_demo_log(demo_env: Any) -> None:
    """The screen reads day counts, outcomes and overrides; the log, scanned, says the same."""
    from services.monitoring.health import health_by_day

    engine = make_engine(demo_env.database_url)
    end = NOW.date() + timedelta(days=1)
    start = end - timedelta(days=90)
    for model in ("credit-risk", "fraud-screening"):
        with session_scope(engine) as session:
            days = health_by_day(session=session, model_name=model, start=start, end=end)
            rows = session.execute(
                select(Decision.decided_at, Decision.outcome, Decision.score, Outcome.label)
                .outerjoin(Outcome, Outcome.decision_id == Decision.decision_id)
                .where(Decision.model_name == model, Decision.shadow.is_(False))).all()
        scanned: dict[date, list[Any]] = {}
        for at, outcome, score, label in rows:
            if start <= at.date() < end:
                scanned.setdefault(at.date(), []).append((outcome, score, label))
        assert [d.day for d in days] == sorted(scanned) and len(days) > 30
        for health in days:
            day = scanned[health.day]
            labelled = [(s, label) for _, s, label in day if label is not None]
            assert health.decisions == len(day)
            assert health.escalated == sum(o in ("escalated", "error") for o, _, _ in day)
            assert health.labelled == len(labelled)
            if labelled:
                assert health.observed_rate == pytest.approx(
                    sum(label for _, label in labelled) / len(labelled))
                scored = [s for s, _ in labelled if s is not None]  # SQL's avg skips NULL
                assert health.mean_score == (pytest.approx(sum(scored) / len(scored))
                                             if scored else None)
    engine.dispose()
