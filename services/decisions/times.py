"""When a decision or an outcome happened, as logged: ISO 8601 or epoch time to naive UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

CLOCK_SKEW = timedelta(minutes=5)  # a serving clock a little ahead is not a future decision
# Epoch times: seconds from 2001-09-09 (1e9) or milliseconds from then (1e12); a smaller number
# is a mistake (17 is not a decision's time), and one in between is neither unit.
_EPOCH_SECONDS, _EPOCH_MILLIS = (1e9, 1e11), (1e12, 1e14)


def parse_time(value: Any, now: datetime, problems: list[str],
               field: str = "decided_at") -> datetime | None:
    """An ISO 8601 time (or datetime, or epoch seconds or milliseconds) as naive UTC; a future
    time is a problem."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = _from_epoch(value, field, problems)
        if value is None:
            return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"{field} {value!r} is not an ISO 8601 time"[:200])
            return None
    if not isinstance(value, datetime):
        problems.append(f"{field} is missing")
        return None
    moment: datetime = value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    if moment > now + CLOCK_SKEW:
        problems.append(f"{field} {moment:%Y-%m-%d %H:%M} is in the future")
    return moment


def _from_epoch(value: float, field: str, problems: list[str]) -> datetime | None:
    """Epoch seconds or milliseconds (told apart by size) as a UTC time."""
    if _EPOCH_SECONDS[0] <= value < _EPOCH_SECONDS[1]:
        return datetime.fromtimestamp(value, UTC)
    if _EPOCH_MILLIS[0] <= value < _EPOCH_MILLIS[1]:
        return datetime.fromtimestamp(value / 1000, UTC)
    problems.append(f"{field} {value!r} is neither an ISO 8601 time nor epoch seconds or "
                    "milliseconds since 2001"[:200])
    return None
