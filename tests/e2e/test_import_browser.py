"""Importing products in a real browser: upload a Shopify CSV with a zip of pictures on the
seller page, watch the progress bar reach 100% and read the rejected rows; screenshots."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from clipcart.catalog.import_models import ImportJob
from clipcart.catalog.import_tasks import run_import_job
from clipcart.core.db import get_sessionmaker
from clipcart.shops.models import Shop
from tests.api.test_catalog_import import build_sample, images_zip
from tests.e2e.conftest import ARTIFACTS, PageProblems
from tests.e2e.test_pages_browser import screenshot, sign_up

pytestmark = pytest.mark.browser


async def open_shop(page: Page, handle: str) -> None:
    await page.goto("/shops/new")
    await page.get_by_label("Shop name").fill("Linen & Clay")
    await page.get_by_label("Shop handle").fill(handle)
    await page.get_by_label("Country").select_option("US")
    await page.get_by_label("Currency").select_option("USD")
    await page.get_by_role("button", name="Open shop").click()
    await expect(page).to_have_url(re.compile(rf"/seller/{handle}/products$"))


async def test_upload_a_csv_and_read_the_report(page: Page, problems: PageProblems) -> None:
    account = await sign_up(page, display_name="Ines Importer")
    shop = f"shop{account['handle'][3:]}"
    await open_shop(page, shop)
    sample = build_sample()
    csv_path = ARTIFACTS / "import-products.csv"
    csv_path.write_bytes(sample.to_bytes())
    zip_path = ARTIFACTS / "import-pictures.zip"
    zip_path.write_bytes(images_zip(sample.image_names))

    await page.get_by_role("link", name="Import & export").click()
    await expect(page).to_have_url(re.compile(rf"/seller/{shop}/import$"))
    await expect(page.get_by_role("link", name="Download products CSV")).to_be_visible()
    await screenshot(page, "import-form-390x844", full_page=True)

    # a file in the wrong encoding is refused (422) with a message saying what to do
    problems.allow_console("status of 422")
    latin = ARTIFACTS / "import-latin1.csv"
    latin.write_bytes("Handle,Title,Variant Price\r\nbrie,Crème brûlée,4\r\n".encode("latin-1"))
    await page.get_by_label("Product CSV").set_input_files(str(latin))
    await page.get_by_role("button", name="Import").click()
    await expect(page.get_by_role("alert")).to_contain_text("not UTF-8")
    await expect(page.get_by_role("alert")).to_contain_text("CSV UTF-8")

    await page.get_by_label("Product CSV").set_input_files(str(csv_path))
    await page.get_by_label("Pictures (optional)").set_input_files(str(zip_path))
    await page.get_by_role("button", name="Import").click()
    await expect(page).to_have_url(re.compile(rf"/seller/{shop}/import/[0-9a-f-]+$"))
    await expect(page.locator("[data-import-percent]")).to_have_text("100%")
    bar = page.locator("progress[data-import-bar]")
    assert await bar.get_attribute("value") == await bar.get_attribute("max")
    await expect(page.get_by_text("Import finished.")).to_be_visible()
    rejected = page.locator("table[data-import-rejected] tbody tr")
    await expect(rejected).to_have_count(len(sample.bad))
    for row, column in sample.bad.items():
        line = rejected.filter(has=page.get_by_role("cell", name=str(row), exact=True))
        await expect(line).to_contain_text(column)
    await expect(page.get_by_text("The price cannot be negative.")).to_be_visible()
    summary = page.locator(".import-summary")
    await expect(summary).to_contain_text(f"Created{len(sample.good_handles)}")
    await screenshot(page, "import-report-390x844", full_page=True)

    listed = await page.request.get(f"/api/v1/products?shop={shop}&limit=100")
    titles = {product["title"] for product in (await listed.json())["items"]}
    assert "Linen Shirt No. 1" in titles and "Broken Mug" not in titles
    assert problems.unexpected() == []


async def test_progress_follows_a_running_import(page: Page, problems: PageProblems) -> None:
    """A queued import (as a separate worker would see it) is followed by the page's script
    until it ends, then the page shows the report."""
    account = await sign_up(page, display_name="Paz Progress")
    shop_handle = f"shop{account['handle'][3:]}"
    await open_shop(page, shop_handle)
    sample = build_sample()
    async with get_sessionmaker()() as session:
        shop = await session.scalar(select(Shop).where(Shop.handle == shop_handle))
        assert shop is not None
        job = ImportJob(
            shop_id=shop.id,
            file_name="queued.csv",
            total_rows=len(sample.rows),
            csv_data=sample.to_bytes(),
            rejected_rows=[],
            warnings=[],
        )
        session.add(job)
        await session.commit()
        job_id = job.id
    await page.goto(f"/seller/{shop_handle}/import/{job_id}")
    await expect(page.get_by_text("Waiting to start…")).to_be_visible()
    await expect(page.locator("[data-import-percent]")).to_have_text("0%")
    await screenshot(page, "import-waiting-390x844")
    await asyncio.sleep(1)  # the script is polling
    assert await run_import_job(job_id) == "finished"
    await expect(page.get_by_text("Import finished.")).to_be_visible()
    await expect(page.locator("[data-import-percent]")).to_have_text("100%")
    await expect(page.locator("table[data-import-rejected] tbody tr")).to_have_count(
        len(sample.bad)
    )
    assert problems.unexpected() == []
