"""Alerts with owners: opened by the monitor, open until someone with the right role
acknowledges one and records the action taken. Opening and acknowledging are audit events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.audit.actions import AuditAction
from services.audit.chain import append, refusals_recorded
from services.core.clock import utcnow
from services.core.errors import InvalidInput, NotFound
from services.core.justification import justified
from services.core.permissions import Action, require
from services.core.principal import Principal, Role
from services.monitoring.assessment import Assessment
from services.notify.kinds import NotificationKind
from services.notify.outbox import accounts_with_roles, enqueue
from services.registry.adapter import ModelSummary
from services.store.engine import session_scope
from services.store.models import Alert


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"


ACTIONS = ("investigate", "retrain", "accept", "retire")


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
    status: AlertStatus
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    action: str | None
    action_note: str | None



def open_alerts(session: Session, model: ModelSummary, version: str, assessment: Assessment,
                 actor: Principal, now: datetime) -> list[AlertView]:
    open_kinds = set(session.scalars(select(Alert.kind).where(
        Alert.model_name == model.name, Alert.status == AlertStatus.OPEN)))
    opened: list[AlertView] = []
    for finding in assessment.findings:
        if finding.kind in open_kinds:
            continue
        alert = Alert(model_name=model.name, model_version=version, kind=finding.kind,
                      severity=finding.severity, owner=model.owner or "unassigned",
                      figure=finding.figure, bound=finding.bound,
                      message=finding.message, opened_at=now, status=AlertStatus.OPEN)
        session.add(alert)
        session.flush()
        append(session=session, actor=actor, action=AuditAction.ALERT_OPENED, subject_type="alert",
               subject_id=alert.id, model_name=model.name,
               payload={"kind": finding.kind, "figure": finding.figure,
                        "bound": finding.bound, "owner": alert.owner,
                        "message": finding.message})
        _tell(session, model, alert)
        opened.append(_view(alert))
    return opened


def _tell(session: Session, model: ModelSummary, alert: Alert) -> None:
    """The model's owner and the validators hear of a new alert (in its transaction)."""
    figure = "" if alert.figure is None or alert.bound is None else \
        f" ({alert.figure:.3g} against a bound of {alert.bound:.3g})"
    enqueue(session, kind=NotificationKind.ALERT_OPENED,
            subject=f"{alert.severity.capitalize()} {alert.kind} alert on {model.name} "
                    f"v{alert.model_version}",
            text=f"Alert #{alert.id} opened on {model.name} v{alert.model_version}: "
                 f"{alert.kind}{figure}. {alert.message}",
            link="/alerts",
            data={"alert_id": alert.id, "model": model.name, "version": alert.model_version,
                  "alert_kind": alert.kind, "severity": alert.severity,
                  "figure": alert.figure, "bound": alert.bound},
            to=[*([model.owner] if model.owner else []),
                *accounts_with_roles(session, [Role.VALIDATOR])],
            now=alert.opened_at)


def acknowledge_alert(*, engine: Engine, actor: Principal, alert_id: int, action: str,
                      note: str) -> AlertView:
    """Record who took the alert on and what they are doing about it."""
    with refusals_recorded(engine, actor, AuditAction.ALERT_ACKNOWLEDGE_REFUSED, "alert", alert_id):
        require(actor, Action.ACKNOWLEDGE_ALERT)
        if action not in ACTIONS:
            raise InvalidInput(f"An alert's action is one of {', '.join(ACTIONS)}, not "
                               f"{action!r}.")
        text = justified(note)
        with session_scope(engine) as session:
            alert = session.get(Alert, alert_id)
            if alert is None:
                raise NotFound(f"There is no alert #{alert_id}.")
            if alert.status != AlertStatus.OPEN:
                raise InvalidInput(f"Alert #{alert_id} was already acknowledged by "
                                   f"{alert.acknowledged_by}.")
            alert.status, alert.action, alert.action_note = AlertStatus.ACKNOWLEDGED, action, text
            alert.acknowledged_by, alert.acknowledged_at = actor.id, utcnow()
            append(session=session, actor=actor, action=AuditAction.ALERT_ACKNOWLEDGED,
                   subject_type="alert", subject_id=alert_id, model_name=alert.model_name,
                   payload={"action": action, "note": text, "kind": alert.kind})
            session.flush()
            return _view(alert)


def list_alerts(*, session: Session, status: AlertStatus | None = AlertStatus.OPEN,
                limit: int = 200) -> list[AlertView]:
    """Alerts oldest first (the longest-waiting on top)."""
    query = select(Alert).order_by(Alert.opened_at, Alert.id).limit(limit)
    if status:
        query = query.where(Alert.status == status)
    return [_view(a) for a in session.scalars(query)]


def _view(alert: Alert) -> AlertView:
    return AlertView(alert.id, alert.model_name, alert.model_version, alert.kind,
                     alert.severity, alert.owner, alert.figure, alert.bound, alert.message,
                     alert.opened_at, AlertStatus(alert.status), alert.acknowledged_by,
                     alert.acknowledged_at, alert.action, alert.action_note)
