"""The tree fast path: SHAP's TreeExplainer (interventional) when a model ends in a forest
whose transformed columns are its inputs one for one.

It applies when
- the trees are a random forest, extra trees or a decision tree: their output is already the
  probability (leaf class shares averaged), so SHAP's interventional values are exactly the
  Shapley values of the score. Boosted trees (gradient boosting, LightGBM, XGBoost) output
  log-odds; SHAP's probability output for them rescales each background row's log-odds
  contributions to that row's change in probability, which is not the Shapley value of the
  probability and, when a row's log-odds tie, does not even add up (5e-4 seen): they take the
  model-agnostic path, which computes the same quantity as this one;
- the preprocessing before the trees is separable (each transformed column is computed from
  one input: column transformers of single inputs or of column-wise transformers such as
  scalers, imputers, ordinal or one-hot encoders) and gives each input at most one column
  (probed on the background and on the decision's own row). A one-hot input spreads over
  several columns, whose summed values are not the input's Shapley value: such models take
  the model-agnostic path too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from services.decisions.shapley import Shapley

# Transformers whose every output column is computed from one input column.
_COLUMN_WISE = frozenset({
    "Binarizer", "KBinsDiscretizer", "MaxAbsScaler", "MinMaxScaler", "OneHotEncoder",
    "OrdinalEncoder", "PowerTransformer", "QuantileTransformer", "RobustScaler",
    "SplineTransformer", "StandardScaler", "TargetEncoder", "SimpleImputer", "MissingIndicator",
})
# Forests whose output is the probability itself (no link function to rescale through).
_FORESTS = ("RandomForestClassifier", "ExtraTreesClassifier", "DecisionTreeClassifier",
            "ExtraTreeClassifier")


class TreePath:
    """A model's tree ensemble, its preprocessing and SHAP's explainer over the transformed
    background, built once per version; None from `prepare` when the path does not apply."""

    def __init__(self, preprocessing: Any, explainer: Any, positive: int) -> None:
        self._preprocessing = preprocessing
        self._explainer = explainer
        self._positive = positive

    @classmethod
    def prepare(cls, native: Any, background: pd.DataFrame, positive: int) -> TreePath | None:
        """The fast path for this model, or None when it does not apply or SHAP refuses it."""
        from sklearn.pipeline import Pipeline

        preprocessing, trees = ((native[:-1], native[-1]) if isinstance(native, Pipeline)
                                else (None, native))
        if not type(trees).__module__.startswith("sklearn.") or \
                type(trees).__name__ not in _FORESTS or \
                not _separable(preprocessing, background):
            return None
        if _owners(preprocessing, background.iloc[[0]], background) is None:
            return None  # an input spreads over several columns (one-hot): no fast path
        try:
            import shap  # imported on first use: it costs seconds, and only explanations need it

            transformed = _dense(preprocessing, background, single=True)
            explainer = shap.TreeExplainer(trees, data=transformed, model_output="probability",
                                           feature_perturbation="interventional")
        except Exception:  # a model or an encoding SHAP's tree code does not take
            return None
        return cls(preprocessing, explainer, positive)

    def explain(self, row: pd.DataFrame, background: pd.DataFrame) -> Shapley | None:
        """The row's Shapley values by input; None when an input spreads over several
        transformed columns (a one-hot input) or SHAP fails on the row."""
        owners = _owners(self._preprocessing, row, background)
        if owners is None:
            return None
        try:
            values = self._explainer.shap_values(_dense(self._preprocessing, row, single=True),
                                                 check_additivity=False)
        except Exception:  # SHAP refusing this row: the model-agnostic path takes over
            return None
        effects_by_column, base = self._positive_class(values)
        effects = dict.fromkeys(row.columns, 0.0)
        for column, owner in enumerate(owners):
            if owner is not None:
                effects[owner] += float(effects_by_column[column])
        return Shapley(base, {k: float(v) for k, v in effects.items()}, "tree", 0)

    def _positive_class(self, values: Any) -> tuple[np.ndarray, float]:
        expected = np.ravel(np.asarray(self._explainer.expected_value, dtype=float))
        array = np.asarray(values, dtype=float)
        if isinstance(values, list):  # older SHAP: one array per class
            array = np.stack(values, axis=-1)
        if array.ndim == 3:  # (rows, columns, classes)
            return array[0, :, self._positive], float(expected[self._positive])
        return array.reshape(-1), float(expected[0])


def _dense(preprocessing: Any, frame: pd.DataFrame, *, single: bool = False) -> np.ndarray:
    if preprocessing is None:
        out: Any = frame.to_numpy(dtype=float)
    else:
        out = preprocessing.transform(frame)
    if hasattr(out, "toarray"):
        out = out.toarray()
    dense = np.asarray(out, dtype=float)
    # scikit-learn's trees compare float32 inputs with their thresholds: give SHAP's tree
    # walk the same values, or a row near a threshold goes the other way (6e-4 off, seen).
    return dense.astype(np.float32).astype(float) if single else dense


def _separable(step: Any, background: pd.DataFrame) -> bool:
    """Whether every output column of `step` comes from one input column (structure only)."""
    from sklearn.pipeline import Pipeline

    if step is None:  # the trees take the inputs themselves: they must all be numbers
        return all(pd.api.types.is_numeric_dtype(background[c])
                   or pd.api.types.is_bool_dtype(background[c]) for c in background.columns)
    if isinstance(step, Pipeline):
        return all(_column_wise(s) for _, s in step.steps)
    return _column_wise(step)


def _column_wise(step: Any) -> bool:
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if step in ("passthrough", "drop", None):
        return True
    if isinstance(step, Pipeline):
        return all(_column_wise(s) for _, s in step.steps)
    if isinstance(step, ColumnTransformer):
        # A transformer of a single input is separable whatever it computes.
        return all(name == "remainder" and part in ("drop", "passthrough")
                   or _width(columns) <= 1 or _column_wise(part)
                   for name, part, columns in step.transformers_)
    if type(step).__name__ == "FunctionTransformer":  # "passthrough" once fitted: identity
        return getattr(step, "func", None) is None
    return type(step).__name__ in _COLUMN_WISE


def _width(columns: Any) -> int:
    if isinstance(columns, slice) or callable(columns):
        return 2  # unknown: judge the transformer itself
    if isinstance(columns, str | int):
        return 1
    array = np.asarray(columns)
    return int(array.sum()) if array.dtype == bool else len(array)


def _owners(preprocessing: Any, row: pd.DataFrame,
            background: pd.DataFrame) -> list[str | None] | None:
    """For each transformed column, the input it comes from (None: it is the same for the row
    and every background row, so its Shapley value is 0), probed by changing one input at a
    time to the background's values. None when an input owns several columns."""
    inputs = list(row.columns)
    if preprocessing is None:
        return list(inputs)
    here = _dense(preprocessing, row)[0]
    rows = len(background)
    probes = pd.concat([row.iloc[np.zeros(rows, dtype=int)].reset_index(drop=True)
                        .assign(**{name: background[name].to_numpy()}) for name in inputs],
                       ignore_index=True)
    probed = _dense(preprocessing, probes).reshape(len(inputs), rows, -1)
    moved = ~((probed == here) | (np.isnan(probed) & np.isnan(here)))
    changes = moved.any(axis=1)  # (inputs, columns)
    if (changes.sum(axis=1) > 1).any() or (changes.sum(axis=0) > 1).any():
        return None
    owners: list[str | None] = [None] * len(here)
    for i, name in enumerate(inputs):
        for column in np.flatnonzero(changes[i]):
            owners[column] = name
    return owners
