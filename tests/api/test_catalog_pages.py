"""Shop, catalogue and seller-center pages over HTTP: forms, errors, JSON-LD, Open Graph."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from tests.api.test_catalog_products import count
from tests.api.test_pages import HTML, csrf_from, form_token, sign_up
from tests.api.test_shops import png

JSON_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


async def open_shop_page(client: httpx.AsyncClient, handle: str = "acme") -> None:
    token = await form_token(client, "/shops/new")
    answer = await client.post(
        "/shops/new",
        data={
            "csrf_token": token,
            "name": "Acme Goods",
            "handle": handle,
            "country": "US",
            "currency": "USD",
            "shipping_flat_rate": "4.99",
            "free_shipping_threshold": "50",
            "processing_days": "2",
            "return_policy": "30 days.",
        },
        headers=HTML,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/seller/{handle}/products"


def product_form(token: str, **overrides: str) -> dict[str, str]:
    data = {
        "csrf_token": token,
        "title": "Canvas Tote",
        "description_html": "<p>Sturdy <em>canvas</em>.</p><script>alert(1)</script>",
        "category_id": "5608",
        "status": "active",
        "options": "Colour",
        "tags": "bags, canvas",
        "variants.0.id": "",
        "variants.0.values": "Natural",
        "variants.0.sku": "TOTE-NAT",
        "variants.0.price": "24.50",
        "variants.0.compare": "30",
        "variants.0.weight": "300",
        "variants.0.stock": "8",
        "variants.1.id": "",
        "variants.1.values": "Black",
        "variants.1.sku": "TOTE-BLK",
        "variants.1.price": "26",
        "variants.1.compare": "",
        "variants.1.weight": "300",
        "variants.1.stock": "0",
        "variants.2.id": "",
        "variants.2.values": "",
        "variants.2.sku": "",
        "variants.2.price": "",
        "variants.2.compare": "",
        "variants.2.weight": "",
        "variants.2.stock": "",
    }
    data.update(overrides)
    return data


async def create_product_page(client: httpx.AsyncClient, **overrides: str) -> str:
    token = await form_token(client, "/seller/acme/products/new")
    answer = await client.post(
        "/seller/acme/products/new", data=product_form(token, **overrides), headers=HTML
    )
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    match = re.fullmatch(r"/seller/acme/products/([0-9a-f-]+)/edit", location)
    assert match, location
    return match.group(1)


async def test_open_a_shop_and_create_a_product_through_the_pages(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client, handle="olivia")
    seller = await client.get("/seller", headers=HTML)
    assert "Open a shop" in seller.text
    await open_shop_page(client)
    product_id = await create_product_page(client)
    edit = await client.get(f"/seller/acme/products/{product_id}/edit", headers=HTML)
    assert edit.status_code == 200
    assert 'value="24.50"' in edit.text and 'value="TOTE-BLK"' in edit.text
    for label in ("Products", "Stock", "Import &amp; export", "Videos", "Money", "Settings"):
        assert f">{label}</a>" in edit.text
    uploaded = await client.post(
        f"/seller/acme/products/{product_id}/images",
        data={"csrf_token": csrf_from(edit), "alt": "The tote"},
        files={"image": ("tote.png", png(500, 500), "image/png")},
        headers=HTML,
    )
    assert uploaded.status_code == 303, uploaded.text
    page = await client.get(f"/p/{product_id}", headers=HTML)
    assert page.status_code == 200
    text = page.text
    assert "$24.50" in text and "$30.00" in text and "Only" not in text
    assert "<script>alert(1)" not in text and "<em>canvas</em>" in text
    assert '<meta property="og:title" content="Canvas Tote">' in text
    assert '<meta property="product:price:currency" content="USD">' in text
    assert 'property="og:image"' in text
    match = JSON_LD.search(text)
    assert match
    data: dict[str, Any] = json.loads(match.group(1))  # raw: script text is not unescaped
    assert data["@type"] == "Product" and data["name"] == "Canvas Tote"
    offers = {offer["sku"]: offer for offer in data["offers"]}
    assert offers["TOTE-NAT"]["price"] == "24.50"
    assert offers["TOTE-NAT"]["availability"] == "https://schema.org/InStock"
    assert offers["TOTE-BLK"]["availability"] == "https://schema.org/OutOfStock"
    assert data["image"][0].endswith("-1200.webp")
    # the no-script variant picker: choosing a variant by link shows its price
    black = re.search(r'value="([0-9a-f-]+)">\s*<span>Black', text)
    assert black
    chosen = await client.get(f"/p/{product_id}?variant={black.group(1)}", headers=HTML)
    assert 'id="variant-price">$26.00<' in chosen.text and "Sold out" in chosen.text
    # the Shop tab and the shop page list it; filters narrow it
    tab = await client.get("/shop", headers=HTML)
    assert "Canvas Tote" in tab.text
    assert "Canvas Tote" in (await client.get("/shop?min=20&max=25", headers=HTML)).text
    assert "Canvas Tote" not in (await client.get("/shop?min=27", headers=HTML)).text
    assert "Canvas Tote" not in (await client.get("/shop?category=1604", headers=HTML)).text
    shop = await client.get("/shop/acme", headers=HTML)
    assert "Canvas Tote" in shop.text and "free from $50.00" in shop.text


async def test_product_form_errors_are_shown_next_to_the_row(client: httpx.AsyncClient) -> None:
    await sign_up(client, handle="olivia")
    await open_shop_page(client)
    token = await form_token(client, "/seller/acme/products/new")
    negative = await client.post(
        "/seller/acme/products/new",
        data=product_form(token, **{"variants.1.price": "-3"}),
        headers=HTML,
    )
    assert negative.status_code == 422
    assert 'id="v1-price-error"' in negative.text and "cannot be negative" in negative.text
    prohibited = await client.post(
        "/seller/acme/products/new", data=product_form(token, category_id="3833"), headers=HTML
    )
    assert prohibited.status_code == 422
    assert "cannot be sold on ClipCart" in prohibited.text
    wrong_values = await client.post(
        "/seller/acme/products/new",
        data=product_form(token, **{"variants.1.values": "Black, XL"}),
        headers=HTML,
    )
    assert wrong_values.status_code == 422 and 'id="v1-values-error"' in wrong_values.text
    from clipcart.catalog.models import Product

    assert await count(Product) == 0


async def test_bad_image_upload_shows_a_friendly_error(client: httpx.AsyncClient) -> None:
    await sign_up(client, handle="olivia")
    await open_shop_page(client)
    product_id = await create_product_page(client)
    token = await form_token(client, f"/seller/acme/products/{product_id}/edit")
    answer = await client.post(
        f"/seller/acme/products/{product_id}/images",
        data={"csrf_token": token},
        files={"image": ("photo.jpg", b"just some text", "image/jpeg")},
        headers=HTML,
    )
    assert answer.status_code == 422
    assert "Upload a JPEG, PNG, WebP or GIF image." in answer.text


async def test_stock_page_records_changes_and_refuses_overselling(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client, handle="olivia")
    await open_shop_page(client)
    product_id = await create_product_page(client)
    page = await client.get("/seller/acme/stock", headers=HTML)
    variant = re.search(r'<option value="([0-9a-f-]+)"[^>]*>Canvas Tote — Natural', page.text)
    assert variant, page.text
    token = csrf_from(page)
    ok = await client.post(
        "/seller/acme/stock",
        data={"csrf_token": token, "variant_id": variant.group(1), "delta": "-3",
              "reason": "damaged", "note": "water leak"},
        headers=HTML,
    )  # fmt: skip
    assert ok.status_code == 303
    after = await client.get("/seller/acme/stock", headers=HTML)
    assert "water leak" in after.text and "Damaged" in after.text
    too_many = await client.post(
        "/seller/acme/stock",
        data={"csrf_token": token, "variant_id": variant.group(1), "delta": "-99",
              "reason": "sale"},
        headers=HTML,
    )  # fmt: skip
    assert too_many.status_code == 409
    assert "not that many units" in too_many.text
    product = await client.get(f"/api/v1/products/{product_id}")
    assert product.json()["variants"][0]["stock"] == 5


async def test_settings_and_staff_pages(client: httpx.AsyncClient, app: Any) -> None:
    from tests.api.test_accounts_auth import new_client

    async with new_client(app) as other:
        await sign_up(other, handle="mark")
    await sign_up(client, handle="olivia")
    await open_shop_page(client)
    page = await client.get("/seller/acme/settings", headers=HTML)
    token = csrf_from(page)
    saved = await client.post(
        "/seller/acme/settings",
        data={"csrf_token": token, "name": "Acme Two", "description": "New", "country": "GB",
              "shipping_flat_rate": "", "free_shipping_threshold": "", "processing_days": "5",
              "return_policy": ""},
        headers=HTML,
    )  # fmt: skip
    assert saved.status_code == 303
    shop = (await client.get("/api/v1/shops/acme")).json()
    assert shop["name"] == "Acme Two" and shop["shipping"]["flat_rate"]["amount"] == 0
    assert shop["shipping"]["free_shipping_threshold"] is None
    bad = await client.post(
        "/seller/acme/settings",
        data={"csrf_token": token, "name": "", "country": "GB", "shipping_flat_rate": "-1",
              "processing_days": "x"},
        headers=HTML,
    )  # fmt: skip
    assert bad.status_code == 422
    added = await client.post(
        "/seller/acme/staff",
        data={"csrf_token": token, "user_handle": "@mark", "role": "manager"},
        headers=HTML,
    )
    assert added.status_code == 303
    staff = await client.get("/seller/acme/settings", headers=HTML)
    assert "@mark" in staff.text and "Manager" in staff.text
    logo = await client.post(
        "/seller/acme/settings/logo",
        data={"csrf_token": token},
        files={"logo": ("logo.txt", b"text", "text/plain")},
        headers=HTML,
    )
    assert logo.status_code == 422 and "Upload a JPEG" in logo.text


async def test_outsiders_get_not_found_and_drafts_stay_hidden(
    client: httpx.AsyncClient, app: Any
) -> None:
    from tests.api.test_accounts_auth import new_client

    await sign_up(client, handle="olivia")
    await open_shop_page(client)
    draft_id = await create_product_page(client, status="draft")
    async with new_client(app) as other:
        assert (await other.get(f"/p/{draft_id}", headers=HTML)).status_code == 404
        assert (await other.get("/p/not-a-uuid", headers=HTML)).status_code == 404
        login = await other.get("/seller/acme/products", headers=HTML)
        assert login.status_code == 303 and login.headers["location"].startswith("/login")
        await sign_up(other, handle="mallory")
        for path in ("/seller/acme/products", "/seller/acme/stock", "/seller/acme/settings",
                     f"/seller/acme/products/{draft_id}/edit"):  # fmt: skip
            assert (await other.get(path, headers=HTML)).status_code == 404, path
    assert (await client.get(f"/p/{draft_id}", headers=HTML)).status_code == 200
