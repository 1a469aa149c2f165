"""One served model judged against its tier's policy, as of a moment: a status per pillar with
its reason, the findings that open alerts, and the window's activity.

Every figure is bounded by `as_of`, so a past day can be judged again from the log (a backfill)
with the same code as today's run. A pillar that cannot be judged is grey and says why: a gap
is never shown as a pass.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.core.errors import NotFound
from services.core.glossary import label
from services.core.outcomes import WAITING
from services.core.policy import TierPolicy
from services.decisions.day_counts import outcome_counts, window_days
from services.decisions.review_queue import control_violations
from services.evidence.gates import GateReport, GateStatus
from services.monitoring.drift import MIN_WINDOW_ROWS, drift_window
from services.monitoring.fairness_watch import selection
from services.monitoring.performance import performance_window
from services.store.hints import unindexed
from services.store.models import Decision, Outcome, Override


class PillarStatus(StrEnum):
    """A pillar's judgement, in the portfolio's colours: grey is "cannot be judged" (too few
    decisions, no evidence to judge from), never "fine"."""
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    GREY = "grey"

# In the order the portfolio shows them. alerts and revalidation are read live (see view.py).
JUDGED = ("evidence", "gates", "drift", "performance", "fairness", "oversight")
PERFORMANCE_DAYS = 90  # outcomes arrive late: performance is judged over a longer window
MIN_LABELLED = 200  # decisions with a known outcome (of both labels) before it is judged
ACTIVITY_DAYS = 30  # the portfolio's headline period (the monitoring window is the tier's)


@dataclass(frozen=True)
class Finding:
    """Something wrong now, which opens an alert of its kind."""

    kind: str
    severity: str
    figure: float | None
    bound: float | None
    message: str


@dataclass(frozen=True)
class Pillar:
    status: PillarStatus
    reason: str
    figure: float | None = None
    bound: float | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Activity:
    """Acted-on decisions in the last ACTIVITY_DAYS and in the period before."""

    days: int
    decisions: int
    escalated: int
    overridden: int
    previous_decisions: int
    previous_escalated: int
    previous_overridden: int


@dataclass(frozen=True)
class Assessment:
    model_name: str
    version: str
    as_of: datetime
    pillars: dict[str, Pillar]
    activity: Activity
    findings: list[Finding] = field(default_factory=list)


def assess(*, session: Session, model_name: str, version: str, tier: TierPolicy,
           as_of: datetime, gates: GateReport | None) -> Assessment:
    """Judge the version serving `model_name` as of a moment. gates: None in a backfill (the
    evidence then was not what it is now), and those two pillars are left out."""
    severity = "high" if tier.tier == "high" else "medium"
    days = int(tier.monitoring["window_days"])
    # Whole days, as the profiles and day counts hold them (the day of as_of so far).
    first, last = window_days(as_of, days)
    findings: list[Finding] = []
    pillars: dict[str, Pillar] = {}
    if gates is not None:
        pillars["evidence"], pillars["gates"] = evidence_pillar(gates), gates_pillar(gates)
    pillars["drift"] = _drift(session, model_name, version, tier, first, last, severity,
                              findings)
    pillars["performance"] = _estimated(
        session, model_name, version, tier, first, last, severity, findings,
        _performance(session, model_name, version, tier, as_of, severity, findings))
    pillars["fairness"] = _fairness(session, model_name, tier, first, last, severity, days,
                                    findings)
    pillars["oversight"] = _oversight(session, model_name, tier, days, first, as_of, findings)
    activity = _activity(session, model_name, as_of)
    return Assessment(model_name, version, as_of, pillars, activity, findings)


def _breach(findings: list[Finding], finding: Finding) -> Pillar:
    """A bound broken: an alert's finding, and a red pillar saying the same."""
    findings.append(finding)
    return Pillar(PillarStatus.RED, finding.message, finding.figure, finding.bound)


def evidence_pillar(gates: GateReport) -> Pillar:
    """The evidence pillar from a version's gates: its required records present and fresh."""
    freshness = [g for g in gates.results if g.gate.endswith(" evidence")]
    missing = [g.gate for g in freshness if g.status == GateStatus.MISSING_EVIDENCE]
    stale = [g.gate for g in freshness if g.status == GateStatus.FAIL]
    if missing:
        return Pillar(PillarStatus.RED, f"No {', '.join(missing)} for v{gates.model_version}.")
    if stale:
        return Pillar(PillarStatus.AMBER,
                      f"Stale or altered: {', '.join(stale)} (v{gates.model_version}).")
    return Pillar(PillarStatus.GREEN,
                  f"Every required record for v{gates.model_version} is present and fresh.")


def gates_pillar(gates: GateReport) -> Pillar:
    """The gates pillar: red naming up to four gates that do not pass, or red naming the
    validation findings past their due date (findings are gate business: a validator's
    verdict on the version, judged live with the gates, never in a backfill)."""
    failing = [g for g in gates.results if g.status != GateStatus.PASS
               and not g.gate.endswith(" evidence")]
    if overdue := gates.overdue_findings:
        named = "; ".join(f"#{f.id} {f.title} (due {f.due_on:%Y-%m-%d}, owner {f.owner})"
                          for f in overdue[:3])
        also = f" It also fails {len(failing)} gate(s)." if failing else ""
        return Pillar(PillarStatus.RED, f"{len(overdue)} finding(s) on v{gates.model_version} "
                      f"past its due date and not closed: {named}.{also}",
                      float(len(overdue)), 0.0)
    if not failing:
        return Pillar(PillarStatus.GREEN, f"All {len(gates.results)} gates pass under policy "
                      f"{gates.policy_version}.")
    named = "; ".join(f"{label(g.gate)} ({g.status.replace('_', ' ')})" for g in failing[:4])
    return Pillar(PillarStatus.RED,
                  f"v{gates.model_version} fails {len(failing)} gate(s): {named}.",
                  float(len(failing)), 0.0)


def _drift(session: Session, model_name: str, version: str, tier: TierPolicy, first: date,
           last: date, severity: str, findings: list[Finding]) -> Pillar:
    try:
        window = drift_window(connection=session.connection(), thresholds=tier.drift,
                              model_name=model_name, version=version, start=first,
                              end=last + timedelta(days=1))
    except NotFound as exc:
        findings.append(Finding("unmonitored", "medium", None, None, exc.message))
        return Pillar(PillarStatus.GREY, exc.message)
    share, bound = window.drifted_share, window.thresholds["drifted_share_max"]
    if share is None:
        why = f"Only {window.rows:,} decisions of v{version} since {window.start:%Y-%m-%d}: " \
            "too few to judge drift." if not window.judged else \
            f"No input of v{version} can be judged: {window.features[0].unjudged}." \
            if window.features else f"v{version} has no inputs to judge."
        return Pillar(PillarStatus.GREY, why)
    drifted = [f.feature for f in window.features if f.drifted]
    prediction = window.prediction
    if prediction is not None and prediction.drifted and not window.dataset_drift:
        # The model's own output moved beyond the policy's bounds (prediction drift): what it
        # decides about people changed, however few of its inputs did, so a person is told.
        message = (f"v{version}'s score drifted from its reference from {window.start:%Y-%m-%d} "
                   f"(PSI {prediction.psi:.3f})" if prediction.psi is not None else
                   f"v{version}'s score drifted from its reference from {window.start:%Y-%m-%d}")
        message += f"; inputs drifted: {', '.join(drifted)}." if drifted else "."
        return _breach(findings, Finding("drift", severity, share, bound, message))
    if window.dataset_drift:
        message = (f"{share:.0%} of v{version}'s inputs drifted from its reference from "
                   f"{window.start:%Y-%m-%d}: {', '.join(drifted)}.")
        return _breach(findings, Finding("drift", severity, share, bound, message))
    if drifted:
        return Pillar(PillarStatus.AMBER, f"{', '.join(drifted)} drifted ({share:.0%} of "
                      f"inputs; dataset drift from {bound:.0%}).", share, bound)
    return Pillar(PillarStatus.GREEN, f"No input drifted over {window.rows:,} decisions.",
                  share, bound)


def _performance(session: Session, model_name: str, version: str, tier: TierPolicy,
                 as_of: datetime, severity: str, findings: list[Finding]) -> Pillar:
    """ROC AUC of the version judged on its recent decisions whose outcome was known by then,
    against the floor: another version's outcomes say nothing of this one."""
    floor = tier.metric_floors.get("roc_auc")
    if floor is None:
        return Pillar(PillarStatus.GREY, "The policy sets no ROC AUC floor for this tier.")
    since = as_of - timedelta(days=PERFORMANCE_DAYS)
    labelled = session.execute(
        select(Decision.score, Outcome.label)
        .select_from(Outcome).join(Decision, Decision.decision_id == Outcome.decision_id)
        # From the model's recent outcomes (an outcome comes after its decision, so within the
        # window too) to their decisions: the cost follows the labels, not the traffic.
        .where(Outcome.model_name == model_name, Outcome.observed_at >= since,
               Outcome.observed_at <= as_of, unindexed(Decision.shadow).is_(False),
               unindexed(Decision.score).is_not(None), unindexed(Decision.decided_at) >= since,
               unindexed(Decision.decided_at) < as_of,
               unindexed(Decision.model_version) == version)).all()
    labels = [1 if label == 1 else 0 for _, label in labelled]
    if len(labelled) < MIN_LABELLED or len(set(labels)) < 2:
        return Pillar(PillarStatus.GREY, f"Only {len(labelled):,} decisions of v{version} in "
                      f"the last {PERFORMANCE_DAYS} days have a known outcome: too few to judge "
                      f"(needs {MIN_LABELLED} of both kinds).")
    from sklearn.metrics import roc_auc_score  # only here: 0.8 s to import
    auc = float(roc_auc_score(labels, [score for score, _ in labelled]))
    if auc < floor:
        message = (f"ROC AUC of v{version} on the {len(labelled):,} decisions of the last "
                   f"{PERFORMANCE_DAYS} days whose outcome is known is {auc:.3f} (policy floor "
                   f"{floor:g}).")
        return _breach(findings, Finding("performance", severity, auc, floor, message))
    return Pillar(PillarStatus.GREEN, f"ROC AUC {auc:.3f} on {len(labelled):,} labelled decisions "
                  f"(floor {floor:g}).", auc, floor)


def _estimated(session: Session, model_name: str, version: str, tier: TierPolicy, first: date,
               last: date, severity: str, findings: list[Finding], realised: Pillar) -> Pillar:
    """The window's estimated performance (services.monitoring.performance): a finding when
    its band lies wholly below a floor; the pillar itself when outcomes are too few to judge."""
    try:
        window = performance_window(connection=session.connection(), model_name=model_name,
                                    version=version, start=first, end=last + timedelta(days=1),
                                    floors=tier.metric_floors)
    except NotFound:
        return realised  # no map (an older reference, no reference): the drift pillar says so
    auc = window.estimate.figure("roc_auc")
    if not window.estimate.judged or auc is None or auc.estimate is None or auc.low is None \
            or auc.high is None:
        return realised
    caveat = "" if window.calibration.trustworthy else " (calibration on the hold-out is " \
        "poor: the estimate is not trustworthy)"
    if breaches := window.breaches():
        message = (f"v{version}'s {'; '.join(breaches)}, over {window.estimate.decisions:,} "
                   f"decisions from {first:%Y-%m-%d}{caveat}.")
        finding = Finding("performance_estimate", severity, auc.estimate,
                          window.floors.get("roc_auc"), message)
        if realised.status != PillarStatus.GREY:
            findings.append(finding)
            return realised
        return _breach(findings, finding)
    if realised.status != PillarStatus.GREY:
        return realised
    floor = window.floors.get("roc_auc")
    status = PillarStatus.AMBER if caveat or (floor is not None and auc.estimate < floor) \
        else PillarStatus.GREEN
    return Pillar(status, f"Outcomes too few to judge; estimated ROC AUC {auc.estimate:.3f} "
                  f"(band {auc.low:.3f}–{auc.high:.3f}) over {window.estimate.decisions:,} "
                  f"decisions from {first:%Y-%m-%d}{caveat}.", auc.estimate, floor)


def _fairness(session: Session, model_name: str, tier: TierPolicy, first: date,
              last: date, severity: str, days: int, findings: list[Finding]) -> Pillar:
    bound = tier.fairness_bounds["four_fifths_ratio_min"]
    ratios = [(s.feature, ratio) for s in selection(
        connection=session.connection(), model_name=model_name, start=first,
        end=last + timedelta(days=1), min_group_size=tier.min_group_size)
        if (ratio := s.four_fifths_ratio) is not None]
    if not ratios:
        return Pillar(PillarStatus.GREY, "No sensitive input with two groups large enough to "
                      f"judge in the last {days} days.")
    worst = min(ratio for _, ratio in ratios)
    failing = [(f, r) for f, r in ratios if r < bound]
    if failing:
        named = ", ".join(f"{feature} {ratio:.2f}" for feature, ratio in failing)
        message = (f"Approval rates by group broke the four-fifths rule in the last {days} "
                   f"days (least over most favoured: {named}; policy: at least {bound:g}).")
        return _breach(findings, Finding("fairness", severity, worst, bound, message))
    return Pillar(PillarStatus.GREEN, f"Lowest four-fifths ratio {worst:.2f} (policy: at least "
                  f"{bound:g}).", worst, bound)


def _counts(session: Session, model_name: str, as_of: datetime,
            days: int) -> tuple[int, int, int]:
    """Acted-on decisions in the `days` days up to as_of, those that went to a person, those
    overridden. From the day counts (one row per day and outcome), never the log."""
    first, last = window_days(as_of, days)
    by_outcome = outcome_counts(session.connection(), model_name, first, last)
    # From the overrides (people's acts, few) to their decisions, never the other way round.
    overridden = session.scalar(
        select(func.count(func.distinct(Override.decision_id)))
        .join(Decision, Decision.decision_id == Override.decision_id)
        .where(unindexed(Decision.model_name) == model_name,
               Override.created_at >= datetime.combine(first, time.min),
               Override.created_at < as_of)) or 0
    went_to_person = sum(by_outcome.get(o, 0) for o in WAITING)
    return sum(by_outcome.values()), went_to_person, int(overridden)


def _activity(session: Session, model_name: str, as_of: datetime) -> Activity:
    before = datetime.combine(window_days(as_of, ACTIVITY_DAYS)[0], time.min)
    return Activity(ACTIVITY_DAYS, *_counts(session, model_name, as_of, ACTIVITY_DAYS),
                    *_counts(session, model_name, before, ACTIVITY_DAYS))


def _oversight(session: Session, model_name: str, tier: TierPolicy, days: int,
               first: date, as_of: datetime, findings: list[Finding]) -> Pillar:
    total, escalated, overridden = _counts(session, model_name, as_of, days)
    slipped = control_violations(session=session, margins={model_name: tier.confidence_margin},
                                 limit=1, since=datetime.combine(first, time.min),
                                 until=as_of).total
    problems: list[str] = []
    if slipped:
        message = (f"{slipped:,} automatic decisions in the last {days} days were within the "
                   "confidence margin and should have gone to a person.")
        findings.append(Finding("control", "high", float(slipped), 0.0, message))
        problems.append(message)
    if total < MIN_WINDOW_ROWS:
        if problems:
            return Pillar(PillarStatus.RED, " ".join(problems))
        return Pillar(PillarStatus.GREY, f"Only {total:,} decisions in the last {days} days: "
                      "too few to judge escalation and override rates.")
    escalation, escalation_max = escalated / total, tier.monitoring["escalation_rate_max"]
    override, override_max = overridden / total, tier.monitoring["override_rate_max"]
    if escalation > escalation_max:
        message = (f"{escalation:.1%} of {total:,} decisions in the last {days} days went to a "
                   f"person (policy: at most {escalation_max:.0%}).")
        findings.append(Finding("escalation", "medium", escalation, escalation_max, message))
        problems.append(message)
    if override > override_max:
        message = (f"People overrode {override:.1%} of the last {days} days' decisions "
                   f"(policy: at most {override_max:.0%}).")
        findings.append(Finding("override", "medium", override, override_max, message))
        problems.append(message)
    if slipped:
        return Pillar(PillarStatus.RED, " ".join(problems), float(slipped), 0.0)
    if problems:
        return Pillar(PillarStatus.AMBER, " ".join(problems), escalation, escalation_max)
    return Pillar(PillarStatus.GREEN, f"{escalation:.1%} escalated, {override:.1%} overridden, no "
                  "decision slipped past the confidence band.", escalation,
                  escalation_max)
