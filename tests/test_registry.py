"""The registry adapter, against a real MLflow registry with small real models."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.core.errors import NotFound, SourceUnavailable
from services.registry.adapter import Registry
from services.registry.contract import check_contract
from services.registry.inventory import inventory
from tests.conftest import closed_port


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


def _echo_registry(tmp_path: Path, *, signature: bool) -> Registry:
    """A registry of its own holding 'echo' v1: a custom pyfunc model that returns its input."""
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.models import infer_signature

    class Echo(mlflow.pyfunc.PythonModel):  # type: ignore[misc]
        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
            return model_input

    registry_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"  # its own: the shared one stays as is
    mlflow.set_tracking_uri(registry_uri)
    mlflow.set_registry_uri(registry_uri)
    client = MlflowClient(registry_uri, registry_uri)
    experiment = client.create_experiment("echo", artifact_location=(tmp_path / "a").as_uri())
    example = pd.DataFrame({"income": [50.0, 60.0], "purpose": ["car", "home"]})
    with mlflow.start_run(experiment_id=experiment):
        mlflow.pyfunc.log_model(name="model", python_model=Echo(), registered_model_name="echo",
                                pip_requirements=["mlflow"],
                                signature=infer_signature(example, example) if signature
                                else None)
    return Registry(registry_uri)


def test_a_custom_pyfunc_that_gives_no_probability_is_refused_in_words(tmp_path: Path) -> None:
    import pandas as pd

    from services.core.errors import InvalidInput

    model = _echo_registry(tmp_path, signature=True).load_model("echo", "1")
    with pytest.raises(InvalidInput, match="one probability per row"):
        model.predict_proba(pd.DataFrame({"income": [50.0], "purpose": ["car"]}))


def test_a_flavor_the_console_cannot_load_is_a_gap_and_says_what_to_do(tmp_path: Path) -> None:
    import yaml

    from services.core.errors import InvalidInput
    from services.registry.contract import LOADABLE, SIGNATURE, format_items

    registry = _echo_registry(tmp_path, signature=False)
    # As an ONNX model logs itself: a flavor of its own, and pyfunc through its own loader.
    mlmodel = next((tmp_path / "a").glob("models/*/artifacts/MLmodel"))
    spec = yaml.safe_load(mlmodel.read_text())
    spec["flavors"] = {"onnx": {"onnx_version": "1.17"},
                       "python_function": {"loader_module": "mlflow.onnx"}}
    mlmodel.write_text(yaml.safe_dump(spec))
    with pytest.raises(InvalidInput, match="logged as onnx, python_function, which the "
                                           "console cannot load") as refused:
        registry.load_model("echo", "1")
    assert "mlflow.sklearn, mlflow.lightgbm, mlflow.xgboost" in str(refused.value)
    gaps = {item.requirement: item.detail
            for item in format_items(registry.model_format("echo", "1")) if not item.satisfied}
    assert set(gaps) == {LOADABLE, SIGNATURE}
    assert "infer_signature" in gaps[SIGNATURE]
    lineage = registry.lineage("echo", "1")
    assert lineage.model_format is not None and lineage.model_format.flavor is None
