"""Frameworks as data: each framework's controls in a TOML file under version control, each
control naming the kinds of evidence in the console that meet it.

The console ships SR 26-2 / OCC Bulletin 2026-13 (current US model risk guidance), the EU AI
Act's duties for high-risk systems, ISO/IEC 42001 Annex A and the NIST AI RMF, and SR 11-7
marked superseded. An organisation adds its own policy as another file in the folder named by
GOVERNANCE_FRAMEWORKS_DIR. A file is checked when loaded: a control that names no evidence, or
a kind of evidence the console does not produce, is refused with the file and control named,
so no control can pass on evidence that does not exist. A refused file is refused on its own
(read_frameworks): every problem in it is named, and every good file still loads.

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
    "vendor_documentation": "a vendor model's documents received, each with its SHA-256",
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


@dataclass(frozen=True)
class RefusedFile:
    """A framework file that was not loaded, with every problem found in it."""
    path: Path
    problems: tuple[str, ...]
    framework_id: str | None = None  # the id the file declares, when it can be read

    @property
    def message(self) -> str:
        """One line naming the file, then each problem on its own line."""
        return (f"The framework file {self.path} is refused ({len(self.problems)} "
                f"problem{'s' if len(self.problems) != 1 else ''}):\n"
                + "\n".join(f"  - {p}" for p in self.problems)
                + (f"\n  The kinds of evidence are: {', '.join(EVIDENCE_KINDS)}."
                   if any("does not produce" in p for p in self.problems) else ""))


@dataclass(frozen=True)
class FrameworkLibrary:
    """The frameworks that loaded (current first, then by name) and the files refused."""
    frameworks: tuple[Framework, ...]
    refused: tuple[RefusedFile, ...] = ()

    def chosen(self, ids: Iterable[str] | None = None) -> list[Framework]:
        """As chosen(), but an id asked for whose file was refused is said to be refused.

        Raises:
            InvalidInput: an id that is not among the frameworks; when its file was refused,
                the file and its problems.
        """
        wanted = list(ids or ())
        for refused in self.refused:
            if refused.framework_id is not None and refused.framework_id in wanted and \
                    refused.framework_id not in {f.id for f in self.frameworks}:
                raise InvalidInput(f"The framework {refused.framework_id!r} cannot be judged: "
                                   + refused.message, hint=FIX_HINT)
        return chosen(list(self.frameworks), wanted)


FIX_HINT = ("Correct the file (see services/governance/frameworks.py for its shape), or move "
            "it out of GOVERNANCE_FRAMEWORKS_DIR.")


def read_frameworks(extra: Path | None = None) -> FrameworkLibrary:
    """The shipped frameworks and the organisation's own (every *.toml in `extra`). A file
    with problems is refused on its own, with all of them: the good files still load, so one
    bad file never takes the others down. A file repeating an id already loaded is refused;
    a folder that does not exist is refused as a whole. Never raises for a file's content."""
    paths = sorted(SHIPPED.glob("*.toml"))
    refused: list[RefusedFile] = []
    if extra is not None:
        if extra.is_dir():
            paths += sorted(extra.glob("*.toml"))
        else:
            refused.append(RefusedFile(extra, (
                "GOVERNANCE_FRAMEWORKS_DIR is not a folder: point it at a folder of framework "
                ".toml files.",)))
    frameworks: dict[str, Framework] = {}
    for path in paths:
        framework, problems, declared = _framework(path)
        if framework is not None and framework.id in frameworks:
            problems = [f"framework id {framework.id!r} is in both "
                        f"{frameworks[framework.id].path} and this file: give each file its "
                        "own id."]
            framework = None
        if framework is None:
            refused.append(RefusedFile(path, tuple(problems), declared))
        else:
            frameworks[framework.id] = framework
    return FrameworkLibrary(
        tuple(sorted(frameworks.values(), key=lambda f: (f.status != "current", f.name))),
        tuple(refused))


def load_frameworks(extra: Path | None = None) -> list[Framework]:
    """The shipped frameworks and the organisation's own (every *.toml in `extra`), current
    ones first, then by name; strict: any refused file is an error (read_frameworks() keeps
    the good ones instead).

    Raises:
        InvalidInput: naming each refused file with all its problems: not TOML, a field
            missing, an id repeated, a control with no evidence or a kind of evidence the
            console does not produce.
    """
    library = read_frameworks(extra)
    if library.refused:
        raise InvalidInput("\n".join(r.message for r in library.refused), hint=FIX_HINT)
    return list(library.frameworks)


def _framework(path: Path) -> tuple[Framework | None, list[str], str | None]:
    """The framework in a file, or None with every problem found; and the id it declares."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        return None, [f"not valid TOML: {exc}."], None
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"cannot be read: {exc}."], None
    problems: list[str] = []
    fields: dict[str, str] = {}
    for name in ("id", "name", "title", "status", "source"):
        if not isinstance(data.get(name), str) or not data[name].strip():
            problems.append(f"lacks or mistypes {name!r} (a text).")
        else:
            fields[name] = data[name]
    if not isinstance(data.get("shown_by_default"), bool):
        problems.append("lacks or mistypes 'shown_by_default' (true or false).")
    if "status" in fields and fields["status"] not in STATUSES:
        problems.append(f"status is {fields['status']!r}; use current or superseded.")
    raw_controls = data.get("controls")
    controls: list[ControlSpec] = []
    if not isinstance(raw_controls, list) or not raw_controls:
        problems.append("lists no controls ([[controls]] tables).")
    else:
        for number, raw in enumerate(raw_controls, start=1):
            control, control_problems = _control(number, raw)
            problems += control_problems
            if control is not None:
                controls.append(control)
    declared = fields.get("id")
    if problems:
        return None, problems, declared
    return Framework(id=fields["id"], name=fields["name"], title=fields["title"],
                     status=fields["status"], shown_by_default=bool(data["shown_by_default"]),
                     source=fields["source"], note=str(data.get("note", "")),
                     controls=tuple(controls), path=path), [], declared


def _control(number: int, data: object) -> tuple[ControlSpec | None, list[str]]:
    """A control, or None with every problem found in it (named by its ref, else its place)."""
    if not isinstance(data, dict):
        return None, [f"control {number} is not a table."]
    where = f"control {data['ref']}" if isinstance(data.get("ref"), str) else \
        f"control {number}"
    problems = [f"{where} lacks or mistypes {name!r} (a text)."
                for name in ("ref", "title", "asks") if not isinstance(data.get(name), str)]
    evidence = data.get("evidence")
    if not isinstance(evidence, list) or not all(isinstance(k, str) for k in evidence):
        problems.append(f"{where} lacks or mistypes 'evidence' (a list of kinds).")
        evidence = []
    elif not evidence:
        problems.append(f"{where} names no evidence that meets it; a control with no "
                        "evidence would always be a gap: name the kinds that meet it.")
    elif unknown := [kind for kind in evidence if kind not in EVIDENCE_KINDS]:
        problems.append(f"{where} names evidence the console does not produce: "
                        f"{', '.join(unknown)}.")
    applies_to = data.get("applies_to")
    if applies_to is not None and applies_to != "vendor":
        problems.append(f"{where} applies_to is {applies_to!r}; the only value is \"vendor\".")
    if problems:
        return None, problems
    return ControlSpec(ref=str(data["ref"]), title=str(data["title"]), asks=str(data["asks"]),
                       evidence=tuple(evidence),
                       applies_to=None if applies_to is None else str(applies_to)), []


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
