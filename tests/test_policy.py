"""policy.toml: the shipped defaults load, and a broken clause is named."""

from pathlib import Path

import pytest

from services.core.errors import InvalidInput
from services.core.policy import load_policy
from services.core.settings import PROJECT_ROOT


def test_the_shipped_policy_covers_every_tier() -> None:
    policy = load_policy(PROJECT_ROOT / "policy.toml")
    assert set(policy.tiers) == {"high", "medium", "low"}
    assert policy.for_tier("high").approvers == 2
    assert len(policy.sha256) == 64


def test_an_unknown_tier_is_held_to_the_strictest_policy() -> None:
    policy = load_policy(PROJECT_ROOT / "policy.toml")
    assert policy.for_tier(None) == policy.for_tier("high")
    assert policy.for_tier("experimental") == policy.for_tier("high")


def test_a_missing_tier_section_is_named(tmp_path: Path) -> None:
    kept, dropping = [], False
    for line in (PROJECT_ROOT / "policy.toml").read_text().splitlines():
        if line.startswith("["):
            dropping = line.startswith("[tiers.medium")
        if not dropping:
            kept.append(line)
    path = tmp_path / "policy.toml"
    path.write_text("\n".join(kept))
    with pytest.raises(InvalidInput, match=r"\[tiers.medium\]"):
        load_policy(path)


def test_an_unknown_evidence_kind_is_refused(tmp_path: Path) -> None:
    shipped = (PROJECT_ROOT / "policy.toml").read_text()
    path = tmp_path / "policy.toml"
    path.write_text(shipped.replace('required_evidence = ["evaluation"]',
                                    'required_evidence = ["horoscope"]'))
    with pytest.raises(InvalidInput, match="unknown evidence"):
        load_policy(path)


def test_a_policy_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("tiers = [unclosed")
    with pytest.raises(InvalidInput, match="not valid TOML"):
        load_policy(path)


def _without_review_clauses() -> str:
    """The shipped policy as an older file reads: no review_cycle_days or review_triggers."""
    lines, skipping = [], False
    for line in (PROJECT_ROOT / "policy.toml").read_text().splitlines():
        if line.startswith(("review_cycle_days", "review_triggers")):
            skipping = line.startswith("review_triggers") and not line.rstrip().endswith("]")
            continue
        if skipping:
            skipping = not line.rstrip().endswith("]")
            continue
        lines.append(line)
    return "\n".join(lines)


def test_the_review_cycle_and_triggers_load_per_tier() -> None:
    policy = load_policy(PROJECT_ROOT / "policy.toml")
    assert [policy.for_tier(t).review_cycle_days for t in ("high", "medium", "low")] == \
        [365, 730, 1095]
    assert "drift_alert" in policy.for_tier("high").review_triggers
    assert "drift_alert" not in policy.for_tier("low").review_triggers


def test_an_older_policy_without_review_clauses_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(_without_review_clauses().replace("revalidation_days = 730",
                                                      "revalidation_days = 500"))
    policy = load_policy(path)
    assert policy.for_tier("medium").review_cycle_days == 500  # its revalidation cycle
    assert len(policy.for_tier("low").review_triggers) == 5  # every trigger


@pytest.mark.parametrize(("clause", "problem"), [
    ('review_triggers = ["drift_alert", "full_moon"]', r"review_triggers .* \['full_moon'\]"),
    ('review_triggers = "drift_alert"', "mistypes .*review_triggers"),
    ("review_cycle_days = 0", "review_cycle_days at least 1"),
    ('review_cycle_days = "yearly"', r"\[tiers.low\] .* mistypes"),
])
def test_a_bad_review_clause_is_named(tmp_path: Path, clause: str, problem: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(_without_review_clauses().replace(
        "revalidation_days = 1095", f"revalidation_days = 1095\n{clause}"))
    with pytest.raises(InvalidInput, match=problem):
        load_policy(path)
