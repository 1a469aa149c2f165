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
