"""Who is calling: the live session behind a page's cookie or the live API token behind a
bearer secret, resolved on every request (re-exported by accounts.service)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from clipcart.accounts import domain
from clipcart.accounts.models import ApiToken, AuthSession, User
from clipcart.core import clock
from clipcart.core.config import get_settings
from clipcart.core.ids import hash_token

# Every request resolves its caller: these statements are built once (building one costs about
# as much as running it), a request only binds the secret's hash, and the user's roles come in
# the same statement (joined) rather than in a second one.
_LIVE_SESSION = (
    select(AuthSession)
    .where(AuthSession.token_hash == bindparam("token_hash"), AuthSession.ended_at.is_(None))
    .options(joinedload(AuthSession.user).joinedload(User.roles))
)
_LIVE_API_TOKEN = (
    select(ApiToken)
    .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
    .options(joinedload(ApiToken.user).joinedload(User.roles))
)


# A touch is its own prebuilt UPDATE, in the request's transaction: marking the row dirty cost
# an ORM flush as dear again as the UPDATE, for every caller not seen for a minute.
_SESSIONS, _API_TOKENS = cast(Table, AuthSession.__table__), cast(Table, ApiToken.__table__)
_TOUCH_SESSION = update(_SESSIONS).where(_SESSIONS.c.id == bindparam("row_id"))
_TOUCH_SESSION = _TOUCH_SESSION.values(last_seen_at=bindparam("now"))
_TOUCH_API_TOKEN = update(_API_TOKENS).where(_API_TOKENS.c.id == bindparam("row_id"))
_TOUCH_API_TOKEN = _TOUCH_API_TOKEN.values(last_used_at=bindparam("now"))


async def _touch(
    statement: Any, row: AuthSession | ApiToken, name: str, now: datetime, session: AsyncSession
) -> None:
    await session.execute(statement, {"row_id": row.id, "now": now})
    set_committed_value(row, name, now)  # what the row now holds: nothing left to flush


async def _one_live(statement: Select[Any], raw_token: str, session: AsyncSession) -> Any:
    rows = await session.scalars(statement, {"token_hash": hash_token(raw_token)})
    return rows.unique().one_or_none()  # one row per role: unique() folds them


async def resolve_session(raw_token: str, *, session: AsyncSession) -> AuthSession | None:
    """The live session for a cookie token, touching its last-seen time; None if expired."""
    if not raw_token or len(raw_token) > 128:
        return None
    auth_session: AuthSession | None = await _one_live(_LIVE_SESSION, raw_token, session)
    if auth_session is None or not auth_session.user.is_active:
        return None
    settings = get_settings()
    now = clock.now()
    if domain.session_expired(
        created_at=auth_session.created_at,
        last_seen_at=auth_session.last_seen_at,
        now=now,
        idle_timeout=settings.session_idle_timeout_seconds,
        absolute_timeout=settings.session_absolute_timeout_seconds,
    ):
        return None
    if domain.due_for_touch(auth_session.last_seen_at, now):
        await _touch(_TOUCH_SESSION, auth_session, "last_seen_at", now, session)
    return auth_session


async def resolve_api_token(raw_token: str, *, session: AsyncSession) -> ApiToken | None:
    """The live token for a bearer secret, touching its last-used time; None otherwise."""
    if not raw_token or len(raw_token) > 128:
        return None
    token: ApiToken | None = await _one_live(_LIVE_API_TOKEN, raw_token, session)
    now = clock.now()
    if token is None or not token.user.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if domain.due_for_touch(token.last_used_at, now):
        await _touch(_TOUCH_API_TOKEN, token, "last_used_at", now, session)
    return token
