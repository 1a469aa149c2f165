"""Notifications on SQLite and PostgreSQL: written in the act's transaction, delivered after it
to a real SMTP server (aiosmtpd) and a real local HTTP receiver that checks the HMAC, retried
with backoff when the receiver is down, each attempt recorded, and the act committed whatever
became of its delivery. Nothing about an applicant is ever in a message."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, insert, select

from services.audit.trail import verify_chain
from services.core.clock import utcnow
from services.core.errors import InvalidInput
from services.core.policy import Policy
from services.core.principal import Principal, Role
from services.core.settings import PROJECT_ROOT, Settings
from services.governance.findings import raise_finding, update_finding
from services.governance.promotions.requests import request_promotion
from services.monitoring.monitor import monitor
from services.notify.delivery import MAX_ATTEMPTS, backoff, deliver_pending
from services.notify.kinds import Channel, DeliveryStatus, NotificationKind
from services.notify.preferences import email_choices, set_email_choices
from services.notify.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    verify_signature,
)
from services.registry.adapter import Registry
from services.store.engine import session_scope
from services.store.models import (
    AuditEvent,
    Decision,
    IngestBatch,
    Notification,
    Outcome,
    User,
    ValidationFinding,
)
from tests.conftest import closed_port
from tests.factories import decision_row

MODEL = "loan-approval"  # owner alice (tests.factories.GOVERNED_TAGS)
ALICE = Principal("alice", "Alice", frozenset({Role.MODEL_OWNER}))
VICTOR = Principal("victor", "Victor", frozenset({Role.VALIDATOR}))
SECRET = "a-webhook-secret-of-some-length"
# A subject reference as a lender might log it: personal, and never to leave the console.
APPLICANT = "Jane Roe 1985-04-02"


@dataclass
class Mailbox:
    messages: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@dataclass
class Receiver:
    url: str
    requests: list[dict[str, Any]]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server (aiosmtpd's Controller) on a free local port."""
    box, port = Mailbox(), closed_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local HTTP receiver that checks each request's signature as a receiver would."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"body": body, "verified": verify_signature(
                SECRET, self.headers[TIMESTAMP_HEADER], body, self.headers[SIGNATURE_HEADER])})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", received)
    server.shutdown()
    server.server_close()


@pytest.fixture
def people(engine: Engine) -> None:
    """The model's owner, a second model owner, two validators and an auditor, each with an
    e-mail address."""
    with session_scope(engine) as session:
        for name, roles in (("alice", ["model_owner"]), ("omar", ["model_owner"]),
                            ("victor", ["validator"]), ("wanda", ["validator"]),
                            ("aude", ["auditor"])):
            session.add(User(username=name, display_name=name.title(), roles=roles,
                             email=f"{name}@bank.example", created_at=utcnow()))


def _configure(monkeypatch: pytest.MonkeyPatch, *, smtp_port: int | None = None,
               webhook_url: str | None = None, kinds: list[str] | None = None) -> Settings:
    if smtp_port is not None:
        monkeypatch.setenv("GOVERNANCE_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("GOVERNANCE_SMTP_PORT", str(smtp_port))
        monkeypatch.setenv("GOVERNANCE_SMTP_TLS", "none")
        monkeypatch.setenv("GOVERNANCE_MAIL_FROM", "governance@bank.example")
    if webhook_url is not None:
        monkeypatch.setenv("GOVERNANCE_WEBHOOKS", json.dumps(
            [{"name": "risk-desk", "url": webhook_url, "secret": SECRET,
              "kinds": kinds or []}]))
    return Settings()  # type: ignore[call-arg]


def _raise(engine: Engine, registry: Registry, due_on: date | None = None) -> int:
    return raise_finding(
        engine=engine, registry=registry, actor=VICTOR, model_name=MODEL, version="1",
        title="Approval gap by group", severity="high", category="fairness",
        description="Group b is approved at 0.7 times the rate of group a on the hold-out.",
        due_on=due_on or utcnow().date() + timedelta(days=30)).id


def _rows(engine: Engine, kind: NotificationKind | None = None) -> list[Notification]:
    with session_scope(engine) as session:
        query = select(Notification).order_by(Notification.id)
        if kind:
            query = query.where(Notification.kind == kind)
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


def _decisions_the_model_gets_backwards(engine: Engine) -> None:
    """400 decisions of v2 (the champion) about a named applicant, whose outcomes run against
    the scores: the monitor opens a performance alert."""
    scores = np.random.default_rng(5).random(400)
    now = utcnow()
    with session_scope(engine) as session:
        batch = IngestBatch(kind="decisions", source="test", content_sha256="1" * 64,
                            ingested_by="test", ingested_at=now)
        session.add(batch)
        session.flush()
        session.execute(insert(Decision), [decision_row(
            f"d-{i}", model_name=MODEL, model_version="2", score=float(s),
            subject_ref=APPLICANT, decided_at=now - timedelta(days=1 + i % 60),
            batch_id=batch.id) for i, s in enumerate(scores)])
        session.execute(insert(Outcome), [
            {"decision_id": f"d-{i}", "label": float(s < 0.5), "observed_at": now,
             "model_name": MODEL} for i, s in enumerate(scores)])


def test_the_owner_receives_the_alert_by_email_and_no_message_names_the_applicant(
        engine: Engine, registry: Registry, policy: Policy, people: None,
        mailbox: tuple[Mailbox, int], receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    box, port = mailbox
    settings = _configure(monkeypatch, smtp_port=port, webhook_url=receiver.url)
    _decisions_the_model_gets_backwards(engine)
    report = monitor(engine=engine, registry=registry, policy=policy, actor=VICTOR)
    assert any(a.kind == "performance" for a in report.opened)

    delivery = deliver_pending(engine=engine, settings=settings)

    assert delivery.error is None and delivery.pending == 0
    mails = [message_from_bytes(m.original_content) for m in box.messages]
    to_alice = [m for m in mails if m["To"] == "alice@bank.example"
                and "performance alert on loan-approval v2" in m["Subject"]]
    assert len(to_alice) == 1
    assert "/alerts" in to_alice[0].get_payload() and to_alice[0]["From"] == \
        "governance@bank.example"
    assert {m["To"] for m in mails} >= {"victor@bank.example", "wanda@bank.example"}
    # RFC 5322: a Date, and a Message-ID of the sender's domain (filters reject mail without).
    assert to_alice[0]["Date"] and to_alice[0]["Message-ID"].endswith("@bank.example>")
    assert all(r.status == DeliveryStatus.SENT and r.attempts == 1 for r in _rows(engine))
    everything = [m.original_content.decode() for m in box.messages] + \
        [r["body"].decode() for r in receiver.requests] + \
        [json.dumps(r.body) + r.subject for r in _rows(engine)]
    assert receiver.requests and all(APPLICANT not in text for text in everything)


def test_a_webhook_is_signed_with_hmac_sha256_and_the_receiver_verifies_it(
        engine: Engine, registry: Registry, people: None, receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _configure(monkeypatch, webhook_url=receiver.url, kinds=["finding_assigned"])
    finding_id = _raise(engine, registry)

    deliver_pending(engine=engine, settings=settings)

    [request] = receiver.requests
    assert request["verified"] is True
    payload = json.loads(request["body"])
    assert payload["kind"] == "finding_assigned" and payload["data"]["finding_id"] == finding_id
    assert {"id", "created_at", "subject"} <= set(payload)
    [hook] = _rows(engine, NotificationKind.FINDING_ASSIGNED)[-1:]
    assert (hook.channel, hook.status, hook.attempts) == (Channel.WEBHOOK, "sent", 1)


def test_a_signature_fails_for_another_secret_another_body_or_an_old_timestamp() -> None:
    body, now = b'{"kind": "alert_opened"}', 1_800_000_000
    good = sign(SECRET, str(now), body)
    assert verify_signature(SECRET, str(now), body, good, now=now)
    assert not verify_signature("another-secret-entirely", str(now), body, good, now=now)
    assert not verify_signature(SECRET, str(now), body + b" ", good, now=now)
    assert not verify_signature(SECRET, str(now), body, good, now=now + 301)
    assert not verify_signature(SECRET, "yesterday", body, good, now=now)


def test_a_receiver_that_is_down_is_retried_with_backoff_then_failed_and_the_act_commits(
        engine: Engine, registry: Registry, people: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    down = f"http://127.0.0.1:{closed_port()}/hook"
    settings = _configure(monkeypatch, smtp_port=closed_port(), webhook_url=down)
    finding_id = _raise(engine, registry)

    now, waits = utcnow(), []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = deliver_pending(engine=engine, settings=settings, now=now)
        assert report.error is None
        assert deliver_pending(engine=engine, settings=settings, now=now).retrying == 0  # not due
        rows = _rows(engine)
        assert {r.attempts for r in rows} == {attempt}
        if attempt < MAX_ATTEMPTS:
            waits.append({r.next_attempt_at - now for r in rows if r.next_attempt_at})
            now += backoff(attempt)
    assert waits == [{timedelta(minutes=m)} for m in (1, 2, 4, 8, 16)]
    rows = _rows(engine)
    assert {(r.channel, r.status) for r in rows} == {("email", "failed"), ("webhook", "failed")}
    assert all("refused" in (r.last_error or "").lower()
               or "could not be reached" in (r.last_error or "") for r in rows)
    with session_scope(engine) as session:
        assert session.get(ValidationFinding, finding_id) is not None
        assert session.scalars(select(AuditEvent.action)).all() == ["finding.raised"]
        assert verify_chain(session=session).intact


def test_without_an_smtp_server_an_email_is_recorded_as_not_sent(
        engine: Engine, registry: Registry, people: None) -> None:
    _raise(engine, registry)
    report = deliver_pending(engine=engine, settings=Settings())  # type: ignore[call-arg]
    [row] = _rows(engine)
    assert (report.not_sent, row.status, row.attempts) == (1, "not sent", 0)
    assert row.last_error is not None and "no SMTP server configured" in row.last_error


def test_a_person_who_opted_out_gets_no_email_and_the_choice_is_audited(
        engine: Engine, registry: Registry, people: None) -> None:
    choices = set_email_choices(engine=engine, actor=ALICE,
                                choices={"finding_assigned": False})
    assert choices[NotificationKind.FINDING_ASSIGNED] is False
    assert choices[NotificationKind.ALERT_OPENED] is True  # the others keep the default
    with pytest.raises(InvalidInput, match="nothing changed"):
        set_email_choices(engine=engine, actor=ALICE, choices={"finding_assigned": False})

    finding_id = _raise(engine, registry)
    update_finding(engine=engine, registry=registry, actor=VICTOR,
                   finding_id=finding_id, owner="omar",
                   note="Omar runs the fairness work for this model from now on.")

    assert [r.recipient for r in _rows(engine)] == ["omar"]
    with session_scope(engine) as session:
        assert email_choices(session=session, account="alice")[
            NotificationKind.FINDING_ASSIGNED] is False
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert (events[0].action, events[0].payload) == \
            ("notification.preferences_set", {"email": {"finding_assigned": False}})


def test_a_promotion_request_waits_on_the_validators_who_may_sign_it(
        engine: Engine, registry: Registry, policy: Policy, people: None) -> None:
    request_promotion(engine=engine, registry=registry, policy=policy, actor=VICTOR,
                      model_name=MODEL, version="1",
                      justification="Version 1 is fairer across groups on the new hold-out.")
    rows = _rows(engine, NotificationKind.PROMOTION_WAITING)
    assert [r.recipient for r in rows] == ["wanda"]  # not the requester, not the owner


def test_a_finding_past_due_is_told_once_however_often_the_monitor_runs(
        engine: Engine, registry: Registry, policy: Policy, people: None) -> None:
    finding_id = _raise(engine, registry, due_on=utcnow().date())
    later = datetime.combine(utcnow().date() + timedelta(days=3), datetime.min.time())
    for _ in range(2):
        monitor(engine=engine, registry=registry, policy=policy, actor=VICTOR, now=later)
    [row] = _rows(engine, NotificationKind.FINDING_PAST_DUE)
    assert row.recipient == "alice" and row.body["data"]["finding_id"] == finding_id


def test_the_readmes_verification_snippet_accepts_a_console_signature_and_no_other() -> None:
    import re
    import time

    readme = (PROJECT_ROOT / "README.md").read_text().split("## Notifications", 1)[1]
    match = re.search(r"```python\n(.*?)```", readme, re.S)
    assert match, "the README lost its webhook verification example"
    scope: dict[str, Any] = {}
    exec(compile(match.group(1), "README.md", "exec"), scope)  # noqa: S102 - our own docs
    body, stamp = b'{"kind": "chain_broken"}', str(int(time.time()))
    assert scope["verify_signature"](SECRET, stamp, body, sign(SECRET, stamp, body))
    assert not scope["verify_signature"](SECRET, stamp, body, sign("x" * 20, stamp, body))


def test_a_review_due_is_told_to_the_models_owner_once(
        engine: Engine, registry: Registry, policy: Policy, people: None) -> None:
    # The champion v2 has no evaluation evidence: never validated, its review is due now.
    for _ in range(2):
        monitor(engine=engine, registry=registry, policy=policy, actor=VICTOR)
    [row] = _rows(engine, NotificationKind.REVIEW_DUE)
    assert row.recipient == "alice" and row.body["data"]["model"] == MODEL


def test_a_broken_audit_chain_is_told_to_admins_and_auditors(
        engine: Engine, registry: Registry, people: None) -> None:
    from services.monitoring.chain_watch import verify_and_alert
    from tests.factories import behind_the_apps_back

    _raise(engine, registry)
    behind_the_apps_back(engine, "audit_events", "UPDATE audit_events SET actor = 'mallory'")
    for _ in range(2):  # the alert stays open: told once
        assert not verify_and_alert(engine=engine).intact
    assert [r.recipient for r in _rows(engine, NotificationKind.CHAIN_BROKEN)] == ["aude"]


def test_govern_says_which_notification_setting_is_refused_without_a_traceback(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from services.cli.main import main

    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    monkeypatch.setenv("GOVERNANCE_WEBHOOKS", json.dumps(
        [{"name": "risk-desk", "url": "https://hooks.example/x", "secret": "too-short"}]))
    assert main(["notify", "list"]) == 2
    error = capsys.readouterr().err
    assert "GOVERNANCE_WEBHOOKS.0.secret" in error and "too-short" not in error
    assert "at least 16 characters" in error


def test_a_webhook_that_redirects_is_a_failed_delivery_not_a_sent_one() -> None:
    """urllib would follow a 302 with a GET and no body: the receiver would never see it."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    from services.notify.delivery import DeliveryFailed, post_webhook

    class Moved(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.send_response(302)
            self.send_header("Location", "https://elsewhere.example/hook")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802 (followed, it would answer 200)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Moved)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(DeliveryFailed, match="HTTP 302, redirecting to https://elsewhere"):
            post_webhook(f"http://127.0.0.1:{server.server_address[1]}/hook", SECRET, b"{}")
    finally:
        server.shutdown()
        server.server_close()
