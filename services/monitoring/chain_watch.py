"""A broken audit chain raises an alert: every verification (the Audit page, `govern audit
verify`, `govern monitor`) goes through verify_and_alert, so a break found anywhere is put in
front of admins and auditors, on the Alerts page and at the top of the portfolio.

The alert is a store row only, with no `alert.opened` audit event. Appending to a chain that
does not verify would bury the evidence: an event chains onto the head's hash, so after events
at the end were removed, a new event would become "the first broken link" in place of the
removal the verifier reported. The alert's opening is visible in the alerts table, and the
person who acknowledges it is recorded in the trail as for any alert.
"""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.audit.trail import ChainVerdict, verify_chain
from services.core.principal import Role
from services.monitoring.alerts import AlertStatus, AlertView, _view
from services.notify.kinds import NotificationKind
from services.notify.outbox import accounts_with_roles, enqueue
from services.store.engine import session_scope
from services.store.models import Alert

CHAIN_ALERT_KIND = "audit_chain_broken"
CHAIN_ALERT_OWNER = "admins and auditors"  # a break is nobody's model: the trail's keepers
# The alerts table names a model for every alert; this one is about the whole store.
NO_MODEL = ""
WHAT_TO_DO = ("Treat the store as tampered with: do not rely on the trail after that event; "
              "compare the store with the last exported trail and the head hash kept "
              "elsewhere, check the database's own logs for who wrote to it, and restore from "
              "a verified backup. Acknowledge this alert with the action taken.")


def verify_and_alert(*, engine: Engine) -> ChainVerdict:
    """Walk the chain (trail.verify_chain) and, when it does not verify, open one high-severity
    `audit_chain_broken` alert unless one is already open. Returns the verdict.

    Raises SourceUnavailable when the store cannot be reached.
    """
    with session_scope(engine) as session:
        verdict = verify_chain(session=session)
        if not verdict.intact and chain_alert(session=session) is None:
            where = f"at event #{verdict.broken_at}" if verdict.broken_at else "at its end"
            session.add(Alert(
                model_name=NO_MODEL, model_version=None, kind=CHAIN_ALERT_KIND,
                severity="high", owner=CHAIN_ALERT_OWNER, figure=None, bound=None,
                message=f"The audit trail does not verify: the chain breaks {where}: "
                        f"{verdict.problem}. {verdict.events:,} events before it verified. "
                        f"{WHAT_TO_DO}",
                opened_at=verdict.checked_at, status=AlertStatus.OPEN))
            enqueue(session, kind=NotificationKind.CHAIN_BROKEN,
                    subject="The audit trail does not verify",
                    text=f"The audit chain breaks {where}: {verdict.problem}. {WHAT_TO_DO}",
                    link="/audit", data={"broken_at": verdict.broken_at,
                                         "events_verified": verdict.events},
                    to=accounts_with_roles(session, [Role.ADMIN, Role.AUDITOR]))
    return verdict


def chain_alert(*, session: Session) -> AlertView | None:
    """The open `audit_chain_broken` alert, if any (there is at most one)."""
    alert = session.scalars(select(Alert).where(
        Alert.kind == CHAIN_ALERT_KIND, Alert.status == AlertStatus.OPEN)
        .order_by(Alert.id).limit(1)).first()
    return None if alert is None else _view(alert)
