"""The arithmetic under every explanation: Shapley values of the inputs against a background,
checked against what they must be for models whose answer is known, and the check that
withholds an explanation that does not add up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from services.decisions import shapley
from services.decisions.explain import (
    Contribution,
    DecisionExplainer,
    Explanation,
    ExplanationMethod,
    sentences,
    show_value,
)
from services.registry.loaded import Flavor, LoadedModel, ModelInput

WEIGHTS = np.array([0.03, -0.02, 0.05, 0.01, -0.04, 0.02, 0.015, -0.01, 0.025, 0.005, -0.03])


def _frames(inputs: int, rows: int = 40, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    columns = [f"x{i}" for i in range(inputs)]
    background = pd.DataFrame(rng.normal(0, 1, (rows, inputs)), columns=columns)
    row = pd.DataFrame(rng.normal(0, 1, (1, inputs)), columns=columns)
    return row, background


def _linear(frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(0.5 + frame.to_numpy() @ WEIGHTS[: frame.shape[1]])


@pytest.mark.parametrize(("inputs", "method"), [(4, "exact"), (11, "permutation")])
def test_a_linear_scores_values_are_its_weights_times_the_distance_from_the_background(
        inputs: int, method: str) -> None:
    row, background = _frames(inputs)
    found = shapley.model_agnostic(_linear, row, background)
    expected = WEIGHTS[:inputs] * (row.to_numpy()[0] - background.to_numpy().mean(axis=0))
    assert found.method == method
    assert [found.effects[c] for c in row.columns] == pytest.approx(expected.tolist(), abs=1e-12)
    assert found.base_value == pytest.approx(float(_linear(background).mean()), abs=1e-12)


def test_exact_values_match_the_shapley_formula_for_an_interaction() -> None:
    row, background = _frames(3)

    def score(frame: pd.DataFrame) -> np.ndarray:
        x = frame.to_numpy()
        return np.asarray(1 / (1 + np.exp(-(x[:, 0] * x[:, 1] + 0.5 * x[:, 2]))))

    found = shapley.model_agnostic(score, row, background)

    def value(coalition: set[int]) -> float:
        hybrid = background.copy()
        for j in coalition:
            hybrid[f"x{j}"] = row[f"x{j}"].iloc[0]
        return float(score(hybrid).mean())

    # Three players: each ordering of them, averaged.
    orders = [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]
    brute = np.zeros(3)
    for order in orders:
        held: set[int] = set()
        for j in order:
            brute[j] += value(held | {j}) - value(held)
            held.add(j)
    assert [found.effects[f"x{j}"] for j in range(3)] == pytest.approx(list(brute / 6),
                                                                       abs=1e-12)


def test_permutation_values_add_up_exactly_and_repeat_for_the_same_decision() -> None:
    row, background = _frames(11)

    def score(frame: pd.DataFrame) -> np.ndarray:
        x = frame.to_numpy()
        return np.asarray(1 / (1 + np.exp(-(x[:, 0] * x[:, 3] - x[:, 5] ** 2 + x[:, 7]))))

    first = shapley.model_agnostic(score, row, background)
    again = shapley.model_agnostic(score, row, background)
    assert first.method == "permutation" and first.effects == again.effects
    assert first.base_value + sum(first.effects.values()) == pytest.approx(
        float(score(row)[0]), abs=1e-12)


def test_an_input_equal_in_every_background_row_gets_nothing_and_costs_nothing() -> None:
    row, background = _frames(4)
    background["x2"] = row["x2"].iloc[0]
    found = shapley.model_agnostic(_linear, row, background)
    assert found.effects["x2"] == 0.0
    assert found.model_rows == 2 ** 3 * len(background)


def test_the_tree_fast_path_gives_the_model_agnostic_paths_values_for_a_forest() -> None:
    from sklearn.ensemble import RandomForestClassifier

    row, background = _frames(5, rows=50)
    _, train = _frames(5, rows=400, seed=2)
    labels = (train["x0"] + train["x1"] * train["x2"] > 0).astype(int)
    forest = RandomForestClassifier(n_estimators=20, max_depth=5, random_state=0)
    forest.fit(train, labels)
    model = LoadedModel("forest", "1", Flavor.SKLEARN,
                        tuple(ModelInput(c, "double") for c in row.columns), forest, forest, 1)
    explainer = DecisionExplainer(model, pd.concat([background, train]))
    inputs = {c: float(row[c].iloc[0]) for c in row.columns}
    fast = explainer.explain(inputs)
    agnostic = shapley.model_agnostic(explainer.score_frame, explainer.row(inputs),
                                      explainer.background)  # type: ignore[arg-type]
    assert fast.method is ExplanationMethod.TREE and agnostic.method == "exact"
    assert {c.feature: c.effect for c in fast.contributions} == pytest.approx(
        agnostic.effects, abs=1e-6)


def _explanation(effects: dict[str, float], replayed: float) -> Explanation:
    return Explanation(0.3, tuple(Contribution(k, 35.0, "35", v) for k, v in effects.items()),
                       replayed, ExplanationMethod.EXACT, 50)


def test_an_explanation_off_the_replayed_score_does_not_add_up() -> None:
    assert _explanation({"age": 0.1, "debt": 0.05}, 0.45).adds_up
    off = _explanation({"age": 0.1, "debt": 0.05}, 0.451)
    assert not off.adds_up and off.difference == pytest.approx(0.001)


def test_a_letter_gives_no_reasons_from_an_explanation_that_does_not_add_up(
        tmp_path: object) -> None:
    import io
    from datetime import datetime

    from pypdf import PdfReader

    from services.decisions.case_file import CaseFile
    from services.decisions.search import DecisionRow
    from services.reports.letter import case_pdf

    row = DecisionRow(decision_id="d-1", model_name="m", model_version="1",
                      decided_at=datetime(2026, 11, 2, 10, 0), subject_ref="APP-1",
                      score=0.45, threshold=0.5, outcome="declined", escalation_reason=None,
                      shadow=False, overridden=False)
    file = CaseFile(row, {"age": 35.0}, None, None, (), None, None, (), ())
    text = {}
    for name, replayed in (("verified", 0.45), ("off", 0.451)):
        pdf = case_pdf(file, explanation=_explanation({"age": 0.15}, replayed), replayed=None,
                       outcome_word="repayment")
        text[name] = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "age (35) raised the chance of repayment most" in text["verified"]
    assert "age (35)" not in text["off"] and "could not be produced and checked" in text["off"]


@pytest.mark.parametrize(("value", "kind", "shown"), [
    (35.0, "long", "35"), (35, "long", "35"), (2500.0, "double", "2500"),
    (0.125, "double", "0.125"), (None, "double", "(missing)"), (float("nan"), "double",
                                                                "(missing)"),
    ("car", "string", "car"), (True, "boolean", "yes"),
])
def test_inputs_show_as_logged(value: object, kind: str, shown: str) -> None:
    assert show_value(value, kind) == shown


def test_sentences_name_the_input_its_value_and_its_size() -> None:
    said = sentences(_explanation({"age": -0.123, "debt": 0.0001}, 0.1771),
                     outcome_word="repayment")
    assert said == ["age (35) lowered the chance of repayment most (12.3 percentage points)."]


@pytest.mark.parametrize("kind", ["gradient boosting", "nested preprocessing",
                                  "histogram boosting, native categories",
                                  "logistic, sparse one-hot", "remainder passthrough"])
def test_hybrids_of_transformed_columns_score_as_hybrids_of_the_inputs(kind: str) -> None:
    from services.decisions.separable import TransformedSpace
    from tests.model_kinds import LABEL, SKLEARN_KINDS, inputs_of, loan_book

    book = loan_book(rows=400)
    inputs = inputs_of(kind, book)
    numbers = [c for c in inputs if pd.api.types.is_numeric_dtype(book[c])]
    pipeline = SKLEARN_KINDS[kind](numbers).fit(book[inputs].iloc[:300], book[LABEL].iloc[:300])
    types = {c: "long" if pd.api.types.is_integer_dtype(book[c]) else "double"
             if pd.api.types.is_numeric_dtype(book[c]) else "string" for c in inputs}
    model = LoadedModel("p", "1", Flavor.SKLEARN,
                        tuple(ModelInput(c, types[c]) for c in inputs), pipeline, pipeline, 1)
    explainer = DecisionExplainer(model, book.iloc[300:])
    background = explainer.background
    assert background is not None
    space = TransformedSpace.prepare(pipeline, background, 1)
    assert space is not None
    for position in (300, 301, 302):
        row = explainer.row({c: book[c].iloc[position] for c in inputs})
        fast = space.shapley(row, background, _no_guard)
        whole = shapley.model_agnostic(explainer.score_frame, row, background)
        assert fast is not None and fast.method == whole.method
        assert fast.effects == pytest.approx(whole.effects, abs=1e-12)
        assert fast.base_value == pytest.approx(whole.base_value, abs=1e-12)


def _no_guard() -> object:
    import contextlib

    return contextlib.nullcontext()


def test_a_holdout_without_an_input_still_replays_and_says_why_there_is_no_explanation(
) -> None:
    from sklearn.linear_model import LogisticRegression

    from services.core.errors import InvalidInput

    row, background = _frames(3)
    logistic = LogisticRegression().fit(background, (background["x0"] > 0).astype(int))
    model = LoadedModel("l", "1", Flavor.SKLEARN,
                        tuple(ModelInput(c, "double") for c in row.columns), logistic, logistic, 1)
    explainer = DecisionExplainer(model, background.drop(columns=["x1"]))
    inputs = {c: float(row[c].iloc[0]) for c in row.columns}
    expected = float(logistic.predict_proba(row)[0, 1])
    assert explainer.replay(inputs, expected).matches
    with pytest.raises(InvalidInput, match="hold-out set lacks the model's input"):
        explainer.explain(inputs)
