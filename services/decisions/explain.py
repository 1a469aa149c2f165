"""Why a version scored a decision as it did: SHAP contributions in terms of the original
features, in plain sentences, and a replay check that the logged score is reproduced."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from services.core.errors import InvalidInput

REPLAY_TOLERANCE = 1e-6
_TREES = ("GradientBoosting", "HistGradientBoosting", "RandomForest", "ExtraTrees",
          "DecisionTree", "XGB", "LGBM")


@dataclass(frozen=True)
class Contribution:
    feature: str
    value: Any  # the input as logged
    effect: float  # on the log-odds of the positive label


@dataclass(frozen=True)
class Explanation:
    base_value: float  # log-odds before any feature is known
    contributions: tuple[Contribution, ...]  # largest effect first

    @property
    def explained_score(self) -> float:
        """The probability the contributions add up to (SHAP is additive in log-odds)."""
        total = self.base_value + sum(c.effect for c in self.contributions)
        return 1.0 / (1.0 + math.exp(-total))


@dataclass(frozen=True)
class Replay:
    logged: float | None
    recomputed: float
    matches: bool


def inputs_frame(model: Any, features: dict[str, Any]) -> pd.DataFrame:
    """The logged inputs as the one-row frame the model was fitted on."""
    names = list(getattr(model, "feature_names_in_", features.keys()))
    missing = [n for n in names if n not in features]
    if missing:
        raise InvalidInput(f"The logged inputs lack {', '.join(missing)}: cannot rescore.")
    return pd.DataFrame([{n: features[n] for n in names}])


def replay(model: Any, features: dict[str, Any], logged: float | None) -> Replay:
    """Rescore the logged inputs with the exact version and compare with the logged score."""
    if any(v is None for v in features.values()):
        raise InvalidInput("An input was missing when the decision was made; there is no "
                           "score to reproduce.")
    recomputed = float(model.predict_proba(inputs_frame(model, features))[:, 1][0])
    matches = logged is not None and abs(recomputed - logged) <= REPLAY_TOLERANCE
    return Replay(logged, recomputed, matches)


def explain(model: Any, features: dict[str, Any],
            background: pd.DataFrame | None = None) -> Explanation:
    """SHAP contributions of one decision, one-hot columns summed back to their feature."""
    if any(v is None for v in features.values()):
        raise InvalidInput("An input was missing, so the model gave no score to explain.")
    row = inputs_frame(model, features)
    steps, estimator = (model[:-1], model[-1]) if isinstance(model, Pipeline) else (None, model)
    transformed = steps.transform(row) if steps is not None else row.to_numpy(dtype=float)
    explainer = _explainer(estimator, steps, background)
    values = explainer(np.asarray(transformed, dtype=float))
    effects = np.asarray(values.values).reshape(-1)
    base = float(np.ravel(values.base_values)[0])
    sources = _source_features(steps, list(row.columns), len(effects))
    grouped: dict[str, float] = {}
    for source, effect in zip(sources, effects, strict=True):
        grouped[source] = grouped.get(source, 0.0) + float(effect)
    contributions = sorted((Contribution(f, features.get(f), e) for f, e in grouped.items()),
                           key=lambda c: abs(c.effect), reverse=True)
    return Explanation(base, tuple(contributions))


def _explainer(estimator: Any, steps: Any, background: pd.DataFrame | None) -> Any:
    import shap  # imported on first use: it costs a second or two, and only case files need it

    kind = type(estimator).__name__
    if kind.startswith(_TREES):
        return shap.TreeExplainer(estimator)  # path-dependent: no background needed
    if hasattr(estimator, "coef_"):
        if background is None:
            raise InvalidInput("A linear model's explanation needs background data (the "
                               "hold-out set).")
        data = steps.transform(background) if steps is not None else background
        return shap.LinearExplainer(estimator, np.asarray(data, dtype=float))
    raise InvalidInput(f"Explanations cover tree and linear models; this version is a {kind}.")


def _source_features(steps: Any, inputs: list[str], width: int) -> list[str]:
    """For each transformed column, the original feature it came from."""
    transformer = steps[-1] if isinstance(steps, Pipeline) else steps
    if not isinstance(transformer, ColumnTransformer):
        return inputs if len(inputs) == width else [f"x{i}" for i in range(width)]
    sources: list[str] = []
    for _name, step, columns in transformer.transformers_:
        if step == "drop" or len(columns) == 0:
            continue
        if hasattr(step, "categories_"):  # one-hot: one output column per category
            for column, categories in zip(columns, step.categories_, strict=True):
                sources += [column] * len(categories)
        else:
            sources += list(columns)
    return sources if len(sources) == width else [str(n) for n in
                                                  transformer.get_feature_names_out()]


def sentences(explanation: Explanation, *, outcome_word: str, top: int = 3) -> list[str]:
    """The main reasons in words, e.g. 'credit amount (9,500) lowered the chance of repayment
    most'. outcome_word names what the score is the probability of."""
    said = []
    for rank, c in enumerate(explanation.contributions[:top]):
        if abs(c.effect) < 1e-9:
            break
        direction = "raised" if c.effect > 0 else "lowered"
        strength = "most" if rank == 0 else "next most" if rank == 1 else "too"
        said.append(f"{c.feature.replace('_', ' ')} ({_show(c.value)}) {direction} the chance "
                    f"of {outcome_word} {strength}.")
    return said


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    return str(value)


@dataclass(frozen=True)
class Counterfactual:
    """The smallest single-input change found that would have flipped the decision."""

    feature: str
    logged: Any
    changed_to: Any
    new_score: float


_STEPS = (0.9, 1.1, 0.8, 1.2, 0.75, 1.25, 0.6, 1.5, 0.5, 2.0, 0.25, 3.0)  # smallest first


def smallest_flip(model: Any, features: dict[str, Any], *, threshold: float,
                  categories: dict[str, list[Any]],
                  never_change: frozenset[str]) -> Counterfactual | None:
    """Try each input alone (numbers scaled step by step, categories swapped) and return the
    smallest change that moves the score across the threshold. Sensitive inputs are never
    changed: a hint must be something the person could act on."""
    if any(v is None for v in features.values()):
        return None
    base = inputs_frame(model, features)
    above = float(model.predict_proba(base)[:, 1][0]) >= threshold
    candidates: list[tuple[float, str, Any]] = []  # (size of change, feature, new value)
    for name, value in features.items():
        if name in never_change:
            continue
        if isinstance(value, int | float) and not isinstance(value, bool) and value:
            candidates += [(abs(step - 1), name, round(value * step, 2)) for step in _STEPS]
        elif isinstance(value, str):
            candidates += [(1.0, name, other) for other in categories.get(name, [])
                           if other != value]
    if not candidates:
        return None
    trials = pd.concat([base.assign(**{name: [new]}) for _, name, new in candidates],
                       ignore_index=True)
    scores = model.predict_proba(trials)[:, 1]
    flips = [(size, name, new, float(score)) for (size, name, new), score
             in zip(candidates, scores, strict=True) if (score >= threshold) != above]
    if not flips:
        return None
    size, name, new, score = min(flips, key=lambda f: f[0])
    return Counterfactual(name, features[name], new, score)
