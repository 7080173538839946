"""Pricing tables (prefixed commerce_): coupons and their redemptions, the tax rate table and
flash deals."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from clipcart.core.db import Base, IdMixin, TimestampMixin


class Coupon(IdMixin, TimestampMixin, Base):
    """A discount code: a shop's (on that shop's order) or the platform's (`shop_id` None)."""

    __tablename__ = "commerce_coupons"

    code: Mapped[str] = mapped_column(String(40))  # stored upper case
    shop_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # percent, fixed
    # percent: basis points (1000 = 10%); fixed: minor units of `currency`.
    value: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    min_spend: Mapped[int] = mapped_column(BigInteger, default=0)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    total_limit: Mapped[int | None] = mapped_column(Integer)
    per_buyer_limit: Mapped[int | None] = mapped_column(Integer)
    # A combinable coupon may be used with one of the other kind (shop + platform).
    combinable: Mapped[bool] = mapped_column(Boolean, default=True)
    redeemed: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        # One code per shop, and one platform-wide code (NULL shop ids are distinct, so the
        # platform's uniqueness is checked by the service as well).
        UniqueConstraint("shop_id", "code"),
        CheckConstraint("value > 0", name="value_positive"),
        CheckConstraint("kind <> 'percent' OR value <= 10000", name="percent_at_most_100"),
        CheckConstraint(
            "total_limit IS NULL OR redeemed <= total_limit", name="redeemed_within_limit"
        ),
    )


class CouponRedemption(IdMixin, TimestampMixin, Base):
    """A coupon used on an order; released (and no longer counted) when the order is
    cancelled unpaid."""

    __tablename__ = "commerce_coupon_redemptions"

    coupon_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_coupons.id", ondelete="CASCADE"), index=True
    )
    buyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_orders.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[int] = mapped_column(BigInteger)
    released: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        UniqueConstraint("coupon_id", "order_id"),
        Index("ix_commerce_coupon_redemptions_coupon_buyer", "coupon_id", "buyer_id"),
    )


class TaxRate(IdMixin, Base):
    """A sales tax / VAT rate for a country, or for one region of it (`region` '' = all)."""

    __tablename__ = "commerce_tax_rates"

    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str] = mapped_column(String(100), default="")
    rate_bp: Mapped[int] = mapped_column(Integer)  # basis points: 2000 = 20%
    name: Mapped[str] = mapped_column(String(40), default="Tax")
    # VAT-style prices already include the tax (shown as "incl."); sales tax is added on top.
    included_in_price: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        UniqueConstraint("country", "region"),
        CheckConstraint("rate_bp >= 0 AND rate_bp <= 10000", name="rate_range"),
    )


class FlashDeal(IdMixin, TimestampMixin, Base):
    """A limited quantity of one variant at a deal price for a time window."""

    __tablename__ = "commerce_flash_deals"

    shop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    variant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("catalog_variants.id", ondelete="CASCADE"), index=True
    )
    deal_price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer, default=0)  # reserved or sold at the deal price
    per_buyer_limit: Mapped[int | None] = mapped_column(Integer)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        CheckConstraint("deal_price > 0 AND quantity > 0", name="positive"),
        CheckConstraint("sold >= 0 AND sold <= quantity", name="sold_within_quantity"),
        CheckConstraint("ends_at > starts_at", name="window"),
    )
