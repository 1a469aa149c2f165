"""`govern evaluate` and `govern gates`: evidence runs and the policy gates of a version."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from services.cli.common import cli_principal, plain, print_json, sources
from services.core.glossary import label, shown
from services.core.settings import Settings


def add_commands(commands: Any) -> None:
    evaluate = commands.add_parser(
        "evaluate", help="run evaluation and fairness evidence for one version and store it")
    evaluate.add_argument("model")
    evaluate.add_argument("version")
    evaluate.add_argument("--json", action="store_true", help="print the stored evidence")
    evaluate.add_argument("--scored-file", type=Path, metavar="PATH",
                          help="a vendor model: a hold-out set the vendor scored (Parquet or "
                               "CSV with the inputs, its score in column 'score', the label "
                               "and the sensitive columns)")
    evaluate.set_defaults(handler=_evaluate)

    gates = commands.add_parser(
        "gates", help="the policy gates of one version; exits 0 only when every gate passes")
    gates.add_argument("model")
    gates.add_argument("version")
    gates.add_argument("--json", action="store_true")
    gates.set_defaults(handler=_gates)


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    from services.evidence.run import run_evidence

    engine, registry, policy = sources(settings)
    say = (lambda _f, _m: None) if args.json else \
        (lambda fraction, message: print(f"[{fraction:4.0%}] {message}", flush=True))
    run = run_evidence(engine=engine, registry=registry, policy=policy, actor=cli_principal(),
                       model_name=args.model, version=args.version, progress=say,
                       scored_file=args.scored_file)
    if args.json:
        print_json({"evaluation": run.evaluation, "fairness": run.fairness})
        return 0
    metrics = run.evaluation.evaluation().metrics.figures()
    print(f"Stored evaluation #{run.evaluation.id}"
          + (f" and fairness #{run.fairness.id}" if run.fairness else "")
          + f" in {run.seconds:.1f} s (hold-out SHA-256 {run.evaluation.data_sha256[:12]}…)")
    print("  " + "  ".join(f"{label(k)} {shown(k, v)}" for k, v in metrics.items()
                           if v is not None))
    return 0


def _gates(args: argparse.Namespace, settings: Settings) -> int:
    from services.evidence.gates import gates_for_version
    from services.store.engine import session_scope

    engine, registry, policy = sources(settings)
    with session_scope(engine) as session:
        report = gates_for_version(session=session, registry=registry, policy=policy,
                                   model_name=args.model, version=args.version)
    if args.json:
        print_json({**plain(report), "passed": report.passed})
    else:
        print(f"{report.model_name} v{report.model_version} ({report.risk_tier} risk), policy "
              f"{report.policy_version} ({report.policy_sha256[:12]}…)")
        for r in report.results:
            # Each figure in its gate's unit, as the card shows it: "0 days" against "180 days".
            figure, bound = shown(r.gate, r.figure), shown(r.gate, r.bound)
            print(f"  {r.status.upper():<18} {label(r.gate):<48} {figure:>9} {bound:>9}  "
                  f"{r.detail}")
        print("PASSED" if report.passed else f"NOT PASSED: {len(report.failing)} gate(s)")
    return 0 if report.passed else 1
