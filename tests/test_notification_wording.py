"""What a notification says, and to whom: a webhook (a shared desk) is never told "you" and
always reads whom it is about; the delivery log labels kinds in the third person; the review
due links to the Reviews page. On SQLite and PostgreSQL, through a real local receiver."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, select

from services.core.settings import Settings, Webhook
from services.notify.delivery import deliver_pending
from services.notify.due import ReviewDue, notify_reviews_due
from services.notify.kinds import KIND_LABELS, LOG_LABELS, NotificationKind
from services.notify.outbox import enqueue, for_desk
from services.store.engine import session_scope
from services.store.models import Notification
from tests.test_notifications import SECRET, Receiver, receiver  # noqa: F401 - the fixture


def _settings(url: str) -> Settings:
    return Settings.model_construct(
        webhooks=[Webhook(name="risk-desk", url=url, secret=SECRET)], smtp_host=None,
        console_url="https://console.example")  # type: ignore[call-arg]


def _delivered(engine: Engine, receiver: Receiver) -> list[dict[str, Any]]:  # noqa: F811
    report = deliver_pending(engine=engine, settings=_settings(receiver.url))
    assert report.error is None
    return [json.loads(r["body"]) for r in receiver.requests if r["verified"]]


@pytest.mark.parametrize(("subject", "to", "desk"), [
    ("Finding #4 on m v1 assigned to you", ["alice"], "Finding #4 on m v1 assigned to alice"),
    ("m v2 waits for your sign-off", ["victor"], "m v2 waits for victor's sign-off"),
    ("m v2 waits for your sign-off", ["victor", "wanda"],
     "m v2 waits for a sign-off (for victor, wanda)"),
    ("Alert on m v2", ["alice", "victor"], "Alert on m v2 (for alice, victor)"),
    ("Alert on m v2", ["alice"], "Alert on m v2"),
    ("Assigned to you", [], "Assigned to its owner"),
    ("Young models, yours", ["bob"], "Young models, yours"),  # only the words you / your
])
def test_a_subject_to_the_person_reads_in_the_third_person_at_a_desk(
        subject: str, to: list[str], desk: str) -> None:
    assert for_desk(subject, to) == desk


def test_a_webhook_names_the_person_a_message_to_you_is_about(
        engine: Engine, receiver: Receiver) -> None:  # noqa: F811
    with session_scope(engine) as session:
        enqueue(session, kind=NotificationKind.FINDING_ASSIGNED,
                subject="Finding #7 on loan-approval v1 assigned to you",
                text="Finding #7 is yours to remediate.", link="/evidence?model=loan-approval",
                data={"finding_id": 7}, to=["alice.smith"], settings=_settings(receiver.url))
    [payload] = _delivered(engine, receiver)
    assert payload["subject"] == "Finding #7 on loan-approval v1 assigned to alice.smith"
    assert payload["to"] == ["alice.smith"]
    assert "you" not in payload["subject"].split()


def test_a_review_due_links_to_the_reviews_page_of_its_model(engine: Engine) -> None:
    with session_scope(engine) as session:
        notify_reviews_due(session, [ReviewDue("credit risk & co", "alice", date(2026, 12, 1))])
    with session_scope(engine) as session:
        links = [n.body["link"] for n in session.scalars(select(Notification).where(
            Notification.kind == NotificationKind.REVIEW_DUE, Notification.recipient == "alice"))]
    assert links == ["/reviews?model=credit+risk+%26+co"]


def test_every_kind_has_a_neutral_label_for_logs_and_a_personal_one_for_choices() -> None:
    assert set(LOG_LABELS) == set(KIND_LABELS) == set(NotificationKind)
    for label in LOG_LABELS.values():
        assert not {"my", "me", "mine", "you", "your", "i"} & set(label.lower().split())
    assert "my model" in KIND_LABELS[NotificationKind.REVIEW_DUE]
