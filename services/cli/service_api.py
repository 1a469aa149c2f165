"""`govern api` (the HTTP ingest service for serving systems) and `govern tokens` (their
service tokens)."""

from __future__ import annotations

import argparse
import socket
import sys
from typing import Any

from services.cli.common import cli_principal, print_json, sources, store
from services.core.settings import Settings


def add_commands(commands: Any) -> None:
    api = commands.add_parser("api", help="serve the ingest API for serving systems "
                                          "(OpenAPI docs at /docs)")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8600)
    api.set_defaults(handler=_serve)

    tokens = commands.add_parser("tokens", help="service tokens for the ingest API")
    verbs = tokens.add_subparsers(title="what", metavar="ACTION")
    create = verbs.add_parser("create", help="make a token; its secret is printed once")
    create.add_argument("name")
    create.add_argument("--role", action="append", required=True,
                        help="ingest for a serving system (repeat for more)")
    create.set_defaults(handler=_create)
    listed = verbs.add_parser("list", help="every token, active or revoked (never secrets)")
    listed.add_argument("--json", action="store_true")
    listed.set_defaults(handler=_list)
    revoke = verbs.add_parser("revoke", help="stop a token working from its next request")
    revoke.add_argument("name")
    revoke.set_defaults(handler=_revoke)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from services.api.app import create_app

    engine, registry, _policy = sources(settings)
    app = create_app(engine=engine, registry=registry,
                     max_body_bytes=int(settings.api_max_body_mb * 1024 * 1024))
    # Tried here, before saying where it serves: a port in use is said at once, not after
    # uvicorn's start-up. The probe is closed and uvicorn binds its own: served on a socket
    # bound here, single posts took 40 ms more (measured in benchmarks/api_bench.py).
    probe = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((args.host, args.port))
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}.",
              file=sys.stderr)
        print("  Another process holds that port: stop it, or pass --port.", file=sys.stderr)
        return 3
    finally:
        probe.close()
    print(f"Ingest API on http://{args.host}:{args.port} (docs at /docs)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _create(args: argparse.Namespace, settings: Settings) -> int:
    from services.governance.accounts import parse_roles
    from services.governance.tokens import create_token

    record, secret = create_token(engine=store(settings), actor=cli_principal(),
                                  name=args.name, roles=parse_roles(args.role))
    print(f"Token {record.name!r} ({', '.join(sorted(r.value for r in record.roles))}). "
          "Its secret, shown this once (store it where the serving system reads secrets):")
    print(secret)
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from services.governance.tokens import list_tokens

    records = list_tokens(engine=store(settings), actor=cli_principal())
    if args.json:
        print_json(records)
        return 0
    for r in records:
        state = f"revoked {r.revoked_at:%Y-%m-%d %H:%M} by {r.revoked_by}" if r.revoked_at \
            else "active"
        print(f"{r.name:<32} {','.join(sorted(x.value for x in r.roles)):<16} "
              f"made {r.created_at:%Y-%m-%d} by {r.created_by:<20} {state}")
    if not records:
        print("No tokens yet: `govern tokens create NAME --role ingest` makes one.")
    return 0


def _revoke(args: argparse.Namespace, settings: Settings) -> int:
    from services.governance.tokens import revoke_token

    record = revoke_token(engine=store(settings), actor=cli_principal(), name=args.name)
    print(f"Token {record.name!r} is revoked: its next request gets 401.")
    return 0
