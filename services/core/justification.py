"""Why a person acted: every override, sign-off, exception and rollback must say so."""

from __future__ import annotations

from services.core.errors import InvalidInput

MIN_JUSTIFICATION = 20  # characters: long enough that "ok" or "approved" will not do
MAX_JUSTIFICATION = 5000


def justified(text: str) -> str:
    """The justification, stripped; refused when it is too short to say why."""
    cleaned = text.strip()
    if len(cleaned) < MIN_JUSTIFICATION:
        raise InvalidInput(f"The justification has {len(cleaned)} characters; write at least "
                           f"{MIN_JUSTIFICATION} saying why.")
    return cleaned[:MAX_JUSTIFICATION]
