"""Seller center: import products from a Shopify CSV (with a zip of pictures), follow the
import's progress, read the rejected rows, and download the export and the Merchant feed."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from clipcart.accounts.models import User
from clipcart.catalog import import_tasks, importing
from clipcart.catalog.import_models import ImportJob
from clipcart.catalog.import_tasks import enqueue_import
from clipcart.core.errors import AppError, NotFound
from clipcart.core.routing import DbSession, make_router
from clipcart.shops import service as shops
from clipcart.shops.domain import CATALOG_ROLES
from clipcart.shops.models import Shop
from clipcart.web.forms import FORM_ERROR, FormErrors, see_other
from clipcart.web.templating import render
from clipcart.web.viewer import SignedInViewer

router = make_router(include_in_schema=False)
RECENT_JOBS = 10


async def _recent_jobs(shop: Shop, session: AsyncSession) -> list[ImportJob]:
    rows = await session.scalars(
        select(ImportJob)
        .where(ImportJob.shop_id == shop.id)
        .order_by(ImportJob.created_at.desc(), ImportJob.id.desc())
        .limit(RECENT_JOBS)
    )
    return list(rows)


async def _form_page(
    request: Request,
    viewer: User,
    shop: Shop,
    session: AsyncSession,
    *,
    errors: FormErrors | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "seller/import.html",
        {
            "shop": shop,
            "section": "import",
            "jobs": await _recent_jobs(shop, session),
            "errors": errors or {},
        },
        viewer=viewer,
        status_code=status,
        tab="me",
    )


@router.get("/seller/{handle}/import", response_class=HTMLResponse)
async def import_form(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """The upload form, recent imports and the export links."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=CATALOG_ROLES)
    return await _form_page(request, viewer, shop, session)


async def _read(upload: Any, limit: int) -> bytes | None:
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return await upload.read(limit + 1)


@router.post("/seller/{handle}/import", response_class=HTMLResponse)
async def start_import(
    handle: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """Check the uploaded CSV and queue its import; a bad file shows what is wrong."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=CATALOG_ROLES)
    form = await request.form()
    upload = form.get("file")
    csv_data = await _read(upload, importing.CSV_MAX_BYTES)
    if csv_data is None:
        message = "Choose a CSV file to import."
        errors: FormErrors = {"file": message, FORM_ERROR: message}
        return await _form_page(request, viewer, shop, session, errors=errors, status=422)
    try:
        job = await import_tasks.start_import(
            shop,
            actor=viewer,
            csv_data=csv_data,
            file_name=upload.filename or "products.csv" if isinstance(upload, UploadFile) else "",
            zip_data=await _read(form.get("images"), importing.ZIP_MAX_BYTES),
            session=session,
            enqueue=enqueue_import,
        )
    except AppError as error:
        listed = error.data.get("errors") or [{"field": "file", "message": error.message}]
        errors = {str(item["field"]): str(item["message"]) for item in listed}
        errors[FORM_ERROR] = f"Nothing was imported. {error.message}"
        return await _form_page(request, viewer, shop, session, errors=errors, status=error.status)
    return see_other(f"/seller/{shop.handle}/import/{job.id}")


@router.get("/seller/{handle}/import/{job_id}", response_class=HTMLResponse)
async def import_job(
    handle: str, job_id: str, request: Request, viewer: SignedInViewer, session: DbSession
) -> Response:
    """One import: a progress bar while it runs, then the counts and the rejected rows."""
    shop = await shops.get_shop_for_staff(viewer, handle, session=session, roles=CATALOG_ROLES)
    try:
        identifier = uuid.UUID(job_id)
    except ValueError as error:
        raise NotFound("There is no such import.", code="import_not_found") from error
    job = await session.scalar(
        select(ImportJob).where(ImportJob.id == identifier, ImportJob.shop_id == shop.id)
    )
    if job is None:
        raise NotFound("There is no such import.", code="import_not_found")
    running = job.status in {"queued", "running"}
    processed = job.processed_rows if running else job.total_rows
    return render(
        request,
        "seller/import_job.html",
        {
            "shop": shop,
            "section": "import",
            "job": job,
            "running": running,
            "processed": processed,
            "percent": (100 * processed // job.total_rows) if job.total_rows else 100,
            "api_url": f"/api/v1/shops/{shop.handle}/imports/{job.id}",
        },
        viewer=viewer,
        tab="me",
    )
