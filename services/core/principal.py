"""Who is acting: the principal every write service receives."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"  # executive: reads the portfolio
    ANALYST = "analyst"  # investigates decisions, reviews escalations
    VALIDATOR = "validator"  # model risk: evidence and sign-off
    MODEL_OWNER = "model_owner"
    AUDITOR = "auditor"
    ADMIN = "admin"
    INGEST = "ingest"  # a serving system's service token: posts decisions and outcomes only


@dataclass(frozen=True)
class Principal:
    """A signed-in person (or the demo persona standing in for one)."""

    id: str
    name: str
    roles: frozenset[Role]

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Persona:
    """A one-click demo identity; only ever offered in the demo workspace."""

    key: str
    title: str
    principal: Principal


def _persona(key: str, title: str, person: str, name: str, *roles: Role) -> Persona:
    return Persona(key, title, Principal(f"demo.{person}", f"{name} (demo)", frozenset(roles)))


# The demo's model owners (registered model tag `owner`) are demo.amara (credit-risk) and
# demo.jonas (fraud-screening): Jonas also validates, to show four eyes refusing him.
DEMO_PERSONAS: tuple[Persona, ...] = (
    _persona("risk_manager", "Model risk manager", "priya", "Priya Raman", Role.VALIDATOR),
    _persona("validator", "Second validator", "kenji", "Kenji Sato", Role.VALIDATOR),
    _persona("owner_validator", "Validator who owns fraud-screening", "jonas", "Jonas Weber",
             Role.VALIDATOR, Role.MODEL_OWNER),
    _persona("model_owner", "Model owner (credit-risk)", "amara", "Amara Nwosu",
             Role.MODEL_OWNER),
    _persona("analyst", "Analyst", "tomas", "Tomás Ortega", Role.ANALYST),
    _persona("executive", "Executive", "grace", "Grace Okafor", Role.VIEWER),
    _persona("auditor", "Auditor", "henrik", "Henrik Lund", Role.AUDITOR),
    _persona("admin", "Administrator", "sam", "Sam Adeyemi", Role.ADMIN),
    # A high-risk tier's policy exception needs two admins (policy.toml exception_approvers).
    _persona("second_admin", "Second administrator", "lena", "Lena Kowalski", Role.ADMIN),
)


def demo_persona(key: str) -> Persona:
    """The demo persona with this key (the first one when the key is unknown)."""
    return next((p for p in DEMO_PERSONAS if p.key == key), DEMO_PERSONAS[0])
