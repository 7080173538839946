"""Messaging API shapes (Pydantic in/out)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from clipcart.core.pagination import Page

# Far above the 2,000-character rule (checked on the cleaned text); only stops absurd bodies.
RAW_TEXT_MAX = 20_000


class MessageIn(BaseModel):
    """A message to send: its text, an optional product or order card, and the sender's own id
    for it (sending again with the same `client_id` returns the same message)."""

    text: str = Field(max_length=RAW_TEXT_MAX)
    product_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    client_id: uuid.UUID | None = None


class ConversationStartIn(MessageIn):
    """The first message to a person (`to`: "@handle") or a shop (`shop`: "handle")."""

    to: str | None = Field(default=None, max_length=200)
    shop: str | None = Field(default=None, max_length=200)


class PartyOut(BaseModel):
    """Who is on the other side: a person or a shop."""

    kind: str  # person | shop
    id: uuid.UUID
    handle: str
    name: str
    avatar_url: str | None
    url: str


class ProductCardOut(BaseModel):
    """A product shown in a message."""

    id: uuid.UUID
    title: str
    available: bool
    url: str


class OrderCardOut(BaseModel):
    """An order shown in a message (only its buyer and its shop's staff see it)."""

    id: uuid.UUID
    number: str
    status: str
    url: str


class MessageOut(BaseModel):
    """One message as the viewer sees it."""

    id: uuid.UUID
    seq: int
    text: str
    mine: bool  # sent by the viewer's side (for a shop: by any of its staff)
    sender_handle: str | None
    as_shop: bool
    product: ProductCardOut | None
    order: OrderCardOut | None
    client_id: uuid.UUID | None
    created_at: datetime


class ConversationOut(BaseModel):
    """A conversation in the list, from the viewer's side."""

    id: uuid.UUID
    other: PartyOut
    as_shop: str | None  # the handle of the shop the viewer answers as, if any
    last_message_preview: str
    last_message_mine: bool
    last_message_at: datetime
    unread: int
    can_send: bool


class ConversationPage(Page[ConversationOut]):
    """Conversations, newest activity first."""


class ConversationDetailOut(ConversationOut):
    """A conversation with a page of its messages, newest first."""

    messages: list[MessageOut]
    next_cursor: str | None


class ConversationStartedOut(BaseModel):
    """The conversation (new or reused) and the message just sent."""

    conversation: ConversationOut
    message: MessageOut


class ReadOut(BaseModel):
    """The viewer's side's unread count after marking read."""

    unread: int


class UnreadMessagesOut(BaseModel):
    """How many messages wait unread for the viewer (their own and their shops')."""

    unread: int
