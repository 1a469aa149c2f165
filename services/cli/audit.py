"""`govern audit verify`: walk the audit trail's hash chain."""

from __future__ import annotations

import argparse
from typing import Any

from services.cli.common import print_json, store
from services.core.settings import Settings


def add_commands(commands: Any) -> None:
    audit = commands.add_parser("audit", help="the tamper-evident audit trail")
    audit_commands = audit.add_subparsers(title="audit commands", metavar="COMMAND")
    verify = audit_commands.add_parser(
        "verify", help="walk the hash chain; exits 1 and names the first broken link if any")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=_audit_verify)


def _audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from services.audit.trail import verify_chain
    from services.store.engine import session_scope

    with session_scope(store(settings)) as session:
        verdict = verify_chain(session=session)
    if args.json:
        print_json(verdict)
    elif verdict.intact:
        print(f"The audit chain is intact: {verdict.events:,} events, head "
              f"{verdict.head_hash}.")
    else:
        where = f" at event #{verdict.broken_at}" if verdict.broken_at else ""
        print(f"The audit chain is BROKEN{where}: {verdict.problem}.")
        print(f"  {verdict.events:,} events before it verified.")
    return 0 if verdict.intact else 1
