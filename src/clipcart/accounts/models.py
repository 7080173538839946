"""Account tables: users, roles, browser sessions, API tokens and recovery codes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clipcart.accounts.domain import ROLES
from clipcart.core import clock
from clipcart.core.db import Base, IdMixin, TimestampMixin

_ROLE_LIST = ", ".join(f"'{role}'" for role in ROLES)


class User(IdMixin, TimestampMixin, Base):
    """A person with a login and a public profile (@handle)."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower case
    handle: Mapped[str] = mapped_column(String(30), unique=True)  # stored lower case
    display_name: Mapped[str] = mapped_column(String(50))
    bio: Mapped[str] = mapped_column(String(300), default="")
    avatar_key: Mapped[str | None] = mapped_column(String(64), default=None)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(default=None)
    totp_last_counter: Mapped[int | None] = mapped_column(BigInteger, default=None)

    roles: Mapped[list[UserRole]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", passive_deletes=True
    )

    # Emails are lower-cased by the service only: databases disagree on lower() beyond ASCII.
    __table_args__ = (CheckConstraint("handle = lower(handle)", name="handle_lower_case"),)

    @property
    def role_names(self) -> frozenset[str]:
        """The names of this user's roles."""
        return frozenset(role.role for role in self.roles)

    @property
    def two_factor_enabled(self) -> bool:
        """True when logging in needs a TOTP or recovery code."""
        return self.totp_secret is not None


class UserRole(Base):
    """One role held by one user."""

    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(default=clock.now)

    __table_args__ = (CheckConstraint(f"role IN ({_ROLE_LIST})", name="role_known"),)


class AuthSession(IdMixin, TimestampMixin, Base):
    """A logged-in browser; the cookie holds a random token, the table only its hash."""

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_seen_at: Mapped[datetime] = mapped_column(default=clock.now)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    ip: Mapped[str | None] = mapped_column(String(45), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(255), default=None)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class ApiToken(IdMixin, TimestampMixin, Base):
    """A scoped bearer token for programs; shown once, stored as a hash."""

    __tablename__ = "api_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class RecoveryCode(IdMixin, TimestampMixin, Base):
    """A single-use two-factor recovery code, stored as a hash."""

    __tablename__ = "recovery_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)
