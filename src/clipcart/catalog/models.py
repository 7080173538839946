"""Catalogue tables: products, variants, images and the stock movement log."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clipcart.catalog.domain import PRODUCT_STATUSES, STOCK_REASONS
from clipcart.core import clock
from clipcart.core.db import Base, IdMixin, TimestampMixin
from clipcart.shops.models import Shop

_STATUS_LIST = ", ".join(f"'{status}'" for status in PRODUCT_STATUSES)
_REASON_LIST = ", ".join(f"'{reason}'" for reason in STOCK_REASONS)


class Product(IdMixin, TimestampMixin, Base):
    """A product of one shop; what is bought is one of its variants."""

    __tablename__ = "catalog_products"

    shop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    handle: Mapped[str] = mapped_column(String(255))  # Shopify's "Handle", unique per shop
    title: Mapped[str] = mapped_column(String(255))
    description_html: Mapped[str] = mapped_column(Text, default="")  # sanitised on the way in
    vendor: Mapped[str] = mapped_column(String(255), default="")
    product_type: Mapped[str] = mapped_column(String(255), default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    category_id: Mapped[int | None] = mapped_column(default=None, index=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    options: Mapped[list[str]] = mapped_column(JSON, default=list)  # option names, in order
    # At most this many per buyer across their orders (None: only stock limits it).
    max_per_buyer: Mapped[int | None] = mapped_column(default=None)
    currency: Mapped[str] = mapped_column(String(3))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    shop: Mapped[Shop] = relationship(lazy="joined", innerjoin=True)
    variants: Mapped[list[Variant]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Variant.position",
        back_populates="product",
    )
    images: Mapped[list[ProductImage]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ProductImage.position",
    )

    __table_args__ = (
        UniqueConstraint("shop_id", "handle"),
        CheckConstraint(f"status IN ({_STATUS_LIST})", name="status_known"),
        Index("ix_catalog_products_status_created", "status", "created_at", "id"),
    )


class Variant(IdMixin, TimestampMixin, Base):
    """One buyable combination of option values, with its own SKU, price and stock."""

    __tablename__ = "catalog_variants"

    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("catalog_products.id", ondelete="CASCADE"), index=True
    )
    shop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    sku: Mapped[str | None] = mapped_column(String(100), default=None)
    option_values: Mapped[list[str]] = mapped_column(JSON, default=list)
    price: Mapped[int] = mapped_column(BigInteger)  # minor units of the product's currency
    compare_at_price: Mapped[int | None] = mapped_column(BigInteger, default=None)
    weight_grams: Mapped[int] = mapped_column(default=0)
    stock: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship(back_populates="variants", lazy="raise")

    __table_args__ = (
        UniqueConstraint("shop_id", "sku"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint(
            "compare_at_price IS NULL OR compare_at_price >= 0", name="compare_at_not_negative"
        ),
        CheckConstraint("weight_grams >= 0", name="weight_not_negative"),
    )


class ProductImage(IdMixin, TimestampMixin, Base):
    """A product picture, stored re-encoded at several sizes under one random key."""

    __tablename__ = "catalog_product_images"

    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("catalog_products.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    alt: Mapped[str] = mapped_column(String(255), default="")


class StockMovement(IdMixin, TimestampMixin, Base):
    """One change of one variant's stock and why; the log is never rewritten."""

    __tablename__ = "catalog_stock_movements"

    # The log outlives a removed variant (its last movement takes the stock to zero).
    variant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("catalog_variants.id", ondelete="SET NULL"), index=True
    )
    shop_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("shops.id", ondelete="CASCADE"), index=True
    )
    delta: Mapped[int] = mapped_column()
    quantity_after: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(500), default="")
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )

    __table_args__ = (
        CheckConstraint(f"reason IN ({_REASON_LIST})", name="reason_known"),
        CheckConstraint("quantity_after >= 0", name="quantity_after_not_negative"),
    )
