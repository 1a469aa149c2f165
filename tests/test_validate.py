"""The usual-row fast path cleans a row exactly as the full check does, or leaves it to it."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.decisions.validate import RowRejected, _checked, _usual, clean_decision

SCHEMA = {"amount": "double", "age": "long", "purpose": "string", "owner": "boolean"}
NOW = datetime(2026, 11, 23, 12, 0, 0)


def schema_of(model: str, version: str) -> dict[str, str] | None:
    return SCHEMA if (model, version) == ("credit-risk", "2") else None


def _good(i: int) -> dict[str, Any]:
    return {"decision_id": f"d-{i}", "model_name": "credit-risk", "model_version": "2",
            "decided_at": (NOW - timedelta(hours=i)).isoformat(), "subject_ref": f"S-{i}",
            "features": {"amount": 1200.5, "age": 41.0, "purpose": "car", "owner": True},
            "score": 0.42, "threshold": 0.5, "outcome": "declined"}


# Each perturbation is a value a serving system might really send.
ODD_VALUES: dict[str, list[Any]] = {
    "decision_id": [None, "", "  d-1 ", "x" * 129, 7, "d\u00e9-1"],
    "model_name": ["unknown", "credit-risk ", None, 3],
    "model_version": [2, "9", "2.0", None, True],
    "subject_ref": ["", " S", None, "S" * 128],
    "decided_at": [None, "yesterday", "2026-11-23T11:00:00Z", "2026-11-23T13:00:00+02:00",
                   (NOW + timedelta(days=1)).isoformat(), NOW, 17, "2026-11-23"],
    "request_id": [None, "", "r-1", "r" * 129, 5],
    "escalation_reason": [None, "", "low_confidence", 1],
    "score": [None, "", 0, 1, 1.0, 0.0, -0.1, 1.5, math.nan, math.inf, True, "0.4"],
    "threshold": [None, "", 0.5, 1, math.nan, "x"],
    "outcome": ["approved", "escalated", "error", "maybe", None],
    "reason_codes": [None, [], ["R1", "R2"], ["R1", 2], "R1"],
    "shadow": [None, True, False, 0, 1, "yes"],
    "features": [None, {}, [], {"amount": 1.0}, {"amount": "1", "age": 3, "purpose": "car",
                                                 "owner": False},
                 {"amount": math.nan, "age": None, "purpose": None, "owner": None},
                 {"amount": 1.0, "age": 2.5, "purpose": "car", "owner": True, "extra": 1},
                 {"amount": True, "age": 1, "purpose": 3, "owner": "no"}],
}


def _outcome(check: Any, row: dict[str, Any]) -> Any:
    try:
        return check(row, schema_of, NOW)
    except RowRejected as exc:
        return ("rejected", str(exc))


@pytest.mark.parametrize("seed", range(4))
def test_the_fast_path_cleans_as_the_full_check_or_defers_to_it(seed: int) -> None:
    rng = random.Random(seed)
    fast = 0
    for i in range(3000):
        row = _good(i)
        for field in rng.sample(sorted(ODD_VALUES), rng.choice((0, 0, 1, 2))):
            if rng.random() < 0.1:
                row.pop(field, None)
            else:
                row[field] = rng.choice(ODD_VALUES[field])
        usual = _usual(row, schema_of, NOW)
        if usual is not None:
            fast += 1
            assert usual == _checked(row, schema_of, NOW), row
        assert _outcome(clean_decision, row) == _outcome(_checked, row), row
    assert fast > 1000  # the usual rows did take the fast path


def test_a_zoned_time_is_stored_as_naive_utc_on_either_path() -> None:
    row = {**_good(1), "decided_at": "2026-11-23T13:00:00+02:00"}
    assert clean_decision(row, schema_of, NOW)["decided_at"] == datetime(2026, 11, 23, 11, 0)
    aware = {**_good(1), "decided_at": datetime(2026, 11, 23, 11, 0, tzinfo=UTC)}
    assert clean_decision(aware, schema_of, NOW)["decided_at"] == datetime(2026, 11, 23, 11, 0)


def test_the_features_fast_check_agrees_with_the_one_by_one_check() -> None:
    from services.decisions.validate import _features, _features_one_by_one, _plan

    plan = _plan(SCHEMA)
    for features in ODD_VALUES["features"] + [_good(0)["features"]]:
        if not isinstance(features, dict):
            continue
        fast_problems: list[str] = []
        slow_problems: list[str] = []
        assert _features(features, SCHEMA, fast_problems) == \
            _features_one_by_one(features, SCHEMA, plan, slow_problems)
        assert fast_problems == slow_problems


def test_a_version_without_a_signature_is_refused_saying_what_to_do() -> None:
    def unsigned(model: str, version: str) -> dict[str, str] | None:
        return {} if (model, version) == ("credit-risk", "2") else None

    with pytest.raises(RowRejected, match="has no input signature, so its inputs cannot be "
                                          "checked: log the model with signature="):
        clean_decision(_good(1), unsigned, NOW)
