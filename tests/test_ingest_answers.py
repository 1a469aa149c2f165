"""What ingest answers a new user: malformed batch elements quarantined (never a crash), a
failed-closed decision stored for a person whatever its inputs, integers kept integers, and
which rows were quarantined said by row number and id, from every door."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from services.cli.main import main
from services.core.clock import utcnow
from services.core.principal import Principal, Role
from services.decisions.case_file import case_file
from services.decisions.cells import TextCells
from services.decisions.client import DecisionLog, service_principal
from services.decisions.daily_profiles import SensitiveInput
from services.decisions.ingest import record_decisions, record_outcomes
from services.decisions.quarantine import batch_quarantine
from services.decisions.validate import NOTE, RowRejected, clean_decision
from services.decisions.why import explain_case, prepare_explainer
from services.registry.adapter import Registry
from services.store.engine import session_scope
from services.store.models import AuditEvent, Decision

OWNER = Principal("svc", "Serving system", frozenset({Role.MODEL_OWNER}))
NOW = utcnow().replace(microsecond=0)
NOT_OBJECTS = [7, 1.5, "not a record", None, [1, 2], [], True, [{"decision_id": "x"}]]
MIXED = {"age": "long", "income": "double", "member": "boolean", "postcode": "string"}


def decision(n: str, **changes: Any) -> dict[str, Any]:
    row = {"decision_id": n, "model_name": "loan-approval", "model_version": "2",
           "decided_at": (NOW - timedelta(minutes=3)).isoformat(), "subject_ref": f"S-{n}",
           "features": {"income": 52.5, "debt": 10.0}, "score": 0.8, "threshold": 0.5,
           "outcome": "approved"}
    return {**row, **changes}


def _mixed_schema(model: str, version: str) -> dict[str, str] | None:
    return MIXED if (model, version) == ("mixed", "1") else None


def _stored(engine: Engine, decision_id: str) -> Decision | None:
    with session_scope(engine) as session:
        return session.scalar(select(Decision).where(Decision.decision_id == decision_id))


@pytest.mark.parametrize("element", NOT_OBJECTS, ids=repr)
def test_a_batch_element_that_is_not_an_object_is_quarantined_with_its_kind(
        engine: Engine, registry_uri: str, element: Any) -> None:
    report = record_decisions(engine=engine, registry=Registry(registry_uri), actor=OWNER,
                              decisions=[decision("ok-1"), element], per_row=True)
    assert (report.accepted, report.quarantined) == (1, 1)
    bad = report.rows[1]
    assert (bad.row, bad.status) == (2, "quarantined")
    assert bad.reason is not None and "a record must be a JSON object, not" in bad.reason
    outcomes = record_outcomes(engine=engine, actor=OWNER, per_row=True,
                               outcomes=[{"decision_id": "ok-1", "label": 1}, element])
    assert (outcomes.accepted, outcomes.quarantined) == (1, 1)
    assert outcomes.problems[0].row == 2


@pytest.mark.parametrize(("outcome", "features", "wrong"), [
    ("escalated", {"income": 52.5, "debt": "no"}, "debt should be a number"),
    ("error", {"income": [1, 2], "debt": 1.0}, "income should be a number"),
    ("error", {"income": 1.0}, "absent: debt"),
    ("escalated", {"income": 1.0, "debt": 2.0, "shoe_size": 44}, "not in the version's schema"),
    ("error", "not an object", "features must be an object"),
])
def test_a_failed_closed_decision_is_stored_with_its_inputs_as_received_and_a_note(
        engine: Engine, registry_uri: str, outcome: str, features: Any, wrong: str) -> None:
    row = decision(f"fc-{outcome}-{len(wrong)}", outcome=outcome, features=features, score=None,
                   escalation_reason="error" if outcome == "error" else "missing_input")
    report = record_decisions(engine=engine, registry=Registry(registry_uri), actor=OWNER,
                              decisions=[row])
    assert (report.accepted, report.quarantined, report.noted) == (1, 0, 1)
    assert report.problems[0].note is not None and wrong in report.problems[0].note
    stored = _stored(engine, row["decision_id"])
    assert stored is not None
    assert stored.features == (features if isinstance(features, dict) else {})


def test_the_same_inputs_on_an_automatic_decision_are_still_quarantined(
        engine: Engine, registry_uri: str) -> None:
    row = decision("auto-1", features={"income": 52.5, "debt": "no"})
    report = record_decisions(engine=engine, registry=Registry(registry_uri), actor=OWNER,
                              decisions=[row])
    assert (report.accepted, report.quarantined) == (0, 1)
    assert "debt should be a number" in (report.problems[0].reason or "")


@pytest.mark.parametrize(("change", "reason"), [
    ({"decision_id": None}, "decision_id is missing"),
    ({"model_version": "9"}, "has no version 9"),
    ({"decided_at": None}, "decided_at is missing"),
])
def test_a_failed_closed_decision_without_id_version_or_time_is_still_quarantined(
        change: dict[str, Any], reason: str) -> None:
    row = decision("fc-x", outcome="escalated", score=None,
                   features={"income": "x", "debt": 1.0}, **change)
    with pytest.raises(RowRejected, match=reason):
        clean_decision(row, lambda m, v: {"income": "double", "debt": "double"}
                       if v == "2" else None, NOW)


def test_an_automatic_decision_with_a_missing_input_is_stored_with_a_note() -> None:
    row = decision("miss-1", features={"income": None, "debt": 1.0})
    clean = clean_decision(row, lambda m, v: {"income": "double", "debt": "double"}, NOW)
    assert "approved automatically with input(s) missing: income" in clean[NOTE]


def test_the_case_file_of_a_failed_closed_decision_says_why_it_cannot_be_replayed(
        engine: Engine, registry_uri: str) -> None:
    row = decision("fc-case", outcome="error", score=0.4, escalation_reason="error",
                   features={"income": "fifty", "debt": 1.0})
    record_decisions(engine=engine, registry=Registry(registry_uri), actor=OWNER,
                     decisions=[row])
    with session_scope(engine) as session:
        file = case_file(session=session, decision_id="fc-case")
    explainer = prepare_explainer(registry=Registry(registry_uri), model_name="loan-approval",
                                  version="2")
    said = explain_case(file, explainer)
    assert said.replay is None and said.explanation is None
    assert said.replay_problem and "do not fit the version's signature" in said.replay_problem
    assert said.shown_inputs["income"].startswith("'fifty' (as received")


def test_a_banded_sensitive_input_received_as_text_counts_as_missing() -> None:
    assert SensitiveInput("age", (25.0, 40.0)).group("forty") == \
        SensitiveInput("age", (25.0, 40.0)).group(None)


@pytest.mark.parametrize("age", [41, 41.0, TextCells({"age": "41"}, decimal_comma=False)])
def test_an_integer_input_is_stored_as_an_integer_from_every_door(
        engine: Engine, registry_uri: str, age: Any) -> None:
    features: Any = age if isinstance(age, TextCells) else {"age": age}
    if isinstance(age, TextCells):
        features = TextCells({"age": "41", "income": "52,5", "member": "TRUE",
                              "postcode": "02134"}, decimal_comma=True)
    else:
        features = {**features, "income": 52.5, "member": True, "postcode": "02134"}
    row = decision(f"int-{type(age).__name__}", model_name="mixed", model_version="1",
                   features=features)
    report = record_decisions(engine=engine, registry=Registry(registry_uri),
                              actor=OWNER, decisions=[row], schema_of=_mixed_schema)
    assert report.accepted == 1, report.problems
    stored = _stored(engine, row["decision_id"])
    assert stored is not None
    assert stored.features == {"age": 41, "income": 52.5, "member": True, "postcode": "02134"}
    assert type(stored.features["age"]) is int


@pytest.mark.parametrize("age", [2**63, 41.5, "41"])
def test_an_integer_input_out_of_range_or_fractional_is_quarantined(
        engine: Engine, registry_uri: str, age: Any) -> None:
    row = decision("int-bad", model_name="mixed", model_version="1",
                   features={"age": age, "income": 1.0, "member": False, "postcode": "1"})
    report = record_decisions(engine=engine, registry=Registry(registry_uri),
                              actor=OWNER, decisions=[row], schema_of=_mixed_schema)
    assert report.quarantined == 1 and "age" in (report.problems[0].reason or "")


def test_the_client_answers_row_by_row_and_names_the_model_in_the_audit_event(
        engine: Engine, registry_uri: str) -> None:
    log = DecisionLog(engine=engine, registry=Registry(registry_uri),
                      actor=service_principal("loan-server"))
    report = log.record_decisions([decision("c-1"), decision("c-2", score=2.0)])
    assert [(r.row, r.decision_id, r.status) for r in report.rows] == [
        (1, "c-1", "stored"), (2, "c-2", "quarantined")]
    assert report.problems[0].reason is not None and "score 2.0" in report.problems[0].reason
    with session_scope(engine) as session:
        event = session.scalar(select(AuditEvent).where(
            AuditEvent.subject_id == str(report.batch_id)))
        assert event is not None and event.model_name == "loan-approval"
        listed = batch_quarantine(session=session, actor=OWNER, batch_id=report.batch_id)
    assert [(r.row, r.decision_id) for r in listed.rows] == [(2, "c-2")]


@pytest.fixture
def workspace(store_url: str, engine: Engine, registry_uri: str,
              monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", store_url)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry_uri)
    return tmp_path


def test_govern_ingest_names_quarantined_rows_by_number_and_id_then_lists_them_again(
        workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [decision(f"cli-{n}") for n in range(3)] + [
        decision("cli-bad-1", features={"income": "lots", "debt": 1.0}),
        decision("cli-bad-2", outcome="maybe")]
    path = workspace / "d.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert main(["ingest", "decisions", str(path)]) == 0
    said = capsys.readouterr().out
    assert "row 4 (cli-bad-1): feature income should be a number, not 'lots'" in said
    assert "row 5 (cli-bad-2): outcome 'maybe' is not one of" in said
    assert "…" not in said.split("quarantined (")[0]
    assert main(["ingest", "decisions", str(path)]) == 0
    again = capsys.readouterr().out
    assert "already ingested as batch #" in again and "govern ingest quarantine" in again
    assert main(["ingest", "quarantine", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["row"], r["decision_id"]) for r in listed["rows"]] == [
        (4, "cli-bad-1"), (5, "cli-bad-2")]


def test_govern_ingest_json_lists_the_quarantined_rows(
        workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = workspace / "d.jsonl"
    path.write_text(json.dumps(decision("j-1")) + "\n" + json.dumps(decision("j-2", score=3))
                    + "\n")
    assert main(["ingest", "decisions", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [(r["row"], r["decision_id"], r["status"]) for r in report["rows"]] == [
        (2, "j-2", "quarantined")]


def test_govern_ingest_outcomes_counts_the_rows_quarantined_in_its_progress(
        workspace: Path, engine: Engine, registry_uri: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    record_decisions(engine=engine, registry=Registry(registry_uri), actor=OWNER,
                     decisions=[decision(f"o-{n}") for n in range(3)])
    path = workspace / "o.csv"
    path.write_text("decision_id,label\no-0,1\no-1,0\no-2,TRUE\nnope,1\no-0,2\nnope-2,x\n")
    assert main(["ingest", "outcomes", str(path)]) == 0
    said = capsys.readouterr().out
    assert "Stored 3 of the 3 good outcomes (3 of 6 rows quarantined)" in said
    assert "label must be 0 or 1 (or true or false), not 2.0" in said
    assert "… or …" not in said


@pytest.mark.parametrize(("scores", "warned"), [
    ([1.0, 0.0, 1.0], True), ([1.0], True), ([1.0, 0.93, 0.0], False), ([None], False)])
def test_a_batch_whose_every_score_is_0_or_1_is_warned_as_a_class_logged_as_a_score(
        engine: Engine, registry_uri: str, scores: list[float | None], warned: bool) -> None:
    rows = [decision(f"w-{i}", score=s, **({} if s is not None else {
        "outcome": "escalated", "escalation_reason": "error"})) for i, s in enumerate(scores)]
    report = record_decisions(engine=engine, registry=Registry(registry_uri), actor=OWNER,
                              decisions=rows)
    assert report.accepted == len(rows)
    assert bool(report.warnings) is warned
    assert not warned or "instead of the probability" in report.warnings[0]


def test_a_revoked_token_name_is_refused_saying_names_are_never_reused_and_offering_one(
        engine: Engine) -> None:
    from services.core.errors import InvalidInput
    from services.governance.tokens import create_token, list_tokens, revoke_token

    admin = Principal("cli:test", "Operator", frozenset({Role.ADMIN}))
    roles = frozenset({Role.INGEST})
    create_token(engine=engine, actor=admin, name="scorer", roles=roles)
    with pytest.raises(InvalidInput, match="already an active token 'scorer'"):
        create_token(engine=engine, actor=admin, name="scorer", roles=roles)
    revoke_token(engine=engine, actor=admin, name="scorer")
    with pytest.raises(InvalidInput, match="never used again") as refused:
        create_token(engine=engine, actor=admin, name="scorer", roles=roles)
    assert "'scorer-2'" in refused.value.hint
    create_token(engine=engine, actor=admin, name="scorer-2", roles=roles)
    assert [(t.name, t.active) for t in list_tokens(engine=engine, actor=admin)] == [
        ("scorer", False), ("scorer-2", True)]


def test_govern_models_on_a_store_without_its_schema_says_to_run_db_upgrade(
        store_url: str, registry_uri: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    monkeypatch.setenv("GOVERNANCE_DATABASE_URL", store_url)  # never upgraded
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry_uri)
    assert main(["models", "--json"]) == 0
    said = capsys.readouterr()
    assert "loan-approval" in said.out and "Run `govern db upgrade`" in said.err


def test_govern_api_on_a_port_in_use_says_so_and_exits_3(
        workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["api", "--port", str(port)]) == 3
    said = capsys.readouterr()
    assert "Ingest API on" not in said.out
    assert f"cannot listen on 127.0.0.1:{port}" in said.err and "--port" in said.err
