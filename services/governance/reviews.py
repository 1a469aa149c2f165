"""Recording a periodic review (SR 26-2's risk-based review): a validator freezes the model's
state at that moment, concludes (continue, continue with conditions, remediate, retire) and
says why; the next review falls due a cycle later (policy.toml review_cycle_days per tier).

The frozen state is what the console judged then: the version's pillars (assessed now, as
`govern monitor` does), its gates, every finding of the model, the version's evidence records
with their hashes, the open alerts, the alias holders and the triggers that had fired. It is
stored as canonical JSON with its SHA-256 in an append-only row, so later changes (a finding
closed, a new evidence run, a new alert) never alter a past review. Reads live in
services.monitoring.reviews.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.audit.actions import AuditAction
from services.audit.chain import append, lock_trail, refusals_recorded
from services.core.canonical import canonical_json, finite, sha256_of
from services.core.clock import utcnow
from services.core.errors import InvalidInput, PermissionDenied
from services.core.justification import MAX_JUSTIFICATION, MIN_JUSTIFICATION, justified
from services.core.permissions import Action, require
from services.core.policy import Policy
from services.core.principal import Principal
from services.core.visible import visible, visible_length
from services.evidence.findings import findings_for_version
from services.evidence.gates import gates_for_version
from services.evidence.records import evidence_history
from services.monitoring.alerts import AlertStatus
from services.monitoring.assessment import assess
from services.monitoring.reviews import Conclusion, ReviewRecord, as_record, review_statuses
from services.registry.adapter import ModelSummary, Registry
from services.store.engine import session_scope
from services.store.models import Alert, PeriodicReview

REMEDIATE_DAYS = 90  # "remediate": the next review within this many days, or the cycle if shorter
STATE_FORMAT = 1  # the frozen state's layout; a reader of an old review knows which it holds
RETIRE_NOTE = ("A review concluding retire records the conclusion only: aliases are not moved. "
               "Retire the model by moving or removing its aliases through a promotion or "
               "rollback.")


def record_review(*, engine: Engine, registry: Registry, policy: Policy, actor: Principal,
                  model_name: str, conclusion: Conclusion | str, justification: str,
                  conditions: str = "", version: str | None = None,
                  next_due_on: date | None = None) -> ReviewRecord:
    """A validator reviews a model: its state frozen now, the conclusion, the next due date.

    Args:
        version: the version reviewed; default the champion.
        next_due_on: to bring the next review forward; at most the tier's cycle away (for
            "remediate" at most min(cycle, REMEDIATE_DAYS)), and after today.

    Returns the review as stored; its next_due_on is today + the tier's review_cycle_days, or
    min(that, REMEDIATE_DAYS) for "remediate", unless brought forward.

    Raises:
        PermissionDenied: the actor is not a validator, or owns the model (four eyes).
        InvalidInput: an unknown conclusion, a justification too short, conditions missing for
            "continue with conditions", no version to review, a next due date out of range.
        NotFound: the model or version is not registered.
    """
    with refusals_recorded(engine, actor, AuditAction.REVIEW_RECORD_REFUSED, "model",
                           model_name, model_name):
        require(actor, Action.RECORD_REVIEW)
        chosen = _conclusion(conclusion)
        text = justified(justification)
        terms = _conditions(chosen, conditions)
        model = registry.get_model(model_name)
        if model.owner and actor.id == model.owner:
            raise PermissionDenied(f"{actor.name} owns {model.name} and may not review it.",
                                   hint="Four eyes: another validator reviews it.")
        reviewed = str(version) if version else model.aliases.get("champion")
        if reviewed is None:
            raise InvalidInput(f"{model.name} has no champion: name the version reviewed.")
        registry.get_version(model.name, reviewed)
        now = utcnow()
        tier = policy.for_tier(model.risk_tier)
        cycle = min(tier.review_cycle_days, REMEDIATE_DAYS) \
            if chosen is Conclusion.REMEDIATE else tier.review_cycle_days
        due = _next_due(now.date(), cycle, next_due_on)
        with session_scope(engine) as session:
            lock_trail(session=session)
            status = review_statuses(session=session, models=[model], policy=policy,
                                     now=now)[model.name]
            triggers = sorted({f.trigger for f in status.fired})
            state = _frozen_state(session, registry, policy, model, reviewed, now)
            state["review_status"] = {"state": status.state, "reason": status.reason,
                                      "due_on": status.due_on, "fired": [
                                          {"trigger": f.trigger, "at": f.at, "detail": f.detail}
                                          for f in status.fired]}
            # Stored in the form it is hashed in: JSON round-trips (times become text).
            frozen = json.loads(canonical_json(finite(state)))
            row = PeriodicReview(
                model_name=model.name, model_version=reviewed, reviewed_by=actor.id,
                reviewed_at=now, conclusion=chosen, justification=text, conditions=terms,
                triggers=triggers, state=frozen, state_sha256=sha256_of(frozen),
                policy_sha256=policy.sha256, next_due_on=due)
            session.add(row)
            session.flush()
            append(session=session, actor=actor, action=AuditAction.REVIEW_RECORDED,
                   subject_type="review", subject_id=row.id, model_name=model.name,
                   payload={"version": reviewed, "conclusion": chosen, "justification": text,
                            "conditions": terms, "triggers": triggers,
                            "state_sha256": row.state_sha256,
                            "next_due_on": due.isoformat()})
            return as_record(row)


def _frozen_state(session: Session, registry: Registry, policy: Policy, model: ModelSummary,
                  version: str, now: datetime) -> dict[str, Any]:
    """The model as the console judges it at `now`: what the review rests on."""
    tier = policy.for_tier(model.risk_tier)
    gates = gates_for_version(session=session, registry=registry, policy=policy,
                              model_name=model.name, version=version, model=model)
    assessment = assess(session=session, model_name=model.name, version=version, tier=tier,
                        as_of=now, gates=gates)
    alerts = session.scalars(select(Alert).where(
        Alert.model_name == model.name, Alert.status == AlertStatus.OPEN).order_by(Alert.id))
    return {
        "format": STATE_FORMAT,
        "as_of": now,
        "model": {"name": model.name, "owner": model.owner, "risk_tier": model.risk_tier,
                  "version_reviewed": version},
        "aliases": dict(sorted(model.aliases.items())),
        "policy": {"version": policy.version, "sha256": policy.sha256,
                   "review_cycle_days": tier.review_cycle_days,
                   "review_triggers": list(tier.review_triggers)},
        "health": {name: pillar.as_json() for name, pillar in assessment.pillars.items()},
        "activity": {"days": assessment.activity.days,
                     "decisions": assessment.activity.decisions,
                     "escalated": assessment.activity.escalated,
                     "overridden": assessment.activity.overridden},
        "gates": {"passed": gates.passed, "evaluated_at": gates.evaluated_at,
                  "results": [r.as_stored() for r in gates.results]},
        "findings": [{"id": f.id, "version": f.model_version, "title": f.title,
                      "severity": f.severity, "status": f.status, "owner": f.owner,
                      "due_on": f.due_on, "overdue": f.overdue(now.date())}
                     for f in findings_for_version(session=session, model_name=model.name)],
        "evidence": [{"id": e.id, "kind": e.kind, "payload_sha256": e.payload_sha256,
                      "data_sha256": e.data_sha256, "created_at": e.created_at,
                      "intact": e.intact}
                     for e in evidence_history(session=session, model_name=model.name,
                                               model_version=version)],
        "open_alerts": [{"id": a.id, "kind": a.kind, "severity": a.severity,
                         "version": a.model_version, "opened_at": a.opened_at,
                         "message": a.message} for a in alerts],
    }


def _conclusion(value: Conclusion | str) -> Conclusion:
    try:
        return Conclusion(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a review's conclusion.",
                           hint=f"Choose one of: {', '.join(Conclusion)}.") from None


def _conditions(conclusion: Conclusion, conditions: str) -> str:
    if conclusion is Conclusion.CONTINUE_WITH_CONDITIONS:
        shown = visible_length(visible(conditions).strip())
        if shown < MIN_JUSTIFICATION:
            raise InvalidInput(f"Continuing with conditions needs the conditions written out: "
                               f"{shown} visible characters given, at least "
                               f"{MIN_JUSTIFICATION} needed.",
                               hint="Say what must hold, and by when (--conditions on the "
                                    "command line).")
        return justified(conditions)
    terms = visible(conditions).strip()
    if terms and conclusion in (Conclusion.CONTINUE, Conclusion.RETIRE):
        # A stored review cannot be corrected: conditions left from another form are refused,
        # not frozen into a conclusion they do not belong to.
        raise InvalidInput(f"A review concluding {conclusion} takes no conditions.",
                           hint="Clear the conditions, or conclude 'continue with conditions' "
                                "or 'remediate'.")
    if len(terms) > MAX_JUSTIFICATION:
        raise InvalidInput(f"The conditions have {len(terms):,} characters; the limit is "
                           f"{MAX_JUSTIFICATION:,}.")
    return terms


def _next_due(today: date, cycle: int, chosen: date | None) -> date:
    latest = today + timedelta(days=cycle)
    if chosen is None:
        return latest
    if not today < chosen <= latest:
        raise InvalidInput(f"The next review can be brought forward to a day after today and "
                           f"at most {cycle} days away (by {latest:%Y-%m-%d}), not "
                           f"{chosen:%Y-%m-%d}.")
    return chosen
