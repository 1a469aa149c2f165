"""`govern ingest` (decisions and outcomes from files) and `govern explain` (the replay and the
explanation of one logged decision, for analysts' scripts and CI)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from services.cli.common import cli_principal, plain, print_json, sources, store
from services.core.settings import Settings


def add_commands(commands: Any) -> None:
    ingest = commands.add_parser("ingest", help="load decisions or outcomes from a file")
    ingest_kinds = ingest.add_subparsers(title="what", metavar="KIND")
    for kind, what in (("decisions", "decisions (JSONL, CSV or Parquet)"),
                       ("outcomes", "outcomes: decision_id, label, observed_at")):
        command = ingest_kinds.add_parser(kind, help=what)
        command.add_argument("file", type=Path)
        command.add_argument("--json", action="store_true")
        command.set_defaults(handler=_ingest, kind=kind)
    listed = ingest_kinds.add_parser("quarantine", help="a batch's quarantined rows with their "
                                                        "row numbers, ids and reasons")
    listed.add_argument("batch_id", nargs="?", type=int,
                        help="the batch's number (default: the latest that quarantined any)")
    listed.add_argument("--json", action="store_true")
    listed.set_defaults(handler=_quarantine)

    explain = commands.add_parser(
        "explain", help="replay and explain one logged decision; exits 0 only when the score "
                        "is reproduced and the contributions add up to it")
    explain.add_argument("decision_id")
    explain.add_argument("--json", action="store_true", help="print the result as JSON")
    explain.set_defaults(handler=_explain)


def _explain(args: argparse.Namespace, settings: Settings) -> int:
    # Heavy imports here, not at the top: `govern --help` must stay fast.
    from services.audit.reads import record_case_file_viewed
    from services.core.errors import GovernanceError
    from services.decisions.case_file import case_file
    from services.decisions.why import CaseExplanation, explain_case, prepare_explainer
    from services.store.engine import session_scope

    engine, registry, _policy = sources(settings)
    with session_scope(engine) as session:
        file = case_file(session=session, decision_id=args.decision_id)
    row = file.row
    # The report prints every logged input: a read of personal data, recorded before it.
    record_case_file_viewed(engine=engine, actor=cli_principal(), decision_id=row.decision_id,
                            model_name=row.model_name, model_version=row.model_version)
    explainer, problem = None, None
    try:
        explainer = prepare_explainer(registry=registry, model_name=row.model_name,
                                      version=row.model_version)
        tag = registry.get_model(row.model_name).tags.get("sensitive_features", "")
        sensitive = frozenset(s.strip() for s in tag.split(",") if s.strip())
    except GovernanceError as exc:
        problem = f"{exc.message} {exc.hint}".strip()
        sensitive = frozenset(file.features)
    except Exception as exc:  # a library failing while loading: a sentence, not a traceback
        problem = (f"Version {row.model_version} of {row.model_name!r} could not be prepared "
                   f"for replay ({type(exc).__name__}: "
                   f"{(str(exc).splitlines() or [''])[0][:200]}).")
        sensitive = frozenset(file.features)
    explained: CaseExplanation = explain_case(file, explainer, load_problem=problem,
                                              sensitive=sensitive)
    report = _report(file.row, explained)
    if args.json:
        print_json(report)
    else:
        _print(report)
    return 0 if report["verified"] else 1


def _report(row: Any, explained: Any) -> dict[str, Any]:
    explanation, replayed, flip = explained.explanation, explained.replay, explained.flip
    return {
        "decision_id": row.decision_id, "model_name": row.model_name,
        "model_version": row.model_version, "outcome": row.outcome,
        "threshold": row.threshold, "inputs": explained.shown_inputs,
        "logged_score": row.score,
        "replayed_score": replayed.recomputed if replayed else None,
        "replay_matches": bool(replayed and replayed.matches),
        "replay_problem": explained.replay_problem,
        "method": explanation.method.value if explanation else None,
        "background_rows": explanation.background_rows if explanation else None,
        "base_value": explanation.base_value if explanation else None,
        "contributions": [{"input": c.feature, "value": c.shown, "effect": c.effect}
                          for c in explanation.contributions] if explanation else [],
        "explained_score": explanation.explained_score if explanation else None,
        "adds_up": bool(explanation and explanation.adds_up),
        "explanation_problem": explained.explanation_problem,
        "counterfactual": {"input": flip.feature, "from": flip.shown_logged,
                           "to": flip.shown_changed, "new_score": flip.new_score}
        if flip else None,
        "counterfactual_note": explained.flip_note,
        "verified": bool(replayed and replayed.matches and explanation and explanation.adds_up),
    }


def _print(report: dict[str, Any]) -> None:
    print(f"Decision {report['decision_id']}: {report['model_name']} "
          f"v{report['model_version']}, {report['outcome']}, score {report['logged_score']} "
          f"against threshold {report['threshold']}")
    print("Inputs: " + ", ".join(f"{k} = {v}" for k, v in report["inputs"].items()))
    if report["replayed_score"] is not None:
        verdict = "reproduced" if report["replay_matches"] else "NOT reproduced"
        print(f"Replay: {verdict}, the version scores the inputs {report['replayed_score']:.6f}")
    else:
        print(f"Replay: not possible. {report['replay_problem']}")
    if report["contributions"]:
        verdict = "adds up" if report["adds_up"] else "DOES NOT ADD UP"
        print(f"Explanation ({report['method']}, {report['background_rows']} hold-out rows): "
              f"base {report['base_value']:.4f} + contributions = "
              f"{report['explained_score']:.6f}; {verdict} against the replayed score")
        for c in report["contributions"]:
            print(f"  {c['effect'] * 100:+7.2f} points  {c['input']} = {c['value']}")
    elif report["explanation_problem"] == report["replay_problem"]:
        print("Explanation: not possible, for the same reason.")  # said once is enough
    else:
        print(f"Explanation: not possible. {report['explanation_problem']}")
    flip = report["counterfactual"]
    if flip:
        print(f"Would have flipped: {flip['input']} {flip['to']} instead of {flip['from']} "
              f"(score {flip['new_score']:.3f})")
    elif report["counterfactual_note"]:
        print(f"Counterfactual: {report['counterfactual_note']}")


SHOWN_ROWS = 5  # quarantined (and noted) rows printed after an ingest


def _print_problems(report: Any, kind: str) -> None:
    for reason, rows in report.reasons.items():
        like = f" (and {rows - 1:,} more of this kind)" if rows > 1 else ""
        print(f"  {rows:>7,} quarantined, e.g. {reason}{like}")
    quarantined = [r for r in report.problems if r.status == "quarantined"]
    for r in quarantined[:SHOWN_ROWS]:
        print(f"  row {r.row}{f' ({r.decision_id})' if r.decision_id else ''}: {r.reason}")
    if len(quarantined) > SHOWN_ROWS:
        print(f"  … `govern ingest quarantine {report.batch_id}` lists all "
              f"{len(quarantined):,} quarantined rows.")
    noted = [r for r in report.problems if r.note]
    if noted:
        print(f"  {len(noted):,} {_counted(len(noted), kind)} stored with a note for a "
              "person:")
    for r in noted[:SHOWN_ROWS]:
        print(f"  row {r.row}{f' ({r.decision_id})' if r.decision_id else ''}: {r.note}")


def _earlier_quarantine(engine: Any, batch_id: int | None) -> str:
    from services.decisions.quarantine import batch_quarantine
    from services.store.engine import session_scope

    with session_scope(engine) as session:
        earlier = batch_quarantine(session=session, actor=cli_principal(), batch_id=batch_id,
                                   limit=0)
    said = f" It stored {earlier.accepted:,} and quarantined {earlier.quarantined:,}"
    if earlier.quarantined:
        return f"{said}: `govern ingest quarantine {batch_id}` lists them."
    return f"{said}."


def _quarantine(args: argparse.Namespace, settings: Settings) -> int:
    from services.decisions.quarantine import batch_quarantine
    from services.store.engine import session_scope

    engine = store(settings)
    with session_scope(engine) as session:
        found = batch_quarantine(session=session, actor=cli_principal(), batch_id=args.batch_id)
    if args.json:
        print_json(found)
        return 0
    print(f"Batch #{found.batch_id} ({found.kind} from {found.source}, "
          f"{found.ingested_at:%Y-%m-%d %H:%M} by {found.ingested_by}): "
          f"{found.accepted:,} stored, {found.quarantined:,} quarantined.")
    for r in found.rows:
        print(f"  row {r.row}{f' ({r.decision_id})' if r.decision_id else ''}: {r.reason}")
    if found.quarantined > len(found.rows):
        print(f"  … the first {len(found.rows):,} shown; --json for the rows as received.")
    return 0


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    from services.decisions.ingest import (
        cyclic_gc_paused,
        ingest_decisions_file,
        ingest_outcomes_file,
    )

    engine, registry, _policy = sources(settings)
    say = (lambda _n, _m: None) if args.json else (lambda _n, message: print(message, flush=True))
    # This process only ingests: pausing the cycle collector process-wide is safe here (and
    # saves a sixth of a large file's time); the library functions never do it.
    with cyclic_gc_paused():
        if args.kind == "decisions":
            report = ingest_decisions_file(engine=engine, registry=registry,
                                           actor=cli_principal(), path=args.file, progress=say)
        else:
            report = ingest_outcomes_file(engine=engine, actor=cli_principal(), path=args.file,
                                          progress=say)
    # Nothing stored and nothing already there: every row was refused, which a script must see.
    refused_whole = report.quarantined > 0 and report.accepted == 0 and report.duplicates == 0
    if args.json:
        # rows: the quarantined rows and the stored ones with a note, each with its number.
        print_json({**plain(report), "rows": plain(report.problems)})
        return 1 if refused_whole else 0
    if report.already_ingested:
        print(f"{args.file} was already ingested as batch #{report.batch_id}; nothing to do."
              f"{_earlier_quarantine(engine, report.batch_id)}")
        return 0
    print(f"Batch #{report.batch_id}: {report.accepted:,} "
          f"{_counted(report.accepted, args.kind)} stored, "
          f"{report.duplicates:,} already present, {report.quarantined:,} quarantined "
          f"({report.seconds:.1f} s).")
    _print_problems(report, args.kind)
    for warning in report.warnings:
        print(f"Warning: {warning}")
    if refused_whole:
        print(f"Nothing from {args.file} was stored: every one of its {report.quarantined:,} "
              "rows was quarantined for the reasons above. Fix the file and ingest it again.",
              file=sys.stderr)
        return 1
    return 0


def _counted(count: int, kind: str) -> str:
    """'decisions' or 'outcomes' as the count needs it: 1 decision, 2 decisions."""
    return kind.removesuffix("s") if count == 1 else kind
