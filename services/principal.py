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


DEMO_PERSONAS: tuple[Persona, ...] = (
    Persona(
        "risk_manager",
        "Model risk manager",
        Principal("demo.priya", "Priya Raman (demo)", frozenset({Role.VALIDATOR})),
    ),
    Persona(
        "analyst",
        "Analyst",
        Principal("demo.tomas", "Tomás Ortega (demo)", frozenset({Role.ANALYST})),
    ),
    Persona(
        "executive",
        "Executive",
        Principal("demo.grace", "Grace Okafor (demo)", frozenset({Role.VIEWER})),
    ),
    Persona(
        "auditor",
        "Auditor",
        Principal("demo.henrik", "Henrik Lund (demo)", frozenset({Role.AUDITOR})),
    ),
)


def demo_persona(key: str) -> Persona:
    """The demo persona with this key (the first one when the key is unknown)."""
    return next((p for p in DEMO_PERSONAS if p.key == key), DEMO_PERSONAS[0])
