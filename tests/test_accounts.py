"""Local accounts, OIDC role mapping, and the `govern users` commands (sign-in's pauses:
test_sign_in.py)."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from services.cli.main import main
from services.core.errors import InvalidInput, PermissionDenied
from services.core.principal import Principal, Role
from services.governance.accounts import (
    add_user,
    parse_roles,
    principal_from_claims,
    set_roles,
)
from services.governance.sign_in import sign_in
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
    assert "(none: no notifications)" in listing  # no address: set-email says where
    assert main(["users", "set-email", "priya", "priya@bank.example"]) == 0
    assert main(["users", "list"]) == 0
    assert "priya@bank.example" in capsys.readouterr().out


def test_an_admin_sets_and_clears_an_accounts_email_and_each_change_is_audited(
        engine: Engine) -> None:
    from services.governance.accounts import set_email

    add_user(engine=engine, actor=ADMIN, username="ana", password="a long passphrase 42",
             roles=frozenset({Role.MODEL_OWNER}))
    assert set_email(engine=engine, actor=ADMIN, username="ana",
                     email=" ana@bank.example ").email == "ana@bank.example"
    with pytest.raises(InvalidInput, match="not an e-mail address"):
        set_email(engine=engine, actor=ADMIN, username="ana", email="ana at bank")
    with pytest.raises(PermissionDenied):
        set_email(engine=engine, actor=Principal("ana", "Ana", frozenset({Role.MODEL_OWNER})),
                  username="ana", email="elsewhere@mail.example")
    assert set_email(engine=engine, actor=ADMIN, username="ana", email=None).email is None
    with session_scope(engine) as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-4:] == ["user.email_set", "user.set_email.refused",
                            "user.set_email.refused", "user.email_set"]
