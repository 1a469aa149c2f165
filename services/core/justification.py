"""Why a person acted: every override, sign-off, exception and rollback must say so."""

from __future__ import annotations

from services.core.errors import InvalidInput
from services.core.visible import visible, visible_length

MIN_JUSTIFICATION = 20  # visible characters: long enough that "ok" or "approved" will not do
MAX_JUSTIFICATION = 5000  # characters, as stored; forms show the limit before typing


def justified(text: str) -> str:
    """The justification as stored: invisible and direction-changing characters dropped, ends
    stripped.

    Raises:
        InvalidInput: fewer than MIN_JUSTIFICATION visible characters (spaces, zero-width and
            bidirectional characters do not count), or more than MAX_JUSTIFICATION characters:
            never cut silently.
    """
    cleaned = visible(text).strip()
    if (shown := visible_length(cleaned)) < MIN_JUSTIFICATION:
        raise InvalidInput(f"The justification has {shown} visible characters; write at least "
                           f"{MIN_JUSTIFICATION} saying why.")
    if len(cleaned) > MAX_JUSTIFICATION:
        raise InvalidInput(f"The justification has {len(cleaned):,} characters; the limit is "
                           f"{MAX_JUSTIFICATION:,}.",
                           hint="Shorten it, and link to a longer document if needed.")
    return cleaned
