"""Text from outside the console as a reader will see it: no invisible or direction-changing
characters.

Unicode's bidirectional controls (U+202A-U+202E, U+2066-U+2069, the marks U+200E, U+200F and
U+061C) make a screen show text in another order than it is stored ("Trojan Source",
CVE-2021-42574), and zero-width characters (U+200B-U+200D, U+2060, U+FEFF, the soft hyphen)
make text look empty or equal to other text. Both are Unicode category Cf (format); with the
control characters (Cc) other than line breaks and tabs, they are dropped wherever the console
draws or counts text that came from outside (registry tags, ingested fields, sign-in names,
typed justifications). Stored identifiers keep their exact bytes; only what is shown or
counted changes.
"""

from __future__ import annotations

import unicodedata

_KEPT_CONTROLS = {"\n", "\t"}


def visible(text: str | None) -> str:
    """The text without format (Cf) and control (Cc) characters, line breaks and tabs kept."""
    if not text:
        return ""
    if text.isascii() and text.isprintable():
        return text  # the usual case, at C speed
    return "".join(ch for ch in text
                   if ch in _KEPT_CONTROLS or unicodedata.category(ch) not in ("Cf", "Cc"))


def visible_length(text: str | None) -> int:
    """Characters a reader sees: format and control characters and whitespace not counted."""
    return sum(not ch.isspace() for ch in visible(text))
