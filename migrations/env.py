"""Alembic environment: runs on the engine the caller hands over (services.store.migrate)."""

from alembic import context
from sqlalchemy import create_engine

from services.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # plain `alembic` use, with a URL in the config
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        # render_as_batch lets ALTERs work on SQLite, which rewrites tables to change them.
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)
        context.run_migrations()


run_migrations_online()
