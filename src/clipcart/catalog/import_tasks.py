"""The catalogue import job: queue an uploaded file, then apply it in a worker, saving
progress (rows done, rejected rows) after every chunk so a page can follow it."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.catalog.import_models import ImportJob
from clipcart.catalog.importing import (
    ImportReport,
    apply_import,
    as_dicts,
    check_csv,
    open_zip,
)
from clipcart.core import clock, events
from clipcart.core.db import unit_of_work
from clipcart.core.errors import AppError, NotFound
from clipcart.core.jobs import huey, run_async
from clipcart.shops.models import Shop

log = logging.getLogger(__name__)


async def start_import(
    shop: Shop,
    *,
    actor: User | None,
    csv_data: bytes,
    file_name: str,
    zip_data: bytes | None,
    session: AsyncSession,
    enqueue: Callable[[uuid.UUID], Any] | None = None,
) -> ImportJob:
    """Check the upload and queue its import; an unusable file is refused and nothing is kept."""
    parsed = check_csv(csv_data, currency=shop.currency)
    open_zip(zip_data)
    job = ImportJob(
        shop_id=shop.id,
        created_by_id=actor.id if actor else None,
        status="queued",
        file_name=file_name[:255],
        total_rows=parsed.total_rows,
        csv_data=csv_data,
        zip_data=zip_data or None,
        rejected_rows=[],
        warnings=[],
    )
    session.add(job)
    await session.flush()
    if enqueue is not None:
        job_id = job.id
        events.after_commit(session, lambda: enqueue(job_id))
    return job


async def _save_progress(job_id: uuid.UUID, report: ImportReport, **changes: Any) -> None:
    async with unit_of_work() as session:
        job = await session.get(ImportJob, job_id)
        if job is None:
            return
        job.processed_rows = min(report.processed_rows, report.total_rows)
        job.total_rows = report.total_rows
        job.created_count, job.updated_count = report.created, report.updated
        job.unchanged_count = report.unchanged
        job.rejected_rows = as_dicts(sorted(report.rejected, key=lambda p: p.row))
        job.warnings = as_dicts(sorted(report.warnings, key=lambda p: p.row))
        for name, value in changes.items():
            setattr(job, name, value)


async def run_import_job(job_id: uuid.UUID) -> str:
    """Job body: import a queued file, saving progress after every chunk."""
    async with unit_of_work() as session:
        job = await session.get(ImportJob, job_id)
        if job is None or job.status != "queued":
            return "skipped"
        await session.refresh(job, ["csv_data", "zip_data"])
        shop = await session.get(Shop, job.shop_id)
        job.status, job.started_at = "running", clock.now()
        csv_data, zip_data, actor_id = job.csv_data or b"", job.zip_data, job.created_by_id
    report = ImportReport()
    try:
        if shop is None:
            raise NotFound("The shop no longer exists.", code="shop_not_found")
        parsed = check_csv(csv_data, currency=shop.currency)

        async def save(progress: ImportReport) -> None:
            await _save_progress(job_id, progress)

        report = await apply_import(
            shop, parsed, actor_id=actor_id, archive=open_zip(zip_data), on_progress=save
        )
    except AppError as error:
        await _save_progress(job_id, report, status="failed", error=error.message, **_cleared())
        return "failed"
    except Exception:
        log.exception("catalog import failed", extra={"job_id": str(job_id)})
        await _save_progress(
            job_id,
            report,
            status="failed",
            error="Something went wrong during the import. Try again.",
            **_cleared(),
        )
        return "failed"
    await _save_progress(job_id, report, status="finished", **_cleared())
    return "finished"


def _cleared() -> dict[str, Any]:
    return {"csv_data": None, "zip_data": None, "finished_at": clock.now()}


@huey.task(name="catalog.import_products", retries=0)
def import_products_job(job_id: str) -> str:
    """Job: import one uploaded product CSV."""
    return str(run_async(run_import_job)(uuid.UUID(job_id)))


async def enqueue_import(job_id: uuid.UUID) -> None:
    """Queue the import; with immediate jobs (tests) run it now, off the event loop."""
    if huey.immediate:
        await asyncio.to_thread(import_products_job.call_local, str(job_id))
    else:
        import_products_job(str(job_id))
