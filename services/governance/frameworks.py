"""Frameworks as data: each framework's controls in a TOML file under version control, each
control naming the kinds of evidence in the console that meet it.

The console ships SR 26-2 / OCC Bulletin 2026-13 (current US model risk guidance), the EU AI
Act's duties for high-risk systems, ISO/IEC 42001 Annex A and the NIST AI RMF, and SR 11-7
marked superseded. An organisation adds its own policy as another file in the folder named by
GOVERNANCE_FRAMEWORKS_DIR. A file is checked when loaded: a control that names no evidence, or
a kind of evidence the console does not produce, is refused with the file and control named,
so no control can pass on evidence that does not exist.

File shape (TOML):

    id = "internal-mrm"                 # unique, lower-case
    name = "Internal MRM policy"        # shown as the section heading
    title = "..."                        # the full title, with its date
    status = "current"                  # current | superseded
    shown_by_default = true             # on the Controls screen and in the evidence pack
    source = "https://..."              # where the text is
    note = "..."                         # optional: how to read it
    [[controls]]
    ref = "§ 4.2"                        # the framework's own reference
    title = "Independent validation"
    asks = "What the control requires, in a line."
    evidence = ["validation", "approval"]  # kinds from EVIDENCE_KINDS
    applies_to = "vendor"               # optional: only vendor / third-party models
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from services.core.errors import InvalidInput

SHIPPED = Path(__file__).parent / "frameworks"

# What the console itself produces and can show a record of (services.governance.controls).
EVIDENCE_KINDS: dict[str, str] = {
    "inventory": "the registry entry with owner, intended use and risk tier",
    "policy": "the versioned policy with its gates per risk tier",
    "development_documentation": "lineage: training run, code version, data and digests",
    "validation": "evaluation and fairness evidence on the hold-out, judged by the gates",
    "fairness": "favourable-outcome rates by group against the policy's bounds",
    "accuracy": "evaluation against the tier's metric floors",
    "data_governance": "the hold-out's digest, its profile and representation by group",
    "technical_documentation": "a complete governance contract and the model card",
    "transparency": "intended use, limitations and accuracy stated on the card",
    "approval": "a promotion signed off by the tier's number of independent validators",
    "monitoring": "drift and oversight judged by the last monitor run",
    "outcomes_analysis": "realised (or estimated) performance against outcomes",
    "revalidation": "the revalidation date the tier's cycle sets",
    "risk_management": "the risk tier, open alerts and their follow-up",
    "human_oversight": "escalation to a person, the review queue and overrides",
    "record_keeping": "every decision logged with inputs, score and outcome",
    "audit_trail": "every act in the hash-chained audit trail, and whether it verifies",
    "explanation": "each decision's case file with its reasons and a letter",
    "findings": "validators' findings with owners and due dates: none high open, none overdue",
    "periodic_review": "a periodic review recorded with the state frozen, not overdue or "
                       "triggered since (the tier's review cycle and triggers)",
}
STATUSES = ("current", "superseded")


@dataclass(frozen=True)
class ControlSpec:
    ref: str
    title: str
    asks: str
    evidence: tuple[str, ...]
    applies_to: str | None = None  # "vendor": only for vendor and third-party models


@dataclass(frozen=True)
class Framework:
    id: str
    name: str
    title: str
    status: str  # current | superseded
    shown_by_default: bool
    source: str
    note: str
    controls: tuple[ControlSpec, ...]
    path: Path


def load_frameworks(extra: Path | None = None) -> list[Framework]:
    """The shipped frameworks and the organisation's own (every *.toml in `extra`), current
    ones first, then by name.

    Raises:
        InvalidInput: a file that is not TOML, lacks a field, repeats an id, or has a control
            with no evidence or a kind of evidence the console does not produce.
    """
    paths = sorted(SHIPPED.glob("*.toml"))
    if extra is not None:
        if not extra.is_dir():
            raise InvalidInput(f"GOVERNANCE_FRAMEWORKS_DIR {extra} is not a folder.",
                               hint="Point it at a folder of framework .toml files.")
        paths += sorted(extra.glob("*.toml"))
    frameworks: dict[str, Framework] = {}
    for path in paths:
        framework = _framework(path)
        if framework.id in frameworks:
            raise InvalidInput(f"Framework id {framework.id!r} is in both "
                               f"{frameworks[framework.id].path} and {path}.",
                               hint="Give each framework file its own id.")
        frameworks[framework.id] = framework
    return sorted(frameworks.values(), key=lambda f: (f.status != "current", f.name))


def _framework(path: Path) -> Framework:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        controls = tuple(_control(path, c) for c in data["controls"])
        framework = Framework(
            id=str(data["id"]), name=str(data["name"]), title=str(data["title"]),
            status=str(data["status"]), shown_by_default=bool(data["shown_by_default"]),
            source=str(data["source"]), note=str(data.get("note", "")), controls=controls,
            path=path)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"The framework file {path} is not valid TOML: {exc}.") from exc
    except (KeyError, TypeError) as exc:
        raise InvalidInput(f"The framework file {path} lacks or mistypes {exc}.",
                           hint="See services/governance/frameworks.py for the file shape."
                           ) from exc
    if framework.status not in STATUSES:
        raise InvalidInput(f"{path}: status is {framework.status!r}; use current or "
                           "superseded.")
    if not framework.controls:
        raise InvalidInput(f"{path} lists no controls.")
    return framework


def _control(path: Path, data: dict[str, object]) -> ControlSpec:
    evidence = data["evidence"]
    if not isinstance(evidence, list):
        raise TypeError("evidence (a list of kinds)")
    spec = ControlSpec(ref=str(data["ref"]), title=str(data["title"]), asks=str(data["asks"]),
                       evidence=tuple(str(kind) for kind in evidence),
                       applies_to=str(data["applies_to"]) if "applies_to" in data else None)
    if not spec.evidence:
        raise InvalidInput(f"{path}: control {spec.ref} names no evidence that meets it.",
                           hint="A control with no evidence would always be a gap; name the "
                                f"kinds that meet it: {', '.join(EVIDENCE_KINDS)}.")
    if unknown := [kind for kind in spec.evidence if kind not in EVIDENCE_KINDS]:
        raise InvalidInput(f"{path}: control {spec.ref} names evidence the console does not "
                           f"produce: {', '.join(unknown)}.",
                           hint=f"Kinds are: {', '.join(EVIDENCE_KINDS)}.")
    if spec.applies_to not in (None, "vendor"):
        raise InvalidInput(f"{path}: control {spec.ref} applies_to is {spec.applies_to!r}; "
                           "the only value is \"vendor\".")
    return spec


def chosen(frameworks: list[Framework], ids: Iterable[str] | None = None) -> list[Framework]:
    """The frameworks named by id, in the order named; those shown by default when none are.

    Raises:
        InvalidInput: an id that is not among the frameworks, with the ids there are.
    """
    if ids is None or not (wanted := list(ids)):
        return [f for f in frameworks if f.shown_by_default]
    by_id = {f.id: f for f in frameworks}
    if unknown := [i for i in wanted if i not in by_id]:
        raise InvalidInput(f"No framework {', '.join(repr(i) for i in unknown)}.",
                           hint=f"Frameworks are: {', '.join(by_id)}.")
    return [by_id[i] for i in dict.fromkeys(wanted)]
