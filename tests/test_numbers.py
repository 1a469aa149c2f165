"""The one number formatter and the glossary (issue #19): units, decimals by measure, and one
mark for an undefined value."""

from __future__ import annotations

import math

import pytest

from services.core import numbers
from services.core.glossary import internal_names, label, shown
from services.core.numbers import Unit


@pytest.mark.parametrize("value", [None, math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("formatter", [numbers.figure, numbers.signed, numbers.percent,
                                       numbers.points, numbers.count, numbers.days,
                                       numbers.number])
def test_an_undefined_value_reads_as_the_undefined_mark(formatter, value) -> None:  # type: ignore[no-untyped-def]
    assert formatter(value) == "—"


def test_an_undefined_value_can_say_why() -> None:
    assert numbers.figure(None, reason="too few decisions") == "— (too few decisions)"


def test_a_share_reads_as_a_percentage() -> None:
    assert numbers.percent(0.5) == "50.0%"
    assert numbers.percent(0.5, decimals=0) == "50%"
    assert numbers.percent(0.0123) == "1.2%"


def test_model_quality_figures_have_three_decimals() -> None:
    assert numbers.figure(0.71249) == "0.712"
    assert numbers.figure(1) == "1.000"


def test_a_whole_number_never_reads_as_a_float() -> None:
    assert numbers.count(26.0) == "26"
    assert numbers.count(1234567) == "1,234,567"
    assert numbers.number(180.0) == "180"
    assert numbers.number(0.8) == "0.8"


def test_differences_carry_their_sign_and_unit() -> None:
    assert numbers.signed(-0.0123) == "−0.012"
    assert numbers.signed(0.0123) == "+0.012"
    assert numbers.points(0.032) == "+3.2 pp"
    assert numbers.points(-0.032) == "−3.2 pp"


def test_ages_read_in_days() -> None:
    assert numbers.days(0.0) == "0 days"
    assert numbers.days(1) == "1 day"
    assert numbers.days(179.6) == "180 days"


def test_the_empty_state_says_what_is_missing_and_what_to_do() -> None:
    assert numbers.empty("decisions") == "No decisions yet."
    assert numbers.empty("alerts", "govern monitor opens them.") == \
        "No alerts yet. govern monitor opens them."


@pytest.mark.parametrize(("name", "text"), [
    ("__score__", "Score"), ("roc_auc", "ROC AUC"),
    ("predicted_positive_rate", "Predicted positive rate"),
    ("low_confidence", "score too close to the threshold"),
    ("some_new_metric", "Some new metric"), ("contract: owner", "Contract: owner")])
def test_internal_names_read_as_labels(name: str, text: str) -> None:
    assert label(name) == text


def test_a_measure_is_shown_in_its_unit() -> None:
    assert shown("selection_rate", 0.5) == "50.0%"
    assert shown("roc_auc", 0.7123) == "0.712"
    assert shown("evaluation evidence", 0.0) == "0 days"
    assert shown("roc_auc", None) == "—"


def test_every_internal_name_has_a_label_without_underscores() -> None:
    assert internal_names()
    assert all("_" not in label(name) for name in internal_names())


def test_every_unit_has_a_formatter() -> None:
    assert all(numbers.in_unit(1, unit) for unit in Unit)


@pytest.mark.parametrize("shuffled", [
    ["25-39", "40-59", "60+", "<25"], ["60+", "<25", "40-59", "25-39"]])
def test_age_bands_sort_by_their_lower_edge(shuffled: list[str]) -> None:
    from services.evidence.groups import group_order
    assert sorted(shuffled, key=group_order) == ["<25", "25-39", "40-59", "60+"]


def test_groups_sort_numbers_by_value_names_after_and_missing_last() -> None:
    from services.evidence.groups import group_order
    assert sorted(["10", "(missing)", "male", "2", "Female"], key=group_order) == \
        ["2", "10", "Female", "male", "(missing)"]
    assert sorted(["male & 60+", "female & 25-39", "female & <25"], key=group_order) == \
        ["female & <25", "female & 25-39", "male & 60+"]


def test_a_models_own_names_keep_their_spelling_unless_they_are_internal() -> None:
    from services.core.glossary import term
    assert term("account_age_days") == "account_age_days"
    assert term("__score__") == "Score"
    assert term("not_known") == "not known"
