"""The one canonical JSON form every hash is taken over, and records written before it."""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from services.audit.trail import verify_chain
from services.core.canonical import canonical_json, sha256_of
from services.evidence.records import evidence_history
from services.store.engine import make_engine, session_scope
from services.store.migrate import upgrade
from services.store.models import AuditEvent, Evidence

LEGACY_DUMP = Path(__file__).parent / "data" / "store_at_0007.sql"


class Colour(StrEnum):
    RED = "red"


def test_canonical_json_bytes_are_pinned() -> None:
    value = {"b": [1, 2.5, None, True], "a": "Ünal — «ok»", "t": datetime(2026, 4, 17, 9, 30,
             tzinfo=UTC), "d": date(2026, 4, 17), "e": Colour.RED, "n": np.int64(3),
             "f": np.float64(0.25), "s": {"y", "x"}, "z": {"k": 1, "j": {}}}
    assert canonical_json(value) == (
        '{"a":"Ünal — «ok»","b":[1,2.5,null,true],"d":"2026-04-17","e":"red","f":0.25,'
        '"n":3,"s":["x","y"],"t":"2026-04-17T09:30:00.000000+00:00","z":{"j":{},"k":1}}')
    assert sha256_of({"a": 1}) == \
        "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, [1.0, math.nan]])
def test_canonical_json_refuses_numbers_json_lacks(bad: object) -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": bad})


def test_canonical_json_refuses_types_without_an_encoder() -> None:
    with pytest.raises(TypeError, match="no encoder for object"):
        canonical_json({"x": object()})


@pytest.fixture
def legacy_store(tmp_path: Path) -> str:
    """A store written by the code before the house move (commit 68e7c5a), migrated to head."""
    path = tmp_path / "legacy.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(LEGACY_DUMP.read_text())
    url = f"sqlite:///{path}"
    upgrade(make_engine(url))
    return url


def test_audit_chain_written_before_the_change_still_verifies(legacy_store: str) -> None:
    with session_scope(make_engine(legacy_store)) as session:
        verdict = verify_chain(session=session)
        actions = set(session.scalars(select(AuditEvent.action)))
    assert verdict.intact, verdict.problem
    assert verdict.events == 15
    # Names written by the old f-string stay as they were written: the hash covers them.
    assert {"promotion.rejectd", "evidence.recorded", "decision.overridden"} <= actions


def test_evidence_written_before_the_change_still_hashes_the_same(legacy_store: str) -> None:
    with session_scope(make_engine(legacy_store)) as session:
        records = [r for version in ("1", "2")
                   for r in evidence_history(session=session, model_name="loan-approval",
                                             model_version=version)]
        stored = session.scalars(select(Evidence)).all()
    assert len(records) == len(stored) == 6
    assert all(r.intact for r in records)
