"""Shop tables: shops and their staff."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clipcart.core import clock
from clipcart.core.db import Base, IdMixin, TimestampMixin
from clipcart.shops.domain import STAFF_ROLES

_STAFF_ROLE_LIST = ", ".join(f"'{role}'" for role in STAFF_ROLES)


class Shop(IdMixin, TimestampMixin, Base):
    """A storefront with an @handle, a currency and a shipping profile."""

    __tablename__ = "shops"

    handle: Mapped[str] = mapped_column(String(30), unique=True)  # stored lower case
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    logo_key: Mapped[str | None] = mapped_column(String(64), default=None)
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    return_policy: Mapped[str] = mapped_column(Text, default="")
    shipping_flat_rate: Mapped[int] = mapped_column(BigInteger, default=0)
    free_shipping_threshold: Mapped[int | None] = mapped_column(BigInteger, default=None)
    processing_days: Mapped[int] = mapped_column(default=2)
    # "active" or "suspended" (by a moderator): a suspended shop's products are not sold or shown
    status: Mapped[str] = mapped_column(String(12), default="active", server_default="active")
    # Orders kept on time, in percent (shops.domain.fulfilment_score; None: too few orders),
    # and how many orders it was judged on; refreshed by a commerce job.
    fulfilment_score: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    fulfilment_orders: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (
        CheckConstraint("handle = lower(handle)", name="handle_lower_case"),
        CheckConstraint("shipping_flat_rate >= 0", name="shipping_flat_rate_not_negative"),
        CheckConstraint(
            "free_shipping_threshold IS NULL OR free_shipping_threshold >= 0",
            name="free_shipping_threshold_not_negative",
        ),
        CheckConstraint("processing_days BETWEEN 0 AND 60", name="processing_days_range"),
    )


class ShopStaff(Base):
    """One user working for one shop, with one role."""

    __tablename__ = "shop_staff"

    shop_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    added_at: Mapped[datetime] = mapped_column(default=clock.now)

    __table_args__ = (CheckConstraint(f"role IN ({_STAFF_ROLE_LIST})", name="role_known"),)
