"""Files as spreadsheets and editors really write them: a byte-order mark, CRLF or CR line
endings, TRUE/FALSE, leading zeros, semicolons and decimal commas, epoch times. Each is stored
as meant or refused whole with one sentence that names the cause; cells are read by the
version's signature, never guessed."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from mlflow.models import infer_signature
from sqlalchemy import Engine, select

from services.cli.main import main as govern
from services.core.clock import utcnow
from services.core.errors import InvalidInput
from services.core.principal import Principal, Role
from services.decisions.ingest import ingest_decisions_file, ingest_outcomes_file
from services.decisions.ingest_report import reason_kind
from services.registry.adapter import Registry
from services.store.engine import session_scope
from services.store.models import Decision, Outcome, QuarantinedRow

OWNER = Principal("svc", "Serving system", frozenset({Role.MODEL_OWNER}))
MODEL = "scorecard "  # registered with its trailing space, as a new user's model was
NOW = utcnow().replace(microsecond=0)
HEADER = ["decision_id", "model_name", "model_version", "decided_at", "subject_ref", "score",
          "threshold", "outcome", "feature.amount", "feature.age", "feature.postcode",
          "feature.owner"]


class _Constant(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
    def predict(self, context: Any, model_input: pd.DataFrame) -> list[float]:
        return [0.5] * len(model_input)


@pytest.fixture(scope="module")
def scorecard_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A registry holding `scorecard ` v1: amount (double), age (long), postcode (string),
    owner (boolean)."""
    folder = tmp_path_factory.mktemp("scorecard")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = mlflow.MlflowClient(uri, uri)
    experiment = client.create_experiment("s", artifact_location=(folder / "a").as_uri())
    example = pd.DataFrame({"amount": [1200.5], "age": pd.Series([41], dtype="int64"),
                            "postcode": ["02134"], "owner": [True]})
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    with mlflow.start_run(experiment_id=experiment):
        mlflow.pyfunc.log_model(name="model", python_model=_Constant(),
                                signature=infer_signature(example),
                                registered_model_name=MODEL, pip_requirements=[])
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        os.environ.pop(name, None)
    yield uri


def _row(n: int, *, amount: str = "1200.5", age: str = "41", postcode: str = "02134",
         owner: str = "TRUE", score: str = "0.82", decided_at: str | None = None,
         model: str = MODEL) -> list[str]:
    at = decided_at or (NOW - timedelta(hours=n)).isoformat()
    return [f"d-{n}", model, "1", at, f"S-{n}", score, "0.5", "approved", amount, age,
            postcode, owner]


def _csv(path: Path, rows: list[list[str]], *, separator: str = ",", ending: str = "\r\n",
         bom: bool = True) -> Path:
    lines = [separator.join(HEADER)] + [separator.join(row) for row in rows]
    path.write_bytes((("\ufeff" if bom else "") + ending.join(lines) + ending).encode())
    return path


def _ingest(engine: Engine, uri: str, path: Path) -> Any:
    return ingest_decisions_file(engine=engine, registry=Registry(uri), actor=OWNER, path=path)


def _features(engine: Engine) -> dict[str, dict[str, Any]]:
    with session_scope(engine) as session:
        rows = session.execute(select(Decision.decision_id, Decision.features)).all()
        return {row.decision_id: row.features for row in rows}


def _reasons(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return list(session.scalars(select(QuarantinedRow.reason)
                                    .order_by(QuarantinedRow.row_number)))


def test_a_csv_utf8_export_with_bom_and_crlf_stores_every_good_row(
        tmp_path: Path, engine: Engine, scorecard_uri: str) -> None:
    report = _ingest(engine, scorecard_uri, _csv(tmp_path / "log.csv",
                                                 [_row(n) for n in range(1, 4)]))
    assert (report.accepted, report.quarantined) == (3, 0)


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
@pytest.mark.parametrize("bom", [True, False], ids=["bom", "no-bom"])
def test_jsonl_is_read_with_or_without_a_bom_and_any_line_ending(
        tmp_path: Path, engine: Engine, scorecard_uri: str, ending: str, bom: bool) -> None:
    rows = [{"decision_id": f"d-{n}", "model_name": MODEL, "model_version": "1",
             "decided_at": (NOW - timedelta(hours=n)).isoformat(), "subject_ref": f"S-{n}",
             "features": {"amount": 10.0, "age": 30, "postcode": "02134", "owner": False},
             "score": 0.4, "threshold": 0.5, "outcome": "declined"} for n in range(1, 4)]
    path = tmp_path / "log.jsonl"
    path.write_bytes((("\ufeff" if bom else "") + ending.join(map(json.dumps, rows))
                      + ending).encode())
    report = _ingest(engine, scorecard_uri, path)
    assert (report.accepted, report.quarantined) == (3, 0)


@pytest.mark.parametrize(("owner", "expected"), [
    ("TRUE", True), ("true", True), ("1", True), ("yes", True), ("Y", True),
    ("FALSE", False), ("false", False), ("0", False), ("no", False), ("", None)])
def test_csv_booleans_are_read_in_their_usual_spellings(
        tmp_path: Path, engine: Engine, scorecard_uri: str, owner: str,
        expected: bool | None) -> None:
    report = _ingest(engine, scorecard_uri, _csv(tmp_path / "log.csv", [_row(1, owner=owner)]))
    assert report.accepted == 1
    assert _features(engine)["d-1"]["owner"] is expected


def test_csv_text_inputs_keep_leading_zeros_and_numbers_follow_the_signature(
        tmp_path: Path, engine: Engine, scorecard_uri: str) -> None:
    _ingest(engine, scorecard_uri, _csv(tmp_path / "log.csv", [
        _row(1, postcode="02134", age="41", amount="1200"),
        _row(2, postcode="00501", age="007", amount="-3.25")]))
    assert _features(engine) == {
        "d-1": {"amount": 1200.0, "age": 41.0, "postcode": "02134", "owner": True},
        "d-2": {"amount": -3.25, "age": 7.0, "postcode": "00501", "owner": True}}


def test_a_semicolon_export_with_decimal_commas_is_read_as_written(
        tmp_path: Path, engine: Engine, scorecard_uri: str) -> None:
    report = _ingest(engine, scorecard_uri, _csv(
        tmp_path / "eu.csv", [_row(1, amount="1200,5", score="0,82")], separator=";"))
    assert (report.accepted, report.quarantined) == (1, 0)
    with session_scope(engine) as session:
        stored = session.scalar(select(Decision))
        assert stored is not None and stored.score == 0.82
        assert stored.features["amount"] == 1200.5 and stored.features["postcode"] == "02134"


def test_decimal_commas_in_a_comma_separated_file_refuse_it_whole_naming_the_separator(
        tmp_path: Path, engine: Engine, scorecard_uri: str) -> None:
    path = _csv(tmp_path / "split.csv", [_row(n, score="0,82", amount="1200,5")
                                         for n in range(1, 5)])
    with pytest.raises(InvalidInput, match=r"separated by commas \(,\).*decimal commas") as info:
        _ingest(engine, scorecard_uri, path)
    assert "semicolons (;)" in info.value.hint
    assert _features(engine) == {} and _reasons(engine) == []


@pytest.mark.parametrize("unit", [1, 1000], ids=["epoch-seconds", "epoch-milliseconds"])
def test_epoch_times_are_decision_times(tmp_path: Path, engine: Engine, scorecard_uri: str,
                                        unit: int) -> None:
    moment = NOW - timedelta(hours=2)
    epoch = int(moment.replace(tzinfo=UTC).timestamp()) * unit
    _csv(tmp_path / "log.csv", [_row(1, decided_at=str(epoch))])
    row = {"decision_id": "d-2", "model_name": MODEL, "model_version": "1", "decided_at": epoch,
           "subject_ref": "S-2", "score": 0.3, "threshold": 0.5, "outcome": "declined",
           "features": {"amount": 1.0, "age": 2, "postcode": "1", "owner": True}}
    (tmp_path / "log.jsonl").write_text(json.dumps(row) + "\n")
    assert _ingest(engine, scorecard_uri, tmp_path / "log.csv").accepted == 1
    assert _ingest(engine, scorecard_uri, tmp_path / "log.jsonl").accepted == 1
    with session_scope(engine) as session:
        assert set(session.scalars(select(Decision.decided_at))) == {moment}


def test_the_model_name_is_matched_exactly_as_registered(tmp_path: Path, engine: Engine,
                                                         scorecard_uri: str) -> None:
    report = _ingest(engine, scorecard_uri, _csv(tmp_path / "log.csv", [
        _row(1), _row(2, model="scorecard")]))
    assert (report.accepted, report.quarantined) == (1, 1)
    assert "model 'scorecard' has no version 1" in _reasons(engine)[0]


@pytest.mark.parametrize(("cells", "reason"), [
    ({"age": "41.5"}, "feature age should be a whole number (its signature type is long), "
                      "not 41.5"),
    ({"owner": "maybe"}, "feature owner should be true or false, not 'maybe'"),
    ({"amount": "lots"}, "feature amount should be a number, not 'lots'"),
    ({"decided_at": "17"}, "decided_at '17' is not an ISO 8601 time"),
])
def test_a_cell_that_does_not_read_is_quarantined_with_a_specific_reason(
        tmp_path: Path, engine: Engine, scorecard_uri: str, cells: dict[str, str],
        reason: str) -> None:
    report = _ingest(engine, scorecard_uri, _csv(tmp_path / "log.csv", [_row(1, **cells),
                                                                        _row(2)]))
    assert (report.accepted, report.quarantined) == (1, 1)
    assert _reasons(engine) == [reason]


def test_a_fractional_value_for_an_integer_input_is_quarantined_from_json_too(
        tmp_path: Path, engine: Engine, scorecard_uri: str) -> None:
    row = {"decision_id": "d-1", "model_name": MODEL, "model_version": "1",
           "decided_at": NOW.isoformat(), "subject_ref": "S-1", "score": 0.3,
           "threshold": 0.5, "outcome": "declined",
           "features": {"amount": 1.0, "age": 2.5, "postcode": "1", "owner": True}}
    (tmp_path / "log.jsonl").write_text(json.dumps(row) + "\n")
    assert _ingest(engine, scorecard_uri, tmp_path / "log.jsonl").quarantined == 1
    assert "age should be a whole number" in _reasons(engine)[0]


def test_outcome_labels_are_zero_one_or_booleans(tmp_path: Path, engine: Engine,
                                                 scorecard_uri: str) -> None:
    _ingest(engine, scorecard_uri, _csv(tmp_path / "log.csv", [_row(n) for n in range(1, 6)]))
    (tmp_path / "o.csv").write_bytes(
        "\ufeffdecision_id;label\r\nd-1;TRUE\r\nd-2;0\r\nd-3;2\r\nd-4;1,0\r\nd-5;maybe\r\n"
        .encode())
    report = ingest_outcomes_file(engine=engine, actor=OWNER, path=tmp_path / "o.csv")
    assert (report.accepted, report.quarantined) == (3, 2)
    with session_scope(engine) as session:
        labels = {row.decision_id: row.label for row in session.execute(
            select(Outcome.decision_id, Outcome.label))}
    assert labels == {"d-1": 1.0, "d-2": 0.0, "d-4": 1.0}
    assert _reasons(engine) == ["label must be 0 or 1 (or true or false), not 2.0",
                                "label must be 0 or 1 (or true or false), not 'maybe'"]


def test_govern_ingest_fails_when_every_row_was_quarantined(
        tmp_path: Path, engine: Engine, scorecard_uri: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the command's store is the test's SQLite file")
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", engine.url.render_as_string(False))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", scorecard_uri)
    bad = _csv(tmp_path / "bad.csv", [_row(n, owner="maybe") for n in range(1, 3)])
    good = _csv(tmp_path / "good.csv", [_row(3)])
    assert govern(["ingest", "decisions", str(bad)]) == 1
    assert "every one of its 2 rows was quarantined" in capsys.readouterr().err
    assert govern(["ingest", "decisions", str(good)]) == 0


def test_a_long_reason_is_summarised_at_a_word_boundary() -> None:
    words = ["income", "debt", "tenure", "purpose", "housing", "savings", "employment"] * 4
    reason = "features the version needs are absent: " + ", ".join(words)
    summary = reason_kind(reason)
    assert len(summary) <= 92 and summary.endswith(" …")
    kept = summary.removesuffix(" …")
    assert reason.startswith(kept) and reason[len(kept)] == " "  # whole words, then …
