"""Factories for test data: small real models in a real MLflow registry, store rows."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

from services.core.clock import utcnow

GOVERNED_TAGS = {
    "owner": "alice",
    "risk_tier": "high",
    "intended_use": "Decide small test loans.",
    "limitations": "Synthetic data only.",
    "sensitive_features": "group",
    "label": "y",
    "positive_label": "1",
}


def governed_registry(folder: Path, *, champion: str, name: str = "loan-approval",
                      versions: int = 2) -> tuple[str, MlflowClient, str]:
    """A real MLflow registry (SQLite) in `folder` holding a governed model's versions:
    its URI, a client, and the experiment id (for more versions)."""
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient(uri, uri)
    experiment = client.create_experiment("tests", artifact_location=(folder / "art").as_uri())
    for seed in range(versions):
        log_version(client, experiment, name, governed=True, seed=seed)
    for key, value in GOVERNED_TAGS.items():
        client.set_registered_model_tag(name, key, value)
    client.set_registered_model_alias(name, "champion", champion)
    return uri, client, experiment


def small_frame(seed: int = 0, rows: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"income": rng.normal(50, 10, rows), "debt": rng.normal(10, 3, rows),
                          "group": rng.choice(["a", "b"], rows)})
    frame["y"] = (frame["income"] - 2 * frame["debt"] + rng.normal(0, 5, rows) > 30).astype(int)
    return frame


def log_version(client: MlflowClient, experiment_id: str, name: str, *, governed: bool,
                seed: int = 0) -> str:
    """Train a small logistic model and register it; governed ones follow the contract."""
    frame = small_frame(seed)
    features = frame[["income", "debt"]]
    with mlflow.start_run(experiment_id=experiment_id) as run:
        model = LogisticRegression().fit(features, frame["y"])
        if governed:
            mlflow.log_input(mlflow.data.from_pandas(frame, name="train", targets="y"),
                             context="training")
            mlflow.set_tag("mlflow.source.git.commit", "0123abcd" * 5)
            mlflow.log_param("C", 1.0)
            mlflow.log_metric("train_accuracy", float(model.score(features, frame["y"])))
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "holdout.parquet"
                frame.to_parquet(path)
                mlflow.log_artifact(str(path), artifact_path="holdout")
        info = mlflow.sklearn.log_model(model, name="model", input_example=features.head(2),
                                        pip_requirements=["scikit-learn"],
                                        registered_model_name=name)
    assert run.info.run_id
    return str(info.registered_model_version)


def decision_row(decision_id: str = "d-1", **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "decision_id": decision_id,
        "model_name": "credit-risk",
        "model_version": "2",
        "decided_at": utcnow(),
        "subject_ref": "APP-1",
        "request_id": None,
        "features": {"income": 50.0},
        "score": 0.7,
        "threshold": 0.5,
        "outcome": "approved",
        "escalation_reason": None,
        "reason_codes": None,
        "shadow": False,
    }
    return {**row, **overrides}


def register_with_holdout(tmp_path: Path, *, holdout: pd.DataFrame | bytes, model: Any,
                          tags: dict[str, str], name: str = "case") -> tuple[str, MlflowClient]:
    """A registry of its own holding one version with exactly this hold-out and these tags."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri, uri)
    experiment = client.create_experiment("case", artifact_location=(tmp_path / "a").as_uri())
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    with mlflow.start_run(experiment_id=experiment):
        path = tmp_path / "holdout.parquet"
        if isinstance(holdout, bytes):
            path.write_bytes(holdout)
        else:
            holdout.to_parquet(path)
        mlflow.log_artifact(str(path), artifact_path="holdout")
        mlflow.sklearn.log_model(model, name="model", pip_requirements=["scikit-learn"],
                                 registered_model_name=name)
    for key, value in tags.items():
        client.set_registered_model_tag(name, key, value)
    return uri, client


def behind_the_apps_back(engine: Any, table: str, statement: str, **params: Any) -> None:
    """What someone with database access does to an append-only table (evidence, the audit
    trail): the table's triggers out of the way, the statement, the triggers back."""
    from sqlalchemy import text

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            connection.execute(text(statement), params)
            connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
            return
        triggers = connection.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
            {"t": table}).all()
        for name, _ in triggers:
            connection.execute(text(f"DROP TRIGGER {name}"))
        connection.execute(text(statement), params)
        for _, sql in triggers:
            connection.execute(text(sql))
