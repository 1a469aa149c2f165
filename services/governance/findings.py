"""The findings workflow: a validator raises, the model's owner works, another validator closes.

open → remediation in progress → ready for review → closed, or accepted as a limitation (from
any unsettled status); a reviewer may send a finding ready for review back to remediation.
Four eyes: whoever last moved a finding to ready for review, the finding's owner and the
model's owner may not close it or accept it. Every function here is a write: it checks
permission, takes the audit trail's lock, and appends its audit event (and a step of the
finding's timeline) in the same transaction; a refusal leaves only its own audit event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.audit.actions import AuditAction
from services.audit.chain import append, lock_trail, refusals_recorded
from services.core.clock import utcnow
from services.core.errors import InvalidInput, NotFound, PermissionDenied
from services.core.justification import justified
from services.core.permissions import Action, require
from services.core.principal import Principal, Role
from services.core.visible import visible
from services.evidence.findings import (
    UNRESOLVED,
    Category,
    FindingRecord,
    FindingStatus,
    Severity,
    finding,
)
from services.governance.accounts import account_roles
from services.notify.kinds import NotificationKind
from services.notify.outbox import enqueue
from services.registry.adapter import Registry
from services.store.engine import session_scope
from services.store.models import Decision, Evidence, FindingEvent, ValidationFinding

MAX_DUE_DAYS = 730
_ACCOUNT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")


class ReviewVerdict(StrEnum):
    CLOSE = "close"
    ACCEPT = "accept as limitation"
    SEND_BACK = "send back"


def raise_finding(*, engine: Engine, registry: Registry, actor: Principal, model_name: str,
                  version: str, title: str, description: str, severity: Severity | str,
                  category: Category | str, due_on: date, owner: str | None = None,
                  remediation_plan: str = "", evidence_ids: Sequence[int] = (),
                  decision_ids: Sequence[str] = ()) -> FindingRecord:
    """A validator (or admin) records what is wrong with a version; status open.

    owner: the account that must remediate it; the model's `owner` tag when not given.

    Raises:
        PermissionDenied: the actor may not raise findings.
        InvalidInput: a field is empty or unknown, the due date is past or too far, a linked
            record is not of this version, or the model has no owner to assign.
        NotFound: the model or version is not registered.
    """
    with refusals_recorded(engine, actor, AuditAction.FINDING_RAISE_REFUSED, "model",
                           model_name, model_name):
        require(actor, Action.RAISE_FINDING)
        model = registry.get_model(model_name)
        registry.get_version(model_name, str(version))
        assignee = _account(owner or model.owner or "")
        fields = _fields(title, description, severity, category, due_on)
        with session_scope(engine) as session:
            lock_trail(session=session)
            _can_work(session, assignee, model.owner)
            _check_links(session, model_name, str(version), evidence_ids, decision_ids)
            row = ValidationFinding(
                model_name=model_name, model_version=str(version), owner=assignee,
                remediation_plan=visible(remediation_plan).strip(), status=FindingStatus.OPEN,
                evidence_ids=[int(i) for i in evidence_ids],
                decision_ids=[str(i) for i in decision_ids], raised_by=actor.id,
                raised_at=utcnow(), **fields)
            session.add(row)
            session.flush()
            payload = _step(session, actor, row, str(fields["description"]), {
                "title": row.title, "severity": row.severity, "category": row.category,
                "owner": assignee, "due_on": row.due_on.isoformat(),
                "evidence_ids": row.evidence_ids, "decision_ids": row.decision_ids})
            append(session=session, actor=actor, action=AuditAction.FINDING_RAISED,
                   subject_type="finding", subject_id=row.id, model_name=model_name,
                   payload=payload)
            _tell_owner(session, row)
            return finding(session=session, finding_id=row.id)


def update_finding(*, engine: Engine, actor: Principal, finding_id: int, note: str,
                   severity: Severity | str | None = None, due_on: date | None = None,
                   owner: str | None = None, remediation_plan: str | None = None,
                   registry: Registry) -> FindingRecord:
    """A validator (or admin) changes an unsettled finding's severity, due date, owner or
    plan, saying why; the status stays. Four eyes as for settling it: whoever owns the finding
    or the model, or worked it, may not change what it demands of them (a model's owner
    lowering a high finding would pass its gate). The timeline and the audit event say each
    change as from → to.

    Raises:
        PermissionDenied: the actor may not raise findings, or four eyes.
        NotFound, InvalidInput (as raise_finding; also nothing changed, or the finding is
            settled, or the new owner cannot work findings).
    """
    with refusals_recorded(engine, actor, AuditAction.FINDING_UPDATE_REFUSED, "finding",
                           finding_id):
        require(actor, Action.RAISE_FINDING)
        text = justified(note)
        with session_scope(engine) as session:
            lock_trail(session=session)
            row = _unsettled(session, finding_id)
            model_owner = registry.get_model(row.model_name).owner
            _four_eyes(actor, row, model_owner, doing="change")
            changes: dict[str, dict[str, str]] = {}

            def changed(field: str, before: object, after: object) -> None:
                changes[field] = {"from": str(before), "to": str(after)}

            if severity is not None and _member(Severity, severity) != row.severity:
                changed("severity", row.severity, _member(Severity, severity))
                row.severity = _member(Severity, severity)
            if due_on is not None and due_on != row.due_on:
                changed("due_on", f"{row.due_on:%Y-%m-%d}", f"{_due(due_on):%Y-%m-%d}")
                row.due_on = due_on
            if owner is not None and owner != row.owner:
                _can_work(session, _account(owner), model_owner)
                changed("owner", row.owner, owner)
                row.owner = owner
            if remediation_plan is not None and \
                    visible(remediation_plan).strip() != row.remediation_plan:
                changed("remediation_plan", "(earlier plan)", "(new plan)")
                row.remediation_plan = visible(remediation_plan).strip()
            if not changes:
                raise InvalidInput(f"Finding #{finding_id} already reads so: nothing changed.")
            said = "; ".join(f"{field.replace('_', ' ')} {c['from']} → {c['to']}"
                             for field, c in changes.items())
            payload = _step(session, actor, row, f"{said}. {text}", changes)
            append(session=session, actor=actor, action=AuditAction.FINDING_UPDATED,
                   subject_type="finding", subject_id=row.id, model_name=row.model_name,
                   payload=payload)
            if "owner" in changes:
                _tell_owner(session, row)
            return finding(session=session, finding_id=finding_id)


def work_finding(*, engine: Engine, registry: Registry, actor: Principal, finding_id: int,
                 status: FindingStatus | str, note: str,
                 remediation_plan: str | None = None) -> FindingRecord:
    """The finding's owner (or the model's owner, or an admin) moves it to remediation in
    progress or ready for review, with a note of what was done.

    Raises:
        PermissionDenied: the actor is not a model owner or admin, or neither owns the finding
            nor the model.
        InvalidInput: the move is not open → in progress → ready for review, or the note is
            too short.
        NotFound: there is no such finding.
    """
    with refusals_recorded(engine, actor, AuditAction.FINDING_WORK_REFUSED, "finding",
                           finding_id):
        require(actor, Action.WORK_FINDING)
        target = FindingStatus(_member(FindingStatus, status))
        text = justified(note)
        with session_scope(engine) as session:
            lock_trail(session=session)
            row = _unsettled(session, finding_id)
            model_owner = registry.get_model(row.model_name).owner
            if not actor.has(Role.ADMIN) and actor.id not in (row.owner, model_owner):
                raise PermissionDenied(f"{actor.name} neither owns finding #{finding_id} nor "
                                       f"{row.model_name}, and may not work it.",
                                       hint=f"Its owner, {row.owner}, works it.")
            allowed = {FindingStatus.REMEDIATION_IN_PROGRESS: (FindingStatus.OPEN,),
                       FindingStatus.READY_FOR_REVIEW: (FindingStatus.OPEN,
                                                        FindingStatus.REMEDIATION_IN_PROGRESS)}
            if row.status not in allowed.get(target, ()):
                raise InvalidInput(f"Finding #{finding_id} is {row.status}; it cannot move to "
                                   f"{target} from there.")
            row.status = target
            if remediation_plan is not None:
                row.remediation_plan = visible(remediation_plan).strip()
            if target is FindingStatus.READY_FOR_REVIEW:
                row.worked_by = actor.id
            append(session=session, actor=actor,
                   action=AuditAction.FINDING_READY_FOR_REVIEW
                   if target is FindingStatus.READY_FOR_REVIEW
                   else AuditAction.FINDING_REMEDIATION_STARTED,
                   subject_type="finding", subject_id=row.id, model_name=row.model_name,
                   payload=_step(session, actor, row, text, {"status": target}))
            return finding(session=session, finding_id=finding_id)


def review_finding(*, engine: Engine, registry: Registry, actor: Principal, finding_id: int,
                   verdict: ReviewVerdict | str, note: str,
                   applicant_statement: str = "") -> FindingRecord:
    """A validator closes a finding ready for review, accepts an unsettled one as a
    limitation of the model, or sends one ready for review back to remediation.

    applicant_statement: with "accept as limitation", the plain sentence decision letters of
    this version tell applicants ("How this model is limited"); empty: the limitation is in
    the register, card and pack but not told in letters (the finding's own text is a
    validator's working text, never shown to an applicant).

    Raises:
        PermissionDenied: not a validator, or four eyes: the actor last worked it, owns it, or
            owns the model.
        InvalidInput: the finding is not in a status the verdict applies to, or the note is
            too short.
        NotFound: there is no such finding.
    """
    with refusals_recorded(engine, actor, AuditAction.FINDING_REVIEW_REFUSED, "finding",
                           finding_id):
        require(actor, Action.REVIEW_FINDING)
        chosen = ReviewVerdict(_member(ReviewVerdict, verdict))
        text = justified(note)
        with session_scope(engine) as session:
            lock_trail(session=session)
            row = _unsettled(session, finding_id)
            _four_eyes(actor, row, registry.get_model(row.model_name).owner, doing="settle")
            if chosen is ReviewVerdict.ACCEPT and actor.id == row.raised_by:
                # Accepting a limitation is accepting a risk: not on the raiser's word alone.
                raise PermissionDenied(f"{actor.name} raised finding #{row.id} and may not also "
                                       "accept it as a limitation.",
                                       hint="Four eyes: another validator accepts it.")
            if chosen is not ReviewVerdict.ACCEPT \
                    and row.status != FindingStatus.READY_FOR_REVIEW:
                done = "closed" if chosen is ReviewVerdict.CLOSE else "sent back"
                raise InvalidInput(f"Finding #{finding_id} is {row.status}: only a finding "
                                   f"ready for review can be {done}.",
                                   hint="Its owner moves it to ready for review first.")
            statement = _statement(applicant_statement, chosen)
            if chosen is ReviewVerdict.SEND_BACK:
                row.status = FindingStatus.REMEDIATION_IN_PROGRESS
            else:
                row.status = FindingStatus.CLOSED if chosen is ReviewVerdict.CLOSE \
                    else FindingStatus.ACCEPTED_AS_LIMITATION
                row.closed_by, row.closed_at = actor.id, utcnow()
                row.applicant_statement = statement
            changes: dict[str, object] = {"status": row.status}
            if statement:
                changes["applicant_statement"] = statement
            append(session=session, actor=actor,
                   action=AuditAction.FINDING_SENT_BACK if chosen is ReviewVerdict.SEND_BACK
                   else AuditAction.FINDING_CLOSED if chosen is ReviewVerdict.CLOSE
                   else AuditAction.FINDING_ACCEPTED,
                   subject_type="finding", subject_id=row.id, model_name=row.model_name,
                   payload=_step(session, actor, row, text, changes))
            return finding(session=session, finding_id=finding_id)


def _statement(text: str, verdict: ReviewVerdict) -> str | None:
    """An applicant statement: plain visible text, 20 to 500 characters, for an acceptance."""
    said = visible(text).strip()
    if not said:
        return None
    if verdict is not ReviewVerdict.ACCEPT:
        raise InvalidInput("Only a finding accepted as a limitation is told to applicants.",
                           hint="Leave the statement for applicants empty.")
    if not 20 <= len(said) <= 500:
        raise InvalidInput(f"A statement for applicants has 20 to 500 characters, not "
                           f"{len(said)}.", hint="One or two plain sentences an applicant "
                                                 "understands.")
    return said


def _tell_owner(session: Session, row: ValidationFinding) -> None:
    """The finding's (new) owner hears it is theirs to remediate, in the act's transaction."""
    enqueue(session, kind=NotificationKind.FINDING_ASSIGNED,
            subject=f"Finding #{row.id} on {row.model_name} v{row.model_version} assigned to "
                    "you",
            desk_subject=f"Finding #{row.id} on {row.model_name} v{row.model_version} "
                         f"assigned to {row.owner}",
            text=f"Finding #{row.id} ({row.severity}, {row.category}), \"{row.title}\", on "
                 f"{row.model_name} v{row.model_version} is assigned to {row.owner} to "
                 f"remediate by {row.due_on:%Y-%m-%d}.",
            link=f"/evidence?model={row.model_name}&version={row.model_version}",
            data={"finding_id": row.id, "model": row.model_name, "version": row.model_version,
                  "severity": row.severity, "category": row.category,
                  "due_on": row.due_on.isoformat()},
            to=[row.owner])


def _four_eyes(actor: Principal, row: ValidationFinding, model_owner: str | None, *,
               doing: str) -> None:
    hint = "Four eyes: another validator must."
    if model_owner and actor.id == model_owner:
        raise PermissionDenied(f"{actor.name} owns {row.model_name} and may not {doing} its "
                               "findings.", hint=hint)
    if actor.id == row.owner:
        raise PermissionDenied(f"{actor.name} owns finding #{row.id} and may not {doing} it.",
                               hint=hint)
    if actor.id == row.worked_by:
        raise PermissionDenied(f"{actor.name} worked finding #{row.id} and may not {doing} it.",
                               hint=hint)


def _can_work(session: Session, name: str, model_owner: str | None) -> None:
    """The account a finding is assigned to must be able to work it: a model owner or admin.
    An account is judged by its roles (governance.accounts.account_roles); a name that is no
    account is accepted only as the model's owner tag (who may sign in through OIDC)."""
    roles = account_roles(session=session, name=name)
    if roles is None:
        if name == model_owner:
            return
        raise InvalidInput(f"There is no account {name!r} to assign the finding to.",
                           hint="Name an existing account (govern users list) that is a model "
                                "owner or admin, or leave it empty for the model's owner.")
    if not roles & {Role.MODEL_OWNER, Role.ADMIN}:
        raise InvalidInput(f"{name} is not a model owner or admin, so could not work the "
                           "finding.", hint="Assign it to the model's owner or another model "
                                            "owner.")


def _step(session: Session, actor: Principal, row: ValidationFinding, note: str,
          changes: Mapping[str, object]) -> dict[str, object]:
    """Add the finding's timeline step; the audit event's payload, which its caller appends
    under the action it names."""
    session.add(FindingEvent(finding_id=row.id, at=utcnow(), actor=actor.id, status=row.status,
                             note=note))
    session.flush()
    return {**changes, "version": row.model_version, "note": note}


def _unsettled(session: Session, finding_id: int) -> ValidationFinding:
    row = session.get(ValidationFinding, finding_id)
    if row is None:
        raise NotFound(f"There is no finding #{finding_id}.")
    if row.status not in UNRESOLVED:
        raise InvalidInput(f"Finding #{finding_id} is {row.status}; it takes no more changes.",
                           hint="Raise a new finding if the problem is back.")
    return row


def _fields(title: str, description: str, severity: Severity | str, category: Category | str,
            due_on: date) -> dict[str, object]:
    heading = visible(title).strip()
    if not 3 <= len(heading) <= 200:
        raise InvalidInput(f"A finding's title has 3 to 200 characters, not {len(heading)}.")
    return {"title": heading, "description": justified(description),
            "severity": _member(Severity, severity), "category": _member(Category, category),
            "due_on": _due(due_on)}


def _due(due_on: date) -> date:
    today = utcnow().date()
    if not today <= due_on <= today + timedelta(days=MAX_DUE_DAYS):
        raise InvalidInput(f"A finding falls due between today and {MAX_DUE_DAYS} days from "
                           f"now, not on {due_on:%Y-%m-%d}.")
    return due_on


def _member(kind: type[StrEnum], value: str) -> str:
    try:
        return str(kind(value))
    except ValueError:
        raise InvalidInput(f"{value!r} is not a {kind.__name__.lower()} of a finding.",
                           hint=f"Choose one of: {', '.join(kind)}.") from None


def _account(name: str) -> str:
    if not _ACCOUNT.match(name):
        raise InvalidInput(f"{name!r} is not an account name to assign the finding to."
                           if name else "The model has no owner tag to assign the finding to.",
                           hint="Name the account that must remediate it.")
    return name


def _check_links(session: Session, model_name: str, version: str, evidence_ids: Sequence[int],
                 decision_ids: Sequence[str]) -> None:
    if evidence_ids:
        found = set(session.scalars(select(Evidence.id).where(
            Evidence.id.in_([int(i) for i in evidence_ids]), Evidence.model_name == model_name,
            Evidence.model_version == version)))
        if missing := [str(i) for i in evidence_ids if int(i) not in found]:
            raise InvalidInput(f"No evidence record {', '.join('#' + m for m in missing)} of "
                               f"{model_name} v{version}.")
    if decision_ids:
        found_ids = set(session.scalars(select(Decision.decision_id).where(
            Decision.decision_id.in_([str(i) for i in decision_ids]),
            Decision.model_name == model_name)))
        if unknown := [str(i) for i in decision_ids if str(i) not in found_ids]:
            raise InvalidInput(f"No decision {', '.join(unknown)} of {model_name}.")
