"""Two-factor login with TOTP (pyotp) and single-use recovery codes; re-exported by service.

Services never commit: the unit of work at the edge does."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts import domain
from clipcart.accounts.models import RecoveryCode, User
from clipcart.accounts.schemas import TotpSetup
from clipcart.core import clock
from clipcart.core.errors import Conflict, ValidationFailed
from clipcart.core.ids import hash_token
from clipcart.core.security import verify_password

_LONGEST_PASSWORD_TRIED = domain.PASSWORD_MAX * 8


async def accept_second_factor(user: User, code: str, *, session: AsyncSession) -> bool:
    """Check a TOTP code (no replays) or use up a recovery code."""
    now = clock.now()
    if domain.looks_like_totp_code(code):
        assert user.totp_secret is not None
        counter = domain.matching_totp_counter(
            user.totp_secret, code, at=now, last_counter=user.totp_last_counter
        )
        if counter is None:
            return False
        statement = (
            update(User)
            .where(
                User.id == user.id,
                or_(User.totp_last_counter.is_(None), User.totp_last_counter < counter),
            )
            .values(totp_last_counter=counter)
        )
    else:
        statement = (
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == hash_token(domain.normalize_recovery_code(code)),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=now)
        )
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount == 1


async def begin_totp_setup(user: User, *, session: AsyncSession) -> TotpSetup:
    """A new TOTP secret to scan (kept pending until a code from it is confirmed)."""
    if user.two_factor_enabled:
        raise Conflict(
            "Two-factor is already on. Turn it off first to set it up again.",
            code="two_factor_already_enabled",
        )
    secret = domain.new_totp_secret()
    user.totp_pending_secret = secret
    await session.flush()
    uri = domain.totp_uri(secret, account_name=user.email)
    return TotpSetup(secret=secret, uri=uri, qr_svg=domain.qr_code_svg(uri))


async def confirm_totp(user: User, code: str, *, session: AsyncSession) -> list[str]:
    """Turn two-factor on with a code from the new secret; the recovery codes (shown once)."""
    if user.two_factor_enabled:
        raise Conflict("Two-factor is already on.", code="two_factor_already_enabled")
    if user.totp_pending_secret is None:
        raise Conflict("Start two-factor setup first.", code="two_factor_not_started")
    now = clock.now()
    counter = domain.matching_totp_counter(
        user.totp_pending_secret, code, at=now, last_counter=None
    )
    if counter is None:
        raise ValidationFailed.field(
            "code",
            "That code is not right. Check your phone's clock and try the newest code.",
            code="invalid_code",
        )
    user.totp_secret, user.totp_pending_secret = user.totp_pending_secret, None
    user.totp_enabled_at = now
    user.totp_last_counter = counter
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = domain.new_recovery_codes()
    session.add_all(
        RecoveryCode(user_id=user.id, code_hash=hash_token(domain.normalize_recovery_code(one)))
        for one in codes
    )
    await session.flush()
    return codes


async def disable_totp(user: User, password: str, *, session: AsyncSession) -> None:
    """Turn two-factor off after checking the password; the recovery codes are deleted."""
    if not user.two_factor_enabled:
        raise Conflict("Two-factor is not on.", code="two_factor_not_enabled")
    matched = await asyncio.to_thread(
        verify_password,
        user.password_hash,
        domain.normalize_password(password[:_LONGEST_PASSWORD_TRIED]),
    )
    if not matched:
        raise ValidationFailed.field(
            "password", "That password is not right.", code="wrong_password"
        )
    user.totp_secret = user.totp_pending_secret = None
    user.totp_enabled_at = None
    user.totp_last_counter = None
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await session.flush()


async def unused_recovery_code_count(user: User, *, session: AsyncSession) -> int:
    """How many recovery codes `user` has left."""
    count = await session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    return count or 0
