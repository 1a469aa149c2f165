"""The demo workspace in tests: built once per test run, whatever the number of xdist workers;
shared by the tests that only read it (and checked unchanged after each), copied for each test
that writes."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from services.core.settings import PROJECT_ROOT, Settings
from services.demo.build import DemoReport, build_demo

DATABASES = ("governance.db", "mlflow.db")  # the demo's embedded stores, both SQLite
# build_in_background's builder: it holds the lock it inherited until it exits.
_BUILDER = ("import pathlib, sys; from tests.workspaces import _build; "
            "_build(pathlib.Path(sys.argv[1]))")
_NOT_COPIED = shutil.ignore_patterns("*.db", "*.db-wal", "*.db-shm", "*.db-journal", "*.log")


@dataclass(frozen=True)
class SharedDemo:
    """The run's demo workspace: where it is, what building it reported, and a fingerprint
    of its stores and artifacts as built (a test that wrote into it changes the fingerprint)."""

    home: Path
    report: DemoReport
    fingerprint: str


def shared_demo(folder: Path) -> SharedDemo:
    """The demo workspace at --size small in `folder`, built by the first process to ask.

    Every xdist worker of a run passes the same folder; the others wait on the lock and then
    read what the builder recorded.
    """
    record = folder / "demo-workspace.json"
    with _locked(folder / "demo-workspace.lock"):  # held by a background build until it is done
        if not record.exists():
            _build(folder)
    saved = json.loads(record.read_text())
    return SharedDemo(folder / "demo-workspace", DemoReport(**saved["report"]),
                      saved["fingerprint"])


def build_in_background(folder: Path) -> None:
    """Start building the demo for shared_demo(folder) in a process of its own, unless a
    process of this run already has: the tests that do not need it run meanwhile.

    The builder inherits the lock and holds it until it is done, so shared_demo() waits for
    it; should it fail, shared_demo() finds no record and builds in its own process, where
    the error shows.
    """
    lock = os.open(folder / "demo-workspace.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another process of this run is building it, or reading what was built
        if (folder / "demo-workspace.json").exists():
            return
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "GOVERNANCE_"))}
        with (folder / "demo-workspace.log").open("wb") as log:
            # `-c`, not a script: MLflow tags runs with the git commit of the main script's
            # folder, which would give the ungoverned demo model a code version.
            subprocess.Popen([sys.executable, "-c", _BUILDER, str(folder)],
                             pass_fds=(lock,), cwd=PROJECT_ROOT, env=env, stdout=log,
                             stderr=subprocess.STDOUT)
    finally:
        os.close(lock)  # the builder keeps its inherited copy, and with it the lock


def _build(folder: Path) -> None:
    home = folder / "demo-workspace"
    report = build_demo(Settings(GOVERNANCE_HOME=home),  # type: ignore[call-arg]
                        size="small", progress=lambda _line: None)
    _checkpoint(home)
    (folder / "demo-workspace.json").write_text(json.dumps({"report": asdict(report),
                                                           "fingerprint": fingerprint(home)}))


def copy_demo(source: Path, target: Path) -> Settings:
    """A private copy of the workspace in `source`, at `target`; its settings.

    The stores are copied through SQLite's backup (consistent whatever their WAL holds), the
    artifacts as files, and the copy's MLflow store is pointed at the copy's artifacts: MLflow
    records absolute artifact locations, which would otherwise still name the source.
    """
    shutil.copytree(source, target, ignore=_NOT_COPIED)
    for name in DATABASES:
        with closing(sqlite3.connect(source / name)) as original, \
                closing(sqlite3.connect(target / name)) as copy:
            original.backup(copy)
    _rebase(target / "mlflow.db", source, target)
    return Settings(GOVERNANCE_HOME=target)  # type: ignore[call-arg]


def references_to(folder: Path, database: Path) -> list[str]:
    """Every table.column of `database` whose text names a path under `folder`."""
    named = f"{folder}/"
    found = []
    with closing(sqlite3.connect(database)) as db:
        for table, column in _text_columns(db):
            if db.execute(f'SELECT 1 FROM "{table}" WHERE instr("{column}", ?) > 0 LIMIT 1',
                          (named,)).fetchone():
                found.append(f"{table}.{column}")
    return found


def fingerprint(home: Path) -> str:
    """A digest of the workspace's stores (their files and whatever their WAL holds) and of
    its artifacts' names and sizes. Reading leaves it unchanged; any write changes it."""
    digest = hashlib.sha256()
    for name in DATABASES:
        digest.update(name.encode() + (home / name).read_bytes())
        wal = home / f"{name}-wal"
        digest.update(str(wal.stat().st_size if wal.exists() else 0).encode())
    for path in sorted((home / "mlartifacts").rglob("*")):
        digest.update(f"{path.relative_to(home)}:{path.stat().st_size}".encode())
    return digest.hexdigest()


def _checkpoint(home: Path) -> None:
    """Fold each store's WAL into its file, so later reads leave the files as they are."""
    for name in DATABASES:
        with closing(sqlite3.connect(home / name)) as db:
            busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise RuntimeError(f"{home / name}: its WAL could not be checkpointed (busy).")


def _rebase(database: Path, source: Path, target: Path) -> None:
    old, new = f"{source}/", f"{target}/"
    with closing(sqlite3.connect(database)) as db, db:
        for table, column in _text_columns(db):
            db.execute(f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                       f'WHERE instr("{column}", ?) > 0', (old, new, old))


def _text_columns(db: sqlite3.Connection) -> Iterator[tuple[str, str]]:
    tables = [row[0] for row in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    for table in tables:
        for _cid, column, kind, *_ in db.execute(f'PRAGMA table_info("{table}")').fetchall():
            if any(word in kind.upper() for word in ("CHAR", "TEXT", "CLOB")):
                yield table, column


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` across processes (the run's xdist workers)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
