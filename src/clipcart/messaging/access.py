"""Who takes part in a conversation and on which side: the access function every read and
write goes through (404 to anyone else)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts import service as accounts
from clipcart.accounts.models import User
from clipcart.core.errors import NotFound
from clipcart.messaging import domain
from clipcart.messaging.models import Conversation
from clipcart.shops import service as shops
from clipcart.shops.models import Shop
from clipcart.social import service as social


@dataclass
class ConversationView:
    """A conversation as one viewer sees it: their side, who is on the other side, and the
    shop they answer as (when they are on the shop's side)."""

    conversation: Conversation
    side: str
    person: User | None  # side a's person (None only if the account is gone)
    other_user: User | None  # side b when it is a person
    shop: Shop | None  # side b when it is a shop

    @property
    def unread(self) -> int:
        """How many messages the viewer's side has not read."""
        conversation = self.conversation
        mark = conversation.a_read_seq if self.side == domain.SIDE_A else conversation.b_read_seq
        return max(0, conversation.last_seq - mark)

    @property
    def as_shop(self) -> Shop | None:
        """The shop the viewer speaks for in this conversation, if any."""
        return self.shop if self.side == domain.SIDE_B else None

    @property
    def other_person(self) -> User | None:
        """The person on the other side, when the other side is a person."""
        return self.other_user if self.side == domain.SIDE_A else self.person


def not_found() -> NotFound:
    """The answer for a conversation that does not exist or is not the caller's."""
    return NotFound("There is no such conversation.", code="conversation_not_found")


async def view_of(
    conversation: Conversation, side: str, *, session: AsyncSession
) -> ConversationView:
    """The conversation seen from `side`, with the people and shop on it loaded."""
    [view] = await views_of([(conversation, side)], session=session)
    return view


async def views_of(
    rows: Sequence[tuple[Conversation, str]], *, session: AsyncSession
) -> list[ConversationView]:
    """Many conversations seen from their sides: people and shops read in two queries."""
    user_ids = {c.user_id for c, _ in rows} | {c.other_user_id for c, _ in rows if c.other_user_id}
    people = await accounts.users_by_ids(user_ids, session=session)
    shop_rows = await shops.shops_by_ids({c.shop_id for c, _ in rows if c.shop_id}, session=session)
    return [
        ConversationView(
            conversation=c,
            side=side,
            person=people.get(c.user_id),
            other_user=people.get(c.other_user_id) if c.other_user_id else None,
            shop=shop_rows.get(c.shop_id) if c.shop_id else None,
        )
        for c, side in rows
    ]


async def side_of(viewer: User, conversation: Conversation, *, session: AsyncSession) -> str:
    """The viewer's side of the conversation; 404 when they take no part in it."""
    if conversation.user_id == viewer.id:
        return domain.SIDE_A
    if conversation.other_user_id == viewer.id:
        return domain.SIDE_B
    if conversation.shop_id is not None and await shops.is_shop_staff(
        viewer.id, conversation.shop_id, session=session
    ):
        return domain.SIDE_B
    raise not_found()


async def is_blocked(conversation: Conversation, *, session: AsyncSession) -> bool:
    """True when the conversation is between two people and one blocked the other."""
    if conversation.other_user_id is None:
        return False
    return await social.is_blocked_between(
        conversation.user_id, conversation.other_user_id, session=session
    )


async def blocked_by_shop(person_id: uuid.UUID, shop: Shop, *, session: AsyncSession) -> bool:
    """True when someone on the shop's staff blocked this person: they cannot write to the
    shop (its staff can still write to them, and both still see what was said)."""
    staff = [member.user_id for member, _ in await shops.list_staff(shop, session=session)]
    return await social.blocked_by_any(person_id, staff, session=session)


async def get_conversation_for(
    viewer: User, conversation_id: uuid.UUID, *, session: AsyncSession
) -> ConversationView:
    """A conversation the viewer takes part in (404 to anyone else, and between two people
    when one blocked the other: a blocked person does not see you)."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise not_found()
    side = await side_of(viewer, conversation, session=session)
    if await is_blocked(conversation, session=session):
        raise not_found()
    return await view_of(conversation, side, session=session)


def inbox_link(conversation_id: uuid.UUID) -> str:
    """The page of a conversation."""
    return f"/inbox/{conversation_id}"
