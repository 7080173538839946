"""Notifications API under /api/v1/notifications (thin): list, unread count, mark read."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from clipcart.accounts.dependencies import CurrentUser
from clipcart.core.routing import DbSession, make_router
from clipcart.notifications import service
from clipcart.notifications.schemas import (
    NotificationOut,
    NotificationPage,
    ReadAllOut,
    UnreadCountOut,
)

router = make_router(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("")
async def list_notifications(
    user: CurrentUser,
    db: DbSession,
    unread: bool = False,
    cursor: str | None = None,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> NotificationPage:
    """Your notifications, newest first (only unread ones with `unread=true`)."""
    rows, next_cursor = await service.list_notifications(
        user, unread_only=unread, cursor=cursor, limit=limit, session=db
    )
    return NotificationPage(
        items=[NotificationOut.of(row) for row in rows],
        next_cursor=next_cursor,
        unread=await service.unread_count(user.id, session=db),
    )


@router.get("/unread-count")
async def unread_count(user: CurrentUser, db: DbSession) -> UnreadCountOut:
    """How many of your notifications are unread (the Inbox badge)."""
    return UnreadCountOut(unread=await service.unread_count(user.id, session=db))


@router.post("/read-all")
async def read_all(user: CurrentUser, db: DbSession) -> ReadAllOut:
    """Mark every notification read."""
    marked = await service.mark_all_read(user, session=db)
    return ReadAllOut(marked=marked, unread=0)


@router.post("/{notification_id}/read")
async def read_one(notification_id: uuid.UUID, user: CurrentUser, db: DbSession) -> NotificationOut:
    """Mark one of your notifications read."""
    return NotificationOut.of(await service.mark_read(user, notification_id, session=db))
