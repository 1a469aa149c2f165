"""Alembic, driven from code: upgrade to head and check that a store is at head."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from services.core.errors import SchemaOutOfDate, SourceUnavailable
from services.core.settings import PROJECT_ROOT
from services.store.engine import describe

MIGRATIONS = PROJECT_ROOT / "migrations"


def _scripts_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def alembic_config(engine: Engine) -> Config:
    config = _scripts_config()
    # env.py reuses this engine, so the URL (and its password) never passes through config.
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_scripts_config()).get_current_head()
    assert head is not None, "migrations/ has no revisions"
    return head


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the store's schema up to the given revision (head by default)."""
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise SourceUnavailable(
            f"The governance store at {describe(engine)} cannot be reached: {exc.orig}.",
            hint="Check GOVERNANCE_DATABASE_URL and that the database is running.",
        ) from exc


def check_schema(engine: Engine) -> None:
    """Raise SchemaOutOfDate with the command to run unless the store is at the head."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        state = "has no schema yet" if current is None else f"is at revision {current}"
        raise SchemaOutOfDate(
            f"The governance store at {describe(engine)} {state}; this version needs {head}.",
            # Never `govern demo` here: this may be somebody's real workspace, merely behind.
            hint="Run `govern db upgrade`.",
        )
