"""`govern findings list [MODEL]`: validators' findings, by model and version, with what is
still open and what is past its due date."""

from __future__ import annotations

import argparse
from typing import Any

from services.cli.common import print_json, store
from services.cli.table import print_table
from services.core.settings import Settings


def add_commands(commands: Any) -> None:
    findings = commands.add_parser("findings", help="validators' findings on model versions")
    actions = findings.add_subparsers(title="actions", metavar="ACTION")
    listing = actions.add_parser("list", help="findings of one model or of every model")
    listing.add_argument("model", nargs="?", help="default: every model")
    listing.add_argument("--version", help="only this version of the model")
    listing.add_argument("--open", action="store_true",
                         help="only those not yet closed or accepted as a limitation")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from services.core.clock import utcnow
    from services.evidence.findings import all_findings, findings_for_version
    from services.store.engine import session_scope

    with session_scope(store(settings)) as session:
        found = findings_for_version(session=session, model_name=args.model,
                                     version=args.version) if args.model \
            else all_findings(session=session)
    if args.open:
        found = [f for f in found if f.unresolved]
    today = utcnow().date()
    if args.json:
        print_json([{"id": f.id, "model": f.model_name, "version": f.model_version,
                     "title": f.title, "severity": f.severity.value,
                     "category": f.category.value, "status": f.status.value, "owner": f.owner,
                     "due_on": f.due_on.isoformat(), "overdue": f.overdue(today),
                     "raised_by": f.raised_by, "closed_by": f.closed_by,
                     "evidence_ids": list(f.evidence_ids),
                     "decision_ids": list(f.decision_ids)} for f in found])
        return 0
    if not found:
        print("No findings" + (" open" if args.open else "") + ".")
        return 0
    print_table(["#", "model", "version", "severity", "status", "due", "owner", "title"],
                [[f"#{f.id}", f.model_name, f"v{f.model_version}", f.severity, f.status,
                  f"{f.due_on:%Y-%m-%d}" + (" OVERDUE" if f.overdue(today) else ""),
                  f.owner, f.title] for f in found])
    return 0
