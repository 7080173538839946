"""Cart, checkout and order inputs and outputs. Amounts are MoneyOut (minor units, currency,
formatted)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from clipcart.commerce.promotion_schemas import AddressIn
from clipcart.shops.schemas import MoneyOut

MAX_QUANTITY = 999


class SourceIn(BaseModel):
    """Where the buyer came from: a video, a live room, a share link or a creator's showcase
    (`showcase_id`: the creator whose profile it was; all optional)."""

    video_id: uuid.UUID | None = None
    live_id: uuid.UUID | None = None
    share_code: str | None = Field(default=None, max_length=16)
    showcase_id: uuid.UUID | None = None

    def as_dict(self) -> dict[str, str]:
        """The non-empty fields as strings (CartItem.source)."""
        return {key: str(value) for key, value in self.model_dump().items() if value}


class CartItemIn(BaseModel):
    variant_id: uuid.UUID
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)
    source: SourceIn | None = None


class CartItemUpdateIn(BaseModel):
    quantity: int | None = Field(default=None, ge=1, le=MAX_QUANTITY)
    saved_for_later: bool | None = None


class ShopRefOut(BaseModel):
    id: uuid.UUID
    handle: str
    name: str


class CartItemOut(BaseModel):
    id: uuid.UUID
    variant_id: uuid.UUID
    product_id: uuid.UUID
    shop: ShopRefOut
    product_title: str
    variant_title: str
    image_url: str | None
    unit_price: MoneyOut
    regular_price: MoneyOut
    flash_deal: bool
    quantity: int
    stock_left: int
    line_total: MoneyOut
    saved_for_later: bool
    available: bool = Field(description="False when the product can no longer be bought")
    problem: str | None = Field(default=None, description="Why it cannot be checked out as is")


class CartShopOut(BaseModel):
    shop: ShopRefOut
    items: list[CartItemOut]
    subtotal: MoneyOut


class CartOut(BaseModel):
    shops: list[CartShopOut]
    saved_for_later: list[CartItemOut]
    item_count: int = Field(description="Units in the cart, not counting saved ones")
    subtotal: MoneyOut | None


class CheckoutItemIn(BaseModel):
    variant_id: uuid.UUID
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)
    source: SourceIn | None = None


class QuoteIn(BaseModel):
    """What to price: `items` (null: the cart's items not saved for later), where to ship
    (a saved address, an inline one, or the default) and coupon codes."""

    items: list[CheckoutItemIn] | None = Field(default=None, max_length=100)
    address_id: uuid.UUID | None = None
    address: AddressIn | None = None
    coupon_codes: list[str] = Field(default_factory=list, max_length=5)
    payment_method: str | None = Field(default=None, max_length=64)


class CheckoutIn(QuoteIn):
    """Place the orders: the quote's fields plus the grand total the buyer saw."""

    expected_total: int = Field(description="The grand total shown to the buyer (minor units)")


class QuoteLineOut(BaseModel):
    variant_id: uuid.UUID
    product_id: uuid.UUID
    title: str
    variant_title: str
    image_url: str | None
    unit_price: MoneyOut
    regular_price: MoneyOut
    flash_deal_id: uuid.UUID | None
    quantity: int
    subtotal: MoneyOut
    discount: MoneyOut
    tax: MoneyOut
    total: MoneyOut


class CouponUseOut(BaseModel):
    code: str
    amount: MoneyOut


class ShopQuoteOut(BaseModel):
    shop: ShopRefOut
    currency: str
    lines: list[QuoteLineOut]
    subtotal: MoneyOut
    shipping: MoneyOut
    discount: MoneyOut
    tax: MoneyOut
    tax_name: str | None
    tax_included: bool
    total: MoneyOut
    coupons: list[CouponUseOut]


class PaymentMethodRefOut(BaseModel):
    token: str
    brand: str
    last4: str


class QuoteOut(BaseModel):
    shops: list[ShopQuoteOut]
    currency: str
    grand_total: MoneyOut
    missing: list[str] = Field(
        description="What the buyer still has to give: address, payment_method"
    )
    ship_to: dict[str, str] | None
    payment_method: PaymentMethodRefOut | None


class OrderLineOut(BaseModel):
    id: uuid.UUID
    variant_id: uuid.UUID | None
    product_id: uuid.UUID | None
    title: str
    variant_title: str
    sku: str | None
    unit_price: MoneyOut
    quantity: int
    discount: MoneyOut
    tax: MoneyOut
    total: MoneyOut
    refunded: MoneyOut
    source_kind: str
    source_video_id: uuid.UUID | None
    source_live_id: uuid.UUID | None
    source_creator_id: uuid.UUID | None


class OrderEventOut(BaseModel):
    from_status: str | None
    to_status: str
    label: str
    note: str
    actor_id: uuid.UUID | None
    at: datetime


class PaymentStatusOut(BaseModel):
    intent_id: uuid.UUID
    status: str
    failure_message: str | None


class TrackingOut(BaseModel):
    carrier: str
    tracking_number: str


class OrderSummaryOut(BaseModel):
    id: uuid.UUID
    number: str
    checkout_id: uuid.UUID
    status: str
    status_label: str
    shop: ShopRefOut
    total: MoneyOut
    item_count: int
    first_item_title: str | None
    created_at: datetime
    reservation_expires_at: datetime | None


class OrderOut(OrderSummaryOut):
    buyer_id: uuid.UUID
    lines: list[OrderLineOut]
    subtotal: MoneyOut
    shipping: MoneyOut
    discount: MoneyOut
    tax: MoneyOut
    refunded: MoneyOut
    ship_to: dict[str, Any]
    timeline: list[OrderEventOut]
    payment: PaymentStatusOut | None
    tracking: TrackingOut | None
    cancel_reason: str
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None


class OrderPageOut(BaseModel):
    items: list[OrderSummaryOut]
    next_cursor: str | None


class CheckoutOut(BaseModel):
    checkout_id: uuid.UUID
    orders: list[OrderSummaryOut]
    total: MoneyOut


class PayIn(BaseModel):
    payment_method: str | None = Field(default=None, max_length=64)


class NextActionOut(BaseModel):
    intent_id: uuid.UUID
    instructions: str


class PayOrderOut(BaseModel):
    order_id: uuid.UUID
    number: str
    status: str
    status_label: str
    payment_status: str | None
    message: str | None = Field(default=None, description="Why the payment did not go through")
    requires_action: NextActionOut | None = None


class PayOut(BaseModel):
    checkout_id: uuid.UUID
    orders: list[PayOrderOut]
    all_paid: bool
