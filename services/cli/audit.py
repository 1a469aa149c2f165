"""`govern audit verify` walks the audit trail's hash chain; `govern audit export` writes
matching events to a file and records the export in the trail."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

from services.cli.common import cli_principal, print_json, store
from services.core.settings import Settings


def add_commands(commands: Any) -> None:
    audit = commands.add_parser("audit", help="the tamper-evident audit trail")
    audit_commands = audit.add_subparsers(title="audit commands", metavar="COMMAND")
    verify = audit_commands.add_parser(
        "verify", help="walk the hash chain; exits 1 and names the first broken link if any")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=_audit_verify)
    export = audit_commands.add_parser(
        "export", help="write matching events (oldest first) as CSV or JSON; the export is "
                       "recorded in the trail as audit.exported")
    export.add_argument("--format", choices=["csv", "json"], default="csv", dest="fmt")
    export.add_argument("--actor", help="only this actor's events")
    export.add_argument("--action", help="an action, or a prefix ending in '.' (promotion.)")
    export.add_argument("--model", help="only this model's events")
    export.add_argument("--since", type=datetime.fromisoformat, help="from (UTC, ISO 8601)")
    export.add_argument("--until", type=datetime.fromisoformat, help="before (UTC, ISO 8601)")
    export.add_argument("--out", type=Path, help="file to write (default audit-trail.FORMAT)")
    export.set_defaults(handler=_audit_export)


def _audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from services.monitoring.chain_watch import verify_and_alert

    verdict = verify_and_alert(engine=store(settings))  # a break opens the chain alert
    if args.json:
        print_json(verdict)
    elif verdict.intact:
        print(f"The audit chain is intact: {verdict.events:,} events, head "
              f"{verdict.head_hash}.")
    else:
        where = f" at event #{verdict.broken_at}" if verdict.broken_at else ""
        print(f"The audit chain is BROKEN{where}: {verdict.problem}.")
        print(f"  {verdict.events:,} events before it verified. An audit_chain_broken alert "
              "is open for admins and auditors.")
    return 0 if verdict.intact else 1


def _audit_export(args: argparse.Namespace, settings: Settings) -> int:
    from services.audit.reads import export_trail
    from services.audit.trail import AuditFilter

    filters = AuditFilter(actor=args.actor, action=args.action, model_name=args.model,
                          start=args.since, end=args.until)
    document = export_trail(engine=store(settings), actor=cli_principal(), filters=filters,
                            fmt=args.fmt)
    path: Path = args.out or Path(f"audit-trail.{args.fmt}")
    path.write_bytes(document)
    print(f"Wrote {path} ({len(document):,} bytes); the export is recorded in the trail.")
    return 0
