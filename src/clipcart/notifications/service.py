"""Notifications: the in-app list of what happened, and order emails sent by a job after commit.
Services never commit; `deliver_email` is the job's body and opens its own transactions."""

from __future__ import annotations

import asyncio
import logging
import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts import service as accounts
from clipcart.accounts.models import User
from clipcart.core import clock, events
from clipcart.core.config import get_settings
from clipcart.core.db import unit_of_work
from clipcart.core.errors import NotFound
from clipcart.core.ids import new_id
from clipcart.core.pagination import paginate
from clipcart.notifications.config import get_notification_settings
from clipcart.notifications.email import EmailFailed, build_message, send_message
from clipcart.notifications.models import Notification

log = logging.getLogger(__name__)

NONE, QUEUED, SENT, FAILED = "none", "queued", "sent", "failed"
TITLE_MAX, LINK_MAX = 200, 300


async def notify(
    user_id: uuid.UUID,
    *,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    email: bool = False,
    session: AsyncSession,
) -> Notification:
    """Write an in-app notification; with `email` and SMTP configured, a job emails it after
    commit."""
    notification = Notification(
        id=new_id(),  # known now: no flush needed, the row goes in with the transaction
        user_id=user_id,
        kind=kind[:40],
        title=title[:TITLE_MAX],
        body=body,
        link=link[:LINK_MAX],
        email_status=NONE,
    )
    if email and get_notification_settings().email_enabled:
        notification.email_status = QUEUED
    session.add(notification)
    if notification.email_status == QUEUED:
        notification_id = notification.id

        async def queue() -> None:
            from clipcart.notifications.tasks import enqueue_email

            await enqueue_email(notification_id)

        events.after_commit(session, queue)
    return notification


async def list_notifications(
    user: User,
    *,
    session: AsyncSession,
    unread_only: bool = False,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[Notification], str | None]:
    """The user's notifications, newest first, a page at a time."""
    statement = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    rows, next_cursor = await paginate(
        session,
        statement,
        order_by=[Notification.created_at, Notification.id],
        cursor=cursor,
        limit=limit,
    )
    return rows, next_cursor


async def unread_count(user_id: uuid.UUID, *, session: AsyncSession) -> int:
    """How many of the user's notifications are unread."""
    count = await session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return int(count or 0)


async def has_unread(user_id: uuid.UUID, *, kind: str, link: str, session: AsyncSession) -> bool:
    """True when the user has an unread notification of this kind pointing at `link`."""
    found = await session.scalar(
        select(Notification.id)
        .where(
            Notification.user_id == user_id,
            Notification.kind == kind,
            Notification.link == link,
            Notification.read_at.is_(None),
        )
        .limit(1)
    )
    return found is not None


async def mark_read_by_link(
    user_id: uuid.UUID, *, kind: str, link: str, session: AsyncSession
) -> None:
    """Mark the user's unread notifications of this kind pointing at `link` read."""
    await session.execute(
        update(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.kind == kind,
            Notification.link == link,
            Notification.read_at.is_(None),
        )
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )


async def get_notification_for(
    user: User, notification_id: uuid.UUID, *, session: AsyncSession
) -> Notification:
    """One of the user's notifications (404 for anyone else's)."""
    notification = await session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound("There is no such notification.", code="notification_not_found")
    return notification


async def mark_read(
    user: User, notification_id: uuid.UUID, *, session: AsyncSession
) -> Notification:
    """Mark one notification read (reading it again changes nothing)."""
    notification = await get_notification_for(user, notification_id, session=session)
    if notification.read_at is None:
        notification.read_at = clock.now()
        await session.flush()
    return notification


async def mark_all_read(user: User, *, session: AsyncSession) -> int:
    """Mark every unread notification of the user read; how many were."""
    result = await session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _email_text(notification: Notification, display_name: str) -> str:
    lines = [f"Hello {display_name},", "", notification.title]
    if notification.body:
        lines += ["", notification.body]
    if notification.link:
        lines += ["", get_settings().base_url.rstrip("/") + notification.link]
    lines += ["", "-- ", "ClipCart"]
    return "\n".join(lines) + "\n"


async def deliver_email(notification_id: uuid.UUID, *, final_attempt: bool = True) -> str:
    """Email one queued notification to its user; its email status afterwards. A failure that
    may be retried raises EmailFailed (the job runs again); the last one is marked failed."""
    settings = get_notification_settings()
    async with unit_of_work() as session:
        notification = await session.get(Notification, notification_id)
        if notification is None:
            return "gone"
        if notification.email_status != QUEUED:
            return notification.email_status  # already sent (a duplicate job), or never asked
        if not settings.email_enabled:
            notification.email_status = NONE
            return NONE
        user = (await accounts.users_by_ids([notification.user_id], session=session)).get(
            notification.user_id
        )
        if user is None or not user.is_active:
            notification.email_status = FAILED
            return FAILED
        message = build_message(
            settings=settings,
            to=user.email,
            subject=notification.title,
            text=_email_text(notification, user.display_name),
        )
    try:
        await asyncio.to_thread(send_message, message, settings=settings)
        outcome = SENT
    except EmailFailed as error:
        log.warning(
            "email not sent",
            extra={"notification_id": str(notification_id), "error": str(error)},
        )
        if not final_attempt:
            raise
        outcome = FAILED
    async with unit_of_work() as session:
        await session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.email_status == QUEUED)
            .values(email_status=outcome)
        )
    return outcome
