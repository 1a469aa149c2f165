"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>", as GitHub (X-Hub-Signature-256:
"sha256=<hex>") and Stripe (a signed timestamp against replays) sign theirs.

A receiver recomputes the HMAC with its shared secret over the timestamp header, a dot and the
raw request body, compares in constant time, and refuses a timestamp too far from its clock.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Governance-Timestamp"
SIGNATURE_HEADER = "X-Governance-Signature"
# A signed request older (or newer) than this is refused: a captured one cannot be replayed
# later. Five minutes, as Stripe's libraries default to.
TOLERANCE_S = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: "sha256=" and the hex HMAC-SHA256 of
    b"<timestamp>." + body under the secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str,
                     tolerance_s: float = TOLERANCE_S, now: float | None = None) -> bool:
    """Whether a received webhook is genuine: the signature matches (compared in constant
    time) and the timestamp (Unix seconds) lies within tolerance_s of now. Never raises."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - sent) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)
