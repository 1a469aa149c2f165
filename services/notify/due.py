"""Notifications of things falling due, told once each however often `govern monitor` runs:
the dedup key names the thing and its due date, so a date moved later is told again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from services.notify.kinds import NotificationKind
from services.notify.outbox import enqueue


@dataclass(frozen=True)
class ReviewDue:
    model_name: str
    owner: str | None  # the model's owner tag: the account told
    due_on: date
    # What makes it the same review across monitor runs (default: the due date); a review due
    # "now" because a trigger fired is the same review until the next one is recorded.
    once_per: str | None = None


def notify_reviews_due(session: Session, due: Iterable[ReviewDue]) -> int:
    """Tell each model's owner, once per due date, that its periodic review falls due (or is
    overdue). Returns the notifications written."""
    written = 0
    for review in due:
        if not review.owner:
            continue
        written += enqueue(
            session, kind=NotificationKind.REVIEW_DUE,
            subject=f"Periodic review of {review.model_name} due on {review.due_on:%Y-%m-%d}",
            text=f"The periodic review of {review.model_name} falls due on "
                 f"{review.due_on:%Y-%m-%d}. Record its conclusion in the console.",
            link=f"/reviews?{urlencode({'model': review.model_name})}",
            data={"model": review.model_name, "due_on": review.due_on.isoformat()},
            to=[review.owner],
            dedup_key=f"review:{review.model_name}:{review.once_per or review.due_on}")
    return written


def finding_past_due_key(finding_id: int, due_on: date) -> str:
    return f"finding:{finding_id}:{due_on}"
