"""Commerce tables (prefixed commerce_): carts, addresses, orders with their lines, timeline and
stock reservations, shipments and returns. Coupons, tax rates and flash deals live in
promotion_models.py. Money columns are integer minor units in the order's `currency`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from clipcart.core import clock
from clipcart.core.db import Base, IdMixin, TimestampMixin


def _user_fk() -> ForeignKey:
    return ForeignKey("users.id", ondelete="CASCADE")


class Cart(IdMixin, TimestampMixin, Base):
    """A signed-in buyer's cart, or a visitor's (keyed by the visitor cookie) until log-in."""

    __tablename__ = "commerce_carts"

    user_id: Mapped[uuid.UUID | None] = mapped_column(_user_fk(), unique=True)
    visitor_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (visitor_id IS NULL)", name="one_owner"),
    )


class CartItem(IdMixin, TimestampMixin, Base):
    """A variant in a cart; `saved_for_later` items are kept but not checked out."""

    __tablename__ = "commerce_cart_items"

    cart_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_carts.id", ondelete="CASCADE"), index=True
    )
    variant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("catalog_variants.id", ondelete="CASCADE")
    )
    product_id: Mapped[uuid.UUID]
    shop_id: Mapped[uuid.UUID]
    quantity: Mapped[int] = mapped_column(Integer)
    saved_for_later: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where the buyer came from when adding it (video, live room, link...): see OrderLine.
    source: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    __table_args__ = (
        UniqueConstraint("cart_id", "variant_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )


class Address(IdMixin, TimestampMixin, Base):
    """A buyer's saved shipping address, validated for its country when saved."""

    __tablename__ = "commerce_addresses"

    user_id: Mapped[uuid.UUID] = mapped_column(_user_fk(), index=True)
    name: Mapped[str] = mapped_column(String(100))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(100), default="")  # state, county, province
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str] = mapped_column(String(32), default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Order(IdMixin, TimestampMixin, Base):
    """One shop's part of a checkout: what was bought, what it cost, and where it stands."""

    __tablename__ = "commerce_orders"

    number: Mapped[str] = mapped_column(String(20), unique=True)  # shown to people
    checkout_id: Mapped[uuid.UUID] = mapped_column(index=True)  # orders placed together
    buyer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    shop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shops.id"))
    status: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(BigInteger)
    shipping: Mapped[int] = mapped_column(BigInteger, default=0)
    discount: Mapped[int] = mapped_column(BigInteger, default=0)
    tax: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger)
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    # A copy of the address at placing time: later edits to the address book do not move it.
    ship_to: Mapped[dict[str, Any]] = mapped_column(JSON)
    payment_intent_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)
    reservation_expires_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    carrier: Mapped[str] = mapped_column(String(40), default="")
    tracking_number: Mapped[str] = mapped_column(String(60), default="")
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    __table_args__ = (
        Index("ix_commerce_orders_shop_status_created", "shop_id", "status", "created_at"),
        Index("ix_commerce_orders_status_expires", "status", "reservation_expires_at"),
        CheckConstraint("total >= 0 AND refunded >= 0 AND refunded <= total", name="amounts"),
    )


class OrderLine(IdMixin, Base):
    """One variant in an order, priced as the buyer saw it, with what led to the purchase."""

    __tablename__ = "commerce_order_lines"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_orders.id", ondelete="CASCADE"), index=True
    )
    variant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("catalog_variants.id", ondelete="SET NULL")
    )
    product_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(String(255))
    variant_title: Mapped[str] = mapped_column(String(255), default="")
    sku: Mapped[str | None] = mapped_column(String(100))
    unit_price: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    discount: Mapped[int] = mapped_column(BigInteger, default=0)
    tax: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger)  # unit_price * quantity - discount + tax
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    flash_deal_id: Mapped[uuid.UUID | None]
    # Attribution for the affiliate program: the last touch before buying, from the events.
    source_kind: Mapped[str] = mapped_column(String(16), default="direct")
    source_video_id: Mapped[uuid.UUID | None]
    source_live_id: Mapped[uuid.UUID | None]
    source_creator_id: Mapped[uuid.UUID | None]
    source_event_id: Mapped[uuid.UUID | None]
    source_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("refunded >= 0 AND refunded <= total", name="refund_within_total"),
    )


class OrderEvent(IdMixin, TimestampMixin, Base):
    """The order's timeline: every status change, who made it and why (append-only)."""

    __tablename__ = "commerce_order_events"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_orders.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[uuid.UUID | None]  # None: the system (a job, a webhook)
    note: Mapped[str] = mapped_column(String(500), default="")


class StockReservation(IdMixin, TimestampMixin, Base):
    """Stock taken from a variant for an order line: held until paid (then committed) or
    released (payment failed, order cancelled, reservation expired). The variant's `stock`
    is what is left to sell, so stock + held + committed - restocked is conserved."""

    __tablename__ = "commerce_stock_reservations"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_orders.id", ondelete="CASCADE"), index=True
    )
    variant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("catalog_variants.id", ondelete="SET NULL"), index=True
    )
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))  # held, committed, released, returned
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class ReturnRequest(IdMixin, TimestampMixin, Base):
    """A buyer asking to send (part of) an order back, and what came of it."""

    __tablename__ = "commerce_returns"

    order_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_orders.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(12))  # requested approved rejected returned refunded
    reason: Mapped[str] = mapped_column(String(40))
    details: Mapped[str] = mapped_column(Text, default="")
    photo_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer_due_at: Mapped[datetime]  # approved automatically when the seller has not answered
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[uuid.UUID | None]  # None with a decision: approved automatically
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    amount: Mapped[int] = mapped_column(BigInteger)  # what will be refunded
    refunded_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    __table_args__ = (Index("ix_commerce_returns_status_due", "status", "answer_due_at"),)


class ReturnLine(Base):
    """How many of an order line a return sends back, and the money that goes with it."""

    __tablename__ = "commerce_return_lines"

    return_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_returns.id", ondelete="CASCADE"), primary_key=True
    )
    order_line_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("commerce_order_lines.id", ondelete="CASCADE"), primary_key=True
    )
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (CheckConstraint("quantity > 0 AND amount >= 0", name="positive"),)
