"""A shop a moderator suspends stops selling at once: its products leave the marketplace
listings, cannot be added to a cart or checked out (a cart that already holds them cannot be
paid for them), and its pages say it is not taking orders; its own staff still see its
products. Lifting the suspension restores everything."""

from __future__ import annotations

from typing import Any

import httpx

from clipcart.accounts import service as accounts
from clipcart.core.db import unit_of_work
from tests.api.test_accounts_auth import API, assert_problem, new_client, signup
from tests.commerce_factories import (
    BuyerMaker,
    SellerMaker,
    add_to_cart,
    buyer,
    commerce_sandbox,
    items_body,
    seller,
)

__all__ = ["buyer", "commerce_sandbox", "seller"]

HTML = {"Accept": "text/html"}


async def moderator(app: Any) -> httpx.AsyncClient:
    client = new_client(app)
    await signup(client, "mod")
    async with unit_of_work() as session:
        user = await accounts.get_user_by_handle("mod", session=session)
        await accounts.grant_role(user, "moderator", session=session)
    return client


async def listed(client: httpx.AsyncClient) -> list[str]:
    response = await client.get(f"{API}/products")
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def test_a_suspended_shop_stops_selling_until_the_suspension_is_lifted(
    app: Any, seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller("olivia", "acme", price=2_000, stock=10)
    jane = await buyer("jane")
    assert (await add_to_cart(jane.client, shop.variant_id)).status_code in (200, 201)
    assert await listed(jane.client) == ["Glow Serum"]

    mod = await moderator(app)
    suspended = await mod.put(f"{API}/shops/acme/suspension")
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"

    assert await listed(jane.client) == []
    assert "Glow Serum" not in (await jane.client.get("/shop", headers=HTML)).text
    refused = await add_to_cart(jane.client, shop.variant_id)
    assert_problem(refused, 404, "variant_not_found")
    body = {"items": items_body((shop.variant_id, 1))}
    assert_problem(await jane.client.post(f"{API}/checkout/quote", json=body), 422, "not_for_sale")
    # The line already in her cart cannot be checked out either.
    assert_problem(await jane.client.post(f"{API}/checkout/quote", json={}), 422, "not_for_sale")

    product_page = await jane.client.get(f"/p/{shop.product_id}", headers=HTML)
    assert product_page.status_code == 200
    assert "Acme Goods is suspended and is not taking orders." in product_page.text
    assert "data-buy-form" not in product_page.text
    shop_page = await jane.client.get("/shop/acme", headers=HTML)
    assert "This shop is suspended and is not taking orders." in shop_page.text
    assert "Glow Serum" not in shop_page.text
    staff_page = await shop.client.get("/shop/acme", headers=HTML)
    assert "Glow Serum" in staff_page.text and "hidden from buyers" in staff_page.text

    lifted = await mod.delete(f"{API}/shops/acme/suspension")
    assert lifted.json()["status"] == "active"
    assert await listed(jane.client) == ["Glow Serum"]
    quoted = await jane.client.post(f"{API}/checkout/quote", json=body)
    assert quoted.status_code == 200, quoted.text
    assert "data-buy-form" in (await jane.client.get(f"/p/{shop.product_id}", headers=HTML)).text
    await mod.aclose()
