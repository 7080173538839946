"""Messaging use cases: start or reuse a conversation and send (reading is in `listing`,
access in `access`; both re-exported here, so other modules use this one).

Services never commit (the route's unit of work does). A shop's side of a conversation is
shared by its staff: any of them reads and answers as the shop."""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts import service as accounts
from clipcart.accounts.models import User
from clipcart.catalog import service as catalog
from clipcart.commerce import orders
from clipcart.core import clock
from clipcart.core.db import dialect_insert
from clipcart.core.errors import (
    Conflict,
    FieldErrors,
    Forbidden,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from clipcart.core.ids import new_id
from clipcart.core.ratelimit import RateLimiter
from clipcart.messaging import domain
from clipcart.messaging.access import (
    ConversationView,
    blocked_from_starting,
    blocked_from_writing,
    get_conversation_for,
    inbox_link,
    not_found,
    side_of,
    view_of,
)
from clipcart.messaging.listing import (
    list_conversations,
    list_messages,
    mark_read,
    unread_by_shop,
    unread_total,
)
from clipcart.messaging.models import Conversation, Message
from clipcart.messaging.schemas import MessageIn
from clipcart.notifications import service as notifications
from clipcart.shops import service as shops
from clipcart.shops.models import Shop

__all__ = [
    "ConversationView",
    "check_send_rate",
    "get_conversation_for",
    "get_person",
    "get_shop",
    "get_shop_inbox",
    "inbox_link",
    "list_conversations",
    "list_messages",
    "mark_read",
    "send_message",
    "start_conversation",
    "unread_by_shop",
    "unread_total",
]


async def check_send_rate(user_id: uuid.UUID, *, limiter: RateLimiter) -> None:
    """Refuse (429) when the person sent too many messages lately."""
    limit, window = domain.SEND_RATE_LIMIT
    decision = await limiter.hit(f"messaging:send:{user_id}", limit=limit, window=window)
    if not decision.allowed:
        raise RateLimited(
            decision.retry_after,
            f"You are sending messages too quickly. Try again in {decision.retry_after} seconds.",
        )


async def get_person(handle: str, *, session: AsyncSession) -> User:
    """The person with this @handle (404 when there is none)."""
    if len(handle) > 100:
        raise NotFound("There is no one with that handle.", code="user_not_found")
    return await accounts.get_user_by_handle(handle, session=session)


def _no_such_shop() -> NotFound:
    return NotFound("There is no shop with that handle.", code="shop_not_found")


def _could_be_shop_handle(handle: str) -> bool:
    # A handle no shop can have (control characters, absurd length) is simply not found; a NUL
    # must not even reach PostgreSQL, which refuses it in text.
    return len(handle) <= 100 and domain.clean_text(handle) == handle.strip()


async def get_shop(handle: str, *, session: AsyncSession) -> Shop:
    """The shop with this handle (404 when there is none)."""
    if not _could_be_shop_handle(handle):
        raise _no_such_shop()
    return await shops.get_shop_by_handle(handle.removeprefix("@"), session=session)


async def get_shop_inbox(viewer: User, handle: str, *, session: AsyncSession) -> Shop:
    """A shop whose inbox the viewer may read: one they work for (404 to anyone else)."""
    if not _could_be_shop_handle(handle):
        raise _no_such_shop()
    return await shops.get_shop_for_staff(viewer, handle.removeprefix("@"), session=session)


async def _message_by_client_id(
    sender: User, client_id: uuid.UUID | None, *, session: AsyncSession
) -> Message | None:
    if client_id is None:
        return None
    message: Message | None = await session.scalar(
        select(Message).where(Message.sender_id == sender.id, Message.client_id == client_id)
    )
    return message


def _replayed(message: Message, conversation_id: uuid.UUID | None) -> Message:
    if message.conversation_id != conversation_id:
        raise Conflict(
            "That client_id was already used for a message in another conversation.",
            code="client_id_reused",
        )
    return message


async def _checked_text(
    sender: User,
    message_in: MessageIn,
    *,
    person_id: uuid.UUID,
    shop_id: uuid.UUID | None,
    session: AsyncSession,
) -> str:
    """The cleaned text; 422 naming every field that is wrong."""
    errors = FieldErrors()
    text = domain.clean_text(message_in.text)
    errors.add("text", domain.text_problems(text))
    if message_in.product_id is not None:
        try:
            await catalog.get_product_for_viewer(sender, message_in.product_id, session=session)
        except NotFound:
            errors.add("product_id", ["There is no such product."])
    if message_in.order_id is not None:
        allowed = False
        try:
            order = await orders.get_order(message_in.order_id, session=session)
        except NotFound:
            pass
        else:
            allowed = domain.order_may_be_referenced(
                order_buyer_id=order.buyer_id,
                order_shop_id=order.shop_id,
                conversation_person_id=person_id,
                conversation_shop_id=shop_id,
            )
        if not allowed:
            errors.add(
                "order_id", ["Only an order's buyer and its shop can show it to each other."]
            )
    errors.raise_if_any()
    return text


async def _append(
    sender: User,
    view: ConversationView,
    text: str,
    message_in: MessageIn,
    *,
    session: AsyncSession,
) -> tuple[Message, bool]:
    """Number and store the message and move the sender's side's read mark to it; (message,
    whether it is new). Senders in one conversation take turns on its row lock, so a retry
    racing the first try with the same client_id finds the stored message."""
    conversation, side = view.conversation, view.side
    await session.scalar(
        select(Conversation)
        .where(Conversation.id == conversation.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    existing = await _message_by_client_id(sender, message_in.client_id, session=session)
    if existing is not None:
        return _replayed(existing, conversation.id), False
    mark = Conversation.a_read_seq if side == domain.SIDE_A else Conversation.b_read_seq
    seq = await session.scalar(
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(
            {
                Conversation.last_seq: Conversation.last_seq + 1,
                mark: Conversation.last_seq + 1,
                Conversation.last_message_at: clock.now(),
                Conversation.last_preview: domain.preview(text),
                Conversation.last_sender_side: side,
            }
        )
        .returning(Conversation.last_seq)
        .execution_options(synchronize_session=False)
    )
    message_id = new_id()
    # ON CONFLICT DO NOTHING rather than a savepoint: SQLite's driver would commit the outer
    # transaction on releasing one.
    inserted = await session.execute(
        dialect_insert(session, Message)
        .values(
            id=message_id,
            conversation_id=conversation.id,
            seq=int(seq or 0),
            sender_id=sender.id,
            sender_side=side,
            text=text,
            product_id=message_in.product_id,
            order_id=message_in.order_id,
            client_id=message_in.client_id,
            created_at=clock.now(),
        )
        .on_conflict_do_nothing()
    )
    if cast(CursorResult[Any], inserted).rowcount != 1:
        # The same client_id, sent at this very moment into another conversation.
        raise Conflict("That message is already being sent.", code="client_id_in_flight")
    await session.refresh(conversation)
    message = await session.get(Message, message_id)
    assert message is not None
    return message, True


async def _recipients(
    view: ConversationView, sender: User, *, session: AsyncSession
) -> list[uuid.UUID]:
    conversation = view.conversation
    if view.side == domain.SIDE_B:
        return [conversation.user_id]
    if conversation.other_user_id is not None:
        return [conversation.other_user_id]
    if view.shop is None:
        return []
    staff = await shops.list_staff(view.shop, session=session)
    return [member.user_id for member, _ in staff if member.user_id != sender.id]


async def _notify(
    view: ConversationView, sender: User, text: str, *, session: AsyncSession
) -> None:
    """One unread "new messages" notification per conversation and recipient, never more."""
    link = inbox_link(view.conversation.id)
    who = view.as_shop.name if view.as_shop else sender.display_name
    for user_id in await _recipients(view, sender, session=session):
        if await notifications.has_unread(
            user_id, kind=domain.NOTIFICATION_KIND, link=link, session=session
        ):
            continue
        await notifications.notify(
            user_id,
            kind=domain.NOTIFICATION_KIND,
            title=f"New messages from {who}",
            body=domain.preview(text),
            link=link,
            session=session,
        )


async def _send(
    sender: User,
    view: ConversationView,
    message_in: MessageIn,
    *,
    text: str | None = None,
    session: AsyncSession,
) -> Message:
    """Check (unless `text` is the already checked text), store, and tell the other side."""
    conversation = view.conversation
    if text is None:
        text = await _checked_text(
            sender,
            message_in,
            person_id=conversation.user_id,
            shop_id=conversation.shop_id,
            session=session,
        )
    message, is_new = await _append(sender, view, text, message_in, session=session)
    if is_new:
        await _notify(view, sender, text, session=session)
    return message


def _refuse_if(facts: domain.Facts) -> None:
    refused = domain.refusal(facts)
    if refused is None:
        return
    status, code, message = refused
    if status == 403:
        raise Forbidden(message, code=code)
    raise ValidationFailed(message, code=code)


async def _conversation_with(
    sender: User, *, to_user: User | None, to_shop: Shop | None, session: AsyncSession
) -> Conversation:
    """The pair's conversation, made now if it has none (racing starts make exactly one)."""
    if to_user is not None:
        key = domain.person_pair_key(sender.id, to_user.id)
    else:
        assert to_shop is not None
        key = domain.shop_pair_key(sender.id, to_shop.id)
    found = select(Conversation).where(Conversation.pair_key == key)
    conversation = await session.scalar(found)
    if conversation is not None:
        return conversation
    # The person who is always a person is side a: the sender, or the lower id of two people.
    person_id, other_id = sender.id, None
    if to_user is not None:
        person_id, other_id = sorted((sender.id, to_user.id))
    await session.execute(
        dialect_insert(session, Conversation)
        .values(
            id=new_id(),
            pair_key=key,
            user_id=person_id,
            other_user_id=other_id,
            shop_id=to_shop.id if to_shop is not None else None,
            last_seq=0,
            a_read_seq=0,
            b_read_seq=0,
            last_message_at=clock.now(),
            last_preview="",
            last_sender_side=domain.SIDE_A,
            created_at=clock.now(),
        )
        .on_conflict_do_nothing(index_elements=["pair_key"])
    )
    # Made now, or by a request racing this one (which this INSERT waited for).
    conversation = await session.scalar(found.execution_options(populate_existing=True))
    if conversation is None:  # pragma: no cover - the row exists after the insert
        raise not_found()
    return conversation


async def start_conversation(
    sender: User,
    *,
    to_user: User | None,
    to_shop: Shop | None,
    message_in: MessageIn,
    session: AsyncSession,
) -> tuple[ConversationView, Message]:
    """Send a first message to a person or a shop, reusing the conversation the pair has."""
    if (to_user is None) == (to_shop is None):
        raise ValidationFailed.field("to", "Say who the message is for: a person or a shop.")
    if to_user is not None:
        to_self = to_user.id == sender.id
        facts = domain.Facts(
            to_self=to_self,
            blocked=await blocked_from_starting(
                sender.id, to_user=to_user, to_shop=None, session=session
            ),
            shop_suspended=False,
        )
    else:
        assert to_shop is not None
        to_own_shop = await shops.is_shop_staff(sender.id, to_shop.id, session=session)
        facts = domain.Facts(
            to_self=to_own_shop,
            blocked=await blocked_from_starting(
                sender.id, to_user=None, to_shop=to_shop, session=session
            ),
            shop_suspended=to_shop.status != "active",
        )
    _refuse_if(facts)
    existing = await _message_by_client_id(sender, message_in.client_id, session=session)
    # Checked before the conversation is made, so a refused first message leaves nothing.
    text = (
        ""
        if existing is not None
        else await _checked_text(
            sender,
            message_in,
            person_id=sender.id,
            shop_id=to_shop.id if to_shop is not None else None,
            session=session,
        )
    )
    conversation = await _conversation_with(
        sender, to_user=to_user, to_shop=to_shop, session=session
    )
    side = await side_of(sender, conversation, session=session)
    view = await view_of(conversation, side, session=session)
    if existing is not None:
        return view, _replayed(existing, conversation.id)
    return view, await _send(sender, view, message_in, text=text, session=session)


async def send_message(
    sender: User, conversation_id: uuid.UUID, message_in: MessageIn, *, session: AsyncSession
) -> tuple[ConversationView, Message]:
    """Send a message in a conversation the sender takes part in (404 otherwise; 403 when a
    block stands between the two people, or the shop written to is suspended)."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        raise not_found()
    side = await side_of(sender, conversation, session=session)
    view = await view_of(conversation, side, session=session)
    _refuse_if(
        domain.Facts(
            to_self=False,
            blocked=await blocked_from_writing(sender.id, view, session=session),
            shop_suspended=view.as_shop is None
            and view.shop is not None
            and view.shop.status != "active",
        )
    )
    existing = await _message_by_client_id(sender, message_in.client_id, session=session)
    if existing is not None:
        return view, _replayed(existing, conversation.id)
    return view, await _send(sender, view, message_in, session=session)
