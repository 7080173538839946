"""Shop inputs and outputs. Amounts are integer minor units of the shop's currency."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from clipcart.core.money import Money
from clipcart.shops import domain
from clipcart.shops.models import Shop, ShopStaff


class MoneyOut(BaseModel):
    """An amount: integer minor units, its currency, and how a person reads it."""

    amount: int = Field(description="Minor units (cents)")
    currency: str
    formatted: str

    @classmethod
    def of(cls, money: Money) -> MoneyOut:
        return cls(amount=money.amount, currency=money.currency, formatted=money.format())


class ShopIn(BaseModel):
    """A new shop."""

    handle: str = Field(description="3-30 of a-z 0-9 _ . (the shop's @handle)", examples=["acme"])
    name: str = Field(description="1-80 characters", examples=["Acme Goods"])
    description: str = ""
    country: str = Field(description="ISO 3166 alpha-2", examples=["US"])
    currency: str = Field(description="ISO 4217", examples=["USD"])
    return_policy: str = ""
    shipping_flat_rate: int = Field(default=0, description="Minor units per order")
    free_shipping_threshold: int | None = Field(
        default=None, description="Orders from this amount (minor units) ship free"
    )
    processing_days: int = Field(default=2, description="Days to prepare an order (0-60)")


class ShopUpdateIn(BaseModel):
    """Shop settings; fields left out stay as they are (the currency is fixed)."""

    name: str | None = None
    description: str | None = None
    country: str | None = None
    return_policy: str | None = None
    shipping_flat_rate: int | None = None
    free_shipping_threshold: int | None = None
    clear_free_shipping_threshold: bool = False
    processing_days: int | None = None


class ShippingProfileOut(BaseModel):
    flat_rate: MoneyOut
    free_shipping_threshold: MoneyOut | None
    processing_days: int


class ShopOut(BaseModel):
    """A shop as anyone sees it."""

    id: uuid.UUID
    handle: str
    name: str
    description: str
    country: str
    currency: str
    return_policy: str
    logo_url: str | None
    shipping: ShippingProfileOut
    created_at: datetime
    status: str = "active"

    @classmethod
    def of(cls, shop: Shop) -> ShopOut:
        threshold = shop.free_shipping_threshold
        return cls(
            id=shop.id,
            handle=shop.handle,
            name=shop.name,
            status=shop.status,
            description=shop.description,
            country=shop.country,
            currency=shop.currency,
            return_policy=shop.return_policy,
            logo_url=domain.logo_url(shop.logo_key, 256),
            shipping=ShippingProfileOut(
                flat_rate=MoneyOut.of(Money(shop.shipping_flat_rate, shop.currency)),
                free_shipping_threshold=(
                    None if threshold is None else MoneyOut.of(Money(threshold, shop.currency))
                ),
                processing_days=shop.processing_days,
            ),
            created_at=shop.created_at,
        )


class StaffIn(BaseModel):
    """Someone to add to a shop's staff."""

    user_handle: str
    role: str = Field(description="manager or fulfilment")


class StaffOut(BaseModel):
    user_id: uuid.UUID
    user_handle: str
    role: str
    added_at: datetime

    @classmethod
    def of(cls, staff: ShopStaff, user_handle: str) -> StaffOut:
        return cls(
            user_id=staff.user_id, user_handle=user_handle, role=staff.role, added_at=staff.added_at
        )


def shop_summary(shop: Shop) -> dict[str, Any]:
    """A shop's logo, country and shipping terms, ready to show."""
    threshold = shop.free_shipping_threshold
    return {
        "logo": domain.logo_url(shop.logo_key, 256),
        "logo_small": domain.logo_url(shop.logo_key, 64),
        "country": domain.countries().get(shop.country, shop.country),
        "flat_rate": Money(shop.shipping_flat_rate, shop.currency).format(),
        "free_from": None if threshold is None else Money(threshold, shop.currency).format(),
        "free_shipping": shop.shipping_flat_rate == 0,
        "processing_days": shop.processing_days,
        "fulfilment_score": shop.fulfilment_score,
        "fulfilment_orders": shop.fulfilment_orders,
    }
