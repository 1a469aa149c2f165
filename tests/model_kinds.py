"""The kinds of model people register, each trained small on one synthetic loan book and logged
to a real MLflow registry by its own flavor, the governance contract met (hold-out, training
data, code version, signature). Used by the explanation matrix test and its benchmark."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.models import infer_signature
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

NUMERIC = ["income", "debt", "age", "months"]  # age and months are whole numbers (long)
CATEGORICAL = ["purpose", "housing", "phone"]  # phone is binary: yes / no
SENSITIVE = ["sex"]
LABEL = "repaid"
# MLflow 3 saves scikit-learn models with skops, which refuses types it cannot vouch for; each
# is named in the refusal and must be passed as skops_trusted_types to be saved.
TRUSTED_TYPES = [
    "sklearn.tree._tree.Tree",  # every tree ensemble
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "numpy.dtype",  # SimpleImputer
    "functools.partial", "sklearn.utils.validation.check_array",  # native categories
]
TAGS = {
    "owner": "olga", "risk_tier": "high", "intended_use": "Decide small test loans.",
    "limitations": "Synthetic data only.", "sensitive_features": "sex", "label": LABEL,
    "positive_label": "1", "positive_meaning": "repayment",
}


def loan_book(rows: int = 600, seed: int = 3, extra_numeric: int = 0) -> pd.DataFrame:
    """Applicants with numbers, whole numbers, categories (one binary), sex, and repayment."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "income": rng.normal(50, 12, rows).round(1),
        "debt": rng.gamma(2.0, 5.0, rows).round(2),
        "age": rng.integers(19, 75, rows),
        "months": rng.choice([6, 12, 24, 36, 48], rows),
        "purpose": rng.choice(["car", "education", "furniture", "business"], rows),
        "housing": rng.choice(["own", "rent", "free"], rows, p=[0.6, 0.3, 0.1]),
        "phone": rng.choice(["yes", "no"], rows),
        "sex": rng.choice(["female", "male"], rows),
    })
    for i in range(extra_numeric):
        frame[f"x{i}"] = rng.normal(0, 1, rows).round(3)
    signal = (0.08 * (frame["income"] - 50) - 0.12 * (frame["debt"] - 10)
              - 0.02 * (frame["months"] - 24) + 0.6 * (frame["housing"] == "own")
              - 0.5 * (frame["purpose"] == "business") + 0.3 * (frame["phone"] == "yes")
              + rng.normal(0, 1, rows))
    frame[LABEL] = (signal > 0).astype(int)
    return frame


def _onehot(**options: Any) -> OneHotEncoder:
    return OneHotEncoder(handle_unknown="ignore", **options)


def _encode(numbers: list[str], categorical: Any, numeric: Any = "passthrough",
            **options: Any) -> ColumnTransformer:
    return ColumnTransformer([("num", numeric, numbers), ("cat", categorical, CATEGORICAL)],
                             **options)


def _native_categorical(numbers: list[str]) -> Pipeline:
    # Categories as ordinal codes, then the booster's own categorical splits on those columns.
    encode = ColumnTransformer(
        [("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
          CATEGORICAL), ("num", "passthrough", numbers)])
    return Pipeline([("encode", encode), ("model", HistGradientBoostingClassifier(
        max_iter=40, categorical_features=[0, 1, 2], random_state=0))])


# Each takes the numeric inputs (extra ones of loan_book(extra_numeric=...) included).
SKLEARN_KINDS: dict[str, Callable[[list[str]], Any]] = {
    "logistic, sparse one-hot": lambda n: Pipeline([
        ("encode", _encode(n, _onehot(), StandardScaler())),
        ("model", LogisticRegression(max_iter=500))]),
    "random forest": lambda n: RandomForestClassifier(n_estimators=30, max_depth=6,
                                                      random_state=0),
    "extra trees, sparse one-hot": lambda n: Pipeline([
        ("encode", _encode(n, _onehot())),
        ("model", ExtraTreesClassifier(n_estimators=30, max_depth=6, random_state=0))]),
    "gradient boosting": lambda n: Pipeline([
        ("encode", _encode(n, _onehot(sparse_output=False))),
        ("model", GradientBoostingClassifier(n_estimators=40, max_depth=3, random_state=0))]),
    "histogram boosting": lambda n: Pipeline([
        ("encode", _encode(n, OrdinalEncoder())),
        ("model", HistGradientBoostingClassifier(max_iter=40, random_state=0))]),
    "histogram boosting, native categories": _native_categorical,
    "nested preprocessing": lambda n: Pipeline([
        ("encode", _encode(n,
            Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                      ("onehot", _onehot())]),
            Pipeline([("impute", SimpleImputer()), ("scale", StandardScaler())]))),
        ("model", GradientBoostingClassifier(n_estimators=40, max_depth=3, random_state=0))]),
    "one-hot drop if_binary": lambda n: Pipeline([
        ("encode", _encode(n, OneHotEncoder(drop="if_binary", sparse_output=False))),
        ("model", RandomForestClassifier(n_estimators=30, max_depth=6, random_state=0))]),
    "ordinal encoding": lambda n: Pipeline([
        ("encode", _encode(n, OrdinalEncoder(handle_unknown="use_encoded_value",
                                             unknown_value=-1))),
        ("model", GradientBoostingClassifier(n_estimators=40, max_depth=3, random_state=0))]),
    "remainder passthrough": lambda n: Pipeline([  # the numbers pass through untouched
        ("encode", ColumnTransformer([("cat", _onehot(), [*CATEGORICAL, *SENSITIVE])],
                                     remainder="passthrough")),
        ("model", LogisticRegression(max_iter=1000))]),
}
NUMERIC_ONLY = {"random forest", "lightgbm", "xgboost"}  # bare models on numbers only
KINDS = [*SKLEARN_KINDS, "lightgbm", "xgboost", "custom pyfunc"]


class RepaymentRule(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined, misc]
    """A custom pyfunc model: a hand-written score, P(repaid), from numbers and a category."""

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> Any:
        margin = (0.08 * (model_input["income"] - 50) - 0.12 * (model_input["debt"] - 10)
                  + 0.6 * (model_input["housing"] == "own") - 0.02 * model_input["months"])
        return 1.0 / (1.0 + np.exp(-margin.to_numpy(dtype=float)))


@dataclass(frozen=True)
class RegisteredKind:
    kind: str
    model_name: str
    version: str
    inputs: list[str]
    holdout: pd.DataFrame
    # P(repaid) from the trained object itself, as the serving system scored: never through
    # the registry, so that a replay through it is a real check.
    served: Callable[[pd.DataFrame], np.ndarray]


def model_name(kind: str) -> str:
    return "m-" + "".join(ch if ch.isalnum() else "-" for ch in kind).strip("-")


def inputs_of(kind: str, frame: pd.DataFrame) -> list[str]:
    if kind in NUMERIC_ONLY:
        return [c for c in frame.columns if c not in (*CATEGORICAL, *SENSITIVE, LABEL)]
    return [c for c in frame.columns if c != LABEL]


def register_kind(client: MlflowClient, experiment_id: str, kind: str, frame: pd.DataFrame,
                  name: str | None = None) -> RegisteredKind:
    """Train the kind on the first 70% of the book and register it with its hold-out."""
    train, holdout = frame.iloc[: int(len(frame) * 0.7)], frame.iloc[int(len(frame) * 0.7):]
    inputs = inputs_of(kind, frame)
    name = name or model_name(kind)
    x, y = train[inputs], train[LABEL]
    with mlflow.start_run(experiment_id=experiment_id, run_name=kind):
        mlflow.log_input(mlflow.data.from_pandas(train, name=f"{name}-train", targets=LABEL),
                         context="training")
        mlflow.set_tag("mlflow.source.git.commit", "0123abcd" * 5)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "holdout.parquet"
            holdout.to_parquet(path, index=False)
            mlflow.log_artifact(str(path), artifact_path="holdout")
        info, served = _log(kind, x, y, name)
    for key, value in TAGS.items():
        client.set_registered_model_tag(name, key, value)
    return RegisteredKind(kind, name, str(info.registered_model_version), inputs, holdout,
                          served)


def _log(kind: str, x: pd.DataFrame, y: pd.Series,
         name: str) -> tuple[Any, Callable[[pd.DataFrame], np.ndarray]]:
    common: dict[str, Any] = {"name": "model", "registered_model_name": name}
    if kind == "custom pyfunc":
        rule = RepaymentRule()
        return (mlflow.pyfunc.log_model(python_model=rule,
                                        signature=infer_signature(x, np.zeros(len(x))),
                                        pip_requirements=["pandas"], **common),
                lambda frame: np.asarray(rule.predict(None, frame)))
    if kind == "lightgbm":
        import lightgbm

        model: Any = lightgbm.LGBMClassifier(n_estimators=40, num_leaves=8, verbose=-1,
                                             random_state=0).fit(x, y)
        info = mlflow.lightgbm.log_model(model, signature=infer_signature(x, y),
                                         pip_requirements=["lightgbm"], **common)
    elif kind == "xgboost":
        import xgboost

        model = xgboost.XGBClassifier(n_estimators=40, max_depth=3, random_state=0).fit(x, y)
        info = mlflow.xgboost.log_model(model, signature=infer_signature(x, y),
                                        pip_requirements=["xgboost"], **common)
    else:
        numbers = [c for c in x.columns if pd.api.types.is_numeric_dtype(x[c])]
        model = SKLEARN_KINDS[kind](numbers).fit(x, y)
        info = mlflow.sklearn.log_model(model, signature=infer_signature(x, y),
                                        pip_requirements=["scikit-learn"],
                                        skops_trusted_types=TRUSTED_TYPES, **common)
    return info, lambda frame: np.asarray(model.predict_proba(frame)[:, 1], dtype=float)
