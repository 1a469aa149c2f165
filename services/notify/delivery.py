"""Deliver notifications after their act committed: e-mail over SMTP, webhooks as signed JSON.

Each attempt is recorded on the notification's row (attempts, last_error, next_attempt_at,
status): operational state, not audit events. A failure is retried with exponential backoff
and given up as failed after MAX_ATTEMPTS. Nothing here raises into its caller, and every
network call has a short timeout, so neither a page nor `govern monitor` waits on a mail server
that is down. Several processes may deliver at once: each row is claimed by a conditional
UPDATE before it is sent, so it is sent by one of them.
"""

from __future__ import annotations

import email.utils
import json
import logging
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import Engine, func, select, update

from services.core.clock import utcnow
from services.core.settings import Settings
from services.notify.kinds import Channel, DeliveryStatus
from services.notify.outbox import webhook_named
from services.notify.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from services.store.engine import session_scope
from services.store.models import Notification

log = logging.getLogger(__name__)

# Retries: the n-th failed attempt waits FIRST_RETRY * 2**(n-1): 1, 2, 4, 8, 16 minutes, so the
# sixth and last attempt comes about half an hour after the first: long enough to ride out a
# receiver's restart, short enough that an alert is not told hours late.
MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(minutes=1)
# Seconds an SMTP conversation or a webhook POST may take before it counts as failed.
TIMEOUT_S = 5.0
# A row being sent is claimed for this long; a process that died mid-send frees it then.
CLAIM = timedelta(minutes=2)
BATCH = 200
NO_SMTP = "not sent: no SMTP server configured (GOVERNANCE_SMTP_HOST)"


class DeliveryFailed(Exception):
    """One attempt did not reach its receiver; the message says why."""


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int  # given up in this pass
    retrying: int  # failed this time, tried again later
    not_sent: int  # nowhere to send
    pending: int  # still waiting after this pass (incl. retrying)
    error: str | None = None  # the pass itself could not run (e.g. the store is down)


def backoff(attempts: int) -> timedelta:
    """The wait after the attempts-th failed attempt (1-based)."""
    return FIRST_RETRY * int(2 ** (attempts - 1))


def deliver_pending(*, engine: Engine, settings: Settings,
                    now: datetime | None = None) -> DeliveryReport:
    """Send every notification due by `now`, record each attempt, and say what happened.
    Never raises: a store that cannot be reached is said in `error`."""
    try:
        return _deliver(engine, settings, now or utcnow())
    except Exception as exc:  # noqa: BLE001 - delivery must never fail the caller
        log.exception("Delivering notifications failed")
        return DeliveryReport(0, 0, 0, 0, 0, error=f"{type(exc).__name__}: {exc}")


def _deliver(engine: Engine, settings: Settings, now: datetime) -> DeliveryReport:
    counts = dict.fromkeys(("sent", "failed", "retrying", "not sent"), 0)
    with session_scope(engine) as session:
        due = list(session.scalars(select(Notification.id).where(
            Notification.status == DeliveryStatus.PENDING,
            Notification.next_attempt_at <= now).order_by(Notification.id).limit(BATCH)))
    for notification_id in due:
        with session_scope(engine) as session:
            claimed = session.execute(update(Notification).where(
                Notification.id == notification_id,
                Notification.status == DeliveryStatus.PENDING,
                Notification.next_attempt_at <= now).values(next_attempt_at=now + CLAIM)
                .returning(Notification.id)).first()
            row = session.get(Notification, notification_id) if claimed else None
            if row is None:
                continue  # another process took it
            payload = (Channel(row.channel), row.recipient, row.address, row.subject, row.body,
                       row.kind, row.created_at)
        outcome, error = _attempt(settings, notification_id, *payload)
        with session_scope(engine) as session:
            row = session.get(Notification, notification_id)
            assert row is not None
            if outcome == "not sent":
                row.status, row.last_error, row.next_attempt_at = \
                    DeliveryStatus.NOT_SENT, error, None
            elif outcome == "sent":
                row.attempts += 1
                row.status, row.delivered_at, row.next_attempt_at = \
                    DeliveryStatus.SENT, utcnow(), None
                row.last_error = None
            else:
                row.attempts += 1
                row.last_error = error
                if row.attempts >= MAX_ATTEMPTS:
                    row.status, row.next_attempt_at = DeliveryStatus.FAILED, None
                    outcome = "failed"
                else:
                    row.next_attempt_at = now + backoff(row.attempts)
                    outcome = "retrying"
        counts[outcome] += 1
    with session_scope(engine) as session:
        pending = session.scalar(select(func.count()).select_from(Notification).where(
            Notification.status == DeliveryStatus.PENDING)) or 0
    return DeliveryReport(counts["sent"], counts["failed"], counts["retrying"],
                          counts["not sent"], pending)


def _attempt(settings: Settings, notification_id: int, channel: Channel, recipient: str,
             address: str, subject: str, body: dict[str, object], kind: str,
             created_at: datetime) -> tuple[str, str | None]:
    """("sent" | "not sent" | "error", why). Catches everything: one bad row stops no other."""
    try:
        if channel is Channel.EMAIL:
            if not settings.smtp_host:
                return "not sent", NO_SMTP
            send_email(settings, address, subject, _plain_text(settings, body))
        else:
            hook = webhook_named(settings, recipient)
            if hook is None:
                return "not sent", f"not sent: no webhook named {recipient} is configured now"
            post_webhook(hook.url, hook.secret.get_secret_value(), json.dumps({
                "kind": kind, "id": notification_id, "created_at": created_at.isoformat() + "Z",
                "subject": subject, "data": body.get("data", {}), "to": body.get("to", []),
                "link": _link(settings, str(body.get("link", "")))}, sort_keys=True).encode())
        return "sent", None
    except Exception as exc:  # noqa: BLE001 - recorded on the row as its last error
        return "error", f"{type(exc).__name__}: {exc}"[:2000]


def send_email(settings: Settings, address: str, subject: str, text: str) -> None:
    """Send one plain-text e-mail through the configured SMTP server (TLS per
    GOVERNANCE_SMTP_TLS, login when a username is set), timing out after TIMEOUT_S.

    Raises smtplib.SMTPException or OSError when the server refuses or cannot be reached."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.mail_from, address, subject
    # RFC 5322 requires Date; mail servers and spam filters judge mail without a Message-ID.
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = email.utils.make_msgid(domain=settings.mail_from.rpartition("@")[2]
                                                   or None)
    message.set_content(text)
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.smtp_tls == "ssl":
        smtp = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S,
                                context=context)
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_S)
    with smtp:
        if settings.smtp_tls == "starttls":
            smtp.starttls(context=context)
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        smtp.send_message(message)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is refused, not followed: urllib would follow a 301/302 as a GET without the
    body, and the delivery would count as sent though the receiver never saw it."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def post_webhook(url: str, secret: str, body: bytes) -> None:
    """POST the JSON body signed with the secret (services.notify.signing), timing out after
    TIMEOUT_S. Raises DeliveryFailed unless the receiver answers 2xx (a redirect fails too:
    configure the address it redirects to)."""
    timestamp = str(int(time.time()))
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "model-governance-console",
        TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)})
    try:
        with _OPENER.open(request, timeout=TIMEOUT_S) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        moved = exc.headers.get("Location") if 300 <= exc.code < 400 else None
        raise DeliveryFailed(f"the receiver answered HTTP {exc.code}" + (
            f", redirecting to {moved}: configure that address" if moved else "")) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailed(f"the receiver could not be reached: {reason}") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"the receiver answered HTTP {status}")


def _link(settings: Settings, path: str) -> str:
    return settings.console_url.rstrip("/") + path if settings.console_url else path


def _plain_text(settings: Settings, body: dict[str, object]) -> str:
    return (f"{body.get('text', '')}\n\nOpen it in the console: "
            f"{_link(settings, str(body.get('link', '')))}\n\n"
            "-- \nThe Model Governance Console. Choose which notifications reach you by "
            "e-mail on its Notifications page.\n")
