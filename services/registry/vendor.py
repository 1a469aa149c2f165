"""Vendor models in the registry: a model the organisation uses but did not train.

One registry for every model: a vendor model is an MLflow registered model tagged
`model_kind = vendor` (with `vendor` and the governance contract's tags), and each version the
vendor ships is a registry version whose run holds an MLmodel file with no flavor, only the
input signature the vendor documents. So ingest checks a vendor's decisions against that
signature as for any model, while every place that would load the model says in words that
there is nothing to load. A version's run may also hold a hold-out set the vendor (or the
organisation) scored, with the vendor's score in the column `score`: evidence is computed from
those scores instead of the model's.

MLflow objects never leave this module (as for the adapter).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import Model, ModelSignature
from mlflow.types import ColSpec, Schema

from services.core.errors import InvalidInput
from services.registry.adapter import (
    HOLDOUT_DIR,
    MODEL_KIND_TAG,
    VENDOR_KIND,
    ModelSummary,
    Registry,
)

VENDOR_TAG = "vendor"  # on the registered model: who supplies it
VENDOR_VERSION_TAG = "vendor_version"  # on each version: the release it is
SCORE_COLUMN = "score"  # in a scored hold-out file: the vendor's score, P(positive label)
INPUT_TYPES = ("double", "float", "long", "integer", "string", "boolean")
_EXPERIMENT = "vendor-models"


def is_vendor(model: ModelSummary) -> bool:
    """Whether the registered model is a vendor model (tag model_kind = vendor)."""
    return model.is_vendor


def no_artifact(model_name: str, version: str | None = None) -> str:
    """Why a vendor model is never loaded, replayed or explained, in one sentence."""
    which = f"Version {version} of {model_name!r}" if version else repr(model_name)
    return (f"{which} is a vendor model: the console holds no artifact to replay or explain "
            "it (the vendor scores it; only its inputs, score and outcome are logged), so no "
            "replay check, explanation or counterfactual can be given for its decisions.")


def register_vendor_version(registry: Registry, *, name: str, model_tags: Mapping[str, str],
                            version_tags: Mapping[str, str], inputs: Mapping[str, str],
                            description: str, scored_holdout: Path | None,
                            artifact_root: Path | None = None) -> str:
    """Register one version of a vendor model (creating the registered model when new) and set
    its tags; returns the version number as text.

    inputs: input name -> MLflow type (double, float, long, integer, string, boolean), from
    the vendor's documentation. scored_holdout: a Parquet file logged as the version's hold-out
    set (with the score column), or None.

    Raises InvalidInput for an unknown input type or a name used by a model that is not a
    vendor model; SourceUnavailable when the registry cannot be reached.
    """
    wrong = {n: t for n, t in inputs.items() if t not in INPUT_TYPES}
    if not inputs or wrong:
        raise InvalidInput("A vendor model needs its inputs with MLflow types "
                           f"({', '.join(INPUT_TYPES)}); "
                           + (f"unknown: {wrong}." if wrong else "none were given."),
                           hint="Give each input as name=type, from the vendor's documents.")
    client = MlflowClient(tracking_uri=registry.tracking_uri,
                          registry_uri=registry.registry_uri)
    with registry._translated(f"Model {name!r}"):
        try:
            existing = client.get_registered_model(name)
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                raise
            client.create_registered_model(name, description=description)
        else:
            if (existing.tags or {}).get(MODEL_KIND_TAG) != VENDOR_KIND:
                raise InvalidInput(f"{name!r} is already registered as a model the "
                                   "organisation trained, not a vendor model.",
                                   hint="Choose another name for the vendor model.")
        experiment = client.get_experiment_by_name(_EXPERIMENT)
        experiment_id = (experiment.experiment_id if experiment is not None
                         else client.create_experiment(
                             _EXPERIMENT, artifact_location=artifact_root.as_uri()
                             if artifact_root is not None else None))
        run = client.create_run(experiment_id, run_name=f"{name} (vendor)",
                                tags={MODEL_KIND_TAG: VENDOR_KIND})
        run_id = run.info.run_id
        signature = ModelSignature(inputs=Schema([ColSpec(t, n) for n, t in inputs.items()]))
        with tempfile.TemporaryDirectory() as folder:
            model_dir = Path(folder) / "model"
            model_dir.mkdir()
            # No flavor: an MLmodel that declares only what the vendor documents.
            Model(signature=signature, run_id=run_id, artifact_path="model").save(
                str(model_dir / "MLmodel"))
            client.log_artifacts(run_id, str(model_dir), "model")
        if scored_holdout is not None:
            client.log_artifact(run_id, str(scored_holdout), HOLDOUT_DIR)
        client.set_terminated(run_id)
        version = client.create_model_version(
            name, source=f"{run.info.artifact_uri.rstrip('/')}/model", run_id=run_id,
            tags=dict(version_tags), description=description)
        for key, value in {**model_tags, MODEL_KIND_TAG: VENDOR_KIND}.items():
            client.set_registered_model_tag(name, key, value)
    return str(version.version)


def set_vendor_model_tags(registry: Registry, *, name: str, tags: Mapping[str, str]) -> None:
    """Write model-level tags of a vendor model (its settings that govern every version).

    Raises NotFound for an unknown model; SourceUnavailable when the registry cannot be
    reached."""
    client = MlflowClient(tracking_uri=registry.tracking_uri,
                          registry_uri=registry.registry_uri)
    with registry._translated(f"Model {name!r}"):
        for key, value in tags.items():
            client.set_registered_model_tag(name, key, value)
