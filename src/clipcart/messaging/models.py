"""Messaging tables (prefixed messaging_): conversations and their messages."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clipcart.core import clock
from clipcart.core.db import Base, IdMixin, TimestampMixin


class Conversation(IdMixin, TimestampMixin, Base):
    """One conversation between a person (side a) and another person or a shop (side b).

    Messages are numbered 1, 2, ... in `last_seq`; each side's read mark is the number of the
    last message it has read, so its unread count is `last_seq - read_seq` (sending a message
    moves the sender's side's mark to it)."""

    __tablename__ = "messaging_conversations"

    # "u:<low id>:<high id>" or "s:<shop id>:<person id>": one conversation per pair.
    pair_key: Mapped[str] = mapped_column(String(90), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    other_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    shop_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), index=True
    )
    last_seq: Mapped[int] = mapped_column(default=0)
    a_read_seq: Mapped[int] = mapped_column(default=0)
    b_read_seq: Mapped[int] = mapped_column(default=0)
    last_message_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_preview: Mapped[str] = mapped_column(String(200), default="")
    last_sender_side: Mapped[str] = mapped_column(String(1), default="a")

    __table_args__ = (
        CheckConstraint("(other_user_id IS NULL) <> (shop_id IS NULL)", name="person_or_shop"),
        CheckConstraint("other_user_id IS NULL OR other_user_id <> user_id", name="not_self"),
        CheckConstraint(
            "a_read_seq >= 0 AND b_read_seq >= 0 AND a_read_seq <= last_seq "
            "AND b_read_seq <= last_seq",
            name="read_marks",
        ),
        Index("ix_messaging_conversations_last_message_at", "last_message_at"),
    )


class Message(IdMixin, TimestampMixin, Base):
    """One message, written by a person (for the shop side: a staff member as the shop)."""

    __tablename__ = "messaging_messages"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("messaging_conversations.id", ondelete="CASCADE")
    )
    seq: Mapped[int]
    sender_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    sender_side: Mapped[str] = mapped_column(String(1))
    text: Mapped[str] = mapped_column(Text)
    product_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("catalog_products.id", ondelete="SET NULL")
    )
    order_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("commerce_orders.id", ondelete="SET NULL")
    )
    # Chosen by the sender's app: sending again with the same one returns the same message.
    client_id: Mapped[uuid.UUID | None]

    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        UniqueConstraint("sender_id", "client_id"),
        CheckConstraint("sender_side IN ('a', 'b')", name="side_known"),
        CheckConstraint("seq > 0", name="seq_positive"),
    )
