"""`govern models`: the registered models, as the inventory shows them."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from services.cli.common import print_json
from services.core.settings import Settings


def add_commands(commands: Any) -> None:
    models = commands.add_parser("models", help="list the registered models (the inventory)")
    models.add_argument("--json", action="store_true")
    models.set_defaults(handler=_models)


def _models(args: argparse.Namespace, settings: Settings) -> int:
    from services.registry.adapter import Registry
    from services.registry.inventory import inventory

    rows = inventory(registry=Registry(settings.mlflow_tracking_uri, settings.mlflow_registry_uri),
                     check_versions=True)
    _say_if_the_store_is_behind(settings)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print(f"No registered models in {settings.mlflow_tracking_uri}: register one as the "
              "README's governance contract shows (with this workspace's settings).")
        return 0
    print(f"{'model':<24} {'owner':<14} {'tier':<7} {'champion':>8} {'challenger':>10} "
          f"{'versions':>8}  gaps")
    for row in rows:
        print(f"{row.name:<24} {row.owner or '-':<14} {row.risk_tier or '-':<7} "
              f"{row.champion or '-':>8} {row.challenger or '-':>10} {row.version_count:>8}  "
              f"{row.contract_gaps + len(row.version_gaps)}")
        for gap in row.version_gaps:
            print(f"    {gap}")
    return 0


def _say_if_the_store_is_behind(settings: Settings) -> None:
    """The inventory reads only the registry; a new workspace's store still needs its schema
    before anything else works, so say what to run (on stderr: --json stays JSON)."""
    from services.core.errors import SourceUnavailable
    from services.store.engine import make_engine
    from services.store.migrate import check_schema

    engine = make_engine(settings.database_url)
    try:
        check_schema(engine)
    except SourceUnavailable as exc:  # behind, missing (SchemaOutOfDate) or down
        print(f"note: {exc.message} {exc.hint}".rstrip(), file=sys.stderr)
    finally:
        engine.dispose()
