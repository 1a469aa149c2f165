"""The statuses of a promotion request."""

from __future__ import annotations

from enum import StrEnum


class PromotionStatus(StrEnum):
    """A request's life: open for sign-off, then rejected or withdrawn, or approved and then
    executed (the alias moved) or approved_not_executed (the registry refused the move)."""
    OPEN = "open"
    APPROVED = "approved"
    APPROVED_NOT_EXECUTED = "approved_not_executed"
    EXECUTED = "executed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


OPEN_STATUSES = (PromotionStatus.OPEN, PromotionStatus.APPROVED,
                 PromotionStatus.APPROVED_NOT_EXECUTED)
