"""Service tokens: how a serving system authenticates to the ingest API (`govern api`).

A token is a random secret shown once when it is made; the store keeps only its SHA-256. A
token's uses act as the principal `token:NAME`, so the audit trail names the token behind
each batch. Making and revoking one are audited writes that only an admin may make.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from services.audit.actions import AuditAction
from services.audit.chain import append, refusals_recorded
from services.core.clock import utcnow
from services.core.errors import InvalidInput, NotFound
from services.core.permissions import Action, require
from services.core.principal import Principal, Role
from services.store.engine import session_scope
from services.store.models import ServiceToken

PREFIX = "mgc_"  # marks the secret as this console's in logs and secret scanners
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,127}$")


@dataclass(frozen=True)
class TokenRecord:
    """A token as listed: never its secret."""

    name: str
    roles: frozenset[Role]
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def secret_digest(secret: str) -> str:
    # SHA-256, not argon2 as for passwords: a token is 256 random bits, so no dictionary or
    # brute force can find it from its hash, and a fast hash lets every API request be checked
    # by one indexed lookup instead of a deliberately slow hash per token.
    return hashlib.sha256(secret.encode()).hexdigest()


def token_principal(name: str, roles: frozenset[Role]) -> Principal:
    """Who acts when a token is used: its audit events carry the actor `token:NAME`."""
    return Principal(f"token:{name}", f"{name} (service token)", roles)


def create_token(*, engine: Engine, actor: Principal, name: str,
                 roles: frozenset[Role]) -> tuple[TokenRecord, str]:
    """Make a token (admins only): its record and its secret, which is not stored and cannot
    be shown again. Raises InvalidInput for a bad name, a name any token has had (a revoked
    token's name is never reused: the trail names batches by it) or no role; PermissionDenied."""
    with refusals_recorded(engine, actor, AuditAction.TOKEN_CREATE_REFUSED, "service_token",
                           name):
        require(actor, Action.MANAGE_USERS)
        if not _NAME.match(name):
            raise InvalidInput(f"{name!r} is not a token name.",
                               hint="Use 2-128 lower-case letters, digits, '.', '_', '-'.")
        if not roles:
            raise InvalidInput("A token needs a role.", hint="Serving systems use --role ingest.")
        secret = PREFIX + secrets.token_urlsafe(32)
        with session_scope(engine) as session:
            taken = session.scalar(select(ServiceToken).where(ServiceToken.name == name))
            if taken is not None and taken.revoked_at is not None:
                # The trail names each batch's token as token:NAME: a new token under a revoked
                # one's name would make the two indistinguishable in the history.
                raise InvalidInput(
                    f"Token {name!r} was revoked on {taken.revoked_at:%Y-%m-%d %H:%M} UTC, and "
                    "a token name is never used again: the audit trail names each batch by its "
                    "token's name, so a new token under it would be mistaken for the old one.",
                    hint=f"Choose another name, e.g. {_next_name(session, name)!r}.")
            if taken is not None:
                raise InvalidInput(f"There is already an active token {name!r}.",
                                   hint="Revoke it first (`govern tokens revoke NAME`) and make "
                                        "one under another name, or choose another name.")
            token = ServiceToken(name=name, roles=sorted(r.value for r in roles),
                                 secret_sha256=secret_digest(secret), created_by=actor.id,
                                 created_at=utcnow())
            session.add(token)
            session.flush()
            append(session=session, actor=actor, action=AuditAction.TOKEN_CREATED,
                   subject_type="service_token", subject_id=name,
                   payload={"roles": token.roles})
            return _record(token), secret


def revoke_token(*, engine: Engine, actor: Principal, name: str) -> TokenRecord:
    """Stop a token working from its next request (admins only). Raises NotFound for an
    unknown name, InvalidInput when it is already revoked; PermissionDenied."""
    with refusals_recorded(engine, actor, AuditAction.TOKEN_REVOKE_REFUSED, "service_token",
                           name):
        require(actor, Action.MANAGE_USERS)
        with session_scope(engine) as session:
            token = session.scalar(select(ServiceToken).where(ServiceToken.name == name))
            if token is None:
                raise NotFound(f"There is no token {name!r}.",
                               hint="`govern tokens list` shows them.")
            if token.revoked_at is not None:
                raise InvalidInput(f"Token {name!r} was already revoked on "
                                   f"{token.revoked_at:%Y-%m-%d %H:%M} UTC.")
            token.revoked_at, token.revoked_by = utcnow(), actor.id
            append(session=session, actor=actor, action=AuditAction.TOKEN_REVOKED,
                   subject_type="service_token", subject_id=name, payload={})
            return _record(token)


def list_tokens(*, engine: Engine, actor: Principal) -> list[TokenRecord]:
    """Every token, active or revoked, by name (admins only). Raises PermissionDenied."""
    require(actor, Action.MANAGE_USERS)
    with session_scope(engine) as session:
        return [_record(t) for t in session.scalars(select(ServiceToken)
                                                    .order_by(ServiceToken.name))]


def authenticate(*, engine: Engine, secret: str) -> Principal | None:
    """The principal of an active token with this secret; None for an unknown or revoked one
    (the caller answers both the same way)."""
    if not secret.startswith(PREFIX) or len(secret) > 256:
        return None
    with session_scope(engine) as session:
        token = session.scalar(select(ServiceToken).where(
            ServiceToken.secret_sha256 == secret_digest(secret)))
        if token is None or token.revoked_at is not None:
            return None
        return token_principal(token.name, _roles(token.roles))


def _next_name(session: Session, name: str) -> str:
    """The first of NAME-2, NAME-3, ... that no token has had."""
    taken = set(session.scalars(select(ServiceToken.name).where(
        ServiceToken.name.like(f"{name}-%"))))
    return next(f"{name}-{n}"[:128] for n in range(2, 10_000) if f"{name}-{n}" not in taken)


def _roles(names: list[str]) -> frozenset[Role]:
    return frozenset(Role(n) for n in names if n in Role._value2member_map_)


def _record(token: ServiceToken) -> TokenRecord:
    return TokenRecord(token.name, _roles(token.roles), token.created_by, token.created_at,
                       token.revoked_at, token.revoked_by)
