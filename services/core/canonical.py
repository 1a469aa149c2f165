"""The one canonical JSON form that every hash in the console is taken over.

Audit events, evidence payloads and evidence packs are hashed over these bytes, so the rules
never change silently (a test pins exact bytes): keys sorted, no whitespace, text kept as
UTF-8 (not escaped), NaN and infinities refused (JSON has no such numbers), and a short,
explicit list of encoders; any other type is refused rather than turned into `str()`.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date, datetime
from enum import Enum
from pathlib import PurePath
from typing import Any
from uuid import UUID


def canonical_json(value: Any, *, allow_nan: bool = False) -> str:
    """The canonical JSON text of `value`.

    Args:
        value: dicts, lists, tuples, str, int, float, bool, None, and the encoded types:
            datetime (ISO 8601, microseconds), date (ISO 8601), Enum (its value), UUID and
            paths (text), NumPy scalars (their Python value), sets (sorted lists).
        allow_nan: only for re-hashing records written before this function existed, whose
            payloads may hold NaN; new records never pass it.

    Raises:
        ValueError: the value holds NaN or an infinity (unless allow_nan).
        TypeError: the value holds a type without an encoder here.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=allow_nan, default=_encode)


def sha256_of(value: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of `value`, as UTF-8."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def finite(value: Any) -> Any:
    """A copy with NaN and infinities replaced by None, for data that may hold them
    (a metric undefined on a sample) before it is hashed or stored."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID | PurePath):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    item = getattr(value, "item", None)  # NumPy scalars, without importing NumPy here
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    raise TypeError(f"canonical JSON has no encoder for {type(value).__name__}: {value!r}")
