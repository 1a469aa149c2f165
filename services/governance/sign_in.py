"""Local sign-in, hardened as OWASP's Authentication Cheat Sheet asks.

- One answer and one cost for an unknown name, a wrong password and a disabled account: every
  try that is not paused verifies one argon2 hash (a fixed dummy for unknown names), and a
  paused try verifies none, whatever the name.
- Pauses are keyed by client address: a name tried from one address (5 free failures, then
  1 s, 2 s, 4 s ... at most 15 min, counted from the last failure), and all names from one
  address (20 free failures within an hour, then the same doubling). Nobody can lock an
  account out for people at other addresses, and an unknown name is paused like a known one,
  so the answers do not tell which names exist.
- Failures are kept in `sign_in_failures`, outside the chain. The first few from an address
  are chained one by one, as actor "anonymous" with the name tried in the payload; later ones
  are chained as one summary at most every five minutes per address, so probing cannot flood
  the trail. A good sign-in summarises what is pending for its address first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session

from services.audit.actions import AuditAction
from services.audit.chain import append
from services.core.clock import utcnow
from services.core.errors import PermissionDenied
from services.core.principal import Principal
from services.core.visible import visible
from services.governance.accounts import account_of, password_matches
from services.store.engine import session_scope
from services.store.models import SignInFailure, User

FREE_FAILURES = 5  # failures of one name from one address before each further try waits
ADDRESS_FREE_FAILURES = 20  # failures of any names from one address within ADDRESS_WINDOW
ADDRESS_WINDOW = timedelta(hours=1)
MAX_WAIT = timedelta(minutes=15)
SUMMARY_EVERY = timedelta(minutes=5)  # at most one chained summary per address this often
KEPT_FOR = timedelta(days=1)  # chained failures older than this are pruned from the table
UNKNOWN_ADDRESS = "unknown"
ANONYMOUS = "anonymous"


class SignInRefused(PermissionDenied):
    """Wrong name or password, a disabled account, or a paused try: said the same way for
    every name."""


def sign_in(*, engine: Engine, username: str, password: str,
            address: str | None = None, now: datetime | None = None) -> Principal:
    """Check a local account's password, paused after repeated failures (see module doc).

    Args:
        address: the client's address as the server saw it (Streamlit's st.context.ip_address);
            None pools every caller that has none.
        now: the time of the attempt (UTC, naive); the clock's when not given.

    Raises:
        SignInRefused: a wrong name or password, a disabled account, or a paused try.
    """
    name = visible(username).strip().lower()[:128]
    where = (address or UNKNOWN_ADDRESS)[:64]
    now = now or utcnow()
    with session_scope(engine) as session:
        wait = _wait(session, where, name, now)
        user = None if wait else session.scalar(select(User).where(User.username == name))
        if wait is None and password_matches(user, password) and user and not user.disabled:
            _summarise(session, where, now, force=True)
            session.execute(delete(SignInFailure).where(SignInFailure.address == where,
                                                        SignInFailure.username == name))
            user.last_sign_in_at = now
            append(session=session, actor=name, action=AuditAction.SIGNED_IN,
                   subject_type="user", subject_id=name,
                   payload={"method": "password", "address": where})
            return account_of(user).principal()
        _record_failure(session, where, name, now, paused=wait is not None)
    if wait is not None:
        seconds = int(wait.total_seconds()) + 1
        raise SignInRefused("Too many failed sign-ins from here.",
                            hint=f"Try again in {seconds} second{'s' if seconds > 1 else ''}.")
    raise SignInRefused("Unknown username, wrong password, or a disabled account.",
                        hint="Check both and try again; an admin can help.")


def _wait(session: Session, address: str, name: str, now: datetime) -> timedelta | None:
    """How long this try must still wait, or None: the longer of the name's and the address's
    pauses. Paused tries do not count, so trying inside a pause does not lengthen it."""
    counted = select(func.count(), func.max(SignInFailure.attempted_at)).where(
        SignInFailure.address == address, SignInFailure.paused.is_(False))
    by_name = session.execute(counted.where(SignInFailure.username == name)).one()
    by_address = session.execute(counted.where(
        SignInFailure.attempted_at >= now - ADDRESS_WINDOW)).one()
    waits = [_left(by_name[0] - FREE_FAILURES, by_name[1], now),
             _left(by_address[0] - ADDRESS_FREE_FAILURES, by_address[1], now)]
    return max((w for w in waits if w is not None), default=None)


def _left(excess: int, last: datetime | None, now: datetime) -> timedelta | None:
    if excess < 0 or last is None:
        return None
    # 2**10 s already exceeds MAX_WAIT: the exponent is capped so no count overflows.
    pause = min(timedelta(seconds=2 ** min(excess, 10)), MAX_WAIT)
    left = last + pause - now
    return left if left > timedelta(0) else None


def _record_failure(session: Session, address: str, name: str, now: datetime, *,
                    paused: bool) -> None:
    failure = SignInFailure(attempted_at=now, address=address, username=name, paused=paused,
                            chained=False)
    session.add(failure)
    session.flush()
    recent = session.scalar(select(func.count()).where(
        SignInFailure.address == address, SignInFailure.attempted_at >= now - ADDRESS_WINDOW))
    if (recent or 0) <= FREE_FAILURES:
        failure.chained = True
        append(session=session, actor=ANONYMOUS, action=AuditAction.SIGN_IN_FAILED,
               subject_type="sign_in", subject_id=address,
               payload={"username": name, "address": address})
    else:
        _summarise(session, address, now, force=False)
    session.execute(delete(SignInFailure).where(SignInFailure.chained.is_(True),
                                                SignInFailure.attempted_at < now - KEPT_FOR))


def _summarise(session: Session, address: str, now: datetime, *, force: bool) -> None:
    """Chain one event for the failures from an address not chained yet: when forced, or when
    the address's last chained failure is SUMMARY_EVERY old."""
    pending = session.execute(select(
        func.count(), func.count(SignInFailure.username.distinct()),
        func.min(SignInFailure.attempted_at), func.max(SignInFailure.attempted_at)).where(
        SignInFailure.address == address, SignInFailure.chained.is_(False))).one()
    if not pending[0]:
        return
    last = session.scalar(select(func.max(SignInFailure.attempted_at)).where(
        SignInFailure.address == address, SignInFailure.chained.is_(True)))
    if not force and last is not None and now - last < SUMMARY_EVERY:
        return
    names = session.scalars(select(SignInFailure.username).where(
        SignInFailure.address == address, SignInFailure.chained.is_(False))
        .distinct().order_by(SignInFailure.username).limit(20)).all()
    append(session=session, actor=ANONYMOUS, action=AuditAction.SIGN_IN_FAILURES_SUMMARISED,
           subject_type="sign_in", subject_id=address,
           payload={"address": address, "failures": pending[0], "usernames": pending[1],
                    "first_usernames": list(names), "first_at": pending[2].isoformat(),
                    "last_at": pending[3].isoformat()})
    session.execute(update(SignInFailure).where(SignInFailure.address == address,
                                                SignInFailure.chained.is_(False))
                    .values(chained=True))


def summarise_sign_in_failures(*, engine: Engine, now: datetime | None = None) -> int:
    """Chain a summary for every address whose unchained failures are SUMMARY_EVERY old, so a
    probe that stops is still in the trail (`govern monitor` calls this). Returns how many
    summaries were chained."""
    now = now or utcnow()
    with session_scope(engine) as session:
        addresses = session.scalars(select(SignInFailure.address).where(
            SignInFailure.chained.is_(False),
            SignInFailure.attempted_at <= now - SUMMARY_EVERY).distinct()).all()
        for address in addresses:
            _summarise(session, address, now, force=True)
        return len(addresses)
