"""Affiliate tables (prefixed affiliate_): collaborations shops open, the creators they invite,
rates locked on tags, commissions with their evidence, showcases and free samples. Money is
integer minor units in the commission's `currency`; rates are basis points."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clipcart.core import clock
from clipcart.core.db import Base, IdMixin, TimestampMixin


class Collaboration(IdMixin, TimestampMixin, Base):
    """A shop's product opened to creators: to all (open) or to invited ones (targeted)."""

    __tablename__ = "affiliate_collaborations"

    shop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("catalog_products.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(12))  # open, targeted
    rate_bp: Mapped[int]
    status: Mapped[str] = mapped_column(String(12))  # active, paused
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    __table_args__ = (
        Index("ix_affiliate_collaborations_shop_status", "shop_id", "status"),
        CheckConstraint("rate_bp > 0 AND rate_bp <= 10000", name="rate_range"),
    )


class Invitation(Base):
    """A creator invited to a targeted collaboration, at their own rate."""

    __tablename__ = "affiliate_invitations"

    collaboration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("affiliate_collaborations.id", ondelete="CASCADE"), primary_key=True
    )
    creator_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    rate_bp: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class TagLock(IdMixin, TimestampMixin, Base):
    """The commission rate a creator's video earns on another shop's product, locked when the
    product was tagged, until `locked_until`."""

    __tablename__ = "affiliate_tag_locks"

    video_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("media_videos.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("catalog_products.id", ondelete="CASCADE")
    )
    creator_id: Mapped[uuid.UUID] = mapped_column(index=True)
    collaboration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("affiliate_collaborations.id", ondelete="CASCADE")
    )
    rate_bp: Mapped[int]
    locked_until: Mapped[datetime]

    __table_args__ = (UniqueConstraint("video_id", "product_id"),)


class Commission(IdMixin, TimestampMixin, Base):
    """What one order line earns a creator, with the evidence (which event, when)."""

    __tablename__ = "affiliate_commissions"

    # No foreign keys to commerce: the row is written while the order is being placed, and
    # it is the creator's record of a sale, read softly like the event log.
    order_id: Mapped[uuid.UUID] = mapped_column(index=True)
    order_line_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    order_number: Mapped[str] = mapped_column(String(20))
    shop_id: Mapped[uuid.UUID] = mapped_column(index=True)
    product_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    product_title: Mapped[str] = mapped_column(String(255))
    creator_id: Mapped[uuid.UUID] = mapped_column(index=True)
    collaboration_id: Mapped[uuid.UUID | None]
    currency: Mapped[str] = mapped_column(String(3))
    line_total: Mapped[int] = mapped_column(BigInteger)
    net_amount: Mapped[int] = mapped_column(BigInteger)
    rate_bp: Mapped[int]
    amount: Mapped[int] = mapped_column(BigInteger)
    clawed_back: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(20))
    source_kind: Mapped[str] = mapped_column(String(16))
    source_video_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    source_event_id: Mapped[uuid.UUID | None]
    source_at: Mapped[datetime | None]
    available_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    __table_args__ = (
        Index("ix_affiliate_commissions_creator_created", "creator_id", "created_at"),
        CheckConstraint(
            "amount >= 0 AND amount <= net_amount AND clawed_back >= 0 AND clawed_back <= amount",
            name="amounts",
        ),
    )


class ShowcaseItem(Base):
    """A product a creator added to their showcase by hand."""

    __tablename__ = "affiliate_showcase_items"

    creator_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("catalog_products.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class SampleRequest(IdMixin, TimestampMixin, Base):
    """A creator asking a shop for a free sample; approved, it obliges a post in 14 days."""

    __tablename__ = "affiliate_samples"

    shop_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("catalog_products.id", ondelete="CASCADE")
    )
    creator_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(12))
    message: Mapped[str] = mapped_column(String(500), default="")
    decided_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]
    fulfilled_at: Mapped[datetime | None]
    fulfilled_video_id: Mapped[uuid.UUID | None]
    missed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    __table_args__ = (Index("ix_affiliate_samples_status_due", "status", "due_at"),)
