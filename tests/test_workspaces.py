"""The test suite's own workspaces: a copy of the demo is a workspace of its own, and the
shared demo notices a write."""

from __future__ import annotations

from pathlib import Path

from mlflow import MlflowClient

from services.core.settings import Settings
from services.registry.adapter import Registry
from tests.workspaces import SharedDemo, fingerprint, references_to


def test_a_copy_of_the_demo_names_no_file_of_the_original(demo_copy: Settings,
                                                          demo_home: Path) -> None:
    assert references_to(demo_home, demo_copy.home / "mlflow.db") == []
    assert references_to(demo_copy.home, demo_copy.home / "mlflow.db")  # its own instead


def test_mlflow_resolves_a_copys_artifacts_inside_the_copy(demo_copy: Settings) -> None:
    client = MlflowClient(demo_copy.mlflow_tracking_uri, demo_copy.mlflow_registry_uri)
    for version in ("1", "2", "3"):
        uri = client.get_model_version_download_uri("credit-risk", version)
        assert uri.startswith(f"{demo_copy.artifact_root.as_uri()}/"), uri
    registry = Registry(demo_copy.mlflow_tracking_uri)
    holdout = registry.lineage("credit-risk", "2").holdout_uri
    assert holdout and holdout.startswith(demo_copy.artifact_root.as_uri())
    assert registry.download(holdout).stat().st_size > 0
    assert registry.load_model("credit-risk", "2") is not None


def test_writing_into_a_copy_leaves_the_shared_demo_as_built(
        demo_copy: Settings, shared_demo: SharedDemo) -> None:
    registry = Registry(demo_copy.mlflow_tracking_uri)
    registry.set_alias("credit-risk", "champion", "3")
    assert registry.alias_holder("credit-risk", "champion") == "3"
    shared = Settings(GOVERNANCE_HOME=shared_demo.home)  # type: ignore[call-arg]
    assert Registry(shared.mlflow_tracking_uri).alias_holder("credit-risk", "champion") == "2"
    assert fingerprint(shared_demo.home) == shared_demo.fingerprint
    assert fingerprint(demo_copy.home) != shared_demo.fingerprint
