"""The signed, expiring token a browser keeps so a local account stays signed in across a reload
or a new tab.

The token names the account and its expiry, signed with a secret generated at first use in the
workspace (never a default in code), so anyone holding the workspace's files can mint one and
nobody else can. It proves who signed in and until when; it grants nothing by itself: each page
run re-reads the account (accounts.account_principal), so a disabled account or a changed role
takes effect at the next click as it does without the token.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from itsdangerous import BadSignature, URLSafeSerializer

SECRET_FILE = "session-secret"  # in the workspace (GOVERNANCE_HOME), mode 0600
_SALT = "governance.session"  # keeps these signatures apart from any other use of the secret


@dataclass(frozen=True)
class SessionClaim:
    """What a valid token says: the account, and until when it holds (naive UTC, as utcnow)."""

    account: str
    expires: datetime


def session_secret(home: Path) -> bytes:
    """The workspace's signing secret (32 random bytes as hex), made on first use.

    Written whole to a private file and then linked into place, so two processes starting
    together agree on one secret and neither reads a half-written file. Raises OSError when
    the workspace cannot be written or read, or the file is empty.
    """
    path = home / SECRET_FILE
    if not path.exists():
        draft = home / f".{SECRET_FILE}.{secrets.token_hex(4)}"
        handle = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "wb") as out:
            out.write(secrets.token_hex(32).encode())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            draft.unlink()
    secret = path.read_bytes().strip()
    if not secret:
        raise OSError(f"{path} is empty: delete it (every browser then signs in again)")
    return secret


def _serializer(secret: bytes) -> URLSafeSerializer:
    # Not the timed serializer: it stamps the system clock, and the expiry in the body is the
    # one time that matters (tests pass their own `now`).
    return URLSafeSerializer(secret, salt=_SALT)


def issue_token(*, secret: bytes, account: str, now: datetime,
                hours: float) -> tuple[str, datetime]:
    """A token for `account` valid for `hours` from `now` (naive UTC): (token, its expiry)."""
    expires = (now + timedelta(hours=hours)).replace(microsecond=0)
    epoch = int(expires.replace(tzinfo=UTC).timestamp())
    return _serializer(secret).dumps({"account": account, "expires": epoch}), expires


def read_token(*, secret: bytes, token: str, now: datetime, hours: float) -> SessionClaim | None:
    """The claim of a valid token at `now` (naive UTC), or None when it is forged, altered,
    expired, or runs further ahead than `hours` (GOVERNANCE_SESSION_HOURS as it is now, so
    lowering it shortens the tokens already out)."""
    try:
        body = _serializer(secret).loads(token)
    except BadSignature:
        return None
    if not isinstance(body, dict) or set(body) != {"account", "expires"}:
        return None
    account, epoch = body["account"], body["expires"]
    if not isinstance(account, str) or not account or not isinstance(epoch, int):
        return None
    expires = datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)
    if now >= expires or expires - now > timedelta(hours=hours):
        return None
    return SessionClaim(account=account, expires=expires)
