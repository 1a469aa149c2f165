"""The control matrix: for one model version, the controls of the chosen frameworks (files
under services/governance/frameworks, and an organisation's own), each with the evidence in
the console that meets it, its date and a link.

A control is met only when every kind of evidence it names is met by a record that exists;
one missing or failing kind makes it a gap, and "partial" says which part holds. A framework
marked superseded (SR 11-7 since 17 April 2026) is shown only when asked for, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from services.core.policy import Policy
from services.governance.control_facts import ControlStatus, Facts, Finding, read_facts
from services.governance.evidence_checks import CHECKS
from services.governance.frameworks import ControlSpec, Framework
from services.registry.adapter import Registry

__all__ = ["Control", "ControlMatrix", "ControlStatus", "control_matrix"]


@dataclass(frozen=True)
class Control:
    framework: str  # the framework's name, e.g. "SR 26-2 / OCC 2026-13"
    ref: str
    title: str
    asks: str  # what the control requires, in a line
    status: ControlStatus
    evidence: str  # what in the console meets it, or what is missing
    dated: datetime | None
    link: str  # a console address that shows the evidence
    framework_id: str = ""
    kinds: tuple[str, ...] = ()  # the kinds of evidence that meet it


@dataclass(frozen=True)
class ControlMatrix:
    model_name: str
    version: str
    aliases: tuple[str, ...]
    frameworks: tuple[Framework, ...]
    controls: list[Control]

    @property
    def gaps(self) -> list[Control]:
        return [c for c in self.controls if c.status in (ControlStatus.GAP,
                                                         ControlStatus.PARTIAL)]

    def of(self, framework: Framework) -> list[Control]:
        return [c for c in self.controls if c.framework_id == framework.id]


def control_matrix(*, session: Session, registry: Registry, policy: Policy, model_name: str,
                   version: str, frameworks: list[Framework]) -> ControlMatrix:
    """Every control of the given frameworks judged on this version's records.

    Raises:
        NotFound: no such model or version in the registry.
    """
    facts = read_facts(session=session, registry=registry, policy=policy,
                       model_name=model_name, version=version)
    findings: dict[str, Finding] = {}  # each kind judged once, however many controls name it
    controls = [_judged(framework, spec, facts, findings)
                for framework in frameworks for spec in framework.controls]
    return ControlMatrix(model_name, version, facts.card.version.aliases, tuple(frameworks),
                         controls)


def _judged(framework: Framework, spec: ControlSpec, facts: Facts,
            findings: dict[str, Finding]) -> Control:
    if spec.applies_to == "vendor" and not facts.vendor:
        return Control(framework.name, spec.ref, spec.title, spec.asks,
                       ControlStatus.NOT_APPLICABLE,
                       "Applies to vendor and third-party models; this one was built in-house "
                       "(no vendor tag).", None, "", framework.id, spec.evidence)
    parts = [findings.setdefault(kind, CHECKS[kind](facts)) for kind in spec.evidence]
    statuses = {p.status for p in parts}
    status = (ControlStatus.GAP if ControlStatus.GAP in statuses
              else ControlStatus.PARTIAL if ControlStatus.PARTIAL in statuses
              else ControlStatus.MET)
    dates = [p.dated for p in parts if p.dated is not None]
    # The oldest record dates the control: it is only as current as its oldest evidence.
    return Control(framework.name, spec.ref, spec.title, spec.asks, status,
                   " ".join(dict.fromkeys(p.evidence for p in parts)),
                   min(dates) if dates else None, parts[0].link, framework.id, spec.evidence)
