"""Policy as code: policy.toml, read into the project's own types, with its hash."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.errors import InvalidInput

RISK_TIERS = ("high", "medium", "low")


@dataclass(frozen=True)
class TierPolicy:
    """What the policy demands of models in one risk tier."""

    tier: str
    confidence_margin: float
    approvers: int
    revalidation_days: int


@dataclass(frozen=True)
class Policy:
    version: str
    sha256: str
    tiers: dict[str, TierPolicy]

    def for_tier(self, tier: str | None) -> TierPolicy:
        """The tier's policy; an unknown or missing tier is held to the strictest one."""
        return self.tiers.get(tier or "", self.tiers["high"])


def load_policy(path: Path) -> Policy:
    """Read and check policy.toml; raise InvalidInput naming the clause that is wrong."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"Cannot read the policy file {path}: {exc.strerror}.",
            hint="Set GOVERNANCE_POLICY to the path of a policy.toml.",
        ) from exc
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"The policy file {path} is not valid TOML: {exc}.") from exc
    tiers = {tier: _tier(tier, document.get("tiers", {}).get(tier), path) for tier in RISK_TIERS}
    return Policy(
        version=str(document.get("version", "unversioned")),
        sha256=hashlib.sha256(raw).hexdigest(),
        tiers=tiers,
    )


def _tier(tier: str, clause: Any, path: Path) -> TierPolicy:
    if not isinstance(clause, dict):
        raise InvalidInput(f"The policy file {path} has no [tiers.{tier}] section.")
    try:
        policy = TierPolicy(
            tier=tier,
            confidence_margin=float(clause["confidence_margin"]),
            approvers=int(clause["approvers"]),
            revalidation_days=int(clause["revalidation_days"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"[tiers.{tier}] in {path} is missing or mistypes {exc}.") from exc
    if not 0 <= policy.confidence_margin < 0.5 or policy.approvers < 1:
        raise InvalidInput(
            f"[tiers.{tier}] in {path}: confidence_margin must be in [0, 0.5) "
            "and approvers at least 1."
        )
    return policy
