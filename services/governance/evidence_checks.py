"""The evidence the console holds for one model version, judged kind by kind.

Each kind (services.governance.frameworks.EVIDENCE_KINDS) is a check over facts read once
(services.governance.control_facts): the model card, the health the last monitor run stored,
the promotion record, traffic and alerts. A check returns a Finding: met only by a record that
exists; what is missing or failing is a gap, and "partial" says which part holds. Nothing here
computes new evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from services.core.clock import utcnow
from services.evidence.findings import open_high, overdue
from services.governance.control_facts import ControlStatus, Facts, Finding, link
from services.governance.model_card import ModelCard
from services.governance.promotions.status import PromotionStatus
from services.monitoring.assessment import PillarStatus
from services.monitoring.chain_watch import CHAIN_ALERT_KIND
from services.monitoring.reviews import ReviewState


def _failing(card: ModelCard, clause_part: str | None = None) -> list[str]:
    """Gates not passing, or those whose policy clause names a part (metric_floors, ...)."""
    return [g.gate for g in card.gates.failing
            if clause_part is None or f".{clause_part}" in g.clause]


def _inventory(f: Facts) -> Finding:
    card = f.card
    gaps = [i.requirement for i in card.contract.gaps if i.requirement.startswith("model tag")]
    return Finding(ControlStatus.GAP if gaps else ControlStatus.MET,
                   f"Missing: {', '.join(gaps)}." if gaps else
                   f"Registered in MLflow; owner {card.model.owner}, tier {card.model.risk_tier}.",
                   card.model.last_updated, link("model", model=card.model.name))


def _policy(f: Facts) -> Finding:
    # The console's policy covers models; an organisation-wide AI policy lives outside it.
    return Finding(ControlStatus.PARTIAL,
                   f"Model policy {f.policy.version} (SHA-256 {f.policy.sha256[:12]}…) sets "
                   f"gates, reviewers and bounds per risk tier; this model is held to its "
                   f"{f.card.gates.risk_tier} tier. An organisation-wide policy is kept "
                   "outside the console.", f.card.gates.evaluated_at,
                   link("card", model=f.card.model.name, version=f.card.version.version))


def _development(f: Facts) -> Finding:
    card = f.card
    gaps = [i.requirement for i in card.contract.gaps
            if not i.requirement.startswith("model tag")]
    if f.vendor:
        # Not trained here: its development is documented by what the vendor delivered.
        return _vendor_development(f, gaps)
    return Finding(ControlStatus.GAP if gaps else ControlStatus.MET,
                   f"Missing: {', '.join(gaps)}." if gaps else
                   f"Training run {card.lineage.run_id}, code {card.lineage.code_version}, data "
                   + ", ".join(f"{d.name} ({d.digest})" for d in card.lineage.datasets) + ".",
                   card.version.created_at,
                   link("card", model=card.model.name, version=card.version.version))


def _gated_evidence(f: Facts, failing: list[str], needs_fairness: bool = False,
                    failing_means: str = "failing", gates: str = "its gates") -> Finding:
    """gates: which gates the kind judges, as the sentence names them ("its accuracy gates"):
    a row saying "gates pass" beside another failing fairness read as a contradiction."""
    card, name, version = f.card, f.card.model.name, f.card.version.version
    evaluation, fairness = card.evidence.get("evaluation"), card.evidence.get("fairness")
    where = link("evidence", model=name, version=version)
    if evaluation is None or (needs_fairness and fairness is None):
        missing = "evaluation" if evaluation is None else "fairness"
        return Finding(ControlStatus.GAP, f"No {missing} evidence for v{version}.", None, where)
    records = f"evaluation #{evaluation.id}" + (f", fairness #{fairness.id}" if fairness else "")
    # Evidence that fails its gates is a gap: the control asks for passing, not for trying.
    return Finding(ControlStatus.GAP if failing else ControlStatus.MET,
                   f"{records} by {evaluation.created_by}; "
                   + (f"{failing_means}: {', '.join(failing)}." if failing
                      else f"{gates} pass."),
                   evaluation.created_at, where)


def _pillars(f: Facts, pillars: tuple[str, ...], where: str, *,
             red_is_gap: bool = False) -> Finding:
    """The control from the monitor's pillars: partial when one is amber or red, or a gap for
    red where the pillar judges a requirement to meet (performance against its floor) rather
    than a watch that found something (drift)."""
    if not f.health:
        served = "champion" in f.card.version.aliases
        return Finding(ControlStatus.GAP,
                       "Not judged yet: run govern monitor." if served else
                       f"v{f.card.version.version} does not serve: nothing monitored in use.",
                       None, where)
    judged = [f.health[p] for p in pillars if p in f.health]
    worst = {p.status for p in judged}
    status = (ControlStatus.GAP if not judged or PillarStatus.GREY in worst and len(judged) == 1
              or red_is_gap and PillarStatus.RED in worst
              else ControlStatus.PARTIAL if worst - {PillarStatus.GREEN} else ControlStatus.MET)
    return Finding(status, " ".join(p.reason for p in judged)
                   or f"Not judged by the last monitor run ({', '.join(pillars)}).",
                   f.judged_at, where)


def _revalidation(f: Facts) -> Finding:
    """Due a cycle after the last evaluation: the tier's revalidation_days, amber within 30."""
    card = f.card
    tier = f.policy.for_tier(card.model.risk_tier)
    evaluation = card.evidence.get("evaluation")
    where = link("evidence", model=card.model.name, version=card.version.version)
    if evaluation is None:
        return Finding(ControlStatus.GAP, "No evaluation yet: the review cycle has not begun.",
                       None, where)
    due = evaluation.created_at + timedelta(days=tier.revalidation_days)
    left = (due - utcnow()).days
    status = (ControlStatus.GAP if left < 0 else ControlStatus.PARTIAL if left <= 30
              else ControlStatus.MET)
    return Finding(status, f"Last evaluated {evaluation.created_at:%Y-%m-%d}; the "
                   f"{card.model.risk_tier or 'high'} tier reviews every "
                   f"{tier.revalidation_days} days, so the next review is "
                   + (f"overdue since {due:%Y-%m-%d}." if left < 0 else f"due {due:%Y-%m-%d}."),
                   evaluation.created_at, where)


def _approval(f: Facts) -> Finding:
    """Met by an executed promotion with the tier's number of sign-offs; partial when it rested
    on policy exceptions (the gates did not pass; admins let it through)."""
    executed = [p for p in f.promotions
                if p.status == PromotionStatus.EXECUTED and p.kind == "promotion"]
    rollbacks = [p for p in f.promotions
                 if p.status == PromotionStatus.EXECUTED and p.kind == "rollback"]
    name = f.card.model.name
    if not executed:
        how = (f" It holds @{rollbacks[0].alias} through rollback #{rollbacks[0].id} by "
               f"{rollbacks[0].requested_by}, which gives an alias back and approves nothing."
               if rollbacks else
               " Its alias was set outside the console." if f.card.version.aliases else "")
        return Finding(ControlStatus.GAP,
                       "No promotion of this version was signed off in the console." + how,
                       None, link("promotions", model=name))
    last = executed[0]
    excused = sorted({g for e in last.exceptions for g in e.gates})
    admins = sorted({e.granted_by for e in last.exceptions})
    status = (ControlStatus.GAP if len(last.approvers) < f.approvers
              else ControlStatus.PARTIAL if excused else ControlStatus.MET)
    return Finding(status,
                   f"Promotion #{last.id} to {last.alias} signed off by "
                   f"{', '.join(last.approvers)} (requested by {last.requested_by}; the tier "
                   f"needs {f.approvers})"
                   + (f", past {len(excused)} failing gate(s) under policy exceptions by "
                      f"{', '.join(admins)}" if excused else "") + ".",
                   last.executed_at, link("promotions", model=name))


def _risk_management(f: Facts) -> Finding:
    card = f.card
    high = [a for a in f.open_alerts if a.severity == "high"]
    if not card.model.risk_tier:
        return Finding(ControlStatus.GAP, "No risk tier.", None, link("alerts"))
    return Finding(ControlStatus.PARTIAL if high else ControlStatus.MET,
                   f"Tier {card.model.risk_tier} under policy {card.gates.policy_version}; "
                   f"{len(f.open_alerts)} open alert(s)"
                   + (f", {len(high)} of high severity not yet taken on." if high else "."),
                   card.gates.evaluated_at, link("alerts"))


def _data_governance(f: Facts) -> Finding:
    card = f.card
    evaluation = card.evidence.get("evaluation")
    data = card.evaluation.data if card.evaluation else None
    where = link("evidence", model=card.model.name, version=card.version.version)
    if not (evaluation and data):
        return Finding(ControlStatus.GAP, "No evaluation of the hold-out data.", None, where)
    return Finding(ControlStatus.MET,
                   f"Hold-out SHA-256 {evaluation.data_sha256[:16]}…, {data.rows} rows "
                   "profiled with representation by group.", evaluation.created_at, where)


def _technical_documentation(f: Facts) -> Finding:
    card = f.card
    evaluation = card.evidence.get("evaluation")
    complete = card.contract.complete and evaluation is not None
    return Finding(ControlStatus.MET if complete else ControlStatus.GAP,
                   "Model card complete; PDF and JSON exportable, evidence pack by govern "
                   "report." if complete else f"{len(card.contract.gaps)} contract gap(s)"
                   + ("" if evaluation else ", no evaluation evidence") + ".",
                   evaluation.created_at if evaluation else None,
                   link("card", model=card.model.name, version=card.version.version))


def _transparency(f: Facts) -> Finding:
    card, tags = f.card, f.card.model.tags
    evaluation = card.evidence.get("evaluation")
    stated = tags.get("intended_use") and tags.get("limitations") and evaluation

    def sentence(text: str | None) -> str:
        return text.strip().rstrip(".;") + "." if text and text.strip() else "(missing)."
    return Finding(ControlStatus.MET if stated else ControlStatus.GAP,
                   f"Intended use: {sentence(tags.get('intended_use'))} Limitations: "
                   f"{sentence(tags.get('limitations'))} Accuracy: on the card"
                   + ("." if evaluation else " (missing)."),
                   card.model.last_updated,
                   link("card", model=card.model.name, version=card.version.version))


def _record_keeping(f: Facts) -> Finding:
    version = f.card.version.version
    return Finding(ControlStatus.MET if f.traffic_days else ControlStatus.GAP,
                   f"Decisions of v{version} logged with inputs, score and outcome on "
                   f"{f.traffic_days} day(s)." if f.traffic_days
                   else f"No logged decision of v{version}.", None, link("decisions"))


def _audit_trail(f: Facts) -> Finding:
    broken = [a for a in f.open_alerts if a.kind == CHAIN_ALERT_KIND]
    if broken:
        return Finding(ControlStatus.GAP, f"The audit trail does not verify: {broken[0].message}",
                       broken[0].opened_at, link("audit"))
    return Finding(ControlStatus.MET, "Every act is an event in the hash-chained audit trail, "
                   "verified by each monitor run; no break is open.", f.judged_at, link("audit"))


def _vendor_development(f: Facts, gaps: list[str]) -> Finding:
    card = f.card
    release = card.lineage.vendor_version
    where = link("model", model=card.model.name)
    if gaps or not release:
        missing = gaps + ([] if release else ["the vendor's release (vendor_version tag)"])
        return Finding(ControlStatus.GAP, f"Missing: {', '.join(missing)}.", None, where)
    said = (f"Supplied by {card.model.tags.get('vendor')}, release {release}; not trained "
            f"here, so no training run, code or training data is held.")
    if not card.documents:
        return Finding(ControlStatus.PARTIAL, f"{said} No document received from the vendor "
                       "is kept: record its model documentation.", card.version.created_at,
                       where)
    return Finding(ControlStatus.MET, f"{said} {len(card.documents)} document(s) received.",
                   max(d.recorded_at for d in card.documents), where)


def _vendor_documentation(f: Facts) -> Finding:
    """A vendor model's documents received, each with the SHA-256 of its bytes: a gap when
    none is kept (outsourcing development does not outsource the documentation)."""
    card = f.card
    where = link("model", model=card.model.name)
    if not f.vendor:
        return Finding(ControlStatus.NOT_APPLICABLE, "Developed in-house: its documentation "
                       "is its lineage.", None, where)
    if not card.documents:
        return Finding(ControlStatus.GAP, "No document received from the vendor is kept "
                       "(model documentation, validation report, change notices).", None, where)
    listed = "; ".join(f"{d.title} ({d.received_on:%Y-%m-%d}, SHA-256 {d.sha256[:12]}…)"
                       for d in card.documents[:3])
    more = f" and {len(card.documents) - 3} more" if len(card.documents) > 3 else ""
    return Finding(ControlStatus.MET, f"{len(card.documents)} document(s) received: "
                   f"{listed}{more}.", max(d.recorded_at for d in card.documents), where)


def _explanation(f: Facts) -> Finding:
    if f.vendor:
        # EU AI Act Art. 86 still binds the deployer: the console cannot meet it for them.
        return Finding(ControlStatus.GAP, "A vendor model: the console holds no artifact, so no "
                       "decision of it is explained or replayed. The person's explanation "
                       "must come from the vendor (reason codes per decision).", None,
                       link("decisions"))
    return Finding(ControlStatus.MET if f.traffic_days else ControlStatus.GAP,
                   "Each decision's case file explains it in the original inputs (Shapley "
                   "values) and exports a letter to the person with the main reasons and how "
                   "to contest." if f.traffic_days else "No logged decision to explain.",
                   None, link("decisions"))


def _findings(f: Facts) -> Finding:
    """Met when no high-severity finding is open and none is past its due date; a gap names
    which (and up to three findings)."""
    card, version = f.card, f.card.version.version
    where = link("evidence", model=card.model.name, version=version)
    findings = list(card.findings)
    today = card.gates.evaluated_at.date()
    high, late = open_high(findings), overdue(findings, today)
    if high or late:
        named = "; ".join(f"#{g.id} {g.title} ({g.severity}, {g.status}, due "
                          f"{g.due_on:%Y-%m-%d})" for g in [*high, *late][:3])
        what = " and ".join(part for part in (
            f"{len(high)} high-severity finding(s) open" if high else "",
            f"{len(late)} finding(s) past their due date" if late else "") if part)
        return Finding(ControlStatus.GAP, f"v{version} has {what}: {named}.",
                       max(g.raised_at for g in [*high, *late]), where)
    if not findings:
        return Finding(ControlStatus.MET, f"No finding has been raised against v{version}.",
                       None, where)
    unsettled = sum(g.unresolved for g in findings)
    return Finding(ControlStatus.MET,
                   f"{len(findings)} finding(s) on v{version}: {unsettled} unsettled, none "
                   f"high-severity, none overdue; {len(card.limitations)} accepted as "
                   "limitation(s).", max(g.raised_at for g in findings), where)


def _periodic_review(f: Facts) -> Finding:
    """Met by a recorded review that is not overdue and not triggered since; partial when it
    is (the last review stands, the next is late); a gap when no review was ever recorded."""
    status, name = f.review, f.card.model.name
    where = link("reviews", model=name)
    last = status.last_review if status else None
    if status is None or last is None:
        return Finding(ControlStatus.GAP, f"No periodic review of {name} has been recorded"
                       + (f"; {status.reason}" if status else "."), None, where)
    done = (f"Reviewed {last.reviewed_at:%Y-%m-%d} by {last.reviewed_by} (v{last.model_version}"
            f", {last.conclusion}; state SHA-256 {last.state_sha256[:12]}…).")
    if status.state is ReviewState.OVERDUE:
        return Finding(ControlStatus.PARTIAL, f"{done} The next was due {last.next_due_on:%Y-%m-%d}"
                       ": overdue.", last.reviewed_at, where)
    if status.state is ReviewState.TRIGGERED:
        fired = "; ".join(e.detail for e in status.fired[:3])
        return Finding(ControlStatus.PARTIAL, f"{done} Due again now, triggered since: {fired}.",
                       last.reviewed_at, where)
    return Finding(ControlStatus.MET, f"{done} Next review due {last.next_due_on:%Y-%m-%d}.",
                   last.reviewed_at, where)


CHECKS: dict[str, Callable[[Facts], Finding]] = {
    "inventory": _inventory,
    "policy": _policy,
    "development_documentation": _development,
    "validation": lambda f: _gated_evidence(f, _failing(f.card), gates="all its gates"),
    "fairness": lambda f: _gated_evidence(f, _failing(f.card, "fairness_bounds"),
                                          needs_fairness=True, failing_means="bias found",
                                          gates="its fairness gates"),
    "accuracy": lambda f: _gated_evidence(f, _failing(f.card, "metric_floors"),
                                          gates="its accuracy gates"),
    "data_governance": _data_governance,
    "technical_documentation": _technical_documentation,
    "transparency": _transparency,
    "approval": _approval,
    "monitoring": lambda f: _pillars(f, ("drift", "oversight"),
                                     link("drift", model=f.card.model.name)),
    "outcomes_analysis": lambda f: _pillars(f, ("performance",),
                                            link("health", model=f.card.model.name),
                                            red_is_gap=True),
    "revalidation": _revalidation,
    "risk_management": _risk_management,
    "human_oversight": lambda f: _pillars(f, ("oversight",), link("queue")),
    "record_keeping": _record_keeping,
    "audit_trail": _audit_trail,
    "explanation": _explanation,
    "findings": _findings,
    "periodic_review": _periodic_review,
    "vendor_documentation": _vendor_documentation,
}
