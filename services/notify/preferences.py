"""Each person's choice of which notifications reach them by e-mail. No row means the default,
on: a person hears of what is addressed to them until they say otherwise. A change is an audit
event (who turned what off is part of the record of oversight)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.audit.actions import AuditAction
from services.audit.chain import append, lock_trail
from services.core.clock import utcnow
from services.core.errors import InvalidInput
from services.core.principal import Principal
from services.notify.kinds import NotificationKind
from services.store.engine import session_scope
from services.store.models import NotificationPreference, User


def email_address(*, session: Session, account: str) -> str | None:
    """Where e-mail reaches this account: its address in the store (None: no account, which
    a demo persona or an OIDC sign-in without a local account is, or no address set)."""
    return session.scalar(select(User.email).where(User.username == account))


def email_choices(*, session: Session, account: str) -> dict[NotificationKind, bool]:
    """Every kind, and whether the account receives it by e-mail."""
    stored = {row.kind: row.email for row in session.scalars(select(NotificationPreference)
                                                             .where(NotificationPreference
                                                                    .account == account))}
    return {kind: stored.get(kind, True) for kind in NotificationKind}


def set_email_choices(*, engine: Engine, actor: Principal,
                      choices: Mapping[NotificationKind, bool] | Mapping[str, bool],
                      ) -> dict[NotificationKind, bool]:
    """The signed-in person sets their own choices (kinds not named keep theirs); audited.
    Returns all their choices now.

    Raises:
        InvalidInput: a kind is not one of NotificationKind, or nothing changed.
    """
    try:
        wanted = {NotificationKind(kind): bool(on) for kind, on in choices.items()}
    except ValueError:
        raise InvalidInput(f"Not a kind of notification: {sorted(map(str, choices))}.",
                           hint=f"Choose among: {', '.join(NotificationKind)}.") from None
    with session_scope(engine) as session:
        lock_trail(session=session)
        before = email_choices(session=session, account=actor.id)
        changed = {kind: on for kind, on in wanted.items() if before[kind] != on}
        if not changed:
            raise InvalidInput("Your notification choices already read so: nothing changed.")
        for kind, on in changed.items():
            row = session.get(NotificationPreference, (actor.id, str(kind)))
            if row is None:
                session.add(NotificationPreference(account=actor.id, kind=kind, email=on,
                                                   changed_at=utcnow()))
            else:
                row.email, row.changed_at = on, utcnow()
        append(session=session, actor=actor, action=AuditAction.NOTIFICATION_PREFERENCES_SET,
               subject_type="account", subject_id=actor.id,
               payload={"email": {str(kind): on for kind, on in sorted(changed.items())}})
        session.flush()
        return email_choices(session=session, account=actor.id)
