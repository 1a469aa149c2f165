"""A registered version as the console scores it: its logged inputs (from the MLflow signature),
the flavor it was loaded by, and one way to score, whatever library trained it.

No MLflow here: services/registry/flavors.py loads by flavor and hands over plain objects.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from services.core.errors import InvalidInput


class Flavor(StrEnum):
    """The MLflow flavors the console loads a version by (most specific first)."""

    SKLEARN = "sklearn"
    LIGHTGBM = "lightgbm"
    XGBOOST = "xgboost"
    PYFUNC = "pyfunc"  # a custom mlflow.pyfunc.PythonModel whose output is P(positive)


SUPPORTED_FLAVORS = ", ".join(f.value for f in Flavor)
INTEGER_TYPES = frozenset({"long", "integer"})
NUMERIC_TYPES = frozenset({"double", "float", "long", "integer"})


@dataclass(frozen=True)
class ModelInput:
    """One input of a version's MLflow signature: its name and MLflow type (double, long,
    string, boolean, ...)."""

    name: str
    type: str

    @property
    def integer(self) -> bool:
        return self.type in INTEGER_TYPES

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


@dataclass(frozen=True)
class ModelFormat:
    """What a version's MLmodel file says: its flavors, the one the console loads it by (None
    when it cannot), and its input signature (empty when it has none)."""

    flavors: tuple[str, ...]
    flavor: Flavor | None
    inputs: tuple[ModelInput, ...]

    @property
    def flavor_problem(self) -> str | None:
        """Why the console cannot load the version, in one sentence; None when it can."""
        if self.flavor is not None:
            return None
        logged = ", ".join(self.flavors) or "no flavor"
        return (f"it is logged as {logged}, which the console cannot load (it loads "
                f"{SUPPORTED_FLAVORS}); log it with mlflow.sklearn, mlflow.lightgbm, "
                "mlflow.xgboost or as an mlflow.pyfunc.PythonModel that returns the probability "
                "of the positive label")

    @property
    def signature_problem(self) -> str | None:
        if self.inputs:
            return None
        return ("it has no input signature, so the console cannot tell which inputs it takes "
                "or their types; log it with signature=infer_signature(X, model.predict(X)) or "
                "an input_example")


class ProbabilityClassifier:
    """A scikit-learn-like binary classifier around a scoring function that returns
    P(positive label) per row (a LightGBM or XGBoost Booster, a custom pyfunc model), so that
    evidence runs treat it as any classifier: classes_ [0, 1], predict_proba, predict."""

    _estimator_type = "classifier"

    def __init__(self, score: Callable[[pd.DataFrame], Any], input_names: Sequence[str]) -> None:
        self._score = score
        self.classes_ = np.array([0, 1])
        if input_names:
            self.feature_names_in_ = np.array(list(input_names), dtype=object)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Shape (rows, 2): P(0), P(1). InvalidInput when the output is not a probability."""
        positive = _probabilities(self._score(frame), len(frame))
        return np.column_stack([1.0 - positive, positive])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(frame)[:, 1] >= 0.5).astype(int)

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags, InputTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    input_tags=InputTags(), classifier_tags=ClassifierTags())


def _probabilities(output: Any, rows: int) -> np.ndarray:
    try:
        values = np.asarray(output.to_numpy() if hasattr(output, "to_numpy") else output,
                            dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"The model returned something other than numbers for {rows} "
                           "row(s); the console needs one probability per row.",
                           hint="Return the probability of the positive label from predict."
                           ) from exc
    if values.ndim == 2 and values.shape[1] in (1, 2):
        values = values[:, -1]  # one column, or P(0) and P(1)
    if values.shape != (rows,):
        raise InvalidInput(f"The model returned output of shape {values.shape} for {rows} "
                           "row(s); the console needs one probability per row.",
                           hint="Return the probability of the positive label from predict.")
    if np.any((values < 0) | (values > 1)):
        raise InvalidInput("The model's output is not a probability (values outside 0 to 1), "
                           "so it cannot be replayed or explained as a score.",
                           hint="Return the probability of the positive label from predict.")
    return values


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """The exact version, loaded by its flavor.

    estimator: scikit-learn-compatible (predict_proba, classes_): the sklearn estimator or
    pipeline, LightGBM's or XGBoost's sklearn model, or a ProbabilityClassifier around a
    Booster or a pyfunc model. native: what the flavor loaded (a Booster, a pipeline, ...),
    None for pyfunc models.
    """

    model_name: str
    version: str
    flavor: Flavor
    inputs: tuple[ModelInput, ...]  # from the signature; empty when it has none
    estimator: Any
    native: Any
    positive_index: int  # the column of predict_proba that is P(positive label)

    def input_names(self, logged: Mapping[str, Any] | None = None) -> list[str]:
        """The signature's inputs in order; without one, what the estimator was fitted on, else
        the logged inputs as they are."""
        if self.inputs:
            return [i.name for i in self.inputs]
        fitted = getattr(self.estimator, "feature_names_in_", None)
        if fitted is not None:
            return [str(n) for n in fitted]
        return list(logged or {})

    def input_types(self) -> dict[str, str]:
        return {i.name: i.type for i in self.inputs}

    def frame(self, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
        """Rows of inputs as the typed frame the model takes: columns in the signature's order,
        long and integer inputs as integers (floats when a value is missing), double as float64,
        float as float32, booleans as bool (floats with NaN when a value is missing), strings as
        objects with NaN for missing.

        Raises InvalidInput when a row lacks an input the model takes.
        """
        names = self.input_names(rows[0] if rows else None)
        missing = sorted({n for row in rows for n in names if n not in row})
        if missing:
            raise InvalidInput(f"The logged inputs lack {', '.join(missing)}, which version "
                               f"{self.version} takes: the score cannot be reproduced.")
        types = self.input_types()
        return pd.DataFrame({n: typed_column([row[n] for row in rows], types.get(n))
                             for n in names})

    def typed(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A frame's model inputs (a hold-out set, say) cast as `frame` casts logged rows."""
        names = self.input_names(dict.fromkeys(str(c) for c in frame.columns))
        missing = [n for n in names if n not in frame.columns]
        if missing:
            raise InvalidInput(f"The hold-out set lacks the model's input(s) "
                               f"{', '.join(missing)}.")
        types = self.input_types()
        return pd.DataFrame({n: typed_column(frame[n].tolist(), types.get(n)) for n in names},
                            index=frame.index)

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        """P(positive label) for each row of a typed frame, float64.

        Raises InvalidInput when the model's output is not a probability."""
        proba = np.asarray(self.estimator.predict_proba(frame), dtype=float)
        if proba.ndim != 2 or proba.shape[0] != len(frame) or \
                proba.shape[1] <= self.positive_index:
            raise InvalidInput(f"predict_proba returned shape {proba.shape} for {len(frame)} "
                               "row(s); the console needs a probability for each of two "
                               "classes.", hint="Register a binary classifier.")
        return _probabilities(proba[:, self.positive_index], len(frame))


def typed_column(values: list[Any], kind: str | None) -> Any:
    """One input's values as the dtype its MLflow type names (see LoadedModel.frame)."""
    if kind in NUMERIC_TYPES:
        numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        if kind in INTEGER_TYPES and not numbers.isna().any() and \
                all(float(v).is_integer() for v in numbers):
            return numbers.to_numpy().astype("int32" if kind == "integer" else "int64")
        return numbers.to_numpy(dtype="float32" if kind == "float" else "float64")
    if kind == "boolean":
        if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
            # A missing boolean as NaN in a float column, which LightGBM, XGBoost and
            # scikit-learn all take; an object column with None is refused by the first two.
            return np.array([np.nan if v is None else float(v) for v in values],
                            dtype="float64")
        return np.array(values, dtype=bool)
    if kind == "datetime":
        return pd.to_datetime(pd.Series(values)).to_numpy()
    if kind is None:
        return pd.Series(values).to_numpy()  # no signature: as pandas infers it
    # Missing text as NaN, as pandas reads it and as scikit-learn's imputers look for it
    # (SimpleImputer's default missing_values=np.nan does not match None).
    return np.array([np.nan if v is None or (isinstance(v, float) and math.isnan(v)) else v
                     for v in values], dtype=object)


def positive_index(classes: Any, positive_label: str | None) -> int:
    """The column of predict_proba for the positive label (the tag), else the second class."""
    names = [str(c) for c in (classes if classes is not None else [0, 1])]
    if positive_label is not None:
        wanted = positive_label.strip()
        for index, name in enumerate(names):
            if name == wanted or (_number(name) is not None and _number(name) == _number(wanted)):
                return index
    return min(1, len(names) - 1)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
