"""Opaque public identifiers and secret tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from uuid6 import uuid7


def new_id() -> uuid.UUID:
    """A UUIDv7: opaque to users, index-friendly for the database."""
    return uuid.UUID(bytes=uuid7().bytes)


def new_token(prefix: str = "") -> str:
    """A random 256-bit token, URL-safe, with an optional readable prefix."""
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 of a high-entropy token: what we store instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()
