"""In-app notifications (prefixed notifications_) and the log of emails sent."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clipcart.core.db import Base, IdMixin, TimestampMixin


class Notification(IdMixin, TimestampMixin, Base):
    """Something a person should know (an order shipped, a refund made), shown in the app."""

    __tablename__ = "notifications"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))  # order_placed, order_shipped, ...
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(300), default="")
    read_at: Mapped[datetime | None]
    # Emails are sent by a job after commit; this says whether it went (None: not yet / none).
    email_status: Mapped[str] = mapped_column(String(12), default="none")  # none queued sent failed

    __table_args__ = (Index("ix_notifications_user_created", "user_id", "created_at"),)
