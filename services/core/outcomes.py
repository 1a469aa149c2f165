"""What a logged decision's outcome can be: the model decided (approved, declined), or it
failed closed to a person (escalated: too close to the threshold or an input missing; error:
the model could not score). A person's override is one of the verdicts."""

from __future__ import annotations

from enum import StrEnum


class DecisionOutcome(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    ESCALATED = "escalated"
    ERROR = "error"


# Plain text, not members: these are spelled into SQL (the review queue's partial index).
VERDICTS: tuple[str, ...] = (DecisionOutcome.APPROVED.value, DecisionOutcome.DECLINED.value)
WAITING: tuple[str, ...] = (DecisionOutcome.ESCALATED.value, DecisionOutcome.ERROR.value)
OUTCOMES: tuple[str, ...] = tuple(o.value for o in DecisionOutcome)
