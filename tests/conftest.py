"""Shared fixtures: stores on SQLite and (when configured) PostgreSQL, a real MLflow
registry with small real models, and a small demo workspace built once per test run: shared
by the tests that read it, copied for each test that writes."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from services.core.policy import Policy, load_policy
from services.core.settings import PROJECT_ROOT, Settings
from services.demo.build import DemoReport
from services.registry.adapter import Registry
from services.registry.transport import fail_fast_mlflow_http
from services.store.engine import make_engine
from services.store.migrate import upgrade
from tests.factories import governed_registry, log_version
from tests.workspaces import SharedDemo, build_in_background, copy_demo, fingerprint
from tests.workspaces import shared_demo as shared_demo_of

# The test process owns its environment, as the console's and govern's do: a registry that is
# down fails at once instead of after MLflow's minutes of retries.
fail_fast_mlflow_http()

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


@pytest.fixture
def registry(registry_uri: str) -> Registry:
    """The session's registry (registry_uri), through the console's own adapter."""
    return Registry(registry_uri)


@pytest.fixture
def policy() -> Policy:
    """The shipped policy.toml, as a workspace without its own policy reads it."""
    return load_policy(PROJECT_ROOT / "policy.toml")


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this test run that every xdist worker of it sees (the run's own base
    temp); a run without workers has its base temp to itself."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that need the shared demo run after the others, so that each worker has other
    tests to run while the demo builds in the background; among them the browser journeys,
    the longest, run first, so none is left running alone at the end. Collection order
    otherwise."""
    def needs_demo(item: pytest.Item) -> bool:
        return "shared_demo" in getattr(item, "fixturenames", ())

    items.sort(key=lambda item: (needs_demo(item),
                                 needs_demo(item) and item.get_closest_marker("browser") is None))


@pytest.fixture(scope="session", autouse=True)
def _demo_built_in_the_background(request: pytest.FixtureRequest,
                                  tmp_path_factory: pytest.TempPathFactory) -> None:
    """At a worker's first test, start building the shared demo if a selected test needs it."""
    if any("shared_demo" in getattr(item, "fixturenames", ()) for item in request.session.items):
        build_in_background(_run_folder(tmp_path_factory))


@pytest.fixture(scope="session")
def shared_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedDemo]:
    """The demo workspace at --size small, built once per test run and only ever read."""
    demo = shared_demo_of(_run_folder(tmp_path_factory))
    yield demo
    if fingerprint(demo.home) != demo.fingerprint:
        pytest.fail(f"A test wrote into the shared demo workspace {demo.home}: a test that "
                    "writes takes `demo_copy`.", pytrace=False)


@pytest.fixture(scope="session")
def demo_home(shared_demo: SharedDemo) -> Path:
    return shared_demo.home


@pytest.fixture(scope="session")
def demo_report(shared_demo: SharedDemo) -> DemoReport:
    return shared_demo.report


@pytest.fixture
def demo_env(shared_demo: SharedDemo, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings (and so the app) pointed at the run's shared demo workspace, for a test that
    only reads it. The test fails if the workspace changed under it: one that writes takes
    `demo_copy`."""
    monkeypatch.setenv("GOVERNANCE_HOME", str(shared_demo.home))
    yield Settings()  # type: ignore[call-arg]
    if fingerprint(shared_demo.home) != shared_demo.fingerprint:
        pytest.fail(f"The shared demo workspace {shared_demo.home} changed during this test: "
                    "a test that writes takes `demo_copy`.", pytrace=False)


@pytest.fixture
def demo_copy(shared_demo: SharedDemo, tmp_path_factory: pytest.TempPathFactory,
              monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings (and so the app) pointed at a private copy of the demo workspace, for a test
    that writes. The copy lies outside the test's tmp_path, which stays the test's own."""
    settings = copy_demo(shared_demo.home, tmp_path_factory.mktemp("demo-copy") / "home")
    monkeypatch.setenv("GOVERNANCE_HOME", str(settings.home))
    return settings
