"""The cart through the API: add, change, remove, save for later, stock and per-buyer limits,
deal prices, and a visitor's cart merged at log-in."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from clipcart.catalog.models import Product
from clipcart.commerce.models import Cart, CartItem
from clipcart.commerce.promotion_models import FlashDeal
from clipcart.core import clock
from clipcart.core.db import get_sessionmaker, unit_of_work
from tests.api.test_accounts_auth import API, assert_problem, csrf_for, login, new_client, signup
from tests.commerce_factories import (
    BuyerMaker,
    SellerMaker,
    add_to_cart,
    buyer,
    commerce_sandbox,
    place_and_pay,
    seller,
)

__all__ = ["buyer", "commerce_sandbox", "seller"]  # fixtures used here


async def count(model: Any) -> int:
    async with get_sessionmaker()() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def only_items(cart: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for shop in cart["shops"] for item in shop["items"]]


async def test_add_groups_by_shop_and_adds_to_an_existing_line(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    acme = await seller(price=2500, stock=10)
    bolt = await seller("sam", "bolt", price=1000, stock=10, title="Bolt Cutter")
    jane = await buyer("jane")
    added = await add_to_cart(jane.client, acme.variant_id, 2, video_id=str(uuid.uuid4()))
    assert added.status_code == 201, added.text
    await add_to_cart(jane.client, acme.variant_id, 1)
    await add_to_cart(jane.client, bolt.variant_id, 3)
    cart = (await jane.client.get(f"{API}/cart")).json()
    assert [shop["shop"]["handle"] for shop in cart["shops"]] == ["acme", "bolt"]
    first = cart["shops"][0]["items"][0]
    assert first["quantity"] == 3
    assert first["product_title"] == "Glow Serum"
    assert first["variant_title"] == "Size 1"
    assert first["unit_price"]["formatted"] == "$25.00"
    assert first["line_total"]["amount"] == 7500
    assert first["stock_left"] == 10
    assert cart["shops"][1]["subtotal"]["amount"] == 3000
    assert cart["item_count"] == 6
    assert cart["subtotal"]["amount"] == 10500
    assert await count(CartItem) == 2


async def test_update_save_for_later_and_remove(
    app: FastAPI, seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(stock=10)
    jane = await buyer("jane")
    await add_to_cart(jane.client, shop.variant_ids[0], 1)
    await add_to_cart(jane.client, shop.variant_ids[1], 1)
    cart = (await jane.client.get(f"{API}/cart")).json()
    first, second = only_items(cart)
    changed = await jane.client.patch(f"{API}/cart/items/{first['id']}", json={"quantity": 4})
    assert changed.status_code == 200, changed.text
    assert only_items(changed.json())[0]["quantity"] == 4
    saved = await jane.client.patch(
        f"{API}/cart/items/{second['id']}", json={"saved_for_later": True}
    )
    body = saved.json()
    assert [item["id"] for item in body["saved_for_later"]] == [second["id"]]
    assert [item["id"] for item in only_items(body)] == [first["id"]]
    assert body["item_count"] == 4
    back = await jane.client.patch(
        f"{API}/cart/items/{second['id']}", json={"saved_for_later": False}
    )
    assert back.json()["saved_for_later"] == []
    removed = await jane.client.delete(f"{API}/cart/items/{first['id']}")
    assert removed.status_code == 200
    assert [item["id"] for item in only_items(removed.json())] == [second["id"]]
    # nobody else can touch the line
    async with new_client(app) as other:
        await signup(other, "sam")
        response = await other.delete(f"{API}/cart/items/{second['id']}")
        assert_problem(response, 404, "cart_item_not_found")
    zero = await jane.client.patch(f"{API}/cart/items/{second['id']}", json={"quantity": 0})
    assert zero.status_code == 422


async def test_quantities_are_limited_by_stock_with_a_clear_422(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(stock=3)
    jane = await buyer("jane")
    response = await add_to_cart(jane.client, shop.variant_id, 4)
    problem = assert_problem(response, 422, "quantity_unavailable")
    assert problem["errors"][0]["field"] == "quantity"
    assert "Only 3 of Glow Serum left" in problem["errors"][0]["message"]
    assert problem["available"] == 3
    await add_to_cart(jane.client, shop.variant_id, 2)
    again = await add_to_cart(jane.client, shop.variant_id, 2)  # 2 + 2 > 3
    assert_problem(again, 422, "quantity_unavailable")
    item = only_items((await jane.client.get(f"{API}/cart")).json())[0]
    assert item["quantity"] == 2
    over = await jane.client.patch(f"{API}/cart/items/{item['id']}", json={"quantity": 5})
    assert_problem(over, 422, "quantity_unavailable")


async def test_per_buyer_limit_counts_earlier_orders(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(stock=20, max_per_buyer=3)
    jane = await buyer("jane")
    too_many = await add_to_cart(jane.client, shop.variant_id, 4)
    problem = assert_problem(too_many, 422, "quantity_unavailable")
    assert "limited to 3 per buyer" in problem["detail"]
    await place_and_pay(jane, (shop.variant_id, 2))
    response = await add_to_cart(jane.client, shop.variant_id, 2)
    problem = assert_problem(response, 422, "quantity_unavailable")
    assert problem["errors"][0]["message"] == (
        "Glow Serum is limited to 3 per buyer and you already ordered 2: you can add 1 more."
    )
    assert (await add_to_cart(jane.client, shop.variant_id, 1)).status_code == 201
    # the limit holds at checkout too, across the product's variants
    from tests.commerce_factories import place

    placed = await place(jane.client, (shop.variant_ids[1], 2), expected_total=1)
    assert_problem(placed, 422, "quantity_unavailable")


async def test_only_active_products_can_be_added(seller: SellerMaker, buyer: BuyerMaker) -> None:
    shop = await seller()
    jane = await buyer("jane")
    async with unit_of_work() as session:
        product = await session.get(Product, shop.product_id)
        assert product is not None
        product.status = "draft"
    response = await add_to_cart(jane.client, shop.variant_id, 1)
    assert_problem(response, 404, "variant_not_found")
    unknown = await add_to_cart(jane.client, uuid.uuid4(), 1)
    assert_problem(unknown, 404, "variant_not_found")


async def test_a_live_flash_deal_sets_the_unit_price(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(price=2500, stock=10)
    jane = await buyer("jane")
    async with unit_of_work() as session:
        session.add(
            FlashDeal(
                shop_id=shop.shop_id,
                variant_id=shop.variant_id,
                deal_price=1500,
                quantity=5,
                sold=0,
                per_buyer_limit=2,
                starts_at=clock.now() - timedelta(minutes=1),
                ends_at=clock.now() + timedelta(hours=1),
            )
        )
    cart = (await add_to_cart(jane.client, shop.variant_id, 2)).json()
    item = only_items(cart)[0]
    assert item["flash_deal"] is True
    assert item["unit_price"]["amount"] == 1500
    assert item["regular_price"]["amount"] == 2500
    assert item["line_total"]["amount"] == 3000


async def test_a_visitor_cart_is_kept_and_merged_at_log_in(
    app: Any, seller: SellerMaker, buyer: BuyerMaker
) -> None:
    shop = await seller(stock=5)
    jane = await buyer("jane")
    await add_to_cart(jane.client, shop.variant_ids[0], 2)
    async with new_client(app) as visitor:
        visitor.headers["X-CSRF-Token"] = await csrf_for(visitor)
        added = await add_to_cart(visitor, shop.variant_ids[0], 4)
        assert added.status_code == 201, added.text
        assert "clipcart_visitor" in visitor.cookies
        await add_to_cart(visitor, shop.variant_ids[1], 1)
        kept = (await visitor.get(f"{API}/cart")).json()
        assert kept["item_count"] == 5
        assert await count(Cart) == 2

        await login(visitor, "jane@example.com")
        merged = (await visitor.get(f"{API}/cart")).json()
        quantities = {item["variant_id"]: item["quantity"] for item in only_items(merged)}
        # 2 + 4 capped by the 5 in stock; the other line moved over
        assert quantities == {str(shop.variant_ids[0]): 5, str(shop.variant_ids[1]): 1}
        assert await count(Cart) == 1
    mine = (await jane.client.get(f"{API}/cart")).json()
    assert mine["item_count"] == 6


async def test_a_visitor_gets_a_cookie_and_an_empty_cart_but_checkout_needs_a_login(
    app: Any, seller: SellerMaker
) -> None:
    shop = await seller()
    async with new_client(app) as visitor:
        response = await visitor.get(f"{API}/cart")
        assert response.status_code == 200
        assert response.json() == {
            "shops": [],
            "saved_for_later": [],
            "item_count": 0,
            "subtotal": None,
        }
        assert "clipcart_visitor" in visitor.cookies
        visitor.headers["X-CSRF-Token"] = await csrf_for(visitor)
        quoted = await visitor.post(
            f"{API}/checkout/quote",
            json={"items": [{"variant_id": str(shop.variant_id), "quantity": 1}]},
        )
        assert_problem(quoted, 401, "not_authenticated")


@pytest.mark.postgres
async def test_a_double_tap_on_add_counts_twice_and_never_fails(
    seller: SellerMaker, buyer: BuyerMaker
) -> None:
    import asyncio

    from tests.services import require_postgres

    require_postgres()
    shop = await seller(stock=10)
    jane = await buyer("jane")
    answers = await asyncio.gather(
        *(add_to_cart(jane.client, shop.variant_id, 1) for _ in range(4))
    )
    assert [answer.status_code for answer in answers] == [201] * 4
    cart = (await jane.client.get(f"{API}/cart")).json()
    assert [item["quantity"] for item in only_items(cart)] == [4]
    assert await count(Cart) == 1
