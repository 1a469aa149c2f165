"""`govern notify send | list | test`: deliver the notifications that are due (meant to run on
a schedule, as `govern monitor` does after judging), see where each stands, try the mail
server."""

from __future__ import annotations

import argparse
from typing import Any

from services.cli.common import plain, print_json, store
from services.cli.table import print_table
from services.core.settings import Settings


def add_commands(commands: Any) -> None:
    notify = commands.add_parser("notify", help="e-mail and webhook notifications")
    actions = notify.add_subparsers(title="actions", metavar="ACTION")
    send = actions.add_parser("send", help="deliver every notification that is due now")
    send.add_argument("--json", action="store_true")
    send.set_defaults(handler=_send)
    listing = actions.add_parser("list", help="recent notifications, newest first")
    listing.add_argument("--status", choices=["pending", "sent", "failed", "not sent"])
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)
    test = actions.add_parser("test", help="send one e-mail now through the configured server")
    test.add_argument("address")
    test.set_defaults(handler=_test)


def print_delivery(settings: Settings, *, as_json: bool = False) -> int:
    """Deliver what is due and print the tally; 1 when the pass could not run."""
    from services.notify.delivery import deliver_pending

    report = deliver_pending(engine=store(settings), settings=settings)
    if as_json:
        print_json(report)
    else:
        print(f"Notifications: {report.sent} sent, {report.retrying} to retry, {report.failed} "
              f"failed, {report.not_sent} not sent; {report.pending} pending.")
        if report.error:
            print(f"  Delivery could not run: {report.error}")
    return 1 if report.error else 0


def _send(args: argparse.Namespace, settings: Settings) -> int:
    return print_delivery(settings, as_json=args.json)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from services.notify.outbox import list_notifications
    from services.store.engine import session_scope

    with session_scope(store(settings)) as session:
        rows = list_notifications(session=session, status=args.status, limit=args.limit)
    if args.json:
        print_json([plain(r) for r in rows])
        return 0
    if not rows:
        print("No notifications.")
        return 0
    print_table(["#", "created (UTC)", "kind", "channel", "to", "status", "tries", "last error"],
                [[f"#{r.id}", f"{r.created_at:%Y-%m-%d %H:%M}", r.kind, r.channel, r.recipient,
                  r.status, r.attempts, r.last_error or ""] for r in rows], right=[6])
    return 0


def _test(args: argparse.Namespace, settings: Settings) -> int:
    from services.core.errors import InvalidInput, SourceUnavailable
    from services.notify.delivery import send_email

    if not settings.smtp_host:
        raise InvalidInput("No SMTP server is configured.",
                           hint="Set GOVERNANCE_SMTP_HOST and GOVERNANCE_MAIL_FROM.")
    try:
        send_email(settings, args.address, "Test from the Model Governance Console",
                   "This is a test: the console's e-mail reaches you.\n")
    except Exception as exc:  # noqa: BLE001 - said in the project's words
        raise SourceUnavailable(f"The SMTP server {settings.smtp_host}:{settings.smtp_port} "
                                f"did not take the mail: {exc}",
                                hint="Check the host, port, TLS mode and login.") from None
    print(f"Sent a test e-mail to {args.address} through {settings.smtp_host}.")
    return 0
