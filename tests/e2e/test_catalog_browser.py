"""The shop and catalogue in a real browser: open a shop, create a product with variants and a
picture, see its page, pick a variant; screenshots for people to look at."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from playwright.async_api import Page, expect

from tests.e2e.conftest import ARTIFACTS, PageProblems
from tests.e2e.test_pages_browser import screenshot, sign_up

pytestmark = pytest.mark.browser


def make_product_photo(path: Path) -> Path:
    """A 900x900 JPEG of a 'tote bag', made with Pillow."""
    image = Image.new("RGB", (900, 900), (244, 236, 220))
    draw = ImageDraw.Draw(image)
    draw.rectangle((220, 300, 680, 800), fill=(196, 160, 110), outline=(90, 60, 30), width=8)
    draw.arc((320, 120, 580, 420), start=180, end=360, fill=(90, 60, 30), width=18)
    image.save(path, format="JPEG", quality=90)
    return path


async def test_open_a_shop_list_a_product_and_pick_a_variant(
    page: Page, problems: PageProblems
) -> None:
    account = await sign_up(page, display_name="Olivia Maker")
    shop_handle = f"shop{account['handle'][3:]}"

    await page.goto("/seller")
    await page.get_by_role("link", name="Open a shop").click()
    await page.get_by_label("Shop name").fill("Olivia's Totes")
    await page.get_by_label("Shop handle").fill(shop_handle)
    await page.get_by_label("About the shop").fill("Hand-printed canvas bags from Leeds.")
    await page.get_by_label("Country").select_option("GB")
    await page.get_by_label("Currency").select_option("GBP")
    await page.get_by_label("Flat rate per order").fill("3.50")
    await page.get_by_label("Free shipping from").fill("40")
    await page.get_by_role("button", name="Open shop").click()
    await expect(page).to_have_url(re.compile(rf"/seller/{shop_handle}/products$"))
    await expect(page.get_by_text("Olivia's Totes is open")).to_be_visible()

    await page.get_by_role("link", name="New product").first.click()
    await page.get_by_label("Title").fill("Canvas Tote")
    await page.get_by_label("Description").fill("<p>Sturdy <strong>canvas</strong>.</p>")
    await page.get_by_label("Category").select_option(label="Luggage & Bags > Tote Bags")
    await page.get_by_label("Status").select_option("active")
    await page.get_by_label("Option names").fill("Colour")
    await page.locator("#v0-values").fill("Natural")
    await page.locator("#v0-sku").fill("TOTE-NAT")
    await page.locator("#v0-price").fill("24.50")
    await page.locator("#v0-compare").fill("30")
    await page.locator("#v0-stock").fill("8")
    await page.locator("#v1-values").fill("Black")
    await page.locator("#v1-sku").fill("TOTE-BLK")
    await page.locator("#v1-price").fill("26")
    await page.locator("#v1-stock").fill("0")
    await page.get_by_role("button", name="Create product").click()
    await expect(page).to_have_url(re.compile(r"/products/[0-9a-f-]+/edit$"))

    photo = make_product_photo(ARTIFACTS / "catalog-photo.jpg")
    await page.get_by_label("Add a picture").set_input_files(str(photo))
    await page.get_by_label("Describe the picture").fill("Natural canvas tote, front")
    await page.get_by_role("button", name="Upload picture").click()
    await expect(page.get_by_text("Picture added.")).to_be_visible()
    await expect(page.get_by_role("img", name="Natural canvas tote, front")).to_be_visible()
    await screenshot(page, "catalog-seller-edit", full_page=True)

    await page.get_by_role("link", name="View product page").click()
    await expect(page.get_by_role("heading", name="Canvas Tote")).to_be_visible()
    price = page.locator("#variant-price")
    await expect(price).to_have_text("£24.50")
    await expect(page.locator("#variant-compare")).to_be_visible()
    await expect(page.locator("#variant-stock")).to_have_text("In stock")
    image = page.get_by_role("img", name="Natural canvas tote, front")
    await expect(image).to_be_visible()
    # Visible is not loaded: wait (up to the default timeout) for the picture's pixels.
    await page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=await image.element_handle()
    )
    await screenshot(page, "catalog-product-phone", full_page=True)

    # picking a variant updates price, stock and address without reloading the page
    await page.evaluate("window.__notReloaded = true")
    await page.get_by_role("radio", name=re.compile("^Black")).click()
    await expect(price).to_have_text("£26.00")
    await expect(page.locator("#variant-compare")).to_be_hidden()
    await expect(page.locator("#variant-stock")).to_have_text("Sold out")
    await expect(page.locator("#variant-sku")).to_have_text("TOTE-BLK")
    assert await page.evaluate("window.__notReloaded === true")
    assert "variant=" in page.url
    # a link to the chosen variant opens on it
    await page.reload()
    await expect(price).to_have_text("£26.00")

    structured = json.loads(
        await page.locator('script[type="application/ld+json"]').text_content() or "{}"
    )
    assert structured["@type"] == "Product"
    assert {offer["priceCurrency"] for offer in structured["offers"]} == {"GBP"}
    og_title = page.locator('meta[property="og:title"]')
    await expect(og_title).to_have_attribute("content", "Canvas Tote")

    await page.goto("/shop")
    await expect(page.get_by_role("link", name=re.compile("Canvas Tote"))).to_be_visible()
    await screenshot(page, "catalog-shop-tab")
    await page.goto(f"/shop/{shop_handle}")
    await expect(page.get_by_role("heading", name="Olivia's Totes")).to_be_visible()
    await expect(page.get_by_text("free from £40.00")).to_be_visible()
    no_horizontal_scroll = await page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth"
    )
    assert no_horizontal_scroll
    await screenshot(page, "catalog-shop-page", full_page=True)

    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.goto("/shop")
    await screenshot(page, "catalog-shop-tab-desktop")
    assert problems.unexpected() == []


async def test_stock_page_in_the_browser(page: Page, problems: PageProblems) -> None:
    account = await sign_up(page)
    handle = f"st{account['handle'][3:]}"
    await page.goto("/shops/new")
    await page.get_by_label("Shop name").fill("Stock Test")
    await page.get_by_label("Shop handle").fill(handle)
    await page.get_by_label("Country").select_option("US")
    await page.get_by_role("button", name="Open shop").click()
    await page.goto(f"/seller/{handle}/products/new")
    await page.get_by_label("Title").fill("Mug")
    await page.locator("#v0-price").fill("12")
    await page.locator("#v0-stock").fill("4")
    await page.get_by_role("button", name="Create product").click()
    await page.get_by_role("link", name="Stock", exact=True).click()
    await page.get_by_label("Change").fill("-9")
    await page.get_by_label("Reason").select_option("sale")
    await page.get_by_role("button", name="Record change").click()
    await expect(page.get_by_text("There are not that many units in stock.")).to_be_visible()
    await page.get_by_label("Change").fill("6")
    await page.get_by_label("Reason").select_option("restock")
    await page.get_by_role("button", name="Record change").click()
    await expect(page.get_by_text("Stock updated: +6 (restock).")).to_be_visible()
    await expect(page.locator("td.numeric").first).to_have_text("10")
    await screenshot(page, "catalog-stock", full_page=True)
    problems.allow_console("409")
    assert problems.unexpected() == []
