"""`govern users`: local accounts (when sign-in is not OIDC)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from services.cli.common import cli_principal, print_json, store
from services.core.errors import GovernanceError
from services.core.settings import Settings


def add_commands(commands: Any) -> None:
    users = commands.add_parser("users", help="local accounts (when sign-in is not OIDC)")
    user_commands = users.add_subparsers(title="users commands", metavar="COMMAND")
    add = user_commands.add_parser("add", help="create an account; the password is prompted")
    add.add_argument("name")
    add.add_argument("--role", action="append", required=True,
                     help="a role (repeat, or a comma list): viewer, analyst, validator, "
                          "model_owner, auditor, admin")
    add.add_argument("--display-name", default="")
    add.add_argument("--email")
    add.set_defaults(handler=_users_add)
    listing = user_commands.add_parser("list", help="list accounts")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_users_list)
    disable = user_commands.add_parser("disable", help="stop an account from signing in")
    disable.add_argument("name")
    disable.set_defaults(handler=_users_disable)
    set_roles = user_commands.add_parser("set-roles", help="replace an account's roles")
    set_roles.add_argument("name")
    set_roles.add_argument("--role", action="append", required=True)
    set_roles.set_defaults(handler=_users_set_roles)
    set_email = user_commands.add_parser(
        "set-email", help="set the address notifications reach an account at (or --clear)")
    set_email.add_argument("name")
    set_email.add_argument("email", nargs="?")
    set_email.add_argument("--clear", action="store_true", help="remove the address")
    set_email.set_defaults(handler=_users_set_email)


def _new_password() -> str:
    if not sys.stdin.isatty():
        # Piped in (scripts, tests): one line, never an argument that shows in `ps`.
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise GovernanceError("The two passwords differ; nothing was saved.")
    return first


def _users_add(args: argparse.Namespace, settings: Settings) -> int:
    from services.governance.accounts import add_user, parse_roles

    roles = parse_roles(args.role)
    engine = store(settings)
    account = add_user(engine=engine, actor=cli_principal(), username=args.name,
                       password=_new_password(), roles=roles,
                       display_name=args.display_name, email=args.email)
    print(f"Account {account.username} created with roles "
          f"{', '.join(sorted(r.value for r in account.roles))}.")
    return 0


def _users_list(args: argparse.Namespace, settings: Settings) -> int:
    from services.governance.accounts import list_users
    from services.store.engine import session_scope

    with session_scope(store(settings)) as session:
        accounts = list_users(session=session)
    if args.json:
        print_json(accounts)
        return 0
    print(f"{'username':<24} {'roles':<32} {'state':<9} {'last sign-in':<17} e-mail")
    for a in accounts:
        roles = ",".join(sorted(r.value for r in a.roles))
        last = f"{a.last_sign_in_at:%Y-%m-%d %H:%M}" if a.last_sign_in_at else "never"
        print(f"{a.username:<24} {roles:<32} {'disabled' if a.disabled else 'active':<9} "
              f"{last:<17} {a.email or '(none: no notifications)'}")
    return 0


def _users_set_email(args: argparse.Namespace, settings: Settings) -> int:
    from services.governance.accounts import set_email

    if bool(args.email) == bool(args.clear):
        raise GovernanceError("Give the address, or --clear to remove it.")
    account = set_email(engine=store(settings), actor=cli_principal(), username=args.name,
                        email=None if args.clear else args.email)
    print(f"Account {account.username}: notifications reach "
          f"{account.email or 'no address (none set)'}.")
    return 0


def _users_disable(args: argparse.Namespace, settings: Settings) -> int:
    from services.governance.accounts import disable_user

    disable_user(engine=store(settings), actor=cli_principal(), username=args.name)
    print(f"Account {args.name} is disabled.")
    return 0


def _users_set_roles(args: argparse.Namespace, settings: Settings) -> int:
    from services.governance.accounts import parse_roles, set_roles

    account = set_roles(engine=store(settings), actor=cli_principal(), username=args.name,
                        roles=parse_roles(args.role))
    print(f"{account.username} now has: {', '.join(sorted(r.value for r in account.roles))}.")
    return 0
