"""`govern monitor`: every served model judged against the policy, its health stored for the
portfolio, and an alert opened for each new finding."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.audit.actions import AuditAction
from services.audit.chain import append
from services.core.clock import utcnow
from services.core.policy import Policy
from services.core.principal import Principal
from services.evidence.findings import UNRESOLVED
from services.evidence.gates import gates_for_version
from services.monitoring.alerts import AlertView, open_alerts
from services.monitoring.assessment import Assessment, Finding, assess
from services.monitoring.reviews import ReviewState, reviews_due
from services.notify.due import ReviewDue, finding_past_due_key, notify_reviews_due
from services.notify.kinds import NotificationKind
from services.notify.outbox import enqueue
from services.registry.adapter import Registry
from services.registry.aliases import alias_tenures
from services.store.engine import session_scope
from services.store.models import ModelHealth, ValidationFinding


@dataclass(frozen=True)
class MonitorReport:
    models: int
    findings: dict[str, list[Finding]]  # model -> what is wrong now
    opened: list[AlertView]  # new alerts (a finding with an open alert opens none)
    seconds: float


def monitor(*, engine: Engine, registry: Registry, policy: Policy, actor: Principal,
            now: datetime | None = None) -> MonitorReport:
    """Judge every model that serves a champion, store its health for the portfolio, and open
    an alert for each new finding."""
    started, now = time.perf_counter(), now or utcnow()
    findings: dict[str, list[Finding]] = {}
    opened: list[AlertView] = []
    served = [m for m in registry.list_models() if "champion" in m.aliases]
    for model in served:
        version = model.aliases["champion"]
        with session_scope(engine) as session:
            gates = gates_for_version(session=session, registry=registry, policy=policy,
                                      model_name=model.name, version=version, model=model)
            assessment = assess(session=session, model_name=model.name, version=version,
                                tier=policy.for_tier(model.risk_tier), as_of=now, gates=gates)
            session.add(_health_row(assessment, backfilled=False))
            findings[model.name] = assessment.findings
            opened += open_alerts(session, model, version, assessment, actor, now)
    with session_scope(engine) as session:
        tell_findings_past_due(session, now)
        tell_reviews_due(session, registry, policy, now)
    return MonitorReport(len(served), findings, opened, time.perf_counter() - started)


def tell_reviews_due(session: Session, registry: Registry, policy: Policy,
                     now: datetime) -> int:
    """Tell each model's owner of a periodic review due, due soon, triggered or overdue: once
    per due date, or (due now by a trigger, or never validated) once until it is reviewed."""
    due = []
    for status in reviews_due(session=session, registry=registry, policy=policy, now=now):
        if status.due_on is None:
            continue
        once_per = None
        if status.state is ReviewState.TRIGGERED or status.since is None:
            # Their due date is "today" at every run: count them from what they wait on.
            once_per = f"{status.state}:{status.since or status.champion}"
        due.append(ReviewDue(status.model_name, status.owner, status.due_on, once_per))
    return notify_reviews_due(session, due)


def tell_findings_past_due(session: Session, now: datetime) -> int:
    """Tell each unresolved finding's owner, once per due date, that it is past due. Returns
    the notifications written."""
    written = 0
    for row in session.scalars(select(ValidationFinding).where(
            ValidationFinding.status.in_(UNRESOLVED), ValidationFinding.due_on < now.date())
            .order_by(ValidationFinding.id)):
        written += enqueue(
            session, kind=NotificationKind.FINDING_PAST_DUE,
            subject=f"Finding #{row.id} on {row.model_name} v{row.model_version} is past due",
            text=f"Finding #{row.id} ({row.severity}), \"{row.title}\", on {row.model_name} "
                 f"v{row.model_version} was due on {row.due_on:%Y-%m-%d} and is {row.status}.",
            link=f"/evidence?model={row.model_name}&version={row.model_version}",
            data={"finding_id": row.id, "model": row.model_name,
                  "version": row.model_version, "severity": row.severity,
                  "status": row.status, "due_on": row.due_on.isoformat()},
            to=[row.owner], dedup_key=finding_past_due_key(row.id, row.due_on), now=now)
    return written


def backfill_health(*, engine: Engine, registry: Registry, policy: Policy, actor: Principal,
                    days: int, every: int = 1, now: datetime | None = None,
                    progress: Callable[[str], None] = lambda _: None) -> int:
    """Judge each served model as of the end of every `every`-th of the last `days` days,
    from the log,
    so the portfolio has a history when the console is put over an existing log. Evidence and
    gates are left out (the evidence then is not what is stored now) and no alert is opened.
    Days already recorded are skipped. Returns the snapshots written."""
    now = now or utcnow()
    written = 0
    for model in [m for m in registry.list_models() if "champion" in m.aliases]:
        progress(f"Judging {model.name} over the last {days} days")
        with session_scope(engine) as session:
            done = set(session.scalars(select(ModelHealth.as_of).where(
                ModelHealth.model_name == model.name, ModelHealth.backfilled.is_(True))))
            holders = [t for t in alias_tenures(session=session, model_name=model.name)
                       if t.alias == "champion"]
            for back in range(days, 0, -every):
                as_of = datetime.combine((now - timedelta(days=back)).date(), datetime.min.time())
                if as_of in done:
                    continue
                version = next((t.version for t in holders if t.since <= as_of
                                and (t.until is None or as_of < t.until)),
                               model.aliases["champion"])
                assessment = assess(session=session, model_name=model.name, version=version,
                                    tier=policy.for_tier(model.risk_tier), as_of=as_of,
                                    gates=None)
                session.add(_health_row(assessment, backfilled=True))
                written += 1
            append(session=session, actor=actor, action=AuditAction.HEALTH_BACKFILLED,
                   subject_type="model", subject_id=model.name, model_name=model.name,
                   payload={"days": days, "every": every, "as_of": now.isoformat()})
    return written


def _health_row(assessment: Assessment, *, backfilled: bool) -> ModelHealth:
    activity = assessment.activity
    return ModelHealth(
        model_name=assessment.model_name, model_version=assessment.version,
        as_of=assessment.as_of, recorded_at=utcnow(), backfilled=backfilled,
        pillars={name: p.as_json() for name, p in assessment.pillars.items()},
        activity={"days": activity.days, "decisions": activity.decisions,
                  "escalated": activity.escalated, "overridden": activity.overridden,
                  "previous_decisions": activity.previous_decisions,
                  "previous_escalated": activity.previous_escalated,
                  "previous_overridden": activity.previous_overridden})
