"""A logged decision with a missing input is replayed and explained as the model scores it:
missing text as NaN (what scikit-learn's imputers look for), a missing boolean as a float NaN
(what LightGBM and XGBoost take), a missing integer never cast back into an integer."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from services.decisions.shapley import model_agnostic
from services.registry.loaded import typed_column


def test_missing_text_is_nan_not_none() -> None:
    column = typed_column(["rent", None, float("nan")], "string")
    assert column[0] == "rent" and all(isinstance(v, float) and math.isnan(v)
                                       for v in column[1:])


def test_a_missing_boolean_makes_a_float_column_with_nan() -> None:
    column = typed_column([True, None, False], "boolean")
    assert column.dtype == np.float64
    assert column[0] == 1.0 and math.isnan(column[1]) and column[2] == 0.0
    assert typed_column([True, False], "boolean").dtype == np.bool_


def test_a_missing_integer_is_a_float_nan_and_explanations_still_add_up() -> None:
    row = pd.DataFrame({"age": typed_column([None], "long"), "n": typed_column([3], "long")})
    background = pd.DataFrame({"age": np.arange(20, 40), "n": np.arange(20) % 5})
    assert row["age"].dtype == np.float64 and background["age"].dtype == np.int64

    def score(frame: pd.DataFrame) -> np.ndarray:
        # a model that treats a missing age as its own case, as tree boosters do
        age = frame["age"].to_numpy(dtype=float)
        return np.where(np.isnan(age), 0.9, age / 100) + frame["n"].to_numpy() / 50

    shapley = model_agnostic(score, row, background)
    total = shapley.base_value + sum(shapley.effects.values())
    assert total == pytest.approx(float(score(row)[0]), abs=1e-9)
