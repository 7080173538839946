"""Account housekeeping jobs: forget dead sessions, delete avatar files no one refers to."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any, cast

from huey import crontab
from sqlalchemy import CursorResult, delete, or_, select

from clipcart.accounts import service
from clipcart.accounts.models import AuthSession, User
from clipcart.core import clock
from clipcart.core.config import get_settings
from clipcart.core.db import unit_of_work
from clipcart.core.jobs import huey, run_async

SESSION_GRACE = timedelta(days=1)
ORPHAN_AVATAR_AGE_SECONDS = 3600  # an upload younger than this may still be committing


async def purge_dead_sessions() -> int:
    """Delete sessions that ended or expired more than a day ago; how many went."""
    settings = get_settings()
    cutoff = clock.now() - SESSION_GRACE
    idle = timedelta(seconds=settings.session_idle_timeout_seconds)
    absolute = timedelta(seconds=settings.session_absolute_timeout_seconds)
    async with unit_of_work() as session:
        result = await session.execute(
            delete(AuthSession).where(
                or_(
                    AuthSession.ended_at < cutoff,
                    AuthSession.last_seen_at < cutoff - idle,
                    AuthSession.created_at < cutoff - absolute,
                )
            )
        )
    return cast(CursorResult[Any], result).rowcount


async def sweep_orphan_avatars() -> int:
    """Delete avatar files older than an hour that no user refers to (left by rollbacks)."""
    directory = service.avatar_directory()
    if not directory.is_dir():
        return 0
    oldest = time.time() - ORPHAN_AVATAR_AGE_SECONDS
    candidates: dict[str, list[str]] = {}
    for path in directory.iterdir():
        if path.is_file() and path.stat().st_mtime < oldest:
            key = path.name.split("-", 1)[0].split(".", 1)[0]
            candidates.setdefault(key, []).append(path.name)
    if not candidates:
        return 0
    async with unit_of_work() as session:
        rows = await session.scalars(
            select(User.avatar_key).where(User.avatar_key.in_(list(candidates)))
        )
        in_use = set(rows)
    removed = 0
    for key, names in candidates.items():
        if key in in_use:
            continue
        for name in names:
            (directory / name).unlink(missing_ok=True)
            removed += 1
    return removed


@huey.periodic_task(crontab(minute="17"))
def purge_dead_sessions_hourly() -> int:
    """Hourly: forget dead sessions."""
    return int(run_async(purge_dead_sessions)())


@huey.periodic_task(crontab(minute="47", hour="3"))
def sweep_orphan_avatars_daily() -> int:
    """Daily: delete avatar files no one refers to."""
    return int(run_async(sweep_orphan_avatars)())
