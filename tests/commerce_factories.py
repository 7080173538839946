"""Shared commerce test data: a seller with a shop and an active product with stock, a buyer
with a logged-in client, a saved address and a saved sandbox card, and the payment sandbox
reached in-process.

Use in a test module:

    from tests.commerce_factories import BuyerMaker, SellerMaker, buyer, commerce_sandbox, seller

    __all__ = ["buyer", "commerce_sandbox", "seller"]  # the fixtures this module uses

    async def test_x(seller: SellerMaker, buyer: BuyerMaker) -> None:
        shop = await seller("olivia", "acme", stock=5, price=2500)
        jane = await buyer("jane")
        [order] = await place_and_pay(jane, (shop.variant_id, 2))  # paid, as GET /orders/{id}
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from clipcart.commerce.models import Address
from clipcart.core.db import unit_of_work
from clipcart.payments import service as payments
from clipcart.payments.sandbox import tasks as sandbox_tasks
from clipcart.payments.sandbox_client import SandboxProvider
from tests.api.test_accounts_auth import API, new_client, signup

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000009995"
CARD_3DS = "4000002500003155"
CARD_TIMEOUT = "4000000000000119"

US_ADDRESS = {
    "name": "Jane Buyer",
    "line1": "1 Market St",
    "line2": "",
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "94103",
    "country": "US",
    "phone": "+14155550100",
}


@dataclass
class Seller:
    """A seller's logged-in client, their shop and one active product."""

    client: httpx.AsyncClient
    id: uuid.UUID
    handle: str
    shop_id: uuid.UUID
    shop_handle: str
    product_id: uuid.UUID
    variant_ids: list[uuid.UUID]
    product: dict[str, Any] = field(default_factory=dict)

    @property
    def variant_id(self) -> uuid.UUID:
        """The product's first variant."""
        return self.variant_ids[0]


@dataclass
class Buyer:
    """A buyer's logged-in client, default address and saved card token (None: no card)."""

    client: httpx.AsyncClient
    id: uuid.UUID
    handle: str
    address_id: uuid.UUID | None
    card: str | None


SellerMaker = Callable[..., Awaitable[Seller]]
BuyerMaker = Callable[..., Awaitable[Buyer]]


@pytest.fixture(autouse=True)
async def commerce_sandbox(app: Any) -> AsyncIterator[None]:
    """The payment sandbox reached over HTTP in-process; its webhooks delivered the same way."""
    transport = httpx.ASGITransport(app=app)
    payments.set_provider(
        SandboxProvider("http://testserver/sandbox", transport=transport, timeout=2.0)
    )
    sandbox_tasks.set_delivery_transport(transport)
    yield
    payments.set_provider(None)
    sandbox_tasks.set_delivery_transport(None)


def product_body(
    *,
    title: str = "Glow Serum",
    price: int = 2500,
    stock: int = 10,
    variants: int = 2,
    sku_prefix: str = "GLOW",
) -> dict[str, Any]:
    """An active product with `variants` sizes, each at `price` with `stock` units
    (create_product also takes max_per_buyer)."""
    body: dict[str, Any] = {
        "title": title,
        "description_html": "<p>Good stuff.</p>",
        "status": "active",
        "options": ["Size"],
        "variants": [
            {
                "sku": f"{sku_prefix}-{index}",
                "option_values": [f"Size {index}"],
                "price": price,
                "stock": stock,
            }
            for index in range(1, variants + 1)
        ],
    }
    return body


async def create_product(seller: Seller, **options: Any) -> dict[str, Any]:
    """Another active product in the seller's shop (options as for product_body, plus
    max_per_buyer); give it its own `sku_prefix` (SKUs are unique per shop)."""
    max_per_buyer = options.pop("max_per_buyer", None)
    response = await seller.client.post(
        f"{API}/shops/{seller.shop_handle}/products", json=product_body(**options)
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    if max_per_buyer is not None:
        await set_max_per_buyer(uuid.UUID(data["id"]), max_per_buyer)
    return data


async def set_max_per_buyer(product_id: uuid.UUID, limit: int | None) -> None:
    """Set Product.max_per_buyer directly (the product API may not take it)."""
    from clipcart.catalog.models import Product

    async with unit_of_work() as session:
        product = await session.get(Product, product_id)
        assert product is not None
        product.max_per_buyer = limit


async def save_card(client: httpx.AsyncClient, number: str = CARD_OK) -> str:
    """Save a sandbox card through the payments API; its token."""
    response = await client.post(
        f"{API}/payments/methods",
        json={"number": number, "exp_month": 12, "exp_year": 2099, "cvc": "123"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


async def save_address(user_id: uuid.UUID, **fields: str) -> uuid.UUID:
    """A saved default address (stored directly; the address API validates the same fields)."""
    async with unit_of_work() as session:
        address = Address(user_id=user_id, is_default=True, **{**US_ADDRESS, **fields})
        session.add(address)
        await session.flush()
        return address.id


async def _make_seller(
    stack: AsyncExitStack,
    app: Any,
    handle: str = "olivia",
    shop: str = "acme",
    *,
    shipping_flat_rate: int = 500,
    free_shipping_threshold: int | None = 10000,
    currency: str = "USD",
    country: str = "US",
    **product: Any,
) -> Seller:
    client = await stack.enter_async_context(new_client(app))
    user = await signup(client, handle)
    body: dict[str, Any] = {
        "handle": shop,
        "name": f"{shop.title()} Goods",
        "country": country,
        "currency": currency,
        "shipping_flat_rate": shipping_flat_rate,
        "free_shipping_threshold": free_shipping_threshold,
    }
    response = await client.post(f"{API}/shops", json=body)
    assert response.status_code == 201, response.text
    shop_data = response.json()
    product.setdefault("sku_prefix", shop.upper())
    seller = Seller(
        client=client,
        id=uuid.UUID(user["user"]["id"]),
        handle=handle,
        shop_id=uuid.UUID(shop_data["id"]),
        shop_handle=shop_data["handle"],
        product_id=uuid.uuid4(),
        variant_ids=[],
    )
    data = await create_product(seller, **product)
    seller.product = data
    seller.product_id = uuid.UUID(data["id"])
    seller.variant_ids = [uuid.UUID(variant["id"]) for variant in data["variants"]]
    return seller


async def _make_buyer(
    stack: AsyncExitStack,
    app: Any,
    handle: str = "jane",
    *,
    card: str | None = CARD_OK,
    address: dict[str, str] | None = None,
    with_address: bool = True,
) -> Buyer:
    client = await stack.enter_async_context(new_client(app))
    user = await signup(client, handle)
    user_id = uuid.UUID(user["user"]["id"])
    address_id = await save_address(user_id, **(address or {})) if with_address else None
    token = await save_card(client, card) if card else None
    return Buyer(client=client, id=user_id, handle=handle, address_id=address_id, card=token)


@pytest.fixture
async def seller(app: Any) -> AsyncIterator[SellerMaker]:
    """`await seller(handle, shop, *, shipping_flat_rate, free_shipping_threshold, price,
    stock, variants, max_per_buyer, title)`: a seller with a shop and an active product."""
    async with AsyncExitStack() as stack:

        async def make(*args: Any, **kwargs: Any) -> Seller:
            return await _make_seller(stack, app, *args, **kwargs)

        yield make


@pytest.fixture
async def buyer(app: Any) -> AsyncIterator[BuyerMaker]:
    """`await buyer(handle, *, card=CARD_OK | None, address={...}, with_address=True)`: a
    logged-in buyer with a saved default address and a saved sandbox card."""
    async with AsyncExitStack() as stack:

        async def make(*args: Any, **kwargs: Any) -> Buyer:
            return await _make_buyer(stack, app, *args, **kwargs)

        yield make


# --- driving the buying path through the API ---------------------------------------------


async def add_to_cart(
    client: httpx.AsyncClient, variant_id: uuid.UUID, quantity: int = 1, **source: str
) -> httpx.Response:
    """POST /cart/items (source: video_id / live_id / share_code)."""
    body: dict[str, Any] = {"variant_id": str(variant_id), "quantity": quantity}
    if source:
        body["source"] = source
    return await client.post(f"{API}/cart/items", json=body)


def items_body(*lines: tuple[uuid.UUID, int]) -> list[dict[str, Any]]:
    """Checkout `items` from (variant_id, quantity) pairs."""
    return [{"variant_id": str(variant), "quantity": quantity} for variant, quantity in lines]


async def quote(
    client: httpx.AsyncClient, *lines: tuple[uuid.UUID, int], **extra: Any
) -> dict[str, Any]:
    """POST /checkout/quote for these lines (none: the cart); asserts 200."""
    body: dict[str, Any] = {"items": items_body(*lines) if lines else None, **extra}
    response = await client.post(f"{API}/checkout/quote", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def place(
    client: httpx.AsyncClient,
    *lines: tuple[uuid.UUID, int],
    key: str | None = None,
    expected_total: int | None = None,
    **extra: Any,
) -> httpx.Response:
    """POST /checkout for these lines (none: the cart) with the quoted grand total unless
    `expected_total` is given."""
    body: dict[str, Any] = {"items": items_body(*lines) if lines else None, **extra}
    if expected_total is None:
        quoted = await client.post(f"{API}/checkout/quote", json=body)
        assert quoted.status_code == 200, quoted.text
        expected_total = int(quoted.json()["grand_total"]["amount"])
    body["expected_total"] = expected_total
    return await client.post(
        f"{API}/checkout", json=body, headers={"Idempotency-Key": key or uuid.uuid4().hex}
    )


async def pay(
    client: httpx.AsyncClient,
    checkout_id: str,
    *,
    key: str | None = None,
    payment_method: str | None = None,
) -> httpx.Response:
    """POST /checkout/{id}/pay."""
    body: dict[str, Any] = {}
    if payment_method is not None:
        body["payment_method"] = payment_method
    return await client.post(
        f"{API}/checkout/{checkout_id}/pay",
        json=body,
        headers={"Idempotency-Key": key or uuid.uuid4().hex},
    )


async def place_and_pay(
    buyer: Buyer, *lines: tuple[uuid.UUID, int], **extra: Any
) -> list[dict[str, Any]]:
    """Place and pay (card 4242 unless the buyer's saved card says otherwise); the orders as
    GET /orders/{id} shows them afterwards. Asserts both steps answered 2xx."""
    placed = await place(buyer.client, *lines, **extra)
    assert placed.status_code == 201, placed.text
    paid = await pay(buyer.client, placed.json()["checkout_id"])
    assert paid.status_code == 200, paid.text
    orders = []
    for order in placed.json()["orders"]:
        response = await buyer.client.get(f"{API}/orders/{order['id']}")
        assert response.status_code == 200, response.text
        orders.append(response.json())
    return orders


async def place_paid_order(seller: Seller, buyer: Buyer, quantity: int = 1) -> dict[str, Any]:
    """One paid order of `quantity` of the seller's first variant (GET /orders/{id} shape)."""
    orders = await place_and_pay(buyer, (seller.variant_id, quantity))
    assert len(orders) == 1 and orders[0]["status"] == "paid", orders
    return orders[0]
