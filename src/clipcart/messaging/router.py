"""Messaging API under /api/v1 (thin): conversations with people and shops, their messages,
read marks and the unread count."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request

from clipcart.accounts.dependencies import CurrentUser
from clipcart.core.routing import DbSession, make_router
from clipcart.messaging import access, presenting, service
from clipcart.messaging.schemas import (
    ConversationDetailOut,
    ConversationPage,
    ConversationStartedOut,
    ConversationStartIn,
    MessageIn,
    MessageOut,
    ReadOut,
    UnreadMessagesOut,
)

router = make_router(prefix="/api/v1", tags=["messaging"])
Limit = Annotated[int | None, Query(ge=1, le=100)]


@router.get("/conversations")
async def list_conversations(
    user: CurrentUser,
    db: DbSession,
    shop: Annotated[str | None, Query(max_length=100)] = None,
    cursor: str | None = None,
    limit: Limit = None,
) -> ConversationPage:
    """Your conversations, newest activity first; with `shop`, that shop's inbox (its staff)."""
    inbox = await service.get_shop_inbox(user, shop, session=db) if shop else None
    views, next_cursor = await service.list_conversations(
        user, shop=inbox, cursor=cursor, limit=limit, session=db
    )
    return ConversationPage(
        items=await presenting.conversations_out(user.id, views, session=db),
        next_cursor=next_cursor,
    )


@router.post("/conversations", status_code=201)
async def start_conversation(
    data: ConversationStartIn, request: Request, user: CurrentUser, db: DbSession
) -> ConversationStartedOut:
    """Send a first message to a person (`to`) or a shop (`shop`); the pair's conversation is
    reused when it exists."""
    await service.check_send_rate(user.id, limiter=request.app.state.rate_limiter)
    to_user = await service.get_person(data.to, session=db) if data.to else None
    to_shop = await service.get_shop(data.shop, session=db) if data.shop else None
    view, message = await service.start_conversation(
        user, to_user=to_user, to_shop=to_shop, message_in=data, session=db
    )
    [message_out] = await presenting.messages_out(view, [message], session=db)
    return ConversationStartedOut(
        conversation=presenting.conversation_out(view), message=message_out
    )


@router.get("/conversations/{conversation_id}")
async def get_conversation(
    conversation_id: uuid.UUID,
    user: CurrentUser,
    db: DbSession,
    cursor: str | None = None,
    limit: Limit = None,
) -> ConversationDetailOut:
    """A conversation with its newest messages first (older ones by `cursor`); opening it
    marks it read for your side."""
    view = await service.get_conversation_for(user, conversation_id, session=db)
    await service.mark_read(user, view, session=db)
    messages, next_cursor = await service.list_messages(
        view, cursor=cursor, limit=limit, session=db
    )
    blocked = await access.blocked_from_writing(user.id, view, session=db)
    return ConversationDetailOut(
        **presenting.conversation_out(view, blocked=blocked).model_dump(),
        messages=await presenting.messages_out(view, messages, session=db),
        next_cursor=next_cursor,
    )


@router.post("/conversations/{conversation_id}/messages", status_code=201)
async def send_message(
    conversation_id: uuid.UUID,
    data: MessageIn,
    request: Request,
    user: CurrentUser,
    db: DbSession,
) -> MessageOut:
    """Send a message in one of your conversations (or your shop's)."""
    await service.check_send_rate(user.id, limiter=request.app.state.rate_limiter)
    view, message = await service.send_message(user, conversation_id, data, session=db)
    [message_out] = await presenting.messages_out(view, [message], session=db)
    return message_out


@router.post("/conversations/{conversation_id}/read")
async def read_conversation(
    conversation_id: uuid.UUID, user: CurrentUser, db: DbSession
) -> ReadOut:
    """Mark the conversation read for your side."""
    view = await service.get_conversation_for(user, conversation_id, session=db)
    await service.mark_read(user, view, session=db)
    return ReadOut(unread=view.unread)


@router.get("/me/unread-messages")
async def unread_messages(user: CurrentUser, db: DbSession) -> UnreadMessagesOut:
    """How many messages wait unread for you and the shops you work for (the header badge)."""
    return UnreadMessagesOut(unread=await service.unread_total(user, session=db))
