"""Notifications for pages: the signed-in person's e-mail choices, recent deliveries, and the
console process's background delivery."""

from __future__ import annotations

import logging
import threading

import streamlit as st

from services.core.principal import DEMO_PERSONAS, Principal
from services.notify.delivery import deliver_pending
from services.notify.kinds import DeliveryStatus, NotificationKind
from services.notify.outbox import NotificationView, list_notifications
from services.notify.preferences import email_address, email_choices, set_email_choices
from services.store.engine import make_engine, session_scope
from ui import context

log = logging.getLogger(__name__)
# Seconds between the console's delivery passes: a notification written by an act on a page
# goes out within this; `govern monitor` and `govern notify send` deliver at once.
DELIVER_EVERY_S = 30.0


def choices(actor: Principal) -> dict[NotificationKind, bool]:
    with session_scope(context.engine()) as session:
        return email_choices(session=session, account=actor.id)


def address(actor: Principal) -> str | None:
    with session_scope(context.engine()) as session:
        return email_address(session=session, account=actor.id)


def is_demo_persona(actor: Principal) -> bool:
    return any(p.principal.id == actor.id for p in DEMO_PERSONAS)


def mail_configured() -> bool:
    return bool(context.settings().smtp_host)


def save(actor: Principal, chosen: dict[NotificationKind, bool]) -> dict[NotificationKind, bool]:
    return set_email_choices(engine=context.engine(), actor=actor, choices=chosen)


def recent(status: DeliveryStatus | None, limit: int = 200) -> list[NotificationView]:
    with session_scope(context.engine()) as session:
        return list_notifications(session=session, status=status, limit=limit)


def start_delivery() -> None:
    """Deliver due notifications from this process every DELIVER_EVERY_S seconds, when e-mail
    or a webhook is configured (else they wait for `govern notify send`)."""
    current = context.settings()
    if current.smtp_host or current.webhooks:
        _deliverer(current.database_url)


@st.cache_resource(show_spinner=False)
def _deliverer(database_url: str) -> threading.Event:
    """One daemon thread per process and store; the event stops it (never set today)."""
    stop = threading.Event()
    # Its own engine: Streamlit's caches belong to script runs, and this thread is none.
    store = make_engine(database_url)

    def run() -> None:
        while not stop.wait(DELIVER_EVERY_S):
            report = deliver_pending(engine=store, settings=context.settings())
            if report.error:
                log.warning("Notification delivery: %s", report.error)

    threading.Thread(target=run, name="notification-delivery", daemon=True).start()
    return stop
