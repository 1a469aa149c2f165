"""Enqueue notifications in the transaction of the act that causes them, and read them back.

enqueue() writes one `notifications` row per recipient and channel in the caller's session:
if the act rolls back, so do its notifications; once it commits, delivery (services.notify.
delivery) sends them. A message carries model names, versions, finding titles, ids and a page
path: never a decision's inputs, a subject's reference or anything else about an applicant.
Callers pass only such fields in `data`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.core.clock import utcnow
from services.core.principal import Role
from services.core.settings import Settings, Webhook, load_settings
from services.notify.kinds import Channel, DeliveryStatus, NotificationKind
from services.store.models import Notification, NotificationPreference, User

log = logging.getLogger(__name__)
Datum = str | int | float | bool | None


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: NotificationKind
    channel: Channel
    recipient: str
    address: str
    subject: str
    created_at: datetime
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    delivered_at: datetime | None


def enqueue(session: Session, *, kind: NotificationKind, subject: str, text: str, link: str,
            data: Mapping[str, Datum], to: Iterable[str], dedup_key: str | None = None,
            settings: Settings | None = None, now: datetime | None = None,
            desk_subject: str | None = None) -> int:
    """Record a notification for each account in `to` (by e-mail, unless they opted out of
    this kind) and for each configured webhook taking this kind. Returns the rows written.

    With a dedup_key, nothing is written when a notification of this kind and key exists:
    a finding past due is told once, not at every monitor run.

    Args:
        subject: the e-mail's subject line (cut at 300 characters).
        text: the message's sentences; link: the console page's path, e.g. "/alerts".
        data: ids, names and figures for a webhook's receiver; nothing about an applicant.
        desk_subject: the subject a webhook (a shared desk, not the person) receives, naming
            the person; by default the subject with "you"/"your" replaced by the accounts
            told. A webhook's payload also names them (`to`).
    """
    now = now or utcnow()
    if dedup_key is not None and session.scalar(select(Notification.id).where(
            Notification.kind == kind, Notification.dedup_key == dedup_key).limit(1)):
        return 0
    settings = settings or _settings()
    body: dict[str, object] = {"text": text, "link": link, "data": dict(data)}
    rows: list[Notification] = []
    accounts = sorted(set(to))
    opted_out = set(session.scalars(select(NotificationPreference.account).where(
        NotificationPreference.kind == kind, NotificationPreference.email.is_(False),
        NotificationPreference.account.in_(accounts)))) if accounts else set()
    users = {u.username: u for u in session.scalars(
        select(User).where(User.username.in_(accounts)))} if accounts else {}
    for account in accounts:
        if account in opted_out:
            continue
        user = users.get(account)
        if user is not None and user.disabled:
            continue
        # An OIDC principal's id is its e-mail address, and it may have no local account.
        address = (user.email if user is not None else None) or \
            (account if "@" in account else "")
        row = _row(kind, Channel.EMAIL, account, address, subject, body, dedup_key, now)
        if not address:
            row.status, row.next_attempt_at = DeliveryStatus.NOT_SENT, None
            row.last_error = f"not sent: the account {account} has no e-mail address"
        rows.append(row)
    desk = desk_subject or for_desk(subject, accounts)
    desk_body: dict[str, object] = {**body, "to": accounts}
    for hook in settings.webhooks:
        if not hook.kinds or kind in hook.kinds:
            rows.append(_row(kind, Channel.WEBHOOK, hook.name, hook.url, desk, desk_body,
                             dedup_key, now))
    session.add_all(rows)
    session.flush()
    return len(rows)


def for_desk(subject: str, accounts: list[str]) -> str:
    """A subject written to the person ("assigned to you", "your sign-off"), as a shared
    desk reads it, naming the accounts told: "assigned to alice", "alice's sign-off"; for
    several, "a sign-off (for victor, wanda)"."""
    if not _YOU.search(subject) and not _YOUR.search(subject):
        return subject if len(accounts) < 2 else f"{subject} (for {', '.join(accounts)})"
    if not accounts:
        return _YOU.sub("its owner", _YOUR.sub("the", subject))
    if len(accounts) == 1:
        return _YOU.sub(accounts[0], _YOUR.sub(f"{accounts[0]}'s", subject))
    return f"{_YOU.sub('them', _YOUR.sub('a', subject))} (for {', '.join(accounts)})"


_YOU, _YOUR = re.compile(r"\byou\b"), re.compile(r"\byour\b")


def accounts_with_roles(session: Session, roles: Iterable[Role]) -> list[str]:
    """The enabled accounts holding any of the roles (the users table is small)."""
    wanted = {str(r) for r in roles}
    return sorted(u.username for u in session.scalars(select(User).where(
        User.disabled.is_(False))) if wanted & set(u.roles or []))


def list_notifications(*, session: Session, status: DeliveryStatus | str | None = None,
                       limit: int = 100) -> list[NotificationView]:
    """The most recent notifications first, with where each delivery stands."""
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if status:
        query = query.where(Notification.status == DeliveryStatus(status))
    return [view(row) for row in session.scalars(query)]


def view(row: Notification) -> NotificationView:
    return NotificationView(row.id, NotificationKind(row.kind), Channel(row.channel),
                            row.recipient, row.address, row.subject, row.created_at,
                            DeliveryStatus(row.status), row.attempts, row.next_attempt_at,
                            row.last_error, row.delivered_at)


def _row(kind: NotificationKind, channel: Channel, recipient: str, address: str, subject: str,
         body: dict[str, object], dedup_key: str | None, now: datetime) -> Notification:
    return Notification(kind=kind, channel=channel, recipient=recipient, address=address,
                        subject=subject[:300], body=body, dedup_key=dedup_key, created_at=now,
                        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now)


def _settings() -> Settings:
    """The webhooks configured now; settings that do not load give none (logged), since
    telling people must never stop the act that would tell them."""
    try:
        return load_settings()
    except Exception:  # noqa: BLE001 - an invalid environment is reported by the app itself
        log.exception("Notification settings did not load: no webhook is told.")
        return Settings.model_construct(webhooks=[])


def webhook_named(settings: Settings, name: str) -> Webhook | None:
    return next((w for w in settings.webhooks if w.name == name), None)
