"""The counterfactual hint: the smallest change of one input that would have flipped the
decision, among values the input can take (integers stay integers, categories seen in the
hold-out set, numbers within its range), never a sensitive input."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from services.decisions.explain import DecisionExplainer, show_value

# Numbers are tried scaled by these factors and at the hold-out's quantiles.
_STEPS = (0.9, 1.1, 0.8, 1.2, 0.75, 1.25, 0.6, 1.5, 0.5, 2.0, 0.25, 3.0)
_QUANTILES = np.linspace(0.05, 0.95, 19)
_CATEGORIES = 20  # the most frequent categories of the hold-out set


@dataclass(frozen=True)
class Counterfactual:
    """The smallest single-input change found that flips the decision (rescored)."""

    feature: str
    logged: Any
    changed_to: Any
    shown_logged: str  # as a person reads them (integers without .0)
    shown_changed: str
    new_score: float  # what the version scores the changed inputs, probability


@dataclass(frozen=True)
class _Candidate:
    size: float  # the change in the hold-out's standard deviations (a category swap: 1)
    feature: str
    value: Any


def smallest_flip(explainer: DecisionExplainer, features: dict[str, Any], *, threshold: float,
                  never_change: frozenset[str]) -> Counterfactual | None:
    """Try each input alone at values it can take and return the smallest change whose score
    falls on the other side of the threshold, or None when no single change does (or the
    version has no hold-out set to take values from). Sensitive inputs are never changed: a
    hint must be something the person could act on.

    Raises InvalidInput when the logged inputs cannot be scored."""
    holdout = explainer.holdout
    if holdout is None or any(v is None for v in features.values()):
        return None
    above = explainer.score(features) >= threshold
    types = explainer.input_types()
    candidates = [c for name in holdout.columns if name not in never_change
                  and name in features
                  for c in _candidates(name, features[name], holdout[name], types.get(name))]
    if not candidates:
        return None
    trials = explainer.model.frame([{**features, c.feature: c.value} for c in candidates])
    scores = explainer.score_frame(trials)
    flips = [(c, float(s)) for c, s in zip(candidates, scores, strict=True)
             if (s >= threshold) != above]
    if not flips:
        return None
    chosen, score = min(flips, key=lambda f: (f[0].size, -abs(f[1] - threshold)))
    kind = types.get(chosen.feature)
    return Counterfactual(chosen.feature, features[chosen.feature], chosen.value,
                          show_value(features[chosen.feature], kind),
                          show_value(chosen.value, kind), score)


def _candidates(name: str, value: Any, column: pd.Series, kind: str | None) -> list[_Candidate]:
    known = column.dropna()
    if known.empty:
        return []
    if isinstance(value, bool) or pd.api.types.is_bool_dtype(known):
        return [_Candidate(1.0, name, not bool(value))]
    if isinstance(value, int | float) and pd.api.types.is_numeric_dtype(known):
        return _numbers(name, float(value), known.astype(float), kind)
    counts = known.astype(str).value_counts()
    return [_Candidate(1.0, name, category) for category in counts.index[:_CATEGORIES]
            if category != str(value)]


def _numbers(name: str, value: float, known: pd.Series, kind: str | None) -> list[_Candidate]:
    low, high = float(known.min()), float(known.max())
    spread = float(known.std()) or 1.0
    whole = kind in ("long", "integer") or bool((known == known.round()).all())
    decimals = max(0, 2 - math.floor(math.log10(spread)))  # three significant digits of spread
    tried = {value * step for step in _STEPS} | set(np.quantile(known, _QUANTILES).tolist())
    found: dict[Any, _Candidate] = {}
    for raw in tried:
        new: float | int = min(max(raw, low), high)
        new = int(round(new)) if whole else round(new, decimals)
        if new != value and new not in found:
            found[new] = _Candidate(abs(new - value) / spread, name, new)
    return list(found.values())
