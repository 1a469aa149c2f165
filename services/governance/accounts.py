"""Local accounts (argon2 password hashes) and roles from OIDC claims; the password check
that sign-in (services.governance.sign_in) uses.

Every change to an account is an audited write that only an admin may make; a refused one
leaves its refusal in the trail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.audit.actions import AuditAction
from services.audit.chain import append, refusals_recorded
from services.core.clock import utcnow
from services.core.errors import InvalidInput, NotFound
from services.core.permissions import Action, require
from services.core.principal import DEMO_PERSONAS, Principal, Role
from services.store.engine import session_scope
from services.store.models import User
from services.store.workspace import WorkspaceState, workspace_state

MIN_PASSWORD = 12
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,127}$")
_HASHER = PasswordHasher()
# Verified when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password anyone has")


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    email: str | None
    roles: frozenset[Role]
    disabled: bool
    created_at: datetime
    last_sign_in_at: datetime | None

    def principal(self) -> Principal:
        return Principal(self.username, self.display_name, self.roles)

# Enough to catch a slip (a missing @, a space); the mail server judges the rest.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_roles(names: Iterable[str]) -> frozenset[Role]:
    """Role names as typed (comma lists allowed), refused when one is not a role."""
    wanted = {n.strip().lower().replace("-", "_") for name in names for n in name.split(",")}
    wanted.discard("")
    known = {r.value for r in Role}
    if unknown := sorted(wanted - known):
        raise InvalidInput(f"Not a role: {', '.join(unknown)}.",
                           hint=f"Roles are: {', '.join(sorted(known))}.")
    if not wanted:
        raise InvalidInput("An account needs at least one role.")
    return frozenset(Role(n) for n in wanted)


def add_user(*, engine: Engine, actor: Principal, username: str, password: str,
             roles: frozenset[Role], display_name: str = "", email: str | None = None
             ) -> Account:
    """Create a local account (admins only)."""
    with refusals_recorded(engine, actor, AuditAction.USER_ADD_REFUSED, "user", username):
        require(actor, Action.MANAGE_USERS)
        if not _USERNAME.match(username):
            raise InvalidInput(f"{username!r} is not a username.",
                               hint="Start with a lower-case letter or a digit; then 1-127 more of "
                                    "those, '.', '_', '@' or '-'.")
        if len(password) < MIN_PASSWORD:
            raise InvalidInput(f"The password has {len(password)} characters; use at least "
                               f"{MIN_PASSWORD}.")
        with session_scope(engine) as session:
            if session.scalar(select(User.id).where(User.username == username)) is not None:
                raise InvalidInput(f"There is already an account {username!r}.")
            user = User(username=username, display_name=display_name.strip() or username,
                        email=email, roles=sorted(r.value for r in roles),
                        password_hash=_HASHER.hash(password), disabled=False,
                        created_at=utcnow())
            session.add(user)
            session.flush()
            append(session=session, actor=actor, action=AuditAction.USER_ADDED, subject_type="user",
                   subject_id=username, payload={"roles": user.roles, "email": email})
            return account_of(user)


def set_roles(*, engine: Engine, actor: Principal, username: str,
              roles: frozenset[Role]) -> Account:
    """Replace an account's roles (admins only)."""
    with refusals_recorded(engine, actor, AuditAction.USER_SET_ROLES_REFUSED, "user", username):
        require(actor, Action.MANAGE_USERS)
        with session_scope(engine) as session:
            user = _user(session, username)
            before = list(user.roles)
            user.roles = sorted(r.value for r in roles)
            append(session=session, actor=actor, action=AuditAction.USER_ROLES_SET,
                   subject_type="user",
                   subject_id=username, payload={"before": before, "after": user.roles})
            return account_of(user)


def set_email(*, engine: Engine, actor: Principal, username: str, email: str | None) -> Account:
    """Set or clear (None) an account's e-mail address, where notifications reach it (admins
    only).

    Raises:
        PermissionDenied: not an admin. NotFound: no such account.
        InvalidInput: the address is not of the form name@domain.
    """
    with refusals_recorded(engine, actor, AuditAction.USER_SET_EMAIL_REFUSED, "user",
                           username):
        require(actor, Action.MANAGE_USERS)
        address = email.strip() if email else None
        if address is not None and not _EMAIL.match(address):
            raise InvalidInput(f"{address!r} is not an e-mail address.",
                               hint="Write it as name@domain.")
        with session_scope(engine) as session:
            user = _user(session, username)
            before, user.email = user.email, address
            append(session=session, actor=actor, action=AuditAction.USER_EMAIL_SET,
                   subject_type="user", subject_id=username,
                   payload={"before": before, "after": address})
            return account_of(user)


def disable_user(*, engine: Engine, actor: Principal, username: str) -> Account:
    """Stop an account from signing in; its history stays (admins only)."""
    with refusals_recorded(engine, actor, AuditAction.USER_DISABLE_REFUSED, "user", username):
        require(actor, Action.MANAGE_USERS)
        if username == actor.id:
            raise InvalidInput("An admin cannot disable their own account.",
                               hint="Ask another admin.")
        with session_scope(engine) as session:
            user = _user(session, username)
            user.disabled = True
            append(session=session, actor=actor, action=AuditAction.USER_DISABLED,
                   subject_type="user",
                   subject_id=username)
            return account_of(user)


def list_users(*, session: Session) -> list[Account]:
    return [account_of(u) for u in session.scalars(select(User).order_by(User.username))]


def account_principal(*, session: Session, username: str) -> Principal | None:
    """A signed-in local account as it stands now: its current roles, or None once it is
    disabled or gone. Read on every page run, so disabling an account or taking a role away
    takes effect at the holder's next click, not when their session expires."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or user.disabled:
        return None
    return account_of(user).principal()


def record_sign_in(*, engine: Engine, principal: Principal, method: str) -> None:
    """An identity provider's sign-in, recorded once per browser session."""
    with session_scope(engine) as session:
        append(session=session, actor=principal, action=AuditAction.SIGNED_IN, subject_type="user",
               subject_id=principal.id,
               payload={"method": method, "roles": sorted(r.value for r in principal.roles)})


def password_matches(user: User | None, password: str) -> bool:
    """Whether the password is the account's: one argon2 verification whatever the account
    (a fixed dummy hash when there is none), so a wrong name costs what a wrong password does."""
    try:
        return _HASHER.verify(user.password_hash if user and user.password_hash
                              else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False


def principal_from_claims(*, email: str | None, name: str | None, groups: Iterable[str],
                          role_map: Mapping[str, list[str]]) -> Principal | None:
    """The principal an OIDC identity maps to: roles by e-mail and by 'group:NAME' keys.

    None when the identity maps to no role: signed in, but allowed nothing.
    """
    keys = [email.lower()] if email else []
    keys += [f"group:{g}" for g in groups]
    wanted = [role for key in keys for role in role_map.get(key, [])]
    if not email or not wanted:
        return None
    return Principal(email.lower(), name or email, parse_roles(wanted))


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"There is no account {username!r}.")
    return user


def account_of(user: User) -> Account:
    return Account(user.username, user.display_name, user.email,
                   frozenset(Role(r) for r in user.roles if r in Role._value2member_map_),
                   user.disabled, user.created_at, user.last_sign_in_at)


def account_roles(*, session: Session, name: str) -> frozenset[Role] | None:
    """The roles of the account with this name: an enabled account in the store, or a demo
    persona while the demo is built or shown; None when there is no such account (a disabled
    one included). Who may be given work (a finding, a model) is judged on these."""
    account = session.scalar(select(User).where(User.username == name))
    if account is not None:
        known = {r.value for r in Role}
        return None if account.disabled else frozenset(Role(r) for r in account.roles
                                                       if r in known)
    demo = workspace_state(session=session) in (WorkspaceState.DEMO,
                                                WorkspaceState.DEMO_BUILDING)
    persona = next((p.principal for p in DEMO_PERSONAS if p.principal.id == name), None) \
        if demo else None
    return persona.roles if persona is not None else None
