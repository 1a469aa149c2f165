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

from services.decisions.separable import dense, owners, separable, split
from services.decisions.shapley import Shapley

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
        preprocessing, trees = split(native)
        if not type(trees).__module__.startswith("sklearn.") or \
                type(trees).__name__ not in _FORESTS or \
                not separable(preprocessing, background):
            return None
        if owners(preprocessing, background.iloc[[0]], background, one_each=True) is None:
            return None  # an input spreads over several columns (one-hot): no fast path
        try:
            import shap  # imported on first use: it costs seconds, and only explanations need it

            transformed = dense(preprocessing, background, single=True)
            explainer = shap.TreeExplainer(trees, data=transformed, model_output="probability",
                                           feature_perturbation="interventional")
        except Exception:  # a model or an encoding SHAP's tree code does not take
            return None
        return cls(preprocessing, explainer, positive)

    def explain(self, row: pd.DataFrame, background: pd.DataFrame) -> Shapley | None:
        """The row's Shapley values by input; None when an input spreads over several
        transformed columns (a one-hot input) or SHAP fails on the row."""
        owned = owners(self._preprocessing, row, background, one_each=True)
        if owned is None:
            return None
        try:
            values = self._explainer.shap_values(dense(self._preprocessing, row, single=True),
                                                 check_additivity=False)
        except Exception:  # SHAP refusing this row: the model-agnostic path takes over
            return None
        effects_by_column, base = self._positive_class(values)
        effects = dict.fromkeys(row.columns, 0.0)
        for column, owner in enumerate(owned):
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
