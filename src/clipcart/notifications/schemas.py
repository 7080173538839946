"""Notification API shapes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from clipcart.notifications.models import Notification


class NotificationOut(BaseModel):
    """One notification as the app shows it."""

    id: uuid.UUID
    kind: str
    title: str
    body: str
    link: str
    read: bool
    read_at: datetime | None
    email_status: str
    created_at: datetime

    @classmethod
    def of(cls, notification: Notification) -> NotificationOut:
        """From the stored row."""
        return cls(
            id=notification.id,
            kind=notification.kind,
            title=notification.title,
            body=notification.body,
            link=notification.link,
            read=notification.read_at is not None,
            read_at=notification.read_at,
            email_status=notification.email_status,
            created_at=notification.created_at,
        )


class NotificationPage(BaseModel):
    """A page of notifications, the next cursor and how many are unread in all."""

    items: list[NotificationOut]
    next_cursor: str | None = None
    unread: int


class UnreadCountOut(BaseModel):
    """How many notifications are unread."""

    unread: int


class ReadAllOut(BaseModel):
    """How many notifications were marked read, and how many are still unread (none)."""

    marked: int
    unread: int
