"""The seller center's import pages: upload a CSV, see the report, and a running import's
page that follows progress without JavaScript (the API side is in test_catalog_import.py)."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from clipcart.catalog.import_models import ImportJob
from clipcart.core.db import get_sessionmaker
from clipcart.shops.models import Shop
from tests.api.test_accounts_auth import API
from tests.api.test_catalog_import import build_sample, count, seller


async def test_import_pages_upload_and_show_the_report(client: httpx.AsyncClient) -> None:
    await seller(client)
    form = await client.get("/seller/acme/import")
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text
    assert "/api/v1/shops/acme/export.csv" in form.text

    empty = await client.post("/seller/acme/import", files={"file": ("", b"", "text/csv")})
    assert empty.status_code == 422
    assert "Choose a CSV file to import." in empty.text

    latin = "Handle,Title,Variant Price\r\nbrie,Crème,4\r\n".encode("latin-1")
    refused = await client.post("/seller/acme/import", files={"file": ("p.csv", latin)})
    assert refused.status_code == 422
    assert "Nothing was imported." in refused.text and "not UTF-8" in refused.text
    assert await count(ImportJob) == 0

    sample = build_sample()
    started = await client.post(
        "/seller/acme/import", files={"file": ("shop.csv", sample.to_bytes(), "text/csv")}
    )
    assert started.status_code == 303
    report = await client.get(started.headers["location"])
    assert report.status_code == 200
    assert "Import finished." in report.text
    assert "data-import-rejected" in report.text
    assert "The price cannot be negative." in report.text
    assert "import-progress.js" not in report.text  # nothing left to follow


async def test_a_running_import_page_refreshes_without_javascript(
    client: httpx.AsyncClient,
) -> None:
    await seller(client)
    async with get_sessionmaker()() as session:
        shop = await session.scalar(select(Shop).where(Shop.handle == "acme"))
        assert shop is not None
        job = ImportJob(shop_id=shop.id, file_name="big.csv", status="running", total_rows=200)
        job.processed_rows, job.rejected_rows, job.warnings = 50, [], []
        session.add(job)
        await session.commit()
    page = await client.get(f"/seller/acme/import/{job.id}")
    assert page.status_code == 200
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page.text
    assert 'value="50"' in page.text and 'max="200"' in page.text
    assert "25%" in page.text
    assert "import-progress.js" in page.text
    status = (await client.get(f"{API}/shops/acme/imports/{job.id}")).json()
    assert (status["status"], status["percent"], status["processed_rows"]) == ("running", 25, 50)
    missing = await client.get("/seller/acme/import/not-a-uuid")
    assert missing.status_code == 404
