"""Why a version scored a decision as it did: Shapley contributions of the logged inputs in
units of the score (probability), checked to add up to the replayed score, and a replay check
that the logged score is reproduced.

A DecisionExplainer is one version prepared once (its model loaded by flavor, a background of
hold-out rows, the tree fast path when it applies) and then asked about many decisions.
"""

from __future__ import annotations

import math
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from services.core.errors import InvalidInput
from services.core.glossary import term
from services.decisions.separable import TransformedSpace
from services.decisions.shapley import Shapley, model_agnostic
from services.decisions.tree_path import TreePath
from services.registry.loaded import INTEGER_TYPES, LoadedModel

_threads: Any = None  # threadpoolctl's controller, made on first use (it scans the libraries)


def _one_thread() -> AbstractContextManager[Any]:
    """OpenMP (scikit-learn's histogram boosting, LightGBM, XGBoost) held to one thread while
    scoring: an explanation scores a few thousand small rows, where a second thread contending
    with the server's other work only spins (one histogram-boosting explanation: 100 ms median,
    1 s at p95 with two threads on a busy two-core machine). OpenMP's setting belongs to the
    calling thread, so concurrent sessions do not undo each other's; BLAS's is process-wide
    and left alone."""
    global _threads
    if _threads is None:
        from threadpoolctl import ThreadpoolController

        _threads = ThreadpoolController()
    limited: AbstractContextManager[Any] = _threads.limit(limits=1, user_api="openmp")
    return limited

REPLAY_TOLERANCE = 1e-6  # probability: the logged score must be reproduced to this
ADDITIVITY_TOLERANCE = 1e-4  # probability (0.01 percentage points): contributions' sum
BACKGROUND_ROWS = 50  # hold-out rows the contributions are measured against
HOLDOUT_ROWS = 5_000  # hold-out rows kept for the counterfactual's values and bounds


class ExplanationMethod(StrEnum):
    TREE = "tree"  # SHAP's TreeExplainer, interventional, probability output
    EXACT = "exact"  # every coalition of inputs, over the whole model
    PERMUTATION = "permutation"  # antithetic permutations of inputs, over the whole model


@dataclass(frozen=True)
class Contribution:
    feature: str  # a logged input, never a transformed column
    value: Any  # the input as logged
    shown: str  # as a person reads it: an integer input shows 35, not 35.0
    effect: float  # on the score, in probability (0.05 is 5 percentage points)


MIN_REASON_EFFECT = 5e-4  # below 0.05 percentage points an input is not a reason


@dataclass(frozen=True)
class Explanation:
    base_value: float  # mean score over the background hold-out rows (probability)
    contributions: tuple[Contribution, ...]  # one per logged input, largest effect first
    replayed_score: float  # what the version scores these inputs now (probability)
    method: ExplanationMethod
    background_rows: int

    @property
    def explained_score(self) -> float:
        """The score the contributions add up to: base value plus every effect."""
        return self.base_value + math.fsum(c.effect for c in self.contributions)

    @property
    def difference(self) -> float:
        """|explained - replayed|, in probability."""
        return abs(self.explained_score - self.replayed_score)

    @property
    def adds_up(self) -> bool:
        """Whether the contributions add up to the replayed score (within 0.0001)."""
        return self.difference <= ADDITIVITY_TOLERANCE


@dataclass(frozen=True)
class Replay:
    logged: float | None
    recomputed: float
    matches: bool


class DecisionExplainer:
    """One version, prepared to replay and explain its logged decisions.

    holdout: the version's hold-out set (any columns; the model's inputs are taken from it),
    the background of explanations and the source of a counterfactual's values; None when the
    version has none (replay still works, explanations say what is missing).
    """

    def __init__(self, model: LoadedModel, holdout: pd.DataFrame | None) -> None:
        self.model = model
        self.holdout: pd.DataFrame | None = None
        self.background: pd.DataFrame | None = None
        self._tree: TreePath | None = None
        self._space: TransformedSpace | None = None
        self._prepared = False
        self.holdout_problem: str | None = None  # why the hold-out set cannot serve
        if holdout is not None and len(holdout):
            try:
                typed = model.typed(holdout)
            except InvalidInput as exc:  # replay needs no hold-out: only explanations fail
                self.holdout_problem = exc.message
                return
            self.holdout = typed.head(HOLDOUT_ROWS) if len(typed) > HOLDOUT_ROWS else typed
            complete = typed.dropna()
            pool = complete if len(complete) >= min(10, len(typed)) else typed
            self.background = pool.sample(n=min(BACKGROUND_ROWS, len(pool)),
                                          random_state=0).reset_index(drop=True)

    def input_types(self) -> dict[str, str]:
        return self.model.input_types()

    def row(self, features: dict[str, Any]) -> pd.DataFrame:
        """The logged inputs as the one-row typed frame the model takes."""
        return self.model.frame([features])

    def score(self, features: dict[str, Any]) -> float:
        """What the version scores these inputs now: P(positive label)."""
        return float(self.score_frame(self.row(features))[0])

    def score_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """P(positive label) of each row of a typed frame, on one native thread."""
        with _one_thread():
            return self.model.scores(frame)

    def replay(self, features: dict[str, Any], logged: float | None) -> Replay:
        """Rescore the logged inputs with the exact version and compare with the logged score.

        Raises InvalidInput when the inputs cannot be scored (one is missing, say)."""
        recomputed = self.score(features)
        matches = logged is not None and abs(recomputed - logged) <= REPLAY_TOLERANCE
        return Replay(logged, recomputed, matches)

    def explain(self, features: dict[str, Any]) -> Explanation:
        """Contributions of each logged input to the score, in probability, against the
        background; the tree fast path when it applies and adds up, else the model-agnostic
        path. The result says whether it adds up to the replayed score: check `adds_up`.

        Raises InvalidInput when there is no hold-out set to measure against or the inputs
        cannot be scored."""
        if self.background is None:
            raise InvalidInput(
                f"{self.holdout_problem or 'This version has no hold-out set.'} There is no "
                "background to measure the inputs' contributions against.",
                hint="Log the hold-out set, with every input of the model, as a Parquet "
                     "artifact under holdout/ (a contract gap on the Model page).")
        row = self.row(features)
        replayed = float(self.score_frame(row)[0])
        self._prepare(self.background)
        shapley = self._tree.explain(row, self.background) if self._tree is not None else None
        if shapley is None or abs(_total(shapley) - replayed) > ADDITIVITY_TOLERANCE:
            shapley = self._model_agnostic(row, self.background, replayed)
        return self._explanation(shapley, features, replayed)

    def _model_agnostic(self, row: pd.DataFrame, background: pd.DataFrame,
                        replayed: float) -> Shapley:
        """Over the whole model: from transformed columns when the preprocessing is separable
        (the same hybrids, without transforming each), else from the raw inputs."""
        if self._space is not None:
            shapley = self._space.shapley(row, background, _one_thread)
            if shapley is not None and abs(_total(shapley) - replayed) <= ADDITIVITY_TOLERANCE:
                return shapley
        return model_agnostic(self.score_frame, row, background)

    def _prepare(self, background: pd.DataFrame) -> None:
        if not self._prepared:
            self._prepared = True
            native, positive = self.model.native, self.model.positive_index
            self._tree = TreePath.prepare(native, background, positive)
            if self._tree is None:
                self._space = TransformedSpace.prepare(native, background, positive)

    def _explanation(self, shapley: Shapley, features: dict[str, Any],
                     replayed: float) -> Explanation:
        types = self.input_types()
        contributions = sorted(
            (Contribution(name, features.get(name), show_value(features.get(name),
                                                              types.get(name)), effect)
             for name, effect in shapley.effects.items()),
            key=lambda c: abs(c.effect), reverse=True)
        return Explanation(shapley.base_value, tuple(contributions), replayed,
                           ExplanationMethod(shapley.method),
                           len(self.background) if self.background is not None else 0)


def _total(shapley: Shapley) -> float:
    return shapley.base_value + math.fsum(shapley.effects.values())


def show_value(value: Any, kind: str | None = None) -> str:
    """An input as a person reads it: '(missing)', 35 for an integer (also when stored as
    35.0), 0.125 for a fraction, text as it is."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "(missing)"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if number.is_integer() and (kind in INTEGER_TYPES or abs(number) < 1e15):
            return str(int(number))
        return repr(round(number, 6))
    return str(value)


def sentences(explanation: Explanation, *, outcome_word: str, top: int = 3,
              leave_out: frozenset[str] = frozenset()) -> list[str]:
    """The main reasons in words, e.g. 'credit amount (9500) lowered the chance of repayment
    most (12.3 percentage points).' outcome_word names what the score is the probability of.
    Only for an explanation that adds up: one that does not is no reason to give anyone.
    leave_out: inputs never given as a reason (sensitive ones; see reports/letter.py)."""
    said: list[str] = []
    for c in [c for c in explanation.contributions if c.feature not in leave_out][:top]:
        if abs(c.effect) < MIN_REASON_EFFECT:
            break
        rank = len(said)
        direction = "raised" if c.effect > 0 else "lowered"
        strength = "most" if rank == 0 else "next most" if rank == 1 else "too"
        said.append(f"{term(c.feature).replace('_', ' ')} ({term(c.shown)}) {direction} the "
                    f"chance of {outcome_word} {strength} "
                    f"({abs(c.effect) * 100:.1f} percentage points).")
    return said


def contributing(explanation: Explanation, among: frozenset[str]) -> list[str]:
    """Which of these inputs moved the score by a reason's worth (sensitive ones, for the
    letter to say so plainly)."""
    return [c.feature for c in explanation.contributions
            if c.feature in among and abs(c.effect) >= MIN_REASON_EFFECT]
