"""`ClipCart-Signature: t=<unix>,v1=<hex hmac-sha256 of "t.body">`: signing and checking."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "ClipCart-Signature"


class SignatureError(ValueError):
    """The signature is missing, malformed, wrong or outside the time tolerance."""


def compute(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of "t.body" under `secret`."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value for `body` sent at `timestamp`."""
    return f"t={timestamp},v1={compute(secret, timestamp, body)}"


def verify(header: str | None, body: bytes, *, secret: str, now: int, tolerance: int) -> int:
    """Check a signature header against `body`; the signed timestamp, or SignatureError."""
    if not header:
        raise SignatureError("missing signature")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("malformed signature")
    expected = compute(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureError("signature does not match")
    if abs(now - timestamp) > tolerance:
        raise SignatureError("timestamp outside the tolerance")
    return timestamp
