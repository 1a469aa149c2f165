"""Train the demo's models and register them in MLflow as the governance contract says."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.models import infer_signature
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from services.core.settings import PROJECT_ROOT
from services.demo import data
from services.registry.adapter import HOLDOUT_DIR

# The demo logs models with explicit requirements: inferring them costs seconds per model.
_REQUIREMENTS = ["scikit-learn", "pandas", "numpy"]
# MLflow saves sklearn models with skops, which refuses types it cannot vouch for. These are
# the tree containers of the estimators the demo trains itself; nothing else is trusted.
_TRUSTED_TREE_TYPES = [
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
]


@dataclass(frozen=True)
class TrainedVersion:
    """A registered version and what the decision generator needs to score with it."""

    model_name: str
    version: str
    pipeline: Pipeline
    threshold: float


def code_version() -> str:
    """The commit of the code that trained the demo models, or the package version."""
    try:
        out = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=5, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "model-governance-console-0.1.0"


def _pipeline(numeric: list[str], categorical: list[str], estimator: Any,
              *, scale: bool) -> Pipeline:
    # Columns not named here (such as sex for most versions) reach the model's input but are
    # dropped before the estimator: the record keeps them for fairness monitoring.
    numeric_step: Any = StandardScaler() if scale else "passthrough"
    encode = ColumnTransformer(
        [("numeric", numeric_step, numeric),
         ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
          categorical)],
        remainder="drop",
        verbose_feature_names_out=False,
    )
    return Pipeline([("encode", encode), ("model", estimator)])


def register_version(
    client: MlflowClient, experiment_id: str, *, model_name: str, pipeline: Pipeline,
    train: pd.DataFrame, holdout: pd.DataFrame, features: list[str], label: str,
    run_name: str, threshold: float, description: str,
) -> TrainedVersion:
    """Fit, log and register one version with hold-out, data digests and code version."""
    pipeline.fit(train[features], train[label])
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
        mlflow.log_input(mlflow.data.from_pandas(train, name=f"{model_name}-train",
                                                 targets=label), context="training")
        mlflow.log_input(mlflow.data.from_pandas(holdout, name=f"{model_name}-holdout",
                                                 targets=label), context="evaluation")
        mlflow.log_params({k: v for k, v in pipeline[-1].get_params().items()
                           if isinstance(v, int | float | str) and not isinstance(v, bool)})
        mlflow.log_param("estimator", type(pipeline[-1]).__name__)
        mlflow.log_param("decision_threshold", threshold)
        mlflow.set_tags({"mlflow.source.git.commit": code_version(),
                         "code_version": code_version()})
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "holdout.parquet"
            holdout.to_parquet(path, index=False)
            mlflow.log_artifact(str(path), artifact_path=HOLDOUT_DIR)
        example = train[features].head(3)
        # The signature given, not an input example: with an example MLflow loads the model
        # back to score it (2.2 of the small demo's 20 CPU s); the demo scores every version
        # through the registry right after, which checks the same thing.
        info = mlflow.sklearn.log_model(
            pipeline, name="model", signature=infer_signature(example, pipeline.predict(example)),
            pip_requirements=_REQUIREMENTS, registered_model_name=model_name,
            skops_trusted_types=_TRUSTED_TREE_TYPES,
        )
        scores = pipeline.predict_proba(holdout[features])[:, 1]
        accuracy = float(((scores >= threshold).astype(int) == holdout[label]).mean())
        mlflow.log_metric("holdout_accuracy", accuracy)
    version = str(info.registered_model_version)
    client.update_model_version(model_name, version, description=description)
    client.set_model_version_tag(model_name, version, "decision_threshold", str(threshold))
    client.set_model_version_tag(model_name, version, "training_run", run.info.run_id)
    return TrainedVersion(model_name, version, pipeline, threshold)


def train_credit_models(client: MlflowClient, experiment_id: str,
                        seed: int) -> list[TrainedVersion]:
    """credit-risk: logistic v1, gradient boosting v2 (champion), a biased challenger v3."""
    frame = data.german_credit()
    train, holdout = train_test_split(frame, test_size=0.3, random_state=seed,
                                      stratify=frame[data.CREDIT_LABEL])
    features = data.CREDIT_FEATURES
    without_sex = [c for c in data.CREDIT_CATEGORICAL if c != "sex"]
    common = {"train": train, "holdout": holdout, "features": features,
              "label": data.CREDIT_LABEL, "threshold": 0.5}
    v1 = register_version(
        client, experiment_id, model_name="credit-risk", run_name="logistic-baseline",
        pipeline=_pipeline(data.CREDIT_NUMERIC, without_sex,
                           LogisticRegression(max_iter=1000, C=0.5), scale=True),
        description="Logistic regression baseline on the applicant's file.", **common)
    v2 = register_version(
        client, experiment_id, model_name="credit-risk", run_name="gradient-boosting",
        pipeline=_pipeline(data.CREDIT_NUMERIC, without_sex,
                           GradientBoostingClassifier(n_estimators=150, max_depth=3,
                                                      learning_rate=0.05, random_state=seed),
                           scale=False),
        description="Gradient boosting; sex is not an input.", **common)
    # The challenger learns from historical decisions in which women were more often marked
    # as bad risks, and it is given sex as an input: a fairness problem for the console to find.
    biased = train.copy()
    women_good = (biased["sex"] == "female") & (biased[data.CREDIT_LABEL] == 1)
    rng = np.random.default_rng(seed)
    biased.loc[women_good & (rng.random(len(biased)) < 0.35), data.CREDIT_LABEL] = 0
    v3 = register_version(
        client, experiment_id, model_name="credit-risk", run_name="boosting-with-history",
        pipeline=_pipeline(data.CREDIT_NUMERIC, data.CREDIT_CATEGORICAL,
                           GradientBoostingClassifier(n_estimators=200, max_depth=3,
                                                      learning_rate=0.05, random_state=seed),
                           scale=False),
        description="Gradient boosting retrained on ten years of past decisions.",
        **{**common, "train": biased})
    _tag_model(client, "credit-risk", {
        "owner": "demo.amara",
        "risk_tier": "high",
        "intended_use": "Score consumer loan applications for the probability of repayment; "
                        "applications near the threshold go to an underwriter.",
        "limitations": "Trained on 1,000 historical applicants; not validated for business "
                       "loans or applicants under 19.",
        "sensitive_features": "sex,age",
        "label": data.CREDIT_LABEL,
        "positive_label": "1",
        "favourable_label": "1",  # repayment predicted: the loan is approved
        "positive_meaning": "repayment",
    }, "Probability that a consumer credit applicant repays (German credit data).")
    return [v1, v2, v3]


def train_fraud_models(client: MlflowClient, experiment_id: str, seed: int,
                       rows: int) -> list[TrainedVersion]:
    """fraud-screening: v1 champion, v2 challenger with more trees and a later sample."""
    rng = np.random.default_rng(seed + 1)
    frame = data.card_transactions(rows, rng)
    train, holdout = train_test_split(frame, test_size=0.2, random_state=seed,
                                      stratify=frame[data.FRAUD_LABEL])
    categorical = [c for c in data.FRAUD_CATEGORICAL if c != "customer_sex"]
    numeric = [c for c in data.FRAUD_NUMERIC if c != "customer_age"]
    common = {"holdout": holdout, "features": data.FRAUD_FEATURES,
              "label": data.FRAUD_LABEL, "threshold": 0.15}
    v1 = register_version(
        client, experiment_id, model_name="fraud-screening", run_name="hgb-baseline",
        pipeline=_pipeline(numeric, categorical, HistGradientBoostingClassifier(
            max_iter=120, learning_rate=0.08, random_state=seed), scale=False),
        train=train, description="Histogram gradient boosting on transaction features.",
        **common)
    v2 = register_version(
        client, experiment_id, model_name="fraud-screening", run_name="hgb-deeper",
        pipeline=_pipeline(numeric, categorical, HistGradientBoostingClassifier(
            max_iter=250, learning_rate=0.05, max_leaf_nodes=48, random_state=seed),
            scale=False),
        train=train, description="More and larger trees; same features.", **common)
    _tag_model(client, "fraud-screening", {
        "owner": "demo.jonas",
        "risk_tier": "medium",
        "intended_use": "Hold card transactions likely to be fraudulent for review before "
                        "they settle.",
        "limitations": "Card-present and card-not-present retail only; not for wire "
                       "transfers.",
        "sensitive_features": "customer_sex,customer_age",
        "label": data.FRAUD_LABEL,
        "positive_label": "1",
        "favourable_label": "0",  # not predicted fraudulent: the payment goes through
        "positive_meaning": "fraud",
    }, "Probability that a card transaction is fraudulent.")
    return [v1, v2]


def register_ungoverned_model(client: MlflowClient, experiment_id: str, seed: int) -> None:
    """A model registered with no governance records at all: the console must name its gaps."""
    rng = np.random.default_rng(seed + 2)
    frame = pd.DataFrame({"visits": rng.poisson(3, 400).astype(float),
                          "tenure": rng.gamma(2, 2, 400)})
    target = (frame["visits"] + rng.normal(0, 1, 400) > 3).astype(int)
    with mlflow.start_run(experiment_id=experiment_id, run_name="quick-experiment"):
        model = LogisticRegression().fit(frame, target)
        mlflow.sklearn.log_model(model, name="model", input_example=frame.head(2),
                                 pip_requirements=_REQUIREMENTS,
                                 registered_model_name="marketing-propensity")


def _tag_model(client: MlflowClient, name: str, tags: dict[str, str], description: str) -> None:
    for key, value in tags.items():
        client.set_registered_model_tag(name, key, value)
    client.update_registered_model(name, description=description)
