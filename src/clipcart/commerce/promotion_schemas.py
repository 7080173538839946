"""Inputs and outputs of the address book, coupons, flash deals and tax rates. Amounts are
integer minor units; percent coupon values and tax rates are basis points (1000 = 10%)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from clipcart.commerce.address_rules import country_name
from clipcart.commerce.models import Address
from clipcart.commerce.promotion_models import Coupon, FlashDeal, TaxRate
from clipcart.core.money import Money


class AddressIn(BaseModel):
    """A shipping address; what is required depends on the country."""

    name: str = Field(default="", max_length=300)
    line1: str = Field(default="", max_length=500)
    line2: str = Field(default="", max_length=500)
    city: str = Field(default="", max_length=300)
    region: str = Field(default="", max_length=300, description="State, county or province")
    postal_code: str = Field(default="", max_length=60)
    country: str = Field(default="", max_length=10, description="ISO 3166 alpha-2", examples=["US"])
    phone: str = Field(default="", max_length=100)
    is_default: bool = False


class AddressUpdateIn(BaseModel):
    """Fields to change; those left out stay as they are."""

    name: str | None = Field(default=None, max_length=300)
    line1: str | None = Field(default=None, max_length=500)
    line2: str | None = Field(default=None, max_length=500)
    city: str | None = Field(default=None, max_length=300)
    region: str | None = Field(default=None, max_length=300)
    postal_code: str | None = Field(default=None, max_length=60)
    country: str | None = Field(default=None, max_length=10)
    phone: str | None = Field(default=None, max_length=100)
    is_default: bool | None = None


class AddressOut(BaseModel):
    id: uuid.UUID
    name: str
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str
    country_name: str
    phone: str
    is_default: bool
    created_at: datetime

    @classmethod
    def of(cls, address: Address) -> AddressOut:
        return cls(
            id=address.id,
            name=address.name,
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            region=address.region,
            postal_code=address.postal_code,
            country=address.country,
            country_name=country_name(address.country),
            phone=address.phone,
            is_default=address.is_default,
            created_at=address.created_at,
        )


class CouponIn(BaseModel):
    """A new coupon. percent: `value` in basis points (1000 = 10%); fixed: minor units."""

    code: str = Field(max_length=60, examples=["SAVE10"])
    kind: str = Field(description="percent or fixed", examples=["percent"])
    value: int
    currency: str | None = Field(
        default=None, description="ISO 4217; a shop coupon always uses the shop's currency"
    )
    min_spend: int = 0
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    total_limit: int | None = None
    per_buyer_limit: int | None = None
    combinable: bool = True


def _amount(value: int, currency: str) -> dict[str, Any]:
    return {"amount": value, "currency": currency, "formatted": Money(value, currency).format()}


class CouponOut(BaseModel):
    id: uuid.UUID
    code: str
    shop_id: uuid.UUID | None
    kind: str
    value: int
    currency: str
    label: str = Field(description="What it takes off, for people: 10% or $5.00")
    min_spend: dict[str, Any]
    starts_at: datetime
    ends_at: datetime | None
    total_limit: int | None
    per_buyer_limit: int | None
    combinable: bool
    redeemed: int
    active: bool

    @classmethod
    def of(cls, coupon: Coupon) -> CouponOut:
        if coupon.kind == "percent":
            label = f"{coupon.value / 100:g}%"
        else:
            label = Money(coupon.value, coupon.currency).format()
        return cls(
            id=coupon.id,
            code=coupon.code,
            shop_id=coupon.shop_id,
            kind=coupon.kind,
            value=coupon.value,
            currency=coupon.currency,
            label=label,
            min_spend=_amount(coupon.min_spend, coupon.currency),
            starts_at=coupon.starts_at,
            ends_at=coupon.ends_at,
            total_limit=coupon.total_limit,
            per_buyer_limit=coupon.per_buyer_limit,
            combinable=coupon.combinable,
            redeemed=coupon.redeemed,
            active=coupon.active,
        )


class FlashDealIn(BaseModel):
    """A new flash deal on one of the shop's variants."""

    variant_id: uuid.UUID
    deal_price: int = Field(description="Minor units, below the variant's price")
    quantity: int = Field(description="Units offered at the deal price (at most the stock)")
    per_buyer_limit: int | None = None
    starts_at: datetime | None = Field(default=None, description="Default: now")
    ends_at: datetime


class FlashDealOut(BaseModel):
    id: uuid.UUID
    shop_id: uuid.UUID
    variant_id: uuid.UUID
    deal_price: int
    quantity: int
    sold: int
    remaining: int
    per_buyer_limit: int | None
    starts_at: datetime
    ends_at: datetime
    cancelled: bool
    status: str = Field(description="scheduled, live, sold_out, ended or cancelled")

    @classmethod
    def of(cls, deal: FlashDeal, status: str) -> FlashDealOut:
        return cls(
            id=deal.id,
            shop_id=deal.shop_id,
            variant_id=deal.variant_id,
            deal_price=deal.deal_price,
            quantity=deal.quantity,
            sold=deal.sold,
            remaining=max(deal.quantity - deal.sold, 0),
            per_buyer_limit=deal.per_buyer_limit,
            starts_at=deal.starts_at,
            ends_at=deal.ends_at,
            cancelled=deal.cancelled,
            status=status,
        )


class TaxRateIn(BaseModel):
    """A tax rate for a country, or one region of it (region '' = the whole country)."""

    country: str = Field(max_length=10, examples=["US"])
    region: str = Field(default="", max_length=100, examples=["CA"])
    rate_bp: int = Field(description="Basis points: 725 = 7.25%")
    name: str = Field(default="Tax", max_length=80)
    included_in_price: bool = False


class TaxRateOut(BaseModel):
    id: uuid.UUID
    country: str
    region: str
    rate_bp: int
    rate_percent: str
    name: str
    included_in_price: bool

    @classmethod
    def of(cls, rate: TaxRate) -> TaxRateOut:
        return cls(
            id=rate.id,
            country=rate.country,
            region=rate.region,
            rate_bp=rate.rate_bp,
            rate_percent=f"{rate.rate_bp / 100:g}%",
            name=rate.name,
            included_in_price=rate.included_in_price,
        )
