"""Sign-in as OWASP asks (SQLite and PostgreSQL): one answer for every name, pauses keyed by
client address so nobody locks an account out for others, and failures summarised in the
trail instead of flooding it. Attempts say when they happen: no real clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from services.core.principal import Principal, Role
from services.governance.accounts import add_user, disable_user, parse_roles
from services.governance.sign_in import (
    ADDRESS_FREE_FAILURES,
    FREE_FAILURES,
    SignInRefused,
    sign_in,
)
from services.store.engine import session_scope
from services.store.models import AuditEvent, SignInFailure

ADMIN = Principal("root-admin", "Admin", frozenset({Role.ADMIN}))
PASSWORD = "correct horse battery staple"
T0 = datetime(2030, 1, 7, 9, 0)
HOME, PROBE = "10.0.0.7", "203.0.113.66"


def _add(engine: Engine, name: str = "vera", roles: str = "validator") -> None:
    add_user(engine=engine, actor=ADMIN, username=name, password=PASSWORD,
             roles=parse_roles([roles]))


def _refused(engine: Engine, password: str, at: datetime, name: str = "vera",
             address: str = HOME) -> SignInRefused:
    with pytest.raises(SignInRefused) as refused:
        sign_in(engine=engine, username=name, password=password, address=address, now=at)
    return refused.value


def _events(engine: Engine) -> list[AuditEvent]:
    with session_scope(engine) as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        session.expunge_all()
        return events


def test_wrong_password_unknown_name_and_disabled_account_read_the_same(
        engine: Engine) -> None:
    _add(engine)
    _add(engine, "olga", "analyst")
    disable_user(engine=engine, actor=ADMIN, username="olga")
    answers = {(r.message, r.hint) for r in (
        _refused(engine, "wrong password!!", T0, "vera"),
        _refused(engine, PASSWORD, T0, "nobody", address="10.0.0.8"),
        _refused(engine, PASSWORD, T0, "olga", address="10.0.0.9"))}
    assert len(answers) == 1


def test_a_known_and_an_unknown_name_are_paused_alike(engine: Engine) -> None:
    _add(engine)
    paused = set()
    for name in ("vera", "nobody"):
        for _ in range(FREE_FAILURES):
            assert "wrong password" in _refused(engine, "guess", T0, name, PROBE).message
        refusal = _refused(engine, "guess", T0 + timedelta(milliseconds=500), name, PROBE)
        paused.add((refusal.message, refusal.hint))
    assert paused == {("Too many failed sign-ins from here.", "Try again in 1 second.")}


def test_five_failures_make_the_next_try_wait_even_with_the_right_password(
        engine: Engine) -> None:
    _add(engine)
    for _ in range(FREE_FAILURES):
        _refused(engine, "not the password", T0)
    assert "Too many" in _refused(engine, PASSWORD, T0 + timedelta(milliseconds=999)).message
    assert sign_in(engine=engine, username="vera", password=PASSWORD, address=HOME,
                   now=T0 + timedelta(seconds=1)).id == "vera"
    # A good sign-in starts the count again.
    assert "wrong password" in _refused(engine, "nope", T0 + timedelta(seconds=2)).message


def test_a_try_inside_the_pause_does_not_lengthen_it(engine: Engine) -> None:
    _add(engine)
    for _ in range(FREE_FAILURES):
        _refused(engine, "not the password", T0)
    for millis in (1, 500, 999):
        assert "Too many" in _refused(engine, "not the password",
                                      T0 + timedelta(milliseconds=millis)).message
    assert "wrong password" in _refused(engine, "not the password",
                                        T0 + timedelta(seconds=1)).message


@pytest.mark.parametrize(("failures", "pause"), [
    (FREE_FAILURES, timedelta(seconds=1)),
    (FREE_FAILURES + 1, timedelta(seconds=2)),
    (FREE_FAILURES + 9, timedelta(seconds=512)),
    (FREE_FAILURES + 10, timedelta(minutes=15)),  # 1,024 s, capped
    (FREE_FAILURES + 60, timedelta(minutes=15)),  # no overflow however many
])
def test_the_pause_doubles_with_each_failure_up_to_fifteen_minutes(
        engine: Engine, failures: int, pause: timedelta) -> None:
    _add(engine)
    with session_scope(engine) as session:
        session.add_all(SignInFailure(attempted_at=T0, address=HOME, username="vera",
                                      paused=False, chained=True) for _ in range(failures))
    assert "Too many" in _refused(engine, PASSWORD,
                                  T0 + pause - timedelta(microseconds=1)).message
    assert sign_in(engine=engine, username="vera", password=PASSWORD, address=HOME,
                   now=T0 + pause).id == "vera"


def test_failures_from_one_address_cannot_lock_the_account_out_elsewhere(
        engine: Engine) -> None:
    _add(engine)
    for second in range(40):
        _refused(engine, "guess", T0 + timedelta(seconds=second), address=PROBE)
    assert "Too many" in _refused(engine, PASSWORD, T0 + timedelta(seconds=40),
                                  address=PROBE).message
    assert sign_in(engine=engine, username="vera", password=PASSWORD, address=HOME,
                   now=T0 + timedelta(seconds=40)).id == "vera"


def test_one_address_trying_many_names_is_paused(engine: Engine) -> None:
    _add(engine)
    for n in range(ADDRESS_FREE_FAILURES):
        _refused(engine, "guess", T0, f"name{n}", PROBE)
    assert "Too many" in _refused(engine, PASSWORD, T0, "vera", PROBE).message
    assert sign_in(engine=engine, username="vera", password=PASSWORD, address=HOME,
                   now=T0).id == "vera"


def test_probing_is_summarised_in_the_trail_not_chained_one_by_one(engine: Engine) -> None:
    tries = 65
    for n in range(tries):  # a few minutes of probing: one try every three seconds
        _refused(engine, "guess", T0 + timedelta(seconds=3 * n), f"=name{n % 7}", PROBE)
    events = _events(engine)
    singles = [e for e in events if e.action == "auth.sign_in_failed"]
    summaries = [e for e in events if e.action == "auth.sign_in_failures_summarised"]
    assert len(singles) == FREE_FAILURES and len(events) <= FREE_FAILURES + 3
    assert all(e.actor == "anonymous" and e.subject_id == PROBE for e in events)
    assert singles[0].payload == {"username": "=name0", "address": PROBE}
    # Summaries count every try chained so far; the rest wait for the next summary.
    with session_scope(engine) as session:
        pending = len(session.scalars(select(SignInFailure.id)
                                      .where(SignInFailure.chained.is_(False))).all())
    assert len(singles) + sum(e.payload["failures"] for e in summaries) + pending == tries
    # A good sign-in from that address puts what is pending into the trail first.
    _add(engine, "carl")
    sign_in(engine=engine, username="carl", password=PASSWORD, address=PROBE,
            now=T0 + timedelta(hours=2))
    chained = _events(engine)
    assert chained[-1].action == "auth.signed_in"
    counted = sum(e.payload["failures"] for e in chained
                  if e.action == "auth.sign_in_failures_summarised")
    assert len(singles) + counted == tries
