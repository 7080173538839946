"""Password hashing, signed short-lived tokens and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
from functools import cache
from typing import Any

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from clipcart.core import clock
from clipcart.core.config import get_settings


@cache
def _hasher() -> PasswordHasher:
    """argon2id with the library's RFC 9106 low-memory profile (~0.1 s a hash here).

    The test environment alone uses argon2's cheapest parameters: the suite registers and logs
    in thousands of users, and a tenth of a second each was minutes of every CI run.
    """
    if get_settings().environment == "test":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    return _hasher().hash("clipcart-timing-equaliser")


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; spends the same time when there is no account."""
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's."""
    return _hasher().check_needs_rehash(password_hash)


class _ClockSigner(TimestampSigner):
    """Token ages measured by the app clock, so tests can move time."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        get_settings().resolved_secret_key, salt=f"clipcart.{purpose}", signer=_ClockSigner
    )


def sign(purpose: str, payload: Any) -> str:
    """A tamper-proof token carrying `payload`, only valid for `purpose`."""
    return str(_serializer(purpose).dumps(payload))


def unsign(purpose: str, token: str, *, max_age: int) -> Any | None:
    """The payload of a token made by `sign`, or None if forged or older than `max_age` s."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None


def csrf_token(nonce: str, session_marker: str = "") -> str:
    """The CSRF token for a browser's CSRF nonce cookie, bound to its session when there is one."""
    key = get_settings().resolved_secret_key.encode()
    message = f"{nonce}|{session_marker}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def csrf_token_matches(presented: str | None, nonce: str, session_marker: str = "") -> bool:
    """Constant-time check of a presented CSRF token."""
    if not presented or not nonce:
        return False
    # bytes: compare_digest refuses non-ASCII str, and a form field can hold anything
    return hmac.compare_digest(presented.encode(), csrf_token(nonce, session_marker).encode())
