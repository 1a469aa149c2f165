"""Shapley values of one decision over its logged inputs, in units of the score (probability),
against a background of hold-out rows: the effects add up to score(x) - mean score(background).

Two ways to the same quantity (interventional Shapley values of the inputs):
- the tree fast path: SHAP's TreeExplainer (interventional, probability output) when the model
  ends in a tree ensemble and its preprocessing maps each input onto at most one column, so
  that the transformed columns are the inputs themselves;
- the model-agnostic path over the whole model: every coalition of inputs (exact) when they
  are few, else antithetic permutations (seeded, so an explanation is reproducible). Own code
  rather than SHAP's Permutation/Exact explainers: those compile with numba on first use, 14 s
  per process measured here, before the first case file could show; the arithmetic is a few
  lines of numpy and makes one model call per explanation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

Score = Callable[[pd.DataFrame], np.ndarray]

ROW_BUDGET = 16_000  # model rows one model-agnostic explanation may score (measured: < 300 ms)
MIN_PERMUTATION_PAIRS = 4
SEED = 0


@dataclass(frozen=True, eq=False)
class Shapley:
    base_value: float  # mean score over the background
    effects: dict[str, float]  # per input, in probability points (fractions of 1)
    method: str  # "tree", "exact" or "permutation"
    model_rows: int  # rows the model scored for it (0 for the tree path)


def model_agnostic(score: Score, row: pd.DataFrame, background: pd.DataFrame,
                   groups: dict[str, list[str]] | None = None) -> Shapley:
    """Shapley values of the row's inputs for any model, by scoring hybrids of the row and the
    background (each input from the row or from a background row).

    groups: input -> the columns of row and background it owns, when those are transformed
    columns (separable preprocessing); a column no input owns is the same in every row. By
    default each column is an input of its own."""
    owned = groups if groups is not None else {c: [c] for c in row.columns}
    # A null player (its columns equal the row's in every background row) never changes a
    # hybrid: its Shapley value is 0 and leaving it out changes no other input's value.
    players = [name for name, columns in owned.items()
               if not all(_same_everywhere(row[c].iloc[0], background[c]) for c in columns)]
    effects = dict.fromkeys(owned, 0.0)
    size = len(players)
    rows = len(background)
    if size == 0:
        base = float(np.mean(score(background)))
        return Shapley(base, effects, "exact", rows)
    if (2 ** size) * rows <= ROW_BUDGET:
        masks = _all_masks(size)
        values = _coalition_values(score, row, background, owned, players, masks)
        phi = _exact(values, size)
        method = "exact"
    else:
        pairs = max(MIN_PERMUTATION_PAIRS, ROW_BUDGET // (rows * 2 * size))
        orders = _antithetic_orders(size, pairs)
        masks, index = _prefix_masks(orders)
        values = _coalition_values(score, row, background, owned, players, masks)
        phi = _permutation(values, index, orders)
        method = "permutation"
    for name, value in zip(players, phi, strict=True):
        effects[name] = float(value)
    # Row 0 of the masks is the empty coalition: the background's own mean score.
    return Shapley(float(values[0]), effects, method, len(masks) * rows)


def _same_everywhere(value: Any, column: pd.Series) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return bool(column.isna().all())
    try:
        return bool((column == value).all())
    except (TypeError, ValueError):
        return False


def _all_masks(size: int) -> np.ndarray:
    """Every coalition, coalition i holding input j when bit j of i is set (row 0: none)."""
    codes = np.arange(2 ** size)
    return ((codes[:, None] >> np.arange(size)) & 1).astype(bool)


def _exact(values: np.ndarray, size: int) -> np.ndarray:
    codes = np.arange(2 ** size)
    sizes = np.array([bin(c).count("1") for c in codes])
    weights = np.array([math.factorial(s) * math.factorial(size - s - 1) / math.factorial(size)
                        if s < size else 0.0 for s in range(size + 1)])
    phi = np.zeros(size)
    for j in range(size):
        without = codes[(codes >> j) & 1 == 0]
        phi[j] = float(np.sum(weights[sizes[without]] * (values[without | (1 << j)]
                                                         - values[without])))
    return phi


def _antithetic_orders(size: int, pairs: int) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    forward = np.array([rng.permutation(size) for _ in range(pairs)])
    return np.concatenate([forward, forward[:, ::-1]])


def _prefix_masks(orders: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct coalitions along each order (empty first) and, per order and step, the
    index of its coalition among them."""
    count, size = orders.shape
    steps = np.zeros((count, size + 1, size), dtype=bool)
    for k, order in enumerate(orders):
        for step, player in enumerate(order, start=1):
            steps[k, step] = steps[k, step - 1]
            steps[k, step, player] = True
    flat = steps.reshape(-1, size)
    empty_first = np.vstack([np.zeros((1, size), dtype=bool), flat])
    masks, inverse = np.unique(empty_first, axis=0, return_inverse=True)
    # np.unique sorts: the all-False row (the empty coalition) comes first.
    return masks, inverse.reshape(-1)[1:].reshape(count, size + 1)


def _permutation(values: np.ndarray, index: np.ndarray, orders: np.ndarray) -> np.ndarray:
    count, size = orders.shape
    phi = np.zeros(size)
    for k in range(count):
        path = values[index[k]]
        phi[orders[k]] += np.diff(path)
    averaged: np.ndarray = phi / count
    return averaged


def _coalition_values(score: Score, row: pd.DataFrame, background: pd.DataFrame,
                      owned: dict[str, list[str]], players: list[str],
                      masks: np.ndarray) -> np.ndarray:
    """Mean score over the background of each coalition's hybrids, in one model call."""
    count, rows = len(masks), len(background)
    player_of = {column: players.index(name) for name, columns in owned.items()
                 if name in players for column in columns}
    hybrid: dict[str, Any] = {}
    for name in row.columns:
        own = row[name].to_numpy()
        base = background[name].to_numpy()
        if name not in player_of:
            hybrid[name] = np.tile(base, count)
            continue
        from_row = np.repeat(masks[:, player_of[name]], rows)
        tiled = np.tile(base, count)
        # The row's dtype may be wider than the background's (an integer input the row lacks
        # is a float NaN): promote, never cast NaN into an integer.
        hybrid[name] = np.where(from_row, own[0], tiled).astype(
            np.result_type(tiled.dtype, own.dtype), copy=False) \
            if tiled.dtype != object and own.dtype != object \
            else _object_where(from_row, own[0], tiled)
    scores = np.asarray(score(pd.DataFrame(hybrid)), dtype=float)
    means: np.ndarray = scores.reshape(count, rows).mean(axis=1)
    return means


def _object_where(take: np.ndarray, value: Any, base: np.ndarray) -> np.ndarray:
    out = base.copy()
    out[take] = value
    return out
