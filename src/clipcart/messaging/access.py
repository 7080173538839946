"""Who takes part in a conversation and on which side: the access function every read and
write goes through (404 to anyone else)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
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


async def shops_blocking(
    person_id: uuid.UUID, shop_ids: Collection[uuid.UUID], *, session: AsyncSession
) -> set[uuid.UUID]:
    """Those of the shops where someone on the staff blocked this person: the person cannot
    write to them (their staff can still write to the person, and both still see what was
    said). Two queries, however many shops."""
    staff = await shops.staff_ids_by_shop(shop_ids, session=session)
    everyone = {user_id for members in staff.values() for user_id in members}
    blockers = await social.blockers_of(person_id, everyone, session=session)
    return {shop_id for shop_id, members in staff.items() if members & blockers}


async def refused_by_blocks(
    sender_id: uuid.UUID, views: Sequence[ConversationView], *, session: AsyncSession
) -> set[uuid.UUID]:
    """The ids of those conversations (seen by `sender_id`) where a block refuses what they
    write: writing as a person to a shop whose staff blocked them. (Between two people, a block
    hides the conversation itself: see get_conversation_for.)"""
    to_shops = {
        view.conversation.id: view.shop.id
        for view in views
        if view.as_shop is None and view.shop is not None
    }
    blocking = await shops_blocking(sender_id, set(to_shops.values()), session=session)
    return {conversation_id for conversation_id, shop_id in to_shops.items() if shop_id in blocking}


async def blocked_from_writing(
    sender_id: uuid.UUID, view: ConversationView, *, session: AsyncSession
) -> bool:
    """True when a block refuses what the sender writes in this conversation: one between the
    two people, or someone on the staff of the shop written to blocked the sender."""
    if await is_blocked(view.conversation, session=session):
        return True
    return bool(await refused_by_blocks(sender_id, [view], session=session))


async def blocked_from_starting(
    sender_id: uuid.UUID, *, to_user: User | None, to_shop: Shop | None, session: AsyncSession
) -> bool:
    """True when a block refuses a first message from the sender to this person or shop
    (writing to oneself or one's own shop is refused for its own reason)."""
    if to_user is not None:
        return to_user.id != sender_id and await social.is_blocked_between(
            sender_id, to_user.id, session=session
        )
    if to_shop is None:
        return False
    staff = (await shops.staff_ids_by_shop([to_shop.id], session=session))[to_shop.id]
    if sender_id in staff:
        return False
    return bool(await social.blockers_of(sender_id, staff, session=session))


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
