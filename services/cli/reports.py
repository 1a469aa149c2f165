"""`govern report`: the evidence pack of a model version (PDF and JSON) or the portfolio PDF."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from services.cli.common import cli_principal, say_refused_frameworks, sources
from services.core.settings import Settings


def add_commands(commands: Any) -> None:
    report = commands.add_parser(
        "report", help="write the evidence pack of a model version (PDF + JSON), or with "
                       "--portfolio the portfolio PDF")
    report.add_argument("model", nargs="?", help="the model (omit with --portfolio)")
    report.add_argument("version", nargs="?", help="default: the version that holds @champion")
    report.add_argument("--portfolio", action="store_true", help="the portfolio report")
    report.add_argument("--out", type=Path, default=Path("."), help="folder to write to")
    report.add_argument("--framework", action="append", default=None, metavar="ID",
                        help="judge the controls of this framework (repeat for more; default: "
                             "those shown by default, see govern controls --list)")
    report.set_defaults(handler=_report)


def _report(args: argparse.Namespace, settings: Settings) -> int:
    from services.core.errors import InvalidInput

    if bool(args.model) == args.portfolio:
        raise InvalidInput("Name a model, or pass --portfolio (not both).",
                           hint="govern report credit-risk   or   govern report --portfolio")
    args.out.mkdir(parents=True, exist_ok=True)
    return _portfolio(args, settings) if args.portfolio else _pack(args, settings)


def _pack(args: argparse.Namespace, settings: Settings) -> int:
    from services.governance.frameworks import read_frameworks
    from services.reports.pack import build_evidence_pack, pack_json
    from services.reports.pack_pdf import pack_pdf

    # A refused framework file is named on stderr; the pack is judged under the good ones
    # (exit 0), unless a framework asked for with --framework is in it (exit 2).
    library = read_frameworks(settings.frameworks_dir)
    say_refused_frameworks(library)
    frameworks = library.chosen(args.framework)
    engine, registry, policy = sources(settings)
    pack = build_evidence_pack(engine=engine, registry=registry, policy=policy,
                               actor=cli_principal(), model_name=args.model,
                               version=args.version, frameworks=frameworks,
                               progress=lambda line: print(line, flush=True))
    stem = args.out / f"evidence-pack-{_safe(args.model)}-v{pack.version}"
    stem.with_suffix(".json").write_text(pack_json(pack), encoding="utf-8")
    stem.with_suffix(".pdf").write_bytes(pack_pdf(pack))
    print(f"Wrote {stem}.pdf and {stem}.json (pack SHA-256 {pack.pack_sha256}).")
    return 0


def _portfolio(args: argparse.Namespace, settings: Settings) -> int:
    from services.core.clock import utcnow
    from services.monitoring.portfolio import portfolio
    from services.reports.portfolio_pdf import portfolio_pdf
    from services.store.engine import session_scope

    engine, registry, policy = sources(settings)
    now = utcnow()
    with session_scope(engine) as session:
        view = portfolio(session=session, registry=registry, policy=policy, now=now)
    path = args.out / f"portfolio-{now:%Y-%m-%d}.pdf"
    path.write_bytes(portfolio_pdf(view))
    print(f"Wrote {path}.")
    return 0


def _safe(name: str) -> str:
    # A model name becomes part of a file name: keep it to letters, digits, dot, dash.
    return "".join(ch if ch.isalnum() or ch in ".-" else "_" for ch in name)
