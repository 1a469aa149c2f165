"""Engine, the one transaction helper, and the start-up schema check."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from services.core.errors import InvalidInput, SourceUnavailable


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the governance store, tuned per backend."""
    parsed = make_url(url)
    asked = kwargs.pop("connect_args", {})
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, **asked}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # psycopg prepares a statement after five runs, and PostgreSQL may then keep a generic plan
    # chosen while a table was small: the decision-id check went from 3 ms to 1 s a chunk
    # once the log had grown. Plans are cheap next to that; prepare nothing.
    connect_args = {"prepare_threshold": None} if parsed.get_backend_name() == "postgresql" \
        else {}
    return create_engine(url, pool_pre_ping=True, connect_args={**connect_args, **asked},
                         **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the app read while an ingest writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    # 16 KiB pages for a new store (ignored once it has tables): the decision log's rows and
    # index entries are small and written in bulk, and larger pages split less often (ingest
    # 10% faster). Must precede WAL, which fixes the page size.
    cursor.execute("PRAGMA page_size=16384")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # The decision log's indexes are written together on every ingest: a 64 MiB page cache
    # (default 2 MiB) keeps their hot pages in memory while a batch goes in.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def describe(engine: Engine) -> str:
    """The store's URL with any password hidden, for messages."""
    return engine.url.render_as_string(hide_password=True)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error, driver errors translated."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise InvalidInput(
            "The change conflicts with what is already stored and was not saved.",
            hint=f"({_first_line(exc)})",
        ) from exc
    except OperationalError as exc:
        session.rollback()
        raise SourceUnavailable(
            f"The governance store at {describe(engine)} cannot be used: {_first_line(exc)}.",
            hint="Check that the database is running and reachable, then try again.",
        ) from exc
    except DBAPIError as exc:
        session.rollback()
        raise SourceUnavailable(
            f"The governance store at {describe(engine)} refused the change: {_first_line(exc)}."
        ) from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _first_line(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
