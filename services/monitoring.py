"""`govern monitor`: every served model judged against the policy; alerts with owners.

An alert stays open until someone with the right role acknowledges it and records the action
taken. Opening and acknowledging are audit events.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sklearn.metrics import roc_auc_score
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from services.audit import append, refusals_recorded
from services.clock import utcnow
from services.decisions.oversight import control_violations
from services.drift.window import MIN_WINDOW_ROWS, DriftWindow, drift_window
from services.errors import InvalidInput, NotFound
from services.fairness_watch import selection
from services.justification import justified
from services.permissions import Action, require
from services.policy import Policy, TierPolicy
from services.principal import Principal
from services.registry import ModelSummary, Registry
from services.store.engine import session_scope
from services.store.models import Alert, Decision, Outcome, Override

ACTIONS = ("investigate", "retrain", "accept", "retire")
PERFORMANCE_DAYS = 90  # outcomes arrive late: performance is judged over a longer window
MIN_LABELLED = 200  # decisions with a known outcome (of both labels) before it is judged


@dataclass(frozen=True)
class AlertView:
    id: int
    model_name: str
    model_version: str | None
    kind: str
    severity: str
    owner: str
    figure: float | None
    bound: float | None
    message: str
    opened_at: datetime
    status: str
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    action: str | None
    action_note: str | None


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: str
    figure: float | None
    bound: float | None
    message: str


@dataclass(frozen=True)
class MonitorReport:
    models: int
    findings: dict[str, list[Finding]]  # model -> what is wrong now
    opened: list[AlertView]  # new alerts (a finding with an open alert opens none)
    seconds: float


def monitor(*, engine: Engine, registry: Registry, policy: Policy, actor: Principal,
            now: datetime | None = None) -> MonitorReport:
    """Judge every model that serves a champion; open an alert for each new finding."""
    started, now = time.perf_counter(), now or utcnow()
    findings: dict[str, list[Finding]] = {}
    opened: list[AlertView] = []
    served = [m for m in registry.list_models() if "champion" in m.aliases]
    for model in served:
        tier = policy.for_tier(model.risk_tier)
        with session_scope(engine) as session:
            found = _findings(session, model, tier, now)
            findings[model.name] = found
            version = model.aliases["champion"]
            open_kinds = set(session.scalars(select(Alert.kind).where(
                Alert.model_name == model.name, Alert.status == "open")))
            for finding in found:
                if finding.kind in open_kinds:
                    continue
                alert = Alert(model_name=model.name, model_version=version, kind=finding.kind,
                              severity=finding.severity, owner=model.owner or "unassigned",
                              figure=finding.figure, bound=finding.bound,
                              message=finding.message, opened_at=now, status="open")
                session.add(alert)
                session.flush()
                append(session=session, actor=actor, action="alert.opened", subject_type="alert",
                       subject_id=alert.id, model_name=model.name,
                       payload={"kind": finding.kind, "figure": finding.figure,
                                "bound": finding.bound, "owner": alert.owner,
                                "message": finding.message})
                opened.append(_view(alert))
    return MonitorReport(len(served), findings, opened, time.perf_counter() - started)


def _findings(session: Session, model: ModelSummary, tier: TierPolicy,
              now: datetime) -> list[Finding]:
    version = model.aliases["champion"]
    days = int(tier.monitoring["window_days"])
    since = now - timedelta(days=days)
    severity = "high" if tier.tier == "high" else "medium"
    found: list[Finding] = []
    try:
        window = drift_window(connection=session.connection(), thresholds=tier.drift,
                              model_name=model.name, version=version, start=since.date(),
                              end=now.date() + timedelta(days=1))
        if drift := _drift_finding(window, severity):
            found.append(drift)
    except NotFound as exc:
        found.append(Finding("unmonitored", "medium", None, None, exc.message))
    if fairness := _fairness_finding(session, model.name, tier, since, now, severity):
        found.append(fairness)
    if performance := _performance_finding(session, model.name, tier, now, severity):
        found.append(performance)
    counts = dict(session.execute(
        select(Decision.outcome, func.count()).where(
            Decision.model_name == model.name, Decision.shadow.is_(False),
            Decision.decided_at >= since).group_by(Decision.outcome)).tuples().all())
    total = sum(counts.values())
    if total >= MIN_WINDOW_ROWS:
        escalated = counts.get("escalated", 0) + counts.get("error", 0)
        rate, bound = escalated / total, tier.monitoring["escalation_rate_max"]
        if rate > bound:
            found.append(Finding("escalation", "medium", rate, bound,
                                 f"{rate:.1%} of {total:,} decisions in the last {days} days "
                                 f"went to a person (policy: at most {bound:.0%})."))
        overridden = session.scalar(select(func.count(func.distinct(Override.decision_id)))
                                    .join(Decision, Decision.decision_id == Override.decision_id)
                                    .where(Decision.model_name == model.name,
                                           Override.created_at >= since)) or 0
        rate, bound = overridden / total, tier.monitoring["override_rate_max"]
        if rate > bound:
            found.append(Finding("override", "medium", rate, bound,
                                 f"People overrode {rate:.1%} of the last {days} days' "
                                 f"decisions (policy: at most {bound:.0%})."))
    slipped = control_violations(session=session, margins={model.name: tier.confidence_margin},
                                 limit=1, since=since).total
    if slipped:
        found.append(Finding("control", "high", float(slipped), 0.0,
                             f"{slipped:,} automatic decisions in the last {days} days were "
                             "within the confidence margin and should have gone to a person."))
    return found


def _performance_finding(session: Session, model_name: str, tier: TierPolicy, now: datetime,
                         severity: str) -> Finding | None:
    """ROC AUC on the recent decisions whose outcome is known, against the tier's floor."""
    floor = tier.metric_floors.get("roc_auc")
    if floor is None:
        return None
    labelled = session.execute(
        select(Decision.score, Outcome.label)
        .join(Outcome, Outcome.decision_id == Decision.decision_id)
        .where(Decision.model_name == model_name, Decision.shadow.is_(False),
               Decision.score.is_not(None),
               Decision.decided_at >= now - timedelta(days=PERFORMANCE_DAYS))).all()
    labels = [1 if label == 1 else 0 for _, label in labelled]
    if len(labelled) < MIN_LABELLED or len(set(labels)) < 2:
        return None
    auc = float(roc_auc_score(labels, [score for score, _ in labelled]))
    if auc >= floor:
        return None
    return Finding("performance", severity, auc, floor,
                   f"ROC AUC on the {len(labelled):,} decisions of the last {PERFORMANCE_DAYS} "
                   f"days whose outcome is known is {auc:.3f} (policy floor {floor:g}).")


def _fairness_finding(session: Session, model_name: str, tier: TierPolicy, since: datetime,
                      now: datetime, severity: str) -> Finding | None:
    bound = tier.fairness_bounds["four_fifths_ratio_min"]
    failing = [(s.feature, ratio) for s in selection(
        connection=session.connection(), model_name=model_name, start=since.date(),
        end=now.date() + timedelta(days=1), min_group_size=tier.min_group_size)
        if (ratio := s.four_fifths_ratio) is not None and ratio < bound]
    if not failing:
        return None
    worst = min(ratio for _, ratio in failing)
    named = ", ".join(f"{feature} {ratio:.2f}" for feature, ratio in failing)
    return Finding("fairness", severity, worst, bound,
                   f"Approval rates by group broke the four-fifths rule in the last "
                   f"{int(tier.monitoring['window_days'])} days (least over most favoured: "
                   f"{named}; policy: at least {bound:g}).")


def _drift_finding(window: DriftWindow, severity: str) -> Finding | None:
    if not window.judged or not window.dataset_drift:
        return None
    drifted = ", ".join(f.feature for f in window.features if f.drifted)
    share = window.drifted_share or 0.0
    return Finding("drift", severity, share, window.thresholds["drifted_share_max"],
                   f"{share:.0%} of v{window.version}'s inputs drifted from its reference "
                   f"from {window.start:%Y-%m-%d}: {drifted}.")


def acknowledge_alert(*, engine: Engine, actor: Principal, alert_id: int, action: str,
                      note: str) -> AlertView:
    """Record who took the alert on and what they are doing about it."""
    with refusals_recorded(engine, actor, "alert.acknowledge", "alert", alert_id):
        require(actor, Action.ACKNOWLEDGE_ALERT)
        if action not in ACTIONS:
            raise InvalidInput(f"An alert's action is one of {', '.join(ACTIONS)}, not "
                               f"{action!r}.")
        text = justified(note)
        with session_scope(engine) as session:
            alert = session.get(Alert, alert_id)
            if alert is None:
                raise NotFound(f"There is no alert #{alert_id}.")
            if alert.status != "open":
                raise InvalidInput(f"Alert #{alert_id} was already acknowledged by "
                                   f"{alert.acknowledged_by}.")
            alert.status, alert.action, alert.action_note = "acknowledged", action, text
            alert.acknowledged_by, alert.acknowledged_at = actor.id, utcnow()
            append(session=session, actor=actor, action="alert.acknowledged",
                   subject_type="alert", subject_id=alert_id, model_name=alert.model_name,
                   payload={"action": action, "note": text, "kind": alert.kind})
            session.flush()
            return _view(alert)


def list_alerts(*, session: Session, status: str | None = "open",
                limit: int = 200) -> list[AlertView]:
    """Alerts oldest first (the longest-waiting on top)."""
    query = select(Alert).order_by(Alert.opened_at, Alert.id).limit(limit)
    if status:
        query = query.where(Alert.status == status)
    return [_view(a) for a in session.scalars(query)]


def _view(alert: Alert) -> AlertView:
    return AlertView(alert.id, alert.model_name, alert.model_version, alert.kind,
                     alert.severity, alert.owner, alert.figure, alert.bound, alert.message,
                     alert.opened_at, alert.status, alert.acknowledged_by,
                     alert.acknowledged_at, alert.action, alert.action_note)
