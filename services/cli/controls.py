"""`govern controls`: a version's control matrix under the chosen frameworks, and the
frameworks there are (`--list`).

A framework file that is refused (GOVERNANCE_FRAMEWORKS_DIR) is named on stderr with all its
problems, and every good framework still works. Exit codes: the matrix's verdict (0 all met,
1 a gap) as ever, with the warning on stderr; `--list` exits 1 when a file is refused, so it
checks an organisation's files; 2 when a framework asked for with --framework is missing or
is in a refused file."""

from __future__ import annotations

import argparse
from typing import Any

from services.cli.common import print_json, say_refused_frameworks, sources
from services.core.settings import Settings


def add_commands(commands: Any) -> None:
    controls = commands.add_parser(
        "controls", help="a version's controls under SR 26-2, the EU AI Act and other "
                         "frameworks, with the evidence that meets each (exit 1 on a gap)")
    controls.add_argument("model", nargs="?", help="the model (omit with --list)")
    controls.add_argument("version", nargs="?", help="default: the version that holds @champion")
    controls.add_argument("--framework", action="append", default=None, metavar="ID",
                          help="a framework by id (repeat for more); default: those shown by "
                               "default")
    controls.add_argument("--list", action="store_true", help="list the frameworks there are")
    controls.add_argument("--json", action="store_true")
    controls.set_defaults(handler=_controls)


def _controls(args: argparse.Namespace, settings: Settings) -> int:
    from services.core.errors import InvalidInput, NotFound
    from services.governance.controls import ControlStatus, control_matrix
    from services.governance.frameworks import read_frameworks
    from services.store.engine import session_scope

    library = read_frameworks(settings.frameworks_dir)
    say_refused_frameworks(library)
    if args.list:
        for f in library.frameworks:
            print(f"{f.id:<16} {f.status:<10} {'default' if f.shown_by_default else '':<8}"
                  f"{len(f.controls):>3} controls  {f.name}")
        return 1 if library.refused else 0
    if not args.model:
        raise InvalidInput("Name a model, or pass --list.", hint="govern controls credit-risk")
    frameworks = library.chosen(args.framework)
    engine, registry, policy = sources(settings)
    version = args.version or registry.get_model(args.model).aliases.get("champion")
    if not version:
        raise NotFound(f"{args.model} has no champion: name the version.")
    with session_scope(engine) as session:
        matrix = control_matrix(session=session, registry=registry, policy=policy,
                                model_name=args.model, version=str(version),
                                frameworks=frameworks)
    if args.json:
        print_json({"model": matrix.model_name, "version": matrix.version,
                    "frameworks": [f.id for f in matrix.frameworks],
                    "controls": [{"framework": c.framework_id, "ref": c.ref, "title": c.title,
                                  "status": c.status.value, "evidence": c.evidence,
                                  "kinds": list(c.kinds),
                                  "dated": c.dated.isoformat() if c.dated else None}
                                 for c in matrix.controls]})
    else:
        for framework in matrix.frameworks:
            print(f"{framework.name}" + (" (superseded)" if framework.status == "superseded"
                                         else ""))
            for c in matrix.of(framework):
                print(f"  {c.status.value:<15} {c.ref:<18} {c.title}")
                if c.status in (ControlStatus.GAP, ControlStatus.PARTIAL):
                    print(f"  {'':<15} {'':<18} {c.evidence}")
        judged = [c for c in matrix.controls if c.status != ControlStatus.NOT_APPLICABLE]
        print(f"{len(judged) - len(matrix.gaps)} of {len(judged)} controls met for "
              f"{matrix.model_name} v{matrix.version}.")
    return 1 if matrix.gaps else 0
