"""`govern models`: the registered models, as the inventory shows them."""

from __future__ import annotations

import argparse
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
    if args.json:
        print_json(rows)
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
