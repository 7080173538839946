"""Stock changes with reasons, and product images checked by content."""

from __future__ import annotations

import io
import struct
import uuid
import zlib
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import select

from clipcart.catalog.models import ProductImage, StockMovement
from clipcart.core.config import get_settings
from clipcart.core.db import get_sessionmaker
from tests.api.test_accounts_auth import API, assert_problem, new_client, signup
from tests.api.test_catalog_products import count, create, seller
from tests.api.test_shops import png


async def test_stock_changes_need_a_reason_and_never_go_negative(
    client: httpx.AsyncClient,
) -> None:
    await seller(client)
    product = await create(client)
    variant = product["variants"][0]  # 5 in stock
    url = f"{API}/products/{product['id']}/stock"
    sold = await client.patch(
        url, json={"variant_id": variant["id"], "delta": -2, "reason": "sale"}
    )
    assert sold.status_code == 200, sold.text
    assert sold.json()["variant"]["stock"] == 3
    assert sold.json()["movement"]["quantity_after"] == 3
    too_many = await client.patch(
        url, json={"variant_id": variant["id"], "delta": -4, "reason": "sale"}
    )
    assert_problem(too_many, 409, "insufficient_stock")
    no_reason = await client.patch(
        url, json={"variant_id": variant["id"], "delta": 1, "reason": "because"}
    )
    assert_problem(no_reason, 422, "validation_failed")
    counted = await client.patch(
        url,
        json={"variant_id": variant["id"], "quantity": 10, "reason": "correction", "note": "count"},
    )
    assert counted.json()["movement"]["delta"] == 7
    same = await client.patch(
        url, json={"variant_id": variant["id"], "quantity": 10, "reason": "correction"}
    )
    assert same.json()["movement"] is None
    both = await client.patch(
        url, json={"variant_id": variant["id"], "delta": 1, "quantity": 1, "reason": "return"}
    )
    assert_problem(both, 422, "validation_failed")
    negative_quantity = await client.patch(
        url, json={"variant_id": variant["id"], "quantity": -1, "reason": "correction"}
    )
    assert_problem(negative_quantity, 422, "validation_failed")
    other_variant = await client.patch(
        url,
        json={
            "variant_id": "01900000-0000-7000-8000-000000000000",
            "delta": 1,
            "reason": "return",
        },
    )
    assert_problem(other_variant, 404, "variant_not_found")
    movements = (await client.get(f"{API}/products/{product['id']}/stock-movements")).json()
    mine = [m for m in movements["items"] if m["variant_id"] == variant["id"]]
    assert [(m["delta"], m["reason"], m["quantity_after"]) for m in mine] == [
        (7, "correction", 10),
        (-2, "sale", 3),
        (5, "initial", 5),
    ]
    assert (await client.get(f"{API}/products/{product['id']}")).json()["variants"][0][
        "stock"
    ] == 10


def _bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares a huge picture (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _jpeg_with_exif() -> bytes:
    picture = Image.new("RGB", (1600, 900), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0112] = 6  # orientation: rotate 90
    out = io.BytesIO()
    picture.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def _product_files() -> list[Path]:
    directory = get_settings().resolved_media_root / "products"
    return sorted(directory.glob("*")) if directory.exists() else []


async def test_images_are_reencoded_resized_and_stripped(client: httpx.AsyncClient) -> None:
    await seller(client)
    product = await create(client)
    response = await client.post(
        f"{API}/products/{product['id']}/images",
        files={"file": ("photo.jpg", _jpeg_with_exif(), "image/jpeg")},
        data={"alt": "Blue tee on a hanger"},
    )
    assert response.status_code == 201, response.text
    image = response.json()
    # orientation applied: 1600x900 rotated is 900x1600, scaled to fit 1200
    assert (image["width"], image["height"]) == (675, 1200)
    for size in ("1200", "600", "240"):
        served = await client.get(image["urls"][size])
        assert served.status_code == 200
        picture = Image.open(io.BytesIO(served.content))
        assert picture.format == "WEBP"
        assert max(picture.size) == int(size)
        assert not picture.getexif()
        assert b"SpyCam" not in served.content
    second = await client.post(
        f"{API}/products/{product['id']}/images",
        files={"file": ("anything.bin", png(), "application/octet-stream")},
        data={"position": "0"},
    )
    assert second.status_code == 201
    listed = (await client.get(f"{API}/products/{product['id']}")).json()["images"]
    assert [item["id"] for item in listed] == [second.json()["id"], image["id"]]
    deleted = await client.delete(f"{API}/products/{product['id']}/images/{image['id']}")
    assert deleted.status_code == 204
    assert len((await client.get(f"{API}/products/{product['id']}")).json()["images"]) == 1


async def test_bad_images_are_refused_and_leave_nothing(
    client: httpx.AsyncClient, app: Any
) -> None:
    await seller(client)
    product = await create(client)
    url = f"{API}/products/{product['id']}/images"
    before = _product_files()
    cases = {
        "text.png": b"hello, I am a text file pretending to be a PNG",
        "bomb.png": _bomb_png(100_000, 100_000),
        "truncated.png": png()[:200],
        "tiny.png": png(20, 20),
        "empty.png": b"",
    }
    for name, content in cases.items():
        response = await client.post(url, files={"file": (name, content, "image/png")})
        body = assert_problem(response, 422, "image_invalid")
        assert body["errors"][0]["field"] == "file"
    assert (
        "too many pixels"
        in (
            await client.post(
                url, files={"file": ("b.png", _bomb_png(50_000, 50_000), "image/png")}
            )
        ).json()["errors"][0]["message"]
    )
    assert _product_files() == before
    assert await count(ProductImage) == 0
    async with new_client(app) as other:
        await signup(other, "mallory")
        response = await other.post(url, files={"file": ("a.png", png(), "image/png")})
        assert_problem(response, 404, "product_not_found")


async def test_at_most_ten_images(client: httpx.AsyncClient) -> None:
    await seller(client)
    product = await create(client)
    url = f"{API}/products/{product['id']}/images"
    small = png(120, 120)
    for _ in range(10):
        assert (
            await client.post(url, files={"file": ("a.png", small, "image/png")})
        ).status_code == 201
    assert_problem(
        await client.post(url, files={"file": ("a.png", small, "image/png")}),
        409,
        "too_many_images",
    )


async def test_removing_a_variant_keeps_its_stock_history(client: httpx.AsyncClient) -> None:
    await seller(client)
    product = await create(client)  # TEE-M-RED has 12 in stock
    keep = [
        {"id": variant["id"], "sku": variant["sku"], "option_values": variant["option_values"],
         "price": variant["price"]["amount"]}
        for variant in product["variants"] if variant["sku"] != "TEE-M-RED"
    ]  # fmt: skip
    response = await client.patch(f"{API}/products/{product['id']}", json={"variants": keep})
    assert response.status_code == 200, response.text
    assert [variant["sku"] for variant in response.json()["variants"]] == ["TEE-S-BLU", "TEE-M-BLU"]
    async with get_sessionmaker()() as session:
        rows = (
            await session.execute(
                select(StockMovement.variant_id, StockMovement.delta, StockMovement.note)
                .where(StockMovement.shop_id == uuid.UUID(product["shop"]["id"]))
                .order_by(StockMovement.created_at, StockMovement.id)
            )
        ).all()
    orphaned = [(delta, note) for variant_id, delta, note in rows if variant_id is None]
    assert sorted(orphaned) == [(-12, "Variant TEE-M-RED removed"), (12, "")]
    assert sum(delta for _, delta, _ in rows) == 5  # what is left: TEE-S-BLU's five
