"""`govern vendor`: models the organisation uses but did not train.

  govern vendor register NAME --vendor V --vendor-version 4.2 --purpose TEXT --owner ACCOUNT
      --tier medium --input income=double --input region=string ... --label y
      --positive-label 1 [--favourable-label 0] [--sensitive group] [--limitations TEXT]
      [--threshold 0.5] [--scored-holdout FILE.parquet]
  govern vendor settings NAME [--favourable-label 0] [--sensitive a,b] [--limitations TEXT]
      --note TEXT
  govern vendor document NAME PATH --title TEXT [--version N] [--received YYYY-MM-DD]
  govern vendor list [--json]
  govern vendor documents NAME [--json]

Evidence from a hold-out set the vendor scored: govern evaluate NAME VERSION --scored-file PATH.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

from services.cli.common import cli_principal, print_json, sources, store
from services.core.errors import InvalidInput
from services.core.settings import Settings
from services.core.visible import visible
from services.registry.adapter import Registry


def add_commands(commands: Any) -> None:
    vendor = commands.add_parser("vendor", help="vendor models: registered without artifacts, "
                                                "with the documents received")
    actions = vendor.add_subparsers(title="actions", metavar="ACTION")
    register = actions.add_parser("register", help="register a vendor model, or a new release "
                                                   "of one as a new version")
    register.add_argument("name")
    register.add_argument("--vendor", required=True, help="who supplies the model")
    register.add_argument("--vendor-version", required=True,
                          help="the release as the vendor numbers it")
    register.add_argument("--purpose", required=True, help="what the organisation uses it for")
    register.add_argument("--owner", required=True, help="the account that answers for it")
    register.add_argument("--tier", required=True, choices=("high", "medium", "low"))
    register.add_argument("--input", action="append", default=[], metavar="NAME=TYPE",
                          help="an input the vendor documents, with its MLflow type (double, "
                               "long, string, boolean, ...); repeat for each, sensitive "
                               "attributes logged with decisions included")
    register.add_argument("--label", required=True, help="the outcome column of a hold-out set")
    register.add_argument("--positive-label", required=True,
                          help="the label value the vendor's score is the probability of")
    register.add_argument("--favourable-label",
                          help="the label value that is good for the person (default: the "
                               "positive label; a fraud score whose positive label is fraud "
                               "gives the other one)")
    register.add_argument("--sensitive", action="append",
                          help="a sensitive input; repeat it, or give a comma list (a new "
                               "release keeps the model's when not given)")
    register.add_argument("--limitations", help="where it must not be relied on (a new "
                                                "release keeps the model's when not given)")
    register.add_argument("--threshold", type=float,
                          help="the operating threshold on the score, between 0 and 1")
    register.add_argument("--scored-holdout", type=Path,
                          help="a Parquet hold-out set the vendor scored (column 'score')")
    register.set_defaults(handler=_register)

    settings = actions.add_parser("settings", help="change a vendor model's favourable label, "
                                                   "sensitive features or limitations (audited)")
    settings.add_argument("name")
    settings.add_argument("--favourable-label", help="the label value good for the person")
    settings.add_argument("--sensitive", action="append",
                          help="a sensitive input; repeat it, or a comma list ('' for none)")
    settings.add_argument("--limitations", help="where it must not be relied on")
    settings.add_argument("--note", required=True, help="why (at least 20 characters)")
    settings.set_defaults(handler=_settings)

    document = actions.add_parser("document", help="keep a document received from the vendor, "
                                                   "with its SHA-256")
    document.add_argument("name")
    document.add_argument("path", type=Path)
    document.add_argument("--title", required=True)
    document.add_argument("--version", help="the registry version it is about (default: the "
                                            "model as a whole)")
    document.add_argument("--received", type=date.fromisoformat,
                          help="the day it was received (YYYY-MM-DD; default today)")
    document.set_defaults(handler=_document)

    listing = actions.add_parser("list", help="every vendor model with its vendor and release")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_list)

    documents = actions.add_parser("documents", help="the documents kept for a vendor model")
    documents.add_argument("name")
    documents.add_argument("--json", action="store_true")
    documents.set_defaults(handler=_documents)


def _inputs(pairs: list[str]) -> dict[str, str]:
    inputs: dict[str, str] = {}
    for pair in pairs:
        name, _, kind = pair.partition("=")
        if not name.strip() or not kind.strip():
            raise InvalidInput(f"--input {pair!r} is not NAME=TYPE.",
                               hint="For example --input income=double.")
        inputs[name.strip()] = kind.strip()
    return inputs


def _register(args: argparse.Namespace, settings: Settings) -> int:
    from services.governance.vendors import register_vendor_model

    engine, registry, _ = sources(settings)
    registered = register_vendor_model(
        engine=engine, registry=registry, actor=cli_principal(), name=args.name,
        vendor=args.vendor, vendor_version=args.vendor_version, purpose=args.purpose,
        owner=args.owner, risk_tier=args.tier, inputs=_inputs(args.input), label=args.label,
        positive_label=args.positive_label, sensitive_features=_sensitive(args.sensitive),
        limitations=args.limitations, favourable_label=args.favourable_label,
        decision_threshold=args.threshold, scored_holdout=args.scored_holdout,
        artifact_root=settings.artifact_root)
    print(f"Registered {registered.model_name} v{registered.version}: "
          f"{visible(registered.vendor)} release {visible(registered.vendor_version)}. "
          "No artifact: its decisions are ingested and monitored, never replayed or explained.")
    if registered.favourable_defaulted:
        print(f"Favourable label: {visible(registered.favourable_label)}, the positive label, "
              "taken as the outcome good for the person (fairness compares its rate across "
              "groups). If the score is the probability of something bad (fraud, default), "
              f"say so: govern vendor settings {registered.model_name} --favourable-label "
              "OTHER_LABEL --note WHY.")
    else:
        print(f"Favourable label: {visible(registered.favourable_label)}.")
    _print_changes(registered.changed)
    return 0


def _print_changes(changed: dict[str, tuple[str, str]]) -> None:
    for tag, (before, after) in changed.items():
        print(f"  changed {tag}: {visible(before)[:60] or '(none)'!s} -> "
              f"{visible(after)[:60] or '(none)'!s}")


def _settings(args: argparse.Namespace, settings: Settings) -> int:
    from services.governance.vendor_settings import change_vendor_settings

    engine, registry, _ = sources(settings)
    change = change_vendor_settings(
        engine=engine, registry=registry, actor=cli_principal(), name=args.name,
        note=args.note, favourable_label=args.favourable_label,
        sensitive_features=_sensitive(args.sensitive), limitations=args.limitations)
    print(f"Changed {change.model_name}'s settings (for every version, the serving one "
          "included; run evidence again for them to count):")
    _print_changes(change.changed)
    return 0


def _document(args: argparse.Namespace, settings: Settings) -> int:
    from services.governance.vendors import record_vendor_document

    if not args.path.is_file():
        raise InvalidInput(f"There is no file {args.path}.")
    engine, registry, _ = sources(settings)
    recorded = record_vendor_document(
        engine=engine, registry=registry, actor=cli_principal(), model_name=args.name,
        title=args.title, file_name=args.path.name, content=args.path.read_bytes(),
        received_on=args.received, version=args.version)
    print(f"Kept document #{recorded.id} {recorded.file_name} ({recorded.size_bytes:,} bytes) "
          f"for {recorded.model_name}: SHA-256 {recorded.sha256}")
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    _, registry, _ = sources(settings)
    vendors = [m for m in registry.list_models() if m.is_vendor]
    # The release that serves (the champion's), else the latest registered: each version
    # records its own release.
    releases = {m.name: _release(registry, m.name, m.aliases.get("champion")
                                 or m.latest_version) for m in vendors}
    if args.json:
        print_json([{"model": m.name, "vendor": m.tags.get("vendor"),
                     "vendor_version": releases[m.name],
                     "release_of": "champion" if "champion" in m.aliases else "latest",
                     "owner": m.owner, "risk_tier": m.risk_tier, "versions": m.version_count,
                     "aliases": m.aliases} for m in vendors])
        return 0
    if not vendors:
        print("No vendor models are registered.")
    for m in vendors:
        held = ", ".join(f"{a} v{v}" for a, v in sorted(m.aliases.items())) or "no alias"
        which = "champion" if "champion" in m.aliases else "latest"
        print(f"{m.name:<28} {visible(m.tags.get('vendor', '')):<28} {which} release "
              f"{visible(releases[m.name] or '?'):<8} {m.risk_tier or '?':<6} "
              f"owner {visible(m.owner or '?'):<12} {held}")
    return 0


def _release(registry: Registry, name: str, version: str | None) -> str | None:
    if version is None:
        return None
    return registry.get_version(name, version).tags.get("vendor_version")


def _documents(args: argparse.Namespace, settings: Settings) -> int:
    from services.governance.vendors import vendor_documents
    from services.store.engine import session_scope

    with session_scope(store(settings)) as session:
        found = vendor_documents(session=session, model_name=args.name)
    if args.json:
        print_json(found)
        return 0
    if not found:
        print(f"No documents are kept for {args.name}.")
    else:
        print(f"Documents kept for {args.name} (about: vN is that registry version, model "
              "the model as a whole):")
    for d in found:
        about = f"v{d.model_version}" if d.model_version else "model"
        print(f"#{d.id:<4} {d.received_on} {about:<6} {visible(d.title)[:40]:<40} "
              f"{d.file_name} {d.size_bytes:,} bytes  SHA-256 {d.sha256}")
    return 0


def _sensitive(given: list[str] | None) -> str | None:
    """Every --sensitive given, as the comma list the tag holds: repeated like --input, the
    last one alone was kept, and fairness went unjudged for the others."""
    if given is None:
        return None
    names = [n.strip() for item in given for n in item.split(",") if n.strip()]
    return ",".join(dict.fromkeys(names))
