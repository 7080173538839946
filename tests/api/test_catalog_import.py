"""Importing and exporting products through the API: a realistic Shopify CSV with bad rows,
unusable files, re-imports that never duplicate, an image zip, the CSV export and the feed."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

import httpx
from PIL import Image
from sqlalchemy import func, select

from clipcart.catalog.csv_format import EXPORT_COLUMNS, parse_products
from clipcart.catalog.import_models import ImportJob
from clipcart.catalog.models import Product, ProductImage, StockMovement, Variant
from clipcart.core.db import get_sessionmaker
from tests.api.test_accounts_auth import API, assert_problem, new_client, signup
from tests.api.test_shops import open_shop

SIZES = ("S", "M", "L")
COLOURS = ("Navy", "Sand")
GOOD_APPAREL = 8
GOOD_SINGLES = 6


@dataclass
class SampleCsv:
    """The file's rows, and what the import must report about them."""

    rows: list[dict[str, str]] = field(default_factory=list)
    bad: dict[int, str] = field(default_factory=dict)  # spreadsheet row -> column
    good_handles: list[str] = field(default_factory=list)
    image_names: list[str] = field(default_factory=list)

    def add(self, row: dict[str, str], bad_column: str | None = None) -> int:
        self.rows.append(row)
        number = len(self.rows) + 1  # the header is row 1
        if bad_column is not None:
            self.bad[number] = bad_column
        return number

    def to_bytes(self, rows: list[dict[str, str]] | None = None) -> bytes:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(EXPORT_COLUMNS), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(self.rows if rows is None else rows)
        return buffer.getvalue().encode("utf-8")

    @property
    def variant_count(self) -> int:
        return GOOD_APPAREL * len(SIZES) * len(COLOURS) - 2 + GOOD_SINGLES


def build_sample() -> SampleCsv:
    """Eight shirts in 3 sizes x 2 colours with two pictures each, six single-variant items,
    and bad rows: a bad quantity, a price with a comma, a negative price, a missing title,
    a duplicate SKU."""
    sample = SampleCsv()
    for number in range(1, GOOD_APPAREL + 1):
        handle = f"linen-shirt-{number}"
        sample.good_handles.append(handle)
        for index, (size, colour) in enumerate((s, c) for s in SIZES for c in COLOURS):
            row = {
                "Handle": handle,
                "Option1 Value": size,
                "Option2 Value": colour,
                "Variant SKU": f"LS{number}-{size}-{colour[:2].upper()}",
                "Variant Price": f"{30 + number}.50",
                "Variant Compare At Price": "49.00" if size == "L" else "",
                "Variant Grams": "240",
                "Variant Inventory Qty": str(number + index),
            }
            if index == 0:
                row.update(
                    {
                        "Title": f"Linen Shirt No. {number}",
                        "Body (HTML)": f"<p>Breathable <b>linen</b> shirt {number}.</p>"
                        "<script>alert('x')</script>",
                        "Vendor": "Ünïcode Weavers & Co",
                        "Product Category": "Apparel & Accessories > Clothing",
                        "Type": "Shirts",
                        "Tags": "linen, summer, menswear",
                        "Published": "TRUE",
                        "Option1 Name": "Size",
                        "Option2 Name": "Colour",
                        "Status": "active",
                    }
                )
            if index < 2:
                name = f"shirt-{number}-{index + 1}.png"
                sample.image_names.append(name)
                row.update(
                    {
                        "Image Src": name,
                        "Image Position": str(index + 1),
                        "Image Alt Text": f"Shirt {number} view {index + 1}",
                    }
                )
            bad_column = None
            if number == 2 and index == 3:
                row["Variant Inventory Qty"] = "lots"
                bad_column = "Variant Inventory Qty"
            if number == 3 and index == 5:
                row["Variant Price"] = "12,5"
                bad_column = "Variant Price"
            sample.add(row, bad_column)
    for number in range(1, GOOD_SINGLES + 1):
        handle = f"stoneware-mug-{number}"
        sample.good_handles.append(handle)
        sample.add(
            {
                "Handle": handle,
                "Title": f"Stoneware Mug {number} <Limited & Rare>",
                "Body (HTML)": "<p>Holds 350 ml.</p>",
                "Vendor": "Kiln",
                "Type": "Mugs",
                "Tags": "kitchen",
                "Published": "TRUE" if number % 2 else "FALSE",
                "Option1 Name": "Title",
                "Option1 Value": "Default Title",
                "Variant SKU": f"MUG-{number}",
                "Variant Price": "14.00",
                "Variant Grams": "400",
                "Variant Inventory Qty": "25",
                "Image Src": f"https://cdn.example.com/mug-{number}.jpg" if number == 1 else "",
            }
        )
    sample.add(
        {
            "Handle": "broken-mug",
            "Title": "Broken Mug",
            "Option1 Name": "Title",
            "Option1 Value": "Default Title",
            "Variant SKU": "MUG-BROKEN",
            "Variant Price": "-4.00",
            "Variant Inventory Qty": "3",
        },
        "Variant Price",
    )
    sample.add(
        {
            "Handle": "nameless-candle",
            "Title": "",
            "Option1 Name": "Scent",
            "Option1 Value": "Fig",
            "Variant Price": "9.00",
        },
        "Title",
    )
    sample.add(
        {"Handle": "nameless-candle", "Option1 Value": "Cedar", "Variant Price": "9.00"},
        "Handle",
    )
    sample.add(
        {
            "Handle": "copycat-socks",
            "Title": "Copycat Socks",
            "Variant SKU": "LS1-S-NA",
            "Variant Price": "5.00",
        },
        "Variant SKU",
    )
    return sample


def png_bytes(colour: tuple[int, int, int], size: int = 160) -> bytes:
    """A real PNG picture."""
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, "PNG")
    return buffer.getvalue()


def images_zip(names: list[str]) -> bytes:
    """A zip holding a real picture for each name (in a folder, as people zip them)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, name in enumerate(names):
            archive.writestr(f"pictures/{name}", png_bytes((40 * index % 255, 90, 160)))
    return buffer.getvalue()


# --- helpers ------------------------------------------------------------------------------


async def seller(client: httpx.AsyncClient, handle: str = "olivia", shop: str = "acme") -> None:
    await signup(client, handle)
    await open_shop(client, shop)


async def upload(
    client: httpx.AsyncClient,
    data: bytes,
    *,
    shop: str = "acme",
    images: bytes | None = None,
    name: str = "products.csv",
) -> httpx.Response:
    files: dict[str, Any] = {"file": (name, data, "text/csv")}
    if images is not None:
        files["images"] = ("pictures.zip", images, "application/zip")
    return await client.post(f"{API}/shops/{shop}/imports", files=files)


async def run_import(client: httpx.AsyncClient, data: bytes, **kwargs: Any) -> dict[str, Any]:
    """Upload, then follow the job until it ends (jobs run inline in tests)."""
    response = await upload(client, data, **kwargs)
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    for _ in range(100):
        status = await client.get(job["url"])
        assert status.status_code == 200, status.text
        job = status.json()
        if job["status"] in {"finished", "failed"}:
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"the import did not end: {job}")


async def count(model: Any, *where: Any) -> int:
    async with get_sessionmaker()() as session:
        statement = select(func.count()).select_from(model)
        for condition in where:
            statement = statement.where(condition)
        return int(await session.scalar(statement) or 0)


# --- tests --------------------------------------------------------------------------------


async def test_realistic_csv_keeps_good_rows_and_reports_bad_ones(
    client: httpx.AsyncClient,
) -> None:
    await seller(client)
    sample = build_sample()
    assert len(sample.rows) >= 50
    job = await run_import(client, sample.to_bytes())
    assert job["status"] == "finished", job
    assert job["percent"] == 100
    assert job["total_rows"] == job["processed_rows"] == len(sample.rows)
    assert job["created"] == len(sample.good_handles)
    assert job["updated"] == 0
    assert {(item["row"], item["column"]) for item in job["rejected_rows"]} == set(
        sample.bad.items()
    )
    messages = {item["row"]: item["message"] for item in job["rejected_rows"]}
    assert any("cannot be negative" in message for message in messages.values())
    assert any("needs a title" in message for message in messages.values())
    assert any("“lots” is not a whole number" in message for message in messages.values())
    # pictures without a zip are reported, the https one as "not fetched"
    warnings = {item["row"]: item["message"] for item in job["warnings"]}
    assert any("not fetched" in message for message in warnings.values())

    assert await count(Product) == len(sample.good_handles)
    assert await count(Variant) == sample.variant_count
    assert await count(ProductImage) == 0
    async with get_sessionmaker()() as session:
        shirt = await session.scalar(select(Product).where(Product.handle == "linen-shirt-2"))
        assert shirt is not None
        assert shirt.title == "Linen Shirt No. 2"
        assert shirt.vendor == "Ünïcode Weavers & Co"
        assert "<script>" not in shirt.description_html
        assert "<b>linen</b>" in shirt.description_html
        assert shirt.category_id == 1604
        assert shirt.options == ["Size", "Colour"]
        assert len(shirt.variants) == 5  # the "lots" row was skipped
        assert shirt.variants[0].price == 3250
        mug = await session.scalar(select(Product).where(Product.handle == "stoneware-mug-2"))
        assert mug is not None and mug.options == [] and mug.status == "draft"
        reasons = set(await session.scalars(select(StockMovement.reason)))
        assert reasons == {"import"}
    response = await client.get(f"{API}/products", params={"shop": "acme", "limit": 100})
    assert response.status_code == 200
    titles = [product["title"] for product in response.json()["items"]]
    assert "Stoneware Mug 1 <Limited & Rare>" in titles
    assert "Broken Mug" not in titles


async def test_reimporting_the_same_file_never_duplicates(client: httpx.AsyncClient) -> None:
    await seller(client)
    sample = build_sample()
    await run_import(client, sample.to_bytes())
    products, variants = await count(Product), await count(Variant)
    movements = await count(StockMovement)
    again = await run_import(client, sample.to_bytes())
    assert again["status"] == "finished"
    assert again["created"] == 0 and again["updated"] == 0
    assert again["unchanged"] == len(sample.good_handles)
    assert (await count(Product), await count(Variant)) == (products, variants)
    assert await count(StockMovement) == movements  # unchanged stock records nothing

    # one stock and one price change: an update, one movement with the reason "import"
    rows = [dict(row) for row in sample.rows]
    rows[0]["Variant Inventory Qty"] = "40"
    rows[1]["Variant Price"] = "99.00"
    changed = await run_import(client, sample.to_bytes(rows))
    assert changed["updated"] == 1 and changed["created"] == 0
    assert changed["unchanged"] == len(sample.good_handles) - 1
    assert await count(Product) == products
    assert await count(StockMovement) == movements + 1
    async with get_sessionmaker()() as session:
        movement = await session.scalar(
            select(StockMovement).order_by(StockMovement.created_at.desc()).limit(1)
        )
        assert movement is not None
        assert (movement.reason, movement.delta, movement.quantity_after) == ("import", 39, 40)
        price = await session.scalar(select(Variant.price).where(Variant.sku == "LS1-S-SA"))
        assert price == 9900


async def test_wrong_encoding_is_refused_and_nothing_is_kept(client: httpx.AsyncClient) -> None:
    await seller(client)
    text = build_sample().to_bytes().decode("utf-8")
    for data, fragment in (
        (text.encode("utf-16"), "UTF-16"),
        (text.encode("latin-1"), "not UTF-8"),
    ):
        body = assert_problem(await upload(client, data), 422, "csv_unusable")
        assert fragment in body["detail"]
        assert body["errors"][0]["field"] == "file"
    assert await count(ImportJob) == 0
    assert await count(Product) == 0


async def test_missing_columns_are_listed(client: httpx.AsyncClient) -> None:
    await seller(client)
    data = b"Handle,Name,Price\r\nmug,Mug,4.00\r\n"
    body = assert_problem(await upload(client, data), 422, "csv_unusable")
    assert "Required columns are missing: Title, Variant Price" in body["detail"]
    body = assert_problem(await upload(client, b""), 422, "csv_unusable")
    assert "empty" in body["detail"]
    assert await count(ImportJob) == 0


async def test_images_come_from_the_zip_and_are_not_added_twice(
    client: httpx.AsyncClient,
) -> None:
    await seller(client)
    sample = build_sample()
    archive = images_zip(sample.image_names[:-1])  # the last picture is missing from the zip
    job = await run_import(client, sample.to_bytes(), images=archive)
    assert job["status"] == "finished"
    assert await count(ProductImage) == len(sample.image_names) - 1
    missing = sample.image_names[-1]
    assert any(missing in item["message"] for item in job["warnings"])
    async with get_sessionmaker()() as session:
        shirt = await session.scalar(select(Product).where(Product.handle == "linen-shirt-1"))
        assert shirt is not None
        assert [image.alt for image in shirt.images] == ["Shirt 1 view 1", "Shirt 1 view 2"]
    product = (await client.get(f"{API}/products/{shirt.id}")).json()
    picture = await client.get(product["images"][0]["urls"]["240"])
    assert picture.status_code == 200
    assert Image.open(io.BytesIO(picture.content)).format == "WEBP"
    again = await run_import(client, sample.to_bytes(), images=archive)
    assert again["status"] == "finished"
    assert await count(ProductImage) == len(sample.image_names) - 1


async def test_a_zip_that_is_not_a_zip_is_refused(client: httpx.AsyncClient) -> None:
    await seller(client)
    response = await upload(client, build_sample().to_bytes(), images=b"not a zip at all")
    body = assert_problem(response, 422, "zip_unusable")
    assert body["errors"][0]["field"] == "images"
    assert await count(ImportJob) == 0


async def test_a_picture_that_is_not_an_image_is_a_warning(client: httpx.AsyncClient) -> None:
    await seller(client)
    sample = build_sample()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(sample.image_names[0], b"<html>not a picture</html>")
    job = await run_import(client, sample.to_bytes(), images=buffer.getvalue())
    assert job["status"] == "finished"
    first = sample.image_names[0]
    row = next(n + 2 for n, r in enumerate(sample.rows) if r.get("Image Src") == first)
    assert any(item["row"] == row and item["column"] == "Image Src" for item in job["warnings"])
    assert await count(ProductImage) == 0
    assert job["created"] == len(sample.good_handles)


async def test_export_gives_the_same_csv_back(client: httpx.AsyncClient) -> None:
    await seller(client)
    sample = build_sample()
    await run_import(client, sample.to_bytes())
    response = await client.get(f"{API}/shops/acme/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    exported = parse_products(response.content, currency="USD")
    assert exported.problems == []
    original = parse_products(sample.to_bytes(), currency="USD").products
    by_handle = {product.handle: product for product in exported.products}
    assert sorted(by_handle) == sorted(sample.good_handles)
    for product in original:
        mine = by_handle[product.handle]
        assert mine.title == product.title
        assert mine.options == product.options
        assert mine.variants == product.variants
        assert mine.status == product.status
    # importing the export changes nothing
    again = await run_import(client, response.content)
    assert again["unchanged"] == len(sample.good_handles)
    assert again["rejected_rows"] == []


async def test_merchant_feed_lists_active_variants_escaped(client: httpx.AsyncClient) -> None:
    await seller(client)
    await run_import(client, build_sample().to_bytes())
    response = await client.get(f"{API}/shops/acme/merchant-feed.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert b"<Limited &amp; Rare>" not in response.content
    assert b"&lt;Limited &amp; Rare&gt;" in response.content
    root = ElementTree.fromstring(response.content)
    g = "{http://base.google.com/ns/1.0}"
    assert root.tag == "rss" and root.get("version") == "2.0"
    items = root.findall("./channel/item")
    ids = {item.findtext(f"{g}id") for item in items}
    assert "MUG-2" not in ids  # a draft is not listed
    assert "MUG-1" in ids
    shirt = next(item for item in items if item.findtext(f"{g}id") == "LS1-L-NA")
    assert shirt.findtext(f"{g}price") == "49.00 USD"
    assert shirt.findtext(f"{g}sale_price") == "31.50 USD"
    assert shirt.findtext(f"{g}item_group_id") == "linen-shirt-1"
    assert shirt.findtext(f"{g}availability") == "in_stock"
    assert shirt.findtext(f"{g}brand") == "Ünïcode Weavers & Co"
    assert shirt.findtext(f"{g}condition") == "new"
    assert shirt.findtext(f"{g}google_product_category") == "1604"
    assert "alert" not in (shirt.findtext(f"{g}description") or "")
    assert shirt.findtext(f"{g}link", "").startswith("http")
    mug = next(item for item in items if item.findtext(f"{g}id") == "MUG-1")
    assert mug.findtext(f"{g}title") == "Stoneware Mug 1 <Limited & Rare>"
    assert mug.find(f"{g}item_group_id") is None


async def test_outsiders_cannot_import_or_see_jobs(client: httpx.AsyncClient, app: Any) -> None:
    await seller(client)
    job = await run_import(client, build_sample().to_bytes())
    async with new_client(app) as stranger:
        await signup(stranger, "mallory")
        assert_problem(await upload(stranger, build_sample().to_bytes()), 404, "shop_not_found")
        assert_problem(await stranger.get(job["url"]), 404, "shop_not_found")
        assert_problem(await stranger.get(f"{API}/shops/acme/export.csv"), 404, "shop_not_found")
    async with new_client(app) as anonymous:
        response = await anonymous.get(job["url"])
        assert response.status_code == 401


async def test_a_sku_taken_by_another_product_rejects_only_that_product(
    client: httpx.AsyncClient,
) -> None:
    await seller(client)
    body = {
        "title": "Older Mug",
        "handle": "older-mug",
        "variants": [{"sku": "MUG-3", "price": 900, "stock": 1}],
    }
    response = await client.post(f"{API}/shops/acme/products", json=body)
    assert response.status_code == 201, response.text
    sample = build_sample()
    job = await run_import(client, sample.to_bytes())
    assert job["status"] == "finished"
    assert job["created"] == len(sample.good_handles) - 1
    row = next(n + 2 for n, r in enumerate(sample.rows) if r.get("Variant SKU") == "MUG-3")
    problem = next(item for item in job["rejected_rows"] if item["row"] == row)
    assert problem["column"] == "Variant SKU"
    assert "MUG-3" in problem["message"]
    assert await count(Product) == len(sample.good_handles)  # the older mug and 13 imported
    assert await count(Product, Product.handle == "stoneware-mug-3") == 0
