"""Products through the API: create with variants, edit, visibility, listing and filters."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import event, func, select

from clipcart.catalog import service as catalog_service
from clipcart.catalog.models import Product, StockMovement, Variant
from clipcart.core.db import get_engine, get_sessionmaker
from tests.api.test_accounts_auth import API, assert_problem, new_client, signup
from tests.api.test_shops import open_shop


def tee(**overrides: Any) -> dict[str, Any]:
    """A T-shirt in two sizes and two colours."""
    body: dict[str, Any] = {
        "title": "Organic Cotton Tee",
        "description_html": "<p>Soft <b>organic</b> cotton.<script>alert(1)</script></p>"
        '<img src=x onerror="alert(2)">',
        "vendor": "Acme",
        "product_type": "T-Shirt",
        "tags": ["cotton", " summer ", "Cotton", ""],
        "category_id": 212,
        "status": "active",
        "options": ["Size", "Colour"],
        "variants": [
            {"sku": "TEE-S-BLU", "option_values": ["S", "Blue"], "price": 1999, "stock": 5},
            {
                "sku": "TEE-M-BLU",
                "option_values": ["M", "Blue"],
                "price": 1999,
                "compare_at_price": 2499,
                "stock": 0,
            },
            {"sku": "TEE-M-RED", "option_values": ["M", "Red"], "price": 2199, "stock": 12},
        ],
    }
    body.update(overrides)
    return body


async def seller(client: httpx.AsyncClient, handle: str = "olivia", shop: str = "acme") -> None:
    await signup(client, handle)
    await open_shop(client, shop)


async def create(client: httpx.AsyncClient, shop: str = "acme", **overrides: Any) -> dict[str, Any]:
    response = await client.post(f"{API}/shops/{shop}/products", json=tee(**overrides))
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def count(model: Any) -> int:
    async with get_sessionmaker()() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_create_product_with_variants(client: httpx.AsyncClient) -> None:
    await seller(client)
    product = await create(client)
    assert product["handle"] == "organic-cotton-tee"
    assert product["currency"] == "USD"
    assert product["shop"]["handle"] == "acme"
    assert product["category"]["path"] == "Apparel & Accessories > Clothing > Shirts & Tops"
    assert product["tags"] == ["cotton", "summer"]
    assert "<script" not in product["description_html"]
    assert "onerror" not in product["description_html"]
    assert "<b>organic</b>" in product["description_html"]
    assert product["price_min"]["formatted"] == "$19.99"
    assert product["price_max"]["formatted"] == "$21.99"
    assert product["in_stock"] is True
    variants = product["variants"]
    assert [variant["title"] for variant in variants] == ["S / Blue", "M / Blue", "M / Red"]
    assert variants[1]["compare_at_price"]["amount"] == 2499
    assert [variant["stock_state"] for variant in variants] == [
        "low_stock",
        "out_of_stock",
        "in_stock",
    ]
    # initial stock is recorded as movements, never silently
    movements = (await client.get(f"{API}/products/{product['id']}/stock-movements")).json()
    assert sorted((m["delta"], m["reason"]) for m in movements["items"]) == [
        (5, "initial"),
        (12, "initial"),
    ]
    # a second product with the same title gets its own handle
    again = await create(client, variants=[{"sku": "OTHER", "price": 100}], options=[])
    assert again["handle"] == "organic-cotton-tee-2"


async def test_bad_products_are_refused_and_nothing_is_written(client: httpx.AsyncClient) -> None:
    await seller(client)
    negative = await client.post(
        f"{API}/shops/acme/products",
        json=tee(variants=[{"sku": "A", "option_values": ["S", "Blue"], "price": -100}]),
    )
    body = assert_problem(negative, 422, "validation_failed")
    assert body["errors"][0]["field"] == "variants.0.price"
    prohibited = await client.post(f"{API}/shops/acme/products", json=tee(category_id=3833))
    body = assert_problem(prohibited, 422, "validation_failed")
    assert body["errors"][0]["field"] == "category_id"
    assert "cannot be sold" in body["errors"][0]["message"]
    tobacco = await client.post(f"{API}/shops/acme/products", json=tee(category_id=3916))
    assert_problem(tobacco, 422, "validation_failed")
    unknown = await client.post(f"{API}/shops/acme/products", json=tee(category_id=123456789))
    assert_problem(unknown, 422, "validation_failed")
    wrong_options = await client.post(
        f"{API}/shops/acme/products",
        json=tee(variants=[{"sku": "A", "option_values": ["S"], "price": 100}]),
    )
    body = assert_problem(wrong_options, 422, "validation_failed")
    assert body["errors"][0]["field"] == "variants.0.option_values"
    duplicate_sku = await client.post(
        f"{API}/shops/acme/products",
        json=tee(
            variants=[
                {"sku": "A", "option_values": ["S", "Blue"], "price": 100},
                {"sku": "A", "option_values": ["M", "Blue"], "price": 100},
            ]
        ),
    )
    assert_problem(duplicate_sku, 422, "validation_failed")
    no_variants = await client.post(f"{API}/shops/acme/products", json=tee(variants=[]))
    assert_problem(no_variants, 422, "validation_failed")
    assert await count(Product) == 0
    assert await count(Variant) == 0
    assert await count(StockMovement) == 0


async def test_sku_is_unique_per_shop_but_not_across_shops(
    client: httpx.AsyncClient, app: Any
) -> None:
    await seller(client)
    await create(client)
    taken = await client.post(f"{API}/shops/acme/products", json=tee(title="Another tee"))
    body = assert_problem(taken, 409, "sku_taken")
    assert body["errors"][0]["field"] == "variants.0.sku"
    assert await count(Product) == 1
    async with new_client(app) as other:
        await seller(other, "peter", "peters")
        await create(other, "peters")
    assert await count(Product) == 2


async def test_update_product_replaces_variants_and_records_stock(
    client: httpx.AsyncClient,
) -> None:
    await seller(client)
    product = await create(client)
    first, second, third = product["variants"]
    response = await client.patch(
        f"{API}/products/{product['id']}",
        json={
            "title": "Organic Tee",
            "description_html": "<h2>New</h2><iframe src=x></iframe>",
            "status": "archived",
            "category_id": None,
            "variants": [
                {"id": first["id"], "sku": "TEE-S-BLU", "option_values": ["S", "Blue"],
                 "price": 1799, "stock": 2},
                {"sku": "TEE-M-RED", "option_values": ["M", "Red"], "price": 2199},
                {"sku": "TEE-L-RED", "option_values": ["L", "Red"], "price": 2299, "stock": 4},
            ],
        },
    )  # fmt: skip
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["title"] == "Organic Tee"
    assert updated["description_html"] == "<h2>New</h2>"
    assert updated["status"] == "archived"
    assert updated["category"] is None
    ids = [variant["id"] for variant in updated["variants"]]
    assert ids[0] == first["id"] and ids[1] == third["id"] and second["id"] not in ids
    assert [variant["stock"] for variant in updated["variants"]] == [2, 12, 4]
    movements = (await client.get(f"{API}/products/{product['id']}/stock-movements")).json()
    reasons = [(m["delta"], m["reason"]) for m in movements["items"]]
    assert (-3, "correction") in reasons and (4, "correction") in reasons
    bad = await client.patch(
        f"{API}/products/{product['id']}",
        json={"variants": [{"sku": "X", "option_values": ["S", "Blue"], "price": -1}]},
    )
    assert_problem(bad, 422, "validation_failed")
    unchanged = (await client.get(f"{API}/products/{product['id']}")).json()
    assert len(unchanged["variants"]) == 3


async def test_drafts_are_private_and_outsiders_cannot_edit(
    client: httpx.AsyncClient, app: Any
) -> None:
    await seller(client)
    draft = await create(client, status="draft")
    assert (await client.get(f"{API}/products/{draft['id']}")).status_code == 200
    async with new_client(app) as other:
        assert_problem(await other.get(f"{API}/products/{draft['id']}"), 404, "product_not_found")
        await signup(other, "mallory")
        assert_problem(
            await other.patch(f"{API}/products/{draft['id']}", json={"title": "Pwned"}),
            404,
            "product_not_found",
        )
        assert_problem(
            await other.post(f"{API}/shops/acme/products", json=tee()), 404, "shop_not_found"
        )
    public = (await client.get(f"{API}/products")).json()
    assert public["items"] == []


async def test_listing_filters_and_cursor_pagination(client: httpx.AsyncClient, app: Any) -> None:
    await seller(client)
    cheap = await create(
        client,
        title="Cheap socks",
        category_id=209,
        options=[],
        variants=[{"sku": "SOCK", "price": 500, "stock": 3}],
    )
    pricey = await create(
        client,
        title="Leather boots",
        category_id=7302,
        options=[],
        variants=[{"sku": "BOOT", "price": 15000, "stock": 0}],
    )
    tee_product = await create(client)
    await create(client, title="Hidden draft", status="draft", options=[],
                 variants=[{"sku": "DRAFT", "price": 700, "stock": 1}])  # fmt: skip
    async with new_client(app) as other:
        await seller(other, "peter", "peters")
        elsewhere = await create(
            other, "peters", title="Mug", category_id=673, options=[],
            variants=[{"sku": "MUG", "price": 1200, "stock": 9}],
        )  # fmt: skip

    async def ids(**params: Any) -> list[str]:
        response = await client.get(f"{API}/products", params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    everything = await ids()
    assert everything == [elsewhere["id"], tee_product["id"], pricey["id"], cheap["id"]]
    assert await ids(shop="peters") == [elsewhere["id"]]
    # a category includes everything under it: Clothing holds tees and socks, not boots
    assert await ids(category=1604) == [tee_product["id"], cheap["id"]]
    assert await ids(min_price=1000, max_price=2000) == [elsewhere["id"], tee_product["id"]]
    assert await ids(in_stock=True) == [elsewhere["id"], tee_product["id"], cheap["id"]]
    assert await ids(in_stock=False) == [pricey["id"]]
    assert await ids(q="boots") == [pricey["id"]]
    # pages of two, stable order, no repeats
    first = (await client.get(f"{API}/products", params={"limit": 2})).json()
    second = (
        await client.get(f"{API}/products", params={"limit": 2, "cursor": first["next_cursor"]})
    ).json()
    assert [item["id"] for item in first["items"] + second["items"]] == everything
    assert second["next_cursor"] is None
    assert_problem(
        await client.get(f"{API}/products", params={"cursor": "junk"}), 400, "invalid_cursor"
    )
    assert_problem(
        await client.get(f"{API}/products", params={"min_price": 10, "max_price": 1}),
        422,
        "validation_failed",
    )
    assert_problem(
        await client.get(f"{API}/products", params={"min_price": -1}), 422, "validation_failed"
    )
    staff_view = (await client.get(f"{API}/shops/acme/products", params={"status": "draft"})).json()
    assert [item["title"] for item in staff_view["items"]] == ["Hidden draft"]


async def test_categories_leave_out_prohibited_ones(client: httpx.AsyncClient) -> None:
    categories = (await client.get(f"{API}/categories")).json()
    paths = {category["path"] for category in categories}
    assert "Apparel & Accessories > Clothing > Shirts & Tops" in paths
    assert len(categories) >= 200
    assert not any(
        path.startswith(("Mature", "Food, Beverages & Tobacco > Tobacco")) for path in paths
    )


async def test_api_tokens_need_catalog_scopes(client: httpx.AsyncClient, app: Any) -> None:
    from tests.api.test_accounts_tokens import bearer, create_token

    await seller(client)
    product = await create(client)
    reader = (await create_token(client, ["catalog:read"]))["token"]
    writer = (await create_token(client, ["catalog:read", "catalog:write"]))["token"]
    async with new_client(app) as program:
        listed = await program.get(f"{API}/shops/acme/products", headers=bearer(reader))
        assert listed.status_code == 200 and len(listed.json()["items"]) == 1
        refused = await program.patch(
            f"{API}/products/{product['id']}", json={"title": "New"}, headers=bearer(reader)
        )
        assert_problem(refused, 403, "insufficient_scope")
        allowed = await program.patch(
            f"{API}/products/{product['id']}", json={"title": "New"}, headers=bearer(writer)
        )
        assert allowed.status_code == 200 and allowed.json()["title"] == "New"


async def test_products_by_ids_loads_a_batch_with_shop_variants_and_images(
    client: httpx.AsyncClient,
) -> None:
    await seller(client)
    tee_id = uuid.UUID((await create(client))["id"])
    mug = await create(
        client,
        title="Mug",
        handle="mug",
        status="draft",
        options=[],
        variants=[{"sku": "MUG-1", "option_values": [], "price": 900, "stock": 0}],
    )
    mug_id, unknown = uuid.UUID(mug["id"]), uuid.uuid4()
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = get_engine().sync_engine
    async with get_sessionmaker()() as session:
        event.listen(engine, "before_cursor_execute", record)
        try:
            found = await catalog_service.products_by_ids(
                [tee_id, mug_id, unknown], session=session
            )
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert await catalog_service.products_by_ids([], session=session) == {}
    # products (with their shop), then variants, then images: not one query per product
    assert len(statements) == 3, statements
    assert set(found) == {tee_id, mug_id}
    # the session is closed: these were loaded eagerly, reading them needs no query
    tee_product, mug_product = found[tee_id], found[mug_id]
    assert sorted(v.sku or "" for v in tee_product.variants) == [
        "TEE-M-BLU",
        "TEE-M-RED",
        "TEE-S-BLU",
    ]
    assert [v.price for v in mug_product.variants] == [900]
    assert tee_product.images == [] and mug_product.images == []
    assert tee_product.shop.handle == "acme" and mug_product.status == "draft"
