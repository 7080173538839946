"""Shared by the commerce benchmarks and the race test: a shop with one SKU, and many buyers
(each with a bearer token, a default address and a saved sandbox card) inserted in bulk —
thousands of sign-ups through argon2 would take minutes and measure nothing of checkout."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.domain import API_SCOPES
from clipcart.accounts.models import ApiToken, User, UserRole
from clipcart.core.ids import hash_token, new_id

CARD_SUCCESS = "4242424242424242"
# Everyone ships to the same Californian address: the same quote, the same expected total.
ADDRESS = {
    "name": "Bench Buyer",
    "line1": "1 Market Street",
    "line2": "",
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "94103",
    "country": "US",
    "phone": "",
}
BATCH = 1000


@dataclass(frozen=True)
class Buyer:
    """A buyer who can check out at once: the bearer token's secret, the saved card's token."""

    user_id: uuid.UUID
    token: str
    card_token: str
    address_id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        """The Authorization header of this buyer."""
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Stocked:
    """The shop, its product and its variants (`variant_id`: the first)."""

    seller_id: uuid.UUID
    shop_id: uuid.UUID
    shop_handle: str
    product_id: uuid.UUID
    variant_id: uuid.UUID
    price: int
    variant_ids: tuple[uuid.UUID, ...]


async def seed_shop(
    *,
    stock: int,
    price: int = 1500,
    variants: int = 1,
    handle: str = "benchshop",
    session: AsyncSession,
) -> Stocked:
    """A seller with a shop (flat shipping 499, free from 5000) and one active product with
    `variants` variants holding `stock` units each, created through the services."""
    from clipcart.accounts import service as accounts
    from clipcart.accounts.schemas import SignupIn
    from clipcart.catalog import service as catalog
    from clipcart.catalog.schemas import ProductIn, VariantIn
    from clipcart.shops import service as shops
    from clipcart.shops.schemas import ShopIn

    owner = await accounts.sign_up(
        SignupIn(
            email=f"{handle}@bench.example", handle=f"{handle}_owner", password="bench password 1"
        ),
        session=session,
    )
    shop = await shops.open_shop(
        owner,
        ShopIn(
            handle=handle,
            name="Bench Shop",
            country="US",
            currency="USD",
            shipping_flat_rate=499,
            free_shipping_threshold=5000,
        ),
        session=session,
    )
    product = await catalog.create_product(
        shop,
        ProductIn(
            title="Flash Tee",
            status="active",
            options=["Size"],
            variants=[
                VariantIn(
                    sku=f"{handle.upper()}-TEE-{number}",
                    option_values=[f"Size {number}"],
                    price=price,
                    stock=stock,
                )
                for number in range(variants)
            ],
        ),
        actor=owner,
        session=session,
    )
    ids = tuple(variant.id for variant in product.variants)
    return Stocked(owner.id, shop.id, shop.handle, product.id, ids[0], price, ids)


async def seed_buyers(count: int, *, prefix: str = "buyer", session: AsyncSession) -> list[Buyer]:
    """`count` buyers inserted in bulk (users, roles, API tokens with every scope, a default
    address, a sandbox card and its saved payment method)."""
    from clipcart.commerce.models import Address
    from clipcart.payments.models import PaymentMethod
    from clipcart.payments.sandbox.models import SandboxCard

    run = secrets.token_hex(3)
    buyers: list[Buyer] = []
    for start in range(0, count, BATCH):
        users, roles, tokens, addresses, cards, methods = [], [], [], [], [], []
        for number in range(start, min(count, start + BATCH)):
            user_id, address_id = new_id(), new_id()
            raw = f"cc_{secrets.token_urlsafe(32)}"
            card = f"pm_{secrets.token_hex(12)}"
            handle = f"{prefix}{run}_{number}"
            users.append(
                {
                    "id": user_id,
                    "email": f"{handle}@bench.example",
                    "handle": handle,
                    "display_name": f"Buyer {number}",
                    "password_hash": "-",  # cannot log in with a password: bearer token only
                }
            )
            roles.append({"user_id": user_id, "role": "buyer"})
            tokens.append(
                {
                    "user_id": user_id,
                    "name": "bench",
                    "token_hash": hash_token(raw),
                    "prefix": raw[:10],
                    "scopes": sorted(API_SCOPES),
                }
            )
            addresses.append({"id": address_id, "user_id": user_id, "is_default": True, **ADDRESS})
            cards.append(
                {
                    "token": card,
                    "number": CARD_SUCCESS,
                    "brand": "visa",
                    "exp_month": 12,
                    "exp_year": 2099,
                }
            )
            methods.append(
                {
                    "user_id": user_id,
                    "provider": "sandbox",
                    "token": card,
                    "brand": "visa",
                    "last4": CARD_SUCCESS[-4:],
                    "exp_month": 12,
                    "exp_year": 2099,
                }
            )
            buyers.append(Buyer(user_id, raw, card, address_id))
        for model, rows in (
            (User, users),
            (UserRole, roles),
            (ApiToken, tokens),
            (Address, addresses),
            (SandboxCard, cards),
            (PaymentMethod, methods),
        ):
            await session.execute(insert(model), rows)
    return buyers
