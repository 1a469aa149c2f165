"""Shared fixtures: stores on SQLite and (when configured) PostgreSQL, a real MLflow
registry with small real models, and a small demo workspace built once per session."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from services.core.settings import Settings
from services.demo.build import DemoReport, build_demo
from services.store.engine import make_engine
from services.store.migrate import upgrade
from tests.factories import governed_registry, log_version

POSTGRES_URL = os.environ.get("GOVERNANCE_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL to an empty store: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'governance.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("GOVERNANCE_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """A store migrated to head."""
    store = make_engine(store_url)
    upgrade(store)
    yield store
    store.dispose()


@pytest.fixture(autouse=True)
def _no_ambient_workspace(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test names its own workspace; none inherits URIs from the shell or another test."""
    for name in ("GOVERNANCE_HOME", "GOVERNANCE_DATABASE_URL", "MLFLOW_TRACKING_URI",
                 "MLFLOW_REGISTRY_URI"):
        # set, then delete: monkeypatch then removes the variable again after the test, even
        # when code under test (mlflow.set_tracking_uri exports it) sets it meanwhile.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def registry_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real MLflow registry (SQLite) holding a governed model and an ungoverned one."""
    folder = tmp_path_factory.mktemp("mlflow")
    uri, client, experiment = governed_registry(folder, champion="2")
    client.set_registered_model_alias("loan-approval", "challenger", "1")
    log_version(client, experiment, "bare-model", governed=False)
    # mlflow.set_tracking_uri also exports MLFLOW_TRACKING_URI. Session fixtures are set up
    # before each test's _no_ambient_workspace, which would then restore it after every test,
    # steering later Settings() (the demo workspace's, say) to this registry.
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        os.environ.pop(name, None)
    return uri


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo-workspace")


@pytest.fixture(scope="session")
def demo_report(demo_home: Path) -> DemoReport:
    """The demo workspace at --size small, built once for the whole session."""
    settings = Settings(GOVERNANCE_HOME=demo_home)  # type: ignore[call-arg]
    return build_demo(settings, size="small", progress=lambda _line: None)


@pytest.fixture
def demo_env(demo_report: DemoReport, demo_home: Path,
             monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point settings (and so the app) at the session's demo workspace."""
    monkeypatch.setenv("GOVERNANCE_HOME", str(demo_home))
    return Settings()  # type: ignore[call-arg]
