"""Account use cases: sign up, log in, sessions, profile, avatar, API tokens, two-factor.

Services never commit: the unit of work at the edge does."""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import Collection
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from clipcart.accounts import domain
from clipcart.accounts.callers import resolve_api_token as resolve_api_token
from clipcart.accounts.callers import resolve_session as resolve_session
from clipcart.accounts.errors import InvalidCredentials, TwoFactorRequired
from clipcart.accounts.models import ApiToken, AuthSession, User, UserRole
from clipcart.accounts.schemas import ApiTokenIn, LoginIn, ProfileIn, SignupIn
from clipcart.accounts.two_factor import accept_second_factor
from clipcart.accounts.two_factor import begin_totp_setup as begin_totp_setup
from clipcart.accounts.two_factor import confirm_totp as confirm_totp
from clipcart.accounts.two_factor import disable_totp as disable_totp
from clipcart.accounts.two_factor import unused_recovery_code_count as unused_recovery_code_count
from clipcart.core import clock, events
from clipcart.core.config import get_settings
from clipcart.core.errors import (
    Conflict,
    FieldErrors,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ValidationFailed,
)
from clipcart.core.ids import hash_token, new_token
from clipcart.core.ratelimit import RateLimiter
from clipcart.core.security import hash_password, password_needs_rehash, verify_password

FAILURE_MEMORY_SECONDS = 24 * 3600  # consecutive login failures are forgotten after a day
MAX_ACTIVE_TOKENS = 50
_LONGEST_PASSWORD_TRIED = domain.PASSWORD_MAX * 8  # longer attempts cannot match anyway


async def _exists(session: AsyncSession, condition: ColumnElement[bool]) -> bool:
    return (await session.scalar(select(func.count()).select_from(User).where(condition))) != 0


async def _flush_or_conflict(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as error:  # a concurrent request took the same email or handle
        raise Conflict("That email or handle was just taken.", code="already_taken") from error


async def _check_taken(session: AsyncSession, *, email: str | None, handle: str | None) -> None:
    taken: list[dict[str, str]] = []
    if email is not None and await _exists(session, User.email == email):
        taken.append({"field": "email", "message": "An account with that email already exists."})
    if handle is not None and await _exists(session, User.handle == handle):
        taken.append({"field": "handle", "message": "That handle is taken. Try another."})
    if taken:
        raise Conflict(taken[0]["message"], code="already_taken", data={"errors": taken})


# --- sign up, roles, log in ---------------------------------------------------------------


async def check_signup_rate(*, limiter: RateLimiter, ip: str) -> None:
    """Refuse (429) when this address has created too many accounts this hour."""
    limit = get_settings().signups_per_hour_per_ip
    decision = await limiter.hit(f"signup:ip:{ip}", limit=limit, window=3600)
    if not decision.allowed:
        raise RateLimited(
            decision.retry_after,
            f"Too many new accounts from your network. Try again in {decision.retry_after} s.",
        )


async def sign_up(data: SignupIn, *, session: AsyncSession) -> User:
    """Create an account with the buyer role; 422 on a rule broken, 409 when taken."""
    errors = FieldErrors()
    email = domain.normalize_email(data.email)
    errors.add("email", domain.email_problems(email))
    handle = domain.normalize_handle(data.handle)
    errors.add("handle", domain.handle_problems(handle))
    display_name = (data.display_name or "").strip() or handle
    errors.add("display_name", domain.display_name_problems(display_name))
    errors.add("password", domain.password_problems(data.password, email=email, handle=handle))
    errors.raise_if_any()
    await _check_taken(session, email=email, handle=handle)
    password_hash = await asyncio.to_thread(hash_password, domain.normalize_password(data.password))
    user = User(
        email=email,
        handle=handle,
        display_name=display_name,
        bio="",
        password_hash=password_hash,
        roles=[UserRole(role="buyer")],
    )
    session.add(user)
    await _flush_or_conflict(session)
    return user


async def grant_role(user: User, role: str, *, session: AsyncSession) -> None:
    """Give `user` the role `role` (no change when they already have it)."""
    if role not in domain.ROLES:
        raise ValidationFailed.field(
            "role", f"Unknown role. Use one of: {', '.join(domain.ROLES)}."
        )
    if role not in user.role_names:
        user.roles.append(UserRole(role=role))
        await session.flush()


async def revoke_role(user: User, role: str, *, session: AsyncSession) -> None:
    """Take the role `role` from `user` (no change when they do not have it)."""
    for held in [held for held in user.roles if held.role == role]:
        user.roles.remove(held)
    await session.flush()


async def authenticate(
    data: LoginIn, *, session: AsyncSession, limiter: RateLimiter, ip: str
) -> User:
    """The user these credentials belong to; 401 (the same answer whether or not the account
    exists), 401 two_factor_required, or 429 when this address or account must wait."""
    email = domain.normalize_email(data.email)
    account_key = await _check_login_limits(limiter, ip=ip, email=email)
    user = await session.scalar(select(User).where(User.email == email))
    known = user if user is not None and user.is_active else None
    password = domain.normalize_password(data.password[:_LONGEST_PASSWORD_TRIED])
    # verify_password spends the same time on a dummy hash when there is no such account
    matched = await asyncio.to_thread(
        verify_password, known.password_hash if known else None, password
    )
    if known is None or not matched:
        await _record_login_failure(limiter, account_key)
        raise InvalidCredentials()
    if known.two_factor_enabled:
        await _check_second_factor(
            known, data.otp_code, session=session, limiter=limiter, key=account_key
        )
    if password_needs_rehash(known.password_hash):
        known.password_hash = await asyncio.to_thread(hash_password, password)
    return await _logged_in(known, limiter, account_key)


async def finish_two_factor_login(
    email: str, code: str, *, session: AsyncSession, limiter: RateLimiter, ip: str
) -> User:
    """The second step of a two-step login, for callers holding proof (a signed, short-lived
    token) that `authenticate` accepted this email's password: checks the code."""
    email = domain.normalize_email(email)
    account_key = await _check_login_limits(limiter, ip=ip, email=email)
    user = await session.scalar(select(User).where(User.email == email))
    if user is None or not user.is_active or not user.two_factor_enabled:
        raise InvalidCredentials()
    await _check_second_factor(user, code, session=session, limiter=limiter, key=account_key)
    return await _logged_in(user, limiter, account_key)


async def _check_login_limits(limiter: RateLimiter, *, ip: str, email: str) -> str:
    """Count this attempt against the address; refuse while the account is backing off."""
    limit = get_settings().login_attempts_per_minute_per_ip
    decision = await limiter.hit(f"login:ip:{ip}", limit=limit, window=60)
    if not decision.allowed:
        raise RateLimited(decision.retry_after)
    account_key = f"login:account:{hash_token(email)}"
    wait = await limiter.blocked_for(account_key)
    if wait:
        raise RateLimited(wait)
    return account_key


async def _check_second_factor(
    user: User, code: str | None, *, session: AsyncSession, limiter: RateLimiter, key: str
) -> None:
    code = (code or "").strip()
    if not code:
        raise TwoFactorRequired(
            "Enter the 6-digit code from your authenticator app, or a recovery code."
        )
    if not await accept_second_factor(user, code, session=session):
        await _record_login_failure(limiter, key)
        raise TwoFactorRequired("That code is not right. Try the newest code from your app.")


async def _logged_in(user: User, limiter: RateLimiter, account_key: str) -> User:
    await limiter.reset(account_key)
    user.last_login_at = clock.now()
    return user


async def _record_login_failure(limiter: RateLimiter, account_key: str) -> None:
    settings = get_settings()
    failures = await limiter.increment(account_key, ttl=FAILURE_MEMORY_SECONDS)
    wait = domain.login_backoff_seconds(
        failures,
        threshold=settings.login_failures_before_backoff,
        base=settings.login_backoff_base_seconds,
        maximum=settings.login_backoff_max_seconds,
    )
    if wait:
        await limiter.block(account_key, seconds=wait)


# --- sessions -----------------------------------------------------------------------------


async def start_session(
    user: User, *, session: AsyncSession, ip: str | None, user_agent: str | None
) -> tuple[AuthSession, str]:
    """A new server-side session for `user` and the raw token for its cookie."""
    raw_token = new_token()
    now = clock.now()
    auth_session = AuthSession(
        user=user,
        token_hash=hash_token(raw_token),
        created_at=now,
        last_seen_at=now,
        ip=ip,
        user_agent=(user_agent or "")[:255] or None,
    )
    session.add(auth_session)
    await session.flush()
    return auth_session, raw_token


async def end_session(raw_token: str, *, session: AsyncSession) -> None:
    """Log out the browser holding this cookie token."""
    await session.execute(
        update(AuthSession)
        .where(AuthSession.token_hash == hash_token(raw_token), AuthSession.ended_at.is_(None))
        .values(ended_at=clock.now())
    )


async def end_all_sessions(user: User, *, session: AsyncSession) -> int:
    """Log `user` out everywhere; the number of sessions ended."""
    result = cast(
        CursorResult[Any],
        await session.execute(
            update(AuthSession)
            .where(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None))
            .values(ended_at=clock.now())
        ),
    )
    return result.rowcount


# --- profile and avatar -------------------------------------------------------------------


async def get_user_by_handle(handle: str, *, session: AsyncSession) -> User:
    """The active user with this @handle (any case, @ optional); 404 otherwise."""
    handle = domain.normalize_handle(handle)
    if not domain.could_be_handle(handle):
        raise NotFound("There is no one with that handle.", code="user_not_found")
    user = await session.scalar(select(User).where(User.handle == handle))
    if user is None or not user.is_active:
        raise NotFound("There is no one with that handle.", code="user_not_found")
    return user


async def update_profile(user: User, data: ProfileIn, *, session: AsyncSession) -> User:
    """Change the handle, display name or bio; fields left out stay as they are."""
    errors = FieldErrors()
    changes: dict[str, str] = {}
    if data.handle is not None:
        handle = domain.normalize_handle(data.handle)
        if handle != user.handle:
            errors.add("handle", domain.handle_problems(handle))
            changes["handle"] = handle
    if data.display_name is not None:
        changes["display_name"] = data.display_name.strip()
        errors.add("display_name", domain.display_name_problems(changes["display_name"]))
    if data.bio is not None:
        changes["bio"] = data.bio.strip()
        errors.add("bio", domain.bio_problems(changes["bio"]))
    errors.raise_if_any()
    if "handle" in changes:
        await _check_taken(session, email=None, handle=changes["handle"])
    for field, value in changes.items():
        setattr(user, field, value)
    await _flush_or_conflict(session)
    return user


def avatar_directory() -> Path:
    """Where avatar files are stored."""
    return get_settings().resolved_media_root / "avatars"


def _write_avatar_files(directory: Path, key: str, rendered: dict[int, bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for size, content in rendered.items():
        final = directory / domain.avatar_filename(key, size)
        partial = final.with_suffix(".part")
        partial.write_bytes(content)
        os.replace(partial, final)  # never serve a half-written file


def _delete_avatar_files(directory: Path, key: str) -> None:
    for size in domain.AVATAR_SIZES:
        (directory / domain.avatar_filename(key, size)).unlink(missing_ok=True)


async def set_avatar(user: User, content: bytes, *, session: AsyncSession) -> User:
    """Check, square and re-encode an uploaded picture, and make it `user`'s avatar.

    Files go under a fresh random name, so a rollback leaves nothing referenced (the orphans
    are swept by a job); the previous files are deleted once the change is committed."""
    limit = get_settings().avatar_max_bytes
    if len(content) > limit:
        raise PayloadTooLarge(
            f"Use an image under {limit // (1024 * 1024) or 1} MB.", code="avatar_too_large"
        )
    rendered = await asyncio.to_thread(domain.render_avatar, content)
    key = secrets.token_hex(16)
    directory = avatar_directory()
    await asyncio.to_thread(_write_avatar_files, directory, key, rendered)
    previous, user.avatar_key = user.avatar_key, key
    await session.flush()
    if previous:
        events.after_commit(session, lambda: _delete_avatar_files(directory, previous))
    return user


async def remove_avatar(user: User, *, session: AsyncSession) -> User:
    """Go back to no avatar; the files are deleted once that is committed."""
    previous, user.avatar_key = user.avatar_key, None
    await session.flush()
    if previous:
        directory = avatar_directory()
        events.after_commit(session, lambda: _delete_avatar_files(directory, previous))
    return user


def avatar_url(user: User, size: int) -> str | None:
    """The URL of `user`'s avatar at (at least) `size` pixels, or None when there is none."""
    return domain.avatar_url(user.avatar_key, size)


# --- API tokens ---------------------------------------------------------------------------


async def create_api_token(
    user: User, data: ApiTokenIn, *, session: AsyncSession
) -> tuple[ApiToken, str]:
    """A new scoped API token and its secret (shown once; only its hash is kept)."""
    errors = FieldErrors()
    name = data.name.strip()
    if not 1 <= len(name) <= 100:
        errors.add("name", ["Give the token a name of 1 to 100 characters."])
    errors.add("scopes", domain.scope_problems(data.scopes))
    errors.raise_if_any()
    active = await session.scalar(
        select(func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )
    if (active or 0) >= MAX_ACTIVE_TOKENS:
        raise Conflict(
            f"You have {MAX_ACTIVE_TOKENS} tokens. Revoke one you no longer use first.",
            code="too_many_tokens",
        )
    raw_token = new_token("cc_")
    now = clock.now()
    token = ApiToken(
        user=user,
        name=name,
        token_hash=hash_token(raw_token),
        prefix=raw_token[:10],
        scopes=sorted(set(data.scopes)),
        created_at=now,
        expires_at=now + timedelta(days=data.expires_in_days) if data.expires_in_days else None,
    )
    session.add(token)
    await session.flush()
    return token, raw_token


async def list_api_tokens(user: User, *, session: AsyncSession) -> list[ApiToken]:
    """`user`'s tokens that have not been revoked, newest first."""
    rows = await session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(rows)


async def revoke_api_token(user: User, token_id: uuid.UUID, *, session: AsyncSession) -> None:
    """Revoke one of `user`'s tokens; 404 when it is not theirs or already revoked."""
    token = await session.scalar(
        select(ApiToken).where(
            ApiToken.id == token_id, ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)
        )
    )
    if token is None:
        raise NotFound("There is no such token.", code="token_not_found")
    token.revoked_at = clock.now()
    await session.flush()


_USERS_BY_ID = select(User).where(User.id.in_(bindparam("user_ids", expanding=True)))
_USERS_BY_ID_WITHOUT_ROLES = _USERS_BY_ID.options(raiseload(User.roles))


async def users_by_ids(
    user_ids: Collection[uuid.UUID], *, with_roles: bool = True, session: AsyncSession
) -> dict[uuid.UUID, User]:
    """The accounts with these ids, by id, read in one query (unknown ids are left out).

    `with_roles=False` is for showing people (a handle, a name, an avatar): their roles are
    then not read, and touching `roles` on an account not already loaded fails loudly."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    statement = _USERS_BY_ID if with_roles else _USERS_BY_ID_WITHOUT_ROLES
    rows = await session.scalars(statement, {"user_ids": list(wanted)})
    return {user.id: user for user in rows}
