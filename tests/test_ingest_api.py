"""The ingest API as a serving system meets it: a real `govern api` on a free port, over a real
store (SQLite and PostgreSQL) and a real MLflow registry.

One server per backend serves this module's tests; each test uses decision ids of its own and
counts only those, so none depends on another's writes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, func, select, text

from services.audit.trail import verify_chain
from services.core.clock import utcnow
from services.core.principal import Principal, Role
from services.decisions.ingest import ingest_decisions_file
from services.governance.tokens import create_token, revoke_token
from services.registry.adapter import Registry
from services.store.engine import make_engine, session_scope
from services.store.migrate import upgrade
from services.store.models import AuditEvent, Decision, QuarantinedRow
from tests.conftest import POSTGRES_URL
from tests.servers import start_server, stop_server

ROOT = Path(__file__).parents[1]
ADMIN = Principal("cli:test", "Test operator", frozenset({Role.ADMIN}))
OWNER = Principal("owner", "Owner", frozenset({Role.MODEL_OWNER}))
NOW = utcnow().replace(microsecond=0)
LIMIT_MB = 0.25  # the server's body limit in these tests: 262,144 bytes


@dataclass(frozen=True)
class Api:
    url: str
    engine: Engine
    registry_uri: str
    token: str  # an active ingest token named "scorer"

    def post(self, path: str, body: Any, token: str | None = None, **kwargs: Any
             ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.post(f"{self.url}{path}", content=content, timeout=60,
                          headers={**headers, "Content-Type": "application/json"}, **kwargs)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
        registry_uri: str) -> Iterator[Api]:
    folder = tmp_path_factory.mktemp("api")
    url, schema = f"sqlite:///{folder / 'governance.db'}", None
    if request.param == "postgres":
        if not POSTGRES_URL:
            pytest.skip("GOVERNANCE_TEST_POSTGRES_URL is not set")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT").connect() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    upgrade(engine)
    _record, token = create_token(engine=engine, actor=ADMIN, name="scorer",
                                  roles=frozenset({Role.INGEST}))
    env = {**os.environ, "GOVERNANCE_HOME": str(folder), "GOVERNANCE_DATABASE_URL": url,
           "MLFLOW_TRACKING_URI": registry_uri, "GOVERNANCE_API_MAX_BODY_MB": str(LIMIT_MB)}
    server, port = start_server(
        lambda port: [sys.executable, "-m", "services.cli.main", "api", "--port", str(port)],
        log=folder / "api.log", health=lambda port: f"http://127.0.0.1:{port}/health",
        what="govern api", env=env, cwd=ROOT)
    try:
        yield Api(f"http://127.0.0.1:{port}", engine, registry_uri, token)
    finally:
        stop_server(server)
        engine.dispose()
        if schema:
            with create_engine(POSTGRES_URL or "", isolation_level="AUTOCOMMIT").connect() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def decision(decision_id: str, **changes: Any) -> dict[str, Any]:
    row = {"decision_id": decision_id, "model_name": "loan-approval", "model_version": "2",
           "decided_at": (NOW - timedelta(minutes=5)).isoformat(), "subject_ref": "S-1",
           "features": {"income": 52.5, "debt": 10.0}, "score": 0.8, "threshold": 0.5,
           "outcome": "approved"}
    return {**row, **changes}


def _ids(prefix: str, n: int) -> list[str]:
    return [f"{prefix}-{i}" for i in range(n)]


def _stored(engine: Engine, prefix: str) -> list[Decision]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Decision).where(
            Decision.decision_id.like(f"{prefix}-%")).order_by(Decision.decision_id)))


def _events(engine: Engine) -> int:
    with session_scope(engine) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_health_and_the_openapi_docs_answer(api: Api) -> None:
    assert httpx.get(f"{api.url}/health").json() == {"status": "ok"}
    assert httpx.get(f"{api.url}/docs").status_code == 200
    paths = httpx.get(f"{api.url}/openapi.json").json()["paths"]
    assert {"/v1/decisions", "/v1/outcomes", "/health"} <= set(paths)


def test_each_row_is_answered_stored_skipped_or_quarantined(api: Api) -> None:
    p = f"rows{uuid.uuid4().hex[:6]}"
    batch = [decision(f"{p}-1"), decision(f"{p}-2", score=1.7)]
    first = api.post("/v1/decisions", batch).json()
    assert [(r["status"], r["decision_id"]) for r in first["rows"]] == [
        ("stored", f"{p}-1"), ("quarantined", f"{p}-2")]
    assert "score 1.7 is outside [0, 1]" in first["rows"][1]["reason"]
    again = api.post("/v1/decisions", decision(f"{p}-1")).json()  # one object: a batch of one
    assert (again["stored"], again["skipped"], again["rows"][0]["status"]) == (0, 1, "skipped")
    changed = api.post("/v1/decisions", [decision(f"{p}-1", score=0.1)]).json()
    assert "already stored with other content" in changed["rows"][0]["reason"]


def test_posted_rows_are_stored_exactly_as_the_file_path_stores_them(
        api: Api, tmp_path: Path) -> None:
    p = uuid.uuid4().hex[:6]
    rows = lambda prefix: [  # noqa: E731 - the same records under two prefixes
        decision(f"{prefix}-1"), decision(f"{prefix}-2", features={"income": 1, "debt": None},
                                          outcome="escalated", score=None,
                                          escalation_reason="missing_input"),
        decision(f"{prefix}-3", features={"income": "x", "debt": 1.0}),
        decision(f"{prefix}-4", decided_at=int(NOW.replace(tzinfo=UTC).timestamp()) - 60,
                 shadow=True, reason_codes=["R1"], request_id="req-9")]
    answer = api.post("/v1/decisions", rows(f"a{p}")).json()
    path = tmp_path / "same.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows(f"f{p}")) + "\n")
    report = ingest_decisions_file(engine=api.engine, registry=Registry(api.registry_uri),
                                   actor=OWNER, path=path)
    assert (answer["stored"], answer["quarantined"]) == (report.accepted, report.quarantined)
    via_api, via_file = _stored(api.engine, f"a{p}"), _stored(api.engine, f"f{p}")
    compared = ("model_name", "model_version", "decided_at", "subject_ref", "request_id",
                "features", "score", "threshold", "outcome", "escalation_reason",
                "reason_codes", "shadow")
    assert [[getattr(d, c) for c in compared] for d in via_api] == \
        [[getattr(d, c) for c in compared] for d in via_file]
    with session_scope(api.engine) as session:
        reasons = [r for r in session.scalars(select(QuarantinedRow.reason))
                   if "feature income should be a number, not 'x'" in r]
    assert len(reasons) == 2


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer mgc_wrong", "Basic abc",
                                    "revoked"])
def test_without_a_valid_token_the_answer_is_401_and_nothing_is_written(
        api: Api, header: str | None) -> None:
    p = f"tok{uuid.uuid4().hex[:6]}"
    if header == "revoked":
        _record, secret = create_token(engine=api.engine, actor=ADMIN, name=f"old-{p}",
                                       roles=frozenset({Role.INGEST}))
        revoke_token(engine=api.engine, actor=ADMIN, name=f"old-{p}")
        header = f"Bearer {secret}"
    events = _events(api.engine)
    headers = {} if header is None else {"Authorization": header}
    answer = httpx.post(f"{api.url}/v1/decisions", json=[decision(f"{p}-1")], headers=headers)
    assert answer.status_code == 401 and "service token" in answer.json()["detail"]
    assert answer.headers["www-authenticate"] == "Bearer"
    assert _stored(api.engine, p) == [] and _events(api.engine) == events


def test_a_token_without_the_ingest_role_is_refused_with_403(api: Api) -> None:
    p = f"role{uuid.uuid4().hex[:6]}"
    _record, secret = create_token(engine=api.engine, actor=ADMIN, name=f"viewer-{p}",
                                   roles=frozenset({Role.VIEWER}))
    answer = api.post("/v1/decisions", [decision(f"{p}-1")], token=secret)
    assert answer.status_code == 403 and "may not ingest" in answer.json()["detail"]
    assert _stored(api.engine, p) == []
    with session_scope(api.engine) as session:
        refusal = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert refusal is not None and refusal.action == "ingest.refused"
    assert refusal.actor == f"token:viewer-{p}"


def test_each_stored_batch_is_attributed_to_its_token(api: Api) -> None:
    p = f"who{uuid.uuid4().hex[:6]}"
    batch_id = api.post("/v1/decisions", [decision(f"{p}-1")]).json()["batch_id"]
    with session_scope(api.engine) as session:
        event = session.scalar(select(AuditEvent).where(
            AuditEvent.subject_type == "ingest_batch", AuditEvent.subject_id == str(batch_id)))
    assert event is not None and event.actor == "token:scorer"
    assert event.action == "ingest.decisions"


def test_a_body_over_the_limit_is_refused_with_413_declared_or_chunked(api: Api) -> None:
    p = f"big{uuid.uuid4().hex[:6]}"
    rows = [decision(f"{p}-{i}", subject_ref="S" * 100) for i in range(2_000)]
    body = json.dumps(rows).encode()
    assert len(body) > LIMIT_MB * 1024 * 1024
    assert api.post("/v1/decisions", body).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
        for first in range(0, len(body), 16_384):
            yield body[first:first + 16_384]

    chunked = httpx.post(f"{api.url}/v1/decisions", content=chunks(), timeout=60,
                         headers={"Authorization": f"Bearer {api.token}"})
    assert chunked.status_code == 413 and "over the limit" in chunked.json()["detail"]
    assert _stored(api.engine, p) == []


@pytest.mark.parametrize(("body", "status", "words"), [
    (b'[{"decision_id": "x",', 400, "not valid JSON"),
    (b"\xff\xfe", 400, "not valid JSON"),
    (b"42", 422, "not a JSON int"),
    (b"[]", 422, "not an empty list"),
])
def test_a_body_that_is_not_records_is_refused_with_a_clear_message(
        api: Api, body: bytes, status: int, words: str) -> None:
    events = _events(api.engine)
    answer = api.post("/v1/decisions", body)
    assert answer.status_code == status and words in answer.json()["detail"]
    assert _events(api.engine) == events


def test_ten_clients_posting_overlapping_batches_store_each_decision_once(api: Api) -> None:
    p = f"many{uuid.uuid4().hex[:6]}"
    ids = _ids(p, 150)
    answers: list[dict[str, Any]] = []
    failures: list[str] = []

    def client(k: int) -> None:
        with httpx.Client(timeout=120) as http:
            for b in range(4):  # windows of 50 ids that overlap the other clients'
                first = (k * 13 + b * 29) % 100
                batch = [decision(i) for i in ids[first:first + 50]]
                answer = http.post(f"{api.url}/v1/decisions", json=batch,
                                   headers={"Authorization": f"Bearer {api.token}"})
                if answer.status_code != 200:
                    failures.append(answer.text)
                else:
                    answers.append(answer.json())

    threads = [threading.Thread(target=client, args=(k,)) for k in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    sent = {r["decision_id"] for a in answers for r in a["rows"]}
    stored = [d.decision_id for d in _stored(api.engine, p)]
    assert len(stored) == len(set(stored)) == len(sent)  # none twice, none lost
    assert sum(a["stored"] for a in answers) == len(sent)
    assert all(r["status"] != "quarantined" for a in answers for r in a["rows"])
    with session_scope(api.engine) as session:
        assert verify_chain(session=session).intact


def test_the_readme_curl_example_posts_a_decision(api: Api) -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- curl-example -->\s*```bash\n(.*?)```", readme, re.S)
    assert block is not None, "README.md lost its curl example"
    p = f"curl{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "GOVERN_API": api.url, "GOVERN_TOKEN": api.token,
           "DECISION_ID": f"{p}-1"}
    shown = subprocess.run(["bash", "-euo", "pipefail", "-c", block.group(1)], env=env,
                           check=True, capture_output=True, text=True, timeout=60).stdout
    assert json.loads(shown)["rows"][0]["status"] == "stored"
    assert [d.decision_id for d in _stored(api.engine, p)] == [f"{p}-1"]


@pytest.mark.parametrize("element", [7, 2.5, "not a record", None, [1, 2], [], [[]]], ids=repr)
def test_a_batch_element_that_is_not_a_record_is_quarantined_never_a_500(
        api: Api, element: Any) -> None:
    p = f"elem{uuid.uuid4().hex[:6]}"
    answer = api.post("/v1/decisions", [decision(f"{p}-1"), element])
    assert answer.status_code == 200, answer.text
    rows = answer.json()["rows"]
    assert [r["status"] for r in rows] == ["stored", "quarantined"]
    assert "a record must be a JSON object, not" in rows[1]["reason"]
    outcomes = api.post("/v1/outcomes", [{"decision_id": f"{p}-1", "label": 1}, element])
    assert outcomes.status_code == 200 and outcomes.json()["quarantined"] == 1


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/outcomes", [1, 2]),
    ("/v1/outcomes", [{"decision_id": "never-stored", "label": 1}]),
    ("/v1/decisions", [None, "x"]),
    ("/v1/decisions", [{"decision_id": "q-1", "outcome": "approved"}]),
])
def test_a_batch_whose_every_row_is_quarantined_is_answered_422_row_by_row(
        api: Api, path: str, body: Any) -> None:
    answer = api.post(path, body)
    assert answer.status_code == 422, answer.text
    said = answer.json()
    assert said["stored"] == 0 and said["quarantined"] == len(body)
    assert all(r["status"] == "quarantined" and r["reason"] for r in said["rows"])


def test_a_failed_closed_decision_with_a_mistyped_input_is_stored_with_a_note(api: Api) -> None:
    p = f"fc{uuid.uuid4().hex[:6]}"
    answer = api.post("/v1/decisions", decision(
        f"{p}-1", features={"income": 52.5, "debt": "no"}, score=None, outcome="error",
        escalation_reason="error"))
    assert answer.status_code == 200
    row = answer.json()["rows"][0]
    assert row["status"] == "stored" and "debt should be a number, not 'no'" in row["note"]
    assert _stored(api.engine, p)[0].features == {"income": 52.5, "debt": "no"}


def test_the_readme_model_server_scores_probabilities_and_fails_closed(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- model-server-example -->\s*```python\n(.*?)```", readme, re.S)
    assert block is not None, "README.md lost its model-server example"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", api.registry_uri)
    monkeypatch.setenv("GOVERN_API", api.url)
    monkeypatch.setenv("SCORER_TOKEN", api.token)
    server: dict[str, Any] = {}
    exec(compile(block.group(1), "README.md", "exec"), server)  # noqa: S102 - our own docs
    decide = server["decide"]
    scored = [decide({"reference": f"R{i}", "income": 30.0 + 5 * i, "debt": 10.0})
              for i in range(8)]
    scores = [d["score"] for d in scored]
    assert all(0.0 < s < 1.0 for s in scores), scores  # probabilities, not class labels
    assert len({round(s, 6) for s in scores}) == len(scores)
    assert {d["model_version"] for d in scored} == {"2"}  # the champion in this registry
    missing = decide({"reference": "R-missing", "income": None, "debt": 10.0})
    assert (missing["outcome"], missing["escalation_reason"]) == ("escalated", "missing_input")
    mistyped = decide({"reference": "R-odd", "income": "lots", "debt": 10.0})
    assert (mistyped["outcome"], mistyped["escalation_reason"]) == ("error", "error")
    logged = {d.decision_id: d for d in _stored_ids(api.engine, [
        *(d["decision_id"] for d in scored), missing["decision_id"], mistyped["decision_id"]])}
    assert len(logged) == 10
    assert logged[mistyped["decision_id"]].features == {"income": "lots", "debt": 10.0}
    assert [logged[d["decision_id"]].score for d in scored] == scores


def _stored_ids(engine: Engine, ids: list[str]) -> list[Decision]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Decision).where(Decision.decision_id.in_(ids))))
