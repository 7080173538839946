"""Catalogue import and export API: upload a Shopify CSV (and an image zip), follow the job,
download the CSV back, and the Google Merchant feed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Depends, File, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.dependencies import require_scope
from clipcart.accounts.models import User
from clipcart.catalog import exporting, import_tasks, importing, merchant_feed
from clipcart.catalog.import_models import ImportJob
from clipcart.catalog.import_tasks import enqueue_import
from clipcart.catalog.models import Product
from clipcart.core.config import get_settings
from clipcart.core.errors import NotFound, PayloadTooLarge
from clipcart.core.routing import DbSession, make_router
from clipcart.shops import service as shops
from clipcart.shops.domain import CATALOG_ROLES
from clipcart.shops.models import Shop

router = make_router(prefix="/api/v1", tags=["catalog import"])

CatalogReader = Annotated[User, Depends(require_scope("catalog:read"))]
CatalogWriter = Annotated[User, Depends(require_scope("catalog:write"))]


class RowProblemOut(BaseModel):
    row: int
    column: str
    message: str


class ImportJobOut(BaseModel):
    id: uuid.UUID
    url: str
    page_url: str
    status: str
    file_name: str
    total_rows: int
    processed_rows: int
    percent: int
    created: int
    updated: int
    unchanged: int
    rejected_rows: list[RowProblemOut]
    warnings: list[RowProblemOut]
    error: str
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, job: ImportJob, shop_handle: str) -> ImportJobOut:
        done = job.status in {"finished", "failed"}
        percent = (
            100 if done else (100 * job.processed_rows // job.total_rows if job.total_rows else 0)
        )
        return cls(
            id=job.id,
            url=f"/api/v1/shops/{shop_handle}/imports/{job.id}",
            page_url=f"/seller/{shop_handle}/import/{job.id}",
            status=job.status,
            file_name=job.file_name,
            total_rows=job.total_rows,
            processed_rows=job.total_rows if done else job.processed_rows,
            percent=min(percent, 100),
            created=job.created_count,
            updated=job.updated_count,
            unchanged=job.unchanged_count,
            rejected_rows=[RowProblemOut(**item) for item in job.rejected_rows],
            warnings=[RowProblemOut(**item) for item in job.warnings],
            error=job.error,
            created_at=job.created_at,
            finished_at=job.finished_at,
        )


async def read_upload(upload: UploadFile | None, limit: int, what: str) -> bytes | None:
    """The uploaded bytes (None when nothing was sent), refusing files over `limit`."""
    if upload is None:
        return None
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(
            f"The {what} is too large (at most {limit // (1024 * 1024)} MB).",
            code="csv_too_large" if what == "CSV file" else "zip_too_large",
        )
    return data


async def create_import(
    shop: Shop,
    user: User,
    csv_file: UploadFile,
    images: UploadFile | None,
    *,
    session: AsyncSession,
) -> ImportJob:
    """Start an import from uploaded files (shared by the API and the page)."""
    csv_data = await read_upload(csv_file, importing.CSV_MAX_BYTES, "CSV file") or b""
    if images is not None and not images.filename:
        images = None  # an empty file input in a browser form
    zip_data = await read_upload(images, importing.ZIP_MAX_BYTES, "images zip")
    return await import_tasks.start_import(
        shop,
        actor=user,
        csv_data=csv_data,
        file_name=csv_file.filename or "products.csv",
        zip_data=zip_data,
        session=session,
        enqueue=enqueue_import,
    )


async def get_job(shop: Shop, job_id: uuid.UUID, *, session: AsyncSession) -> ImportJob:
    """One of the shop's import jobs (404 otherwise)."""
    job = await session.scalar(
        select(ImportJob).where(ImportJob.id == job_id, ImportJob.shop_id == shop.id)
    )
    if job is None:
        raise NotFound("There is no such import.", code="import_not_found")
    return job


@router.post("/shops/{handle}/imports", status_code=202)
async def start_import(
    handle: str,
    user: CatalogWriter,
    db: DbSession,
    file: Annotated[UploadFile, File(description="Shopify product CSV (UTF-8)")],
    images: Annotated[UploadFile | None, File(description="Zip of the pictures")] = None,
) -> ImportJobOut:
    """Check the CSV and queue its import; follow the job at its URL."""
    shop = await shops.get_shop_for_staff(user, handle, session=db, roles=CATALOG_ROLES)
    job = await create_import(shop, user, file, images, session=db)
    return ImportJobOut.of(job, shop.handle)


@router.get("/shops/{handle}/imports/{job_id}")
async def import_status(
    handle: str, job_id: uuid.UUID, user: CatalogReader, db: DbSession
) -> ImportJobOut:
    """An import's progress, counts and rejected rows."""
    shop = await shops.get_shop_for_staff(user, handle, session=db, roles=CATALOG_ROLES)
    return ImportJobOut.of(await get_job(shop, job_id, session=db), shop.handle)


@router.get("/shops/{handle}/export.csv", response_class=Response)
async def export_csv(handle: str, user: CatalogReader, db: DbSession) -> Response:
    """Every product of the shop in Shopify's product CSV format."""
    shop = await shops.get_shop_for_staff(user, handle, session=db, roles=CATALOG_ROLES)
    base_url = get_settings().base_url
    chunks = [piece async for piece in exporting.export_csv(shop, base_url=base_url, session=db)]
    return Response(
        "".join(chunks),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{shop.handle}-products.csv"'},
    )


@router.get("/shops/{handle}/merchant-feed.xml", response_class=Response)
async def feed(handle: str, db: DbSession) -> Response:
    """The shop's active products as a Google Merchant feed (public, like the products)."""
    shop = await shops.get_shop_by_handle(handle, session=db)
    products = list(
        await db.scalars(
            select(Product)
            .where(Product.shop_id == shop.id, Product.status == "active")
            .order_by(Product.created_at, Product.id)
        )
    )
    body = merchant_feed.build_feed(shop, products, base_url=get_settings().base_url)
    return Response(body, media_type="application/xml; charset=utf-8")
