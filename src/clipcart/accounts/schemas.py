"""Account inputs and outputs. Inputs are checked against the rules in the service, so every
caller (API, pages, CLI) gets the same field errors."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from clipcart.accounts import domain
from clipcart.accounts.models import ApiToken, User

Password = Annotated[
    str,
    Field(
        description=f"{domain.PASSWORD_MIN} to {domain.PASSWORD_MAX} characters; not a common one",
        json_schema_extra={"minLength": domain.PASSWORD_MIN, "maxLength": domain.PASSWORD_MAX},
    ),
]
Handle = Annotated[
    str,
    Field(
        description="3-30 of a-z 0-9 _ . (case-insensitive, stored lower case)",
        json_schema_extra={"minLength": domain.HANDLE_MIN, "maxLength": domain.HANDLE_MAX},
        examples=["jane.doe"],
    ),
]


class SignupIn(BaseModel):
    """A new account."""

    email: str = Field(examples=["jane@example.com"], json_schema_extra={"format": "email"})
    handle: Handle
    password: Password
    display_name: str | None = Field(default=None, description="Defaults to the handle")


class LoginIn(BaseModel):
    """Email and password, plus a TOTP or recovery code when two-factor is on."""

    email: str
    password: str
    otp_code: str | None = Field(default=None, description="6-digit code or a recovery code")


class ProfileIn(BaseModel):
    """Profile changes; fields left out stay as they are."""

    handle: Handle | None = None
    display_name: str | None = Field(default=None, description="1-50 characters")
    bio: str | None = Field(default=None, description="Up to 300 characters")


class ApiTokenIn(BaseModel):
    """A new API token."""

    name: str = Field(description="What the token is for (1-100 characters)")
    scopes: list[str] = Field(description="Some of: " + ", ".join(domain.API_SCOPES))
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TotpCodeIn(BaseModel):
    """A code from the authenticator app."""

    code: str


class PasswordConfirmIn(BaseModel):
    """The account password, to confirm a sensitive change."""

    password: str


class TotpSetup(BaseModel):
    """What the setup page shows: the secret, its otpauth URI and a QR code (SVG markup)."""

    secret: str
    uri: str
    qr_svg: str


class RecoveryCodesOut(BaseModel):
    """Recovery codes: shown this once, each usable once."""

    recovery_codes: list[str]


class PublicUserOut(BaseModel):
    """What anyone may see of a user."""

    id: uuid.UUID
    handle: str
    display_name: str
    bio: str
    avatar_url: str | None
    avatar_small_url: str | None
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> PublicUserOut:
        """The public view of `user`."""
        return cls(**_public_fields(user))


class MeOut(PublicUserOut):
    """What a user sees of their own account."""

    email: str
    roles: list[str]
    two_factor_enabled: bool

    @classmethod
    def of(cls, user: User) -> MeOut:
        """The owner's view of `user`."""
        return cls(
            **_public_fields(user),
            email=user.email,
            roles=sorted(user.role_names),
            two_factor_enabled=user.two_factor_enabled,
        )


class AuthOut(BaseModel):
    """The logged-in user and the CSRF token to send with unsafe requests (X-CSRF-Token)."""

    user: MeOut
    csrf_token: str


class CsrfOut(BaseModel):
    """The CSRF token for this browser (send it as X-CSRF-Token or form field csrf_token)."""

    csrf_token: str


class ApiTokenOut(BaseModel):
    """An API token as listed (never the secret itself)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str = Field(description="The first characters of the token, to recognise it")
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> ApiTokenOut:
        """The listing view of `token`."""
        return cls.model_validate(token)


class ApiTokenCreatedOut(ApiTokenOut):
    """A new API token, with its secret: shown this once."""

    token: str


def _public_fields(user: User) -> dict[str, object]:
    return {
        "id": user.id,
        "handle": user.handle,
        "display_name": user.display_name,
        "bio": user.bio,
        "avatar_url": domain.avatar_url(user.avatar_key, 256),
        "avatar_small_url": domain.avatar_url(user.avatar_key, 64),
        "created_at": user.created_at,
    }
