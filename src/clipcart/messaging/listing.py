"""Reading conversations: the lists (newest activity first), a conversation's messages
(newest first), read marks and the unread count for the header badge."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.core.pagination import paginate
from clipcart.messaging import domain
from clipcart.messaging.access import ConversationView, inbox_link, views_of
from clipcart.messaging.models import Conversation, Message
from clipcart.notifications import service as notifications
from clipcart.shops import service as shops
from clipcart.shops.models import Shop
from clipcart.social import service as social


async def mark_read(viewer: User, view: ConversationView, *, session: AsyncSession) -> None:
    """Mark everything in the conversation read for the viewer's side, and the viewer's
    "new messages" notification for it."""
    conversation = view.conversation
    mark = Conversation.a_read_seq if view.side == domain.SIDE_A else Conversation.b_read_seq
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values({mark: Conversation.last_seq})
        .execution_options(synchronize_session=False)
    )
    await session.refresh(conversation)
    await notifications.mark_read_by_link(
        viewer.id,
        kind=domain.NOTIFICATION_KIND,
        link=inbox_link(conversation.id),
        session=session,
    )


async def list_messages(
    view: ConversationView,
    *,
    session: AsyncSession,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[Message], str | None]:
    """The conversation's messages, newest first, a page at a time."""
    statement = select(Message).where(Message.conversation_id == view.conversation.id)
    rows, next_cursor = await paginate(
        session, statement, order_by=[Message.seq], cursor=cursor, limit=limit
    )
    return rows, next_cursor


def _personal(viewer_id: uuid.UUID, blocked: set[uuid.UUID]) -> ColumnElement[bool]:
    """The viewer's own conversations, without those with people a block stands between."""
    as_a = Conversation.user_id == viewer_id
    as_b = Conversation.other_user_id == viewer_id
    if blocked:
        as_a = and_(
            as_a,
            or_(Conversation.other_user_id.is_(None), Conversation.other_user_id.not_in(blocked)),
        )
        as_b = and_(as_b, Conversation.user_id.not_in(blocked))
    return or_(as_a, as_b)


async def list_conversations(
    viewer: User,
    *,
    session: AsyncSession,
    shop: Shop | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> tuple[list[ConversationView], str | None]:
    """The viewer's conversations (or, with `shop`, that shop's inbox; the caller checked the
    viewer works for it), newest activity first."""
    if shop is not None:
        condition: ColumnElement[bool] = Conversation.shop_id == shop.id
    else:
        blocked = await social.blocked_user_ids(viewer.id, session=session)
        condition = _personal(viewer.id, blocked)
    rows, next_cursor = await paginate(
        session,
        select(Conversation).where(condition),
        order_by=[Conversation.last_message_at, Conversation.id],
        cursor=cursor,
        limit=limit,
    )
    sided = [
        (row, domain.SIDE_B if shop is not None or row.user_id != viewer.id else domain.SIDE_A)
        for row in rows
    ]
    return await views_of(sided, session=session), next_cursor


async def unread_total(viewer: User, *, session: AsyncSession) -> int:
    """Messages waiting unread for the viewer: in their own conversations and in the inboxes
    of the shops they work for."""
    blocked = await social.blocked_user_ids(viewer.id, session=session)
    mine = _personal(viewer.id, blocked)
    as_a = await session.scalar(
        select(func.coalesce(func.sum(Conversation.last_seq - Conversation.a_read_seq), 0)).where(
            mine, Conversation.user_id == viewer.id
        )
    )
    as_b = await session.scalar(
        select(func.coalesce(func.sum(Conversation.last_seq - Conversation.b_read_seq), 0)).where(
            mine, Conversation.other_user_id == viewer.id
        )
    )
    shop_ids = [shop.id for shop in await shops.list_shops_for_user(viewer, session=session)]
    for_shops = 0
    if shop_ids:
        for_shops = (
            await session.scalar(
                select(
                    func.coalesce(func.sum(Conversation.last_seq - Conversation.b_read_seq), 0)
                ).where(Conversation.shop_id.in_(shop_ids))
            )
            or 0
        )
    return int(as_a or 0) + int(as_b or 0) + int(for_shops)


async def unread_by_shop(shops_of_viewer: list[Shop], *, session: AsyncSession) -> dict[str, int]:
    """Unread messages in each of these shops' inboxes, by shop handle."""
    if not shops_of_viewer:
        return {}
    rows = await session.execute(
        select(
            Conversation.shop_id,
            func.coalesce(func.sum(Conversation.last_seq - Conversation.b_read_seq), 0),
        )
        .where(Conversation.shop_id.in_([shop.id for shop in shops_of_viewer]))
        .group_by(Conversation.shop_id)
    )
    totals = {shop_id: int(total) for shop_id, total in rows.all()}
    return {shop.handle: totals.get(shop.id, 0) for shop in shops_of_viewer}
