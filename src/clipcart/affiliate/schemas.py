"""What the affiliate API takes and gives: collaborations, offers, commissions, samples."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from clipcart.shops.schemas import MoneyOut


class InviteIn(BaseModel):
    """A creator invited to a targeted collaboration (rate_bp: their own rate)."""

    handle: str
    rate_bp: int | None = None


class CollaborationIn(BaseModel):
    """A product opened to creators."""

    product_id: uuid.UUID
    kind: Literal["open", "targeted"] = "open"
    rate_bp: int = Field(description="Commission in basis points (1200 = 12%)", examples=[1200])
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    creators: list[InviteIn] = Field(default_factory=list, max_length=200)
    note: str = Field(default="", max_length=500)


class CollaborationUpdateIn(BaseModel):
    """A change to a collaboration: a new rate (new tags only), pause or resume, a new end."""

    rate_bp: int | None = None
    status: Literal["active", "paused"] | None = None
    ends_at: datetime | None = None


class InvitationOut(BaseModel):
    """An invited creator and their rate."""

    creator_id: uuid.UUID
    rate_bp: int


class CollaborationOut(BaseModel):
    """A collaboration as its shop sees it."""

    id: uuid.UUID
    shop_id: uuid.UUID
    product_id: uuid.UUID
    kind: str
    rate_bp: int
    rate: str
    status: str
    live: bool
    starts_at: datetime
    ends_at: datetime | None
    invitations: list[InvitationOut] = Field(default_factory=list)


class OfferOut(BaseModel):
    """A product open to the current creator, at the rate they would earn."""

    collaboration_id: uuid.UUID
    product_id: uuid.UUID
    title: str
    shop_id: uuid.UUID
    shop_name: str
    shop_score: int | None  # the shop's fulfilment score in percent; None: too few orders yet
    category_id: int | None
    kind: str
    rate_bp: int
    rate: str
    price: MoneyOut | None
    commission_per_sale: MoneyOut | None
    sales: int
    in_showcase: bool
    url: str


class TagLockOut(BaseModel):
    """The rate locked on a tag."""

    video_id: uuid.UUID
    product_id: uuid.UUID
    rate_bp: int
    locked_until: datetime


class CommissionOut(BaseModel):
    """A commission with its evidence: which event or source, and when."""

    id: uuid.UUID
    order_id: uuid.UUID
    order_number: str
    order_line_id: uuid.UUID
    product_id: uuid.UUID | None
    product_title: str
    shop_id: uuid.UUID
    creator_id: uuid.UUID
    rate_bp: int
    net_amount: MoneyOut
    amount: MoneyOut
    clawed_back: MoneyOut
    earned: MoneyOut
    status: str
    source_kind: str
    source_video_id: uuid.UUID | None
    source_event_id: uuid.UUID | None
    source_at: datetime | None
    created_at: datetime
    available_at: datetime | None


class SampleIn(BaseModel):
    """A free sample asked for."""

    product_id: uuid.UUID
    message: str = Field(default="", max_length=500)


class SampleDecisionIn(BaseModel):
    """The shop's answer to a sample request."""

    approve: bool


class SampleOut(BaseModel):
    """A sample request and where it stands (due_at: the creator's deadline to post)."""

    id: uuid.UUID
    product_id: uuid.UUID
    shop_id: uuid.UUID
    creator_id: uuid.UUID
    status: str
    message: str
    created_at: datetime
    decided_at: datetime | None
    due_at: datetime | None
    fulfilled_at: datetime | None
    fulfilled_video_id: uuid.UUID | None
    missed_at: datetime | None


class ShowcaseIn(BaseModel):
    """A product to add to the creator's showcase."""

    product_id: uuid.UUID
