"""What the `govern` commands share: who acts, the sources, and JSON output."""

from __future__ import annotations

import dataclasses
import getpass
import json
import sys
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from services.core.canonical import finite
from services.core.principal import Principal, Role
from services.core.settings import Settings

if TYPE_CHECKING:  # MLflow, pandas and SQLAlchemy load only in the commands that use them
    from sqlalchemy import Engine

    from services.core.policy import Policy
    from services.governance.frameworks import FrameworkLibrary
    from services.registry.adapter import Registry


def cli_principal() -> Principal:
    # Whoever runs the command already holds the store's credentials: an operator.
    user = getpass.getuser()
    return Principal(f"cli:{user}", f"{user} (command line)", frozenset({Role.ADMIN}))


def sources(settings: Settings) -> tuple[Engine, Registry, Policy]:
    """The governance store (schema checked), the registry and the policy."""
    from services.core.policy import load_policy
    from services.registry.adapter import Registry

    return (store(settings),
            Registry(settings.mlflow_tracking_uri, settings.mlflow_registry_uri),
            load_policy(settings.policy_path))


def store(settings: Settings) -> Engine:
    """The governance store, refused with a clear message when its schema is behind."""
    from services.store.engine import make_engine
    from services.store.migrate import check_schema

    engine = make_engine(settings.database_url)
    check_schema(engine)
    return engine


def say_refused_frameworks(library: FrameworkLibrary) -> None:
    """Name each refused framework file on stderr with all its problems (stdout stays the
    command's answer, so --json output is still JSON)."""
    for refused in library.refused:
        print(f"warning: {refused.message}", file=sys.stderr)
    if library.refused:
        print("  The other frameworks are used; correct the file or move it out of "
              "GOVERNANCE_FRAMEWORKS_DIR.", file=sys.stderr)


def print_json(value: Any) -> None:
    """JSON for machines: an undefined figure (NaN, an infinity) is null, never a bare NaN,
    which is not JSON."""
    print(json.dumps(finite(plain(value)), indent=2, sort_keys=True, allow_nan=False))


def plain(value: Any) -> Any:
    if isinstance(value, BaseModel):  # typed payloads and gate results: their JSON
        return value.model_dump(mode="json", by_alias=True)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
