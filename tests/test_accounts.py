"""Local accounts, sign-in throttling, OIDC role mapping, and the `govern users` commands."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from services.cli.main import main
from services.core.errors import InvalidInput, PermissionDenied
from services.core.principal import Principal, Role
from services.governance.accounts import (
    FREE_FAILURES,
    SignInRefused,
    add_user,
    disable_user,
    parse_roles,
    principal_from_claims,
    set_roles,
    sign_in,
)
from services.store.engine import session_scope
from services.store.models import AuditEvent, User

ADMIN = Principal("root-admin", "Admin", frozenset({Role.ADMIN}))
PASSWORD = "correct horse battery staple"
T0 = datetime(2030, 1, 7, 9, 0)  # sign-in attempts say when they happen: no real clock


def _add(engine: Engine, name: str = "vera", roles: str = "validator") -> None:
    add_user(engine=engine, actor=ADMIN, username=name, password=PASSWORD,
             roles=parse_roles([roles]))


def _actions(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_password_is_stored_only_as_an_argon2id_hash(engine: Engine) -> None:
    _add(engine)
    with session_scope(engine) as session:
        stored = session.scalar(select(User.password_hash))
    assert stored and stored.startswith("$argon2id$") and PASSWORD not in stored
    principal = sign_in(engine=engine, username="Vera ", password=PASSWORD)
    assert principal.id == "vera" and principal.roles == {Role.VALIDATOR}
    assert _actions(engine) == ["user.added", "auth.signed_in"]


def test_wrong_password_unknown_user_and_disabled_account_read_the_same(
        engine: Engine) -> None:
    _add(engine)
    _add(engine, "olga", "analyst")
    disable_user(engine=engine, actor=ADMIN, username="olga")
    messages = set()
    for name, password in (("vera", "wrong password!!"), ("nobody", PASSWORD),
                           ("olga", PASSWORD)):
        with pytest.raises(SignInRefused) as refused:
            sign_in(engine=engine, username=name, password=password)
        messages.add(refused.value.message)
    assert len(messages) == 1


def _refused(engine: Engine, password: str, at: datetime) -> SignInRefused:
    with pytest.raises(SignInRefused) as refused:
        sign_in(engine=engine, username="vera", password=password, now=at)
    return refused.value


def test_five_failures_in_a_row_make_the_next_try_wait_even_with_the_right_password(
        engine: Engine) -> None:
    _add(engine)
    for _ in range(FREE_FAILURES):  # all at one instant: none of these is throttled
        assert "wrong password" in _refused(engine, "not the password", T0).message
    throttled = _refused(engine, PASSWORD, T0 + timedelta(milliseconds=999))
    assert "Too many" in throttled.message and "Try again in 1 second" in throttled.hint
    assert sign_in(engine=engine, username="vera", password=PASSWORD,
                   now=T0 + timedelta(seconds=1)).id == "vera"
    assert _actions(engine)[1:] == ["auth.sign_in_failed"] * FREE_FAILURES + [
        "auth.sign_in_throttled", "auth.signed_in"]


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
    (FREE_FAILURES + 2, timedelta(seconds=4)),
    (FREE_FAILURES + 9, timedelta(seconds=512)),
    (FREE_FAILURES + 10, timedelta(minutes=15)),  # 1,024 s, capped
    (FREE_FAILURES + 30, timedelta(minutes=15)),
])
def test_the_pause_doubles_with_each_failure_up_to_fifteen_minutes(
        engine: Engine, failures: int, pause: timedelta) -> None:
    _add(engine)
    with session_scope(engine) as session:
        session.execute(update(User).values(failed_sign_ins=failures, last_failed_at=T0))
    assert "Too many" in _refused(engine, PASSWORD,
                                  T0 + pause - timedelta(microseconds=1)).message
    assert sign_in(engine=engine, username="vera", password=PASSWORD, now=T0 + pause).id == "vera"


def test_only_an_admin_manages_accounts_and_a_refusal_leaves_its_trace(engine: Engine) -> None:
    _add(engine)
    analyst = Principal("vera", "Vera", frozenset({Role.VALIDATOR}))
    with pytest.raises(PermissionDenied, match="manage accounts"):
        set_roles(engine=engine, actor=analyst, username="vera", roles=frozenset({Role.ADMIN}))
    with session_scope(engine) as session:
        assert session.scalar(select(User.roles)) == ["validator"]
    assert _actions(engine)[-1] == "user.set_roles.refused"


@pytest.mark.parametrize(("username", "password", "message"), [
    ("Bad Name", PASSWORD, "not a username"),
    ("vera", "short", "at least 12"),
])
def test_bad_account_input_is_refused_in_words(engine: Engine, username: str, password: str,
                                               message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        add_user(engine=engine, actor=ADMIN, username=username, password=password,
                 roles=frozenset({Role.ANALYST}))


def test_unknown_roles_are_named() -> None:
    with pytest.raises(InvalidInput, match="Not a role: superuser"):
        parse_roles(["analyst,superuser"])


def test_oidc_claims_map_to_roles_by_email_and_group() -> None:
    role_map = {"ana@bank.example": ["analyst"], "group:model-risk": ["validator"]}
    both = principal_from_claims(email="Ana@Bank.example", name="Ana", groups=["model-risk"],
                                 role_map=role_map)
    assert both is not None and both.roles == {Role.ANALYST, Role.VALIDATOR}
    assert principal_from_claims(email="eve@x.example", name=None, groups=[],
                                 role_map=role_map) is None


def test_govern_users_add_list_set_roles_and_disable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GOVERNANCE_HOME", str(tmp_path))
    assert main(["db", "upgrade"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "priya", "--role", "validator"]) == 0
    assert main(["users", "set-roles", "priya", "--role", "validator,model_owner"]) == 0
    assert main(["users", "disable", "priya"]) == 0
    assert main(["users", "add", "x", "--role", "wizard"]) == 2
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "priya" in listing and "model_owner,validator" in listing and "disabled" in listing
