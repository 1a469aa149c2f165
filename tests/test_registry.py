"""The registry adapter, against a real MLflow registry with small real models."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.core.errors import NotFound, SourceUnavailable
from services.registry.adapter import Registry
from services.registry.contract import check_contract
from services.registry.inventory import inventory
from tests.conftest import closed_port


@pytest.fixture
def registry(registry_uri: str) -> Registry:
    return Registry(registry_uri)


def test_lists_models_with_tags_aliases_and_version_counts(registry: Registry) -> None:
    models = {m.name: m for m in registry.list_models()}
    assert set(models) == {"loan-approval", "bare-model"}
    loan = models["loan-approval"]
    assert loan.owner == "alice" and loan.risk_tier == "high"
    assert loan.aliases == {"champion": "2", "challenger": "1"}
    assert loan.version_count == 2 and loan.latest_version == "2"


def test_versions_carry_the_aliases_version_search_leaves_out(registry: Registry) -> None:
    versions = registry.list_versions("loan-approval")
    assert [(v.version, v.aliases) for v in versions] == [("2", ("champion",)),
                                                          ("1", ("challenger",))]
    assert all(isinstance(v.version, str) for v in versions)


def test_lineage_reaches_run_code_version_data_and_holdout(registry: Registry) -> None:
    lineage = registry.lineage("loan-approval", "2")
    assert lineage.run_id and lineage.code_version == "0123abcd" * 5
    assert lineage.params["C"] == "1.0"
    assert 0.5 < lineage.metrics["train_accuracy"] <= 1.0
    assert [(d.name, d.context) for d in lineage.datasets] == [("train", "training")]
    assert len(lineage.datasets[0].digest) == 8
    assert lineage.holdout_artifact == "holdout/holdout.parquet"
    assert lineage.holdout_uri and lineage.holdout_uri.endswith("holdout/holdout.parquet")


def test_a_governed_model_meets_the_contract(registry: Registry) -> None:
    report = check_contract(registry.get_model("loan-approval"),
                            registry.lineage("loan-approval", "2"))
    assert report.complete, report.gaps


def test_a_model_that_ignores_the_contract_still_lists_with_its_gaps(registry: Registry) -> None:
    rows = {row.name: row for row in inventory(registry=registry)}
    assert rows["bare-model"].contract_gaps == 7
    report = check_contract(registry.get_model("bare-model"), registry.lineage("bare-model", "1"))
    gaps = {item.requirement for item in report.gaps}
    assert {"model tag 'owner'", "model tag 'risk_tier'", "code version",
            "hold-out set (Parquet run artifact)",
            "training data digest (mlflow.log_input)"} <= gaps


def test_an_unknown_model_or_version_is_not_found(registry: Registry) -> None:
    with pytest.raises(NotFound):
        registry.get_model("no-such-model")
    with pytest.raises(NotFound):
        registry.get_version("loan-approval", "99")


def test_an_unreachable_tracking_server_is_source_unavailable() -> None:
    uri = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(SourceUnavailable) as raised:
        Registry(uri).list_models()
    assert uri in raised.value.message
    assert "MLFLOW_TRACKING_URI" in raised.value.hint


def test_loads_the_exact_version_with_its_own_uris(registry: Registry) -> None:
    from tests.factories import small_frame

    frame = small_frame(1)[["income", "debt"]]
    first, second = registry.load_model("loan-approval", "1"), \
        registry.load_model("loan-approval", "2")
    assert first.predict_proba(frame).shape == (len(frame), 2)
    assert (first.coef_ != second.coef_).any()  # trained on different seeds


def test_a_version_that_is_not_scikit_learn_cannot_be_loaded_and_says_so(
        tmp_path: Path) -> None:
    import mlflow
    from mlflow import MlflowClient

    from services.core.errors import InvalidInput

    class Echo(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
        def predict(self, context: object, model_input: object) -> object:
            return model_input

    registry_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"  # its own: the shared one stays as is
    mlflow.set_tracking_uri(registry_uri)
    mlflow.set_registry_uri(registry_uri)
    client = MlflowClient(registry_uri, registry_uri)
    experiment = client.create_experiment("echo", artifact_location=(tmp_path / "a").as_uri())
    with mlflow.start_run(experiment_id=experiment):
        mlflow.pyfunc.log_model(name="model", python_model=Echo(), registered_model_name="echo",
                                pip_requirements=["mlflow"])
    with pytest.raises(InvalidInput, match="cannot be loaded as a scikit-learn model"):
        Registry(registry_uri).load_model("echo", "1")
