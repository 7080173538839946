"""Importing a Shopify product CSV into a shop: create or update by handle, record stock
changes with the reason "import", attach pictures from a zip beside the CSV (never fetched).

The file is checked when it is uploaded (encoding, header, zip); the rows are then applied in
chunks of products, each chunk in its own transaction, so progress is visible while it runs."""

from __future__ import annotations

import inspect
import io
import logging
import posixpath
import uuid
import zipfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.catalog import service
from clipcart.catalog.csv_format import (
    CsvFormatError,
    ParsedFile,
    ProductRecord,
    RowProblem,
    parse_products,
)
from clipcart.catalog.images import IMAGE_MAX_BYTES
from clipcart.catalog.import_records import (
    category_id_for,
    is_unchanged,
    new_product,
    problem_for,
    product_fields,
)
from clipcart.catalog.models import Product, StockMovement, Variant
from clipcart.catalog.schemas import ProductIn, ProductUpdateIn
from clipcart.core.db import unit_of_work
from clipcart.core.errors import AppError, NotFound, PayloadTooLarge, ValidationFailed
from clipcart.shops import service as shops
from clipcart.shops.models import Shop

log = logging.getLogger(__name__)

CSV_MAX_BYTES = 50 * 1024 * 1024
ZIP_MAX_BYTES = 200 * 1024 * 1024
CHUNK_PRODUCTS = 200


@dataclass(slots=True)
class ImportReport:
    """What an import did: counts, rejected rows and warnings (images left out)."""

    total_rows: int = 0
    processed_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)


ProgressCallback = Callable[[ImportReport], Awaitable[None] | None]


def as_dicts(problems: Sequence[RowProblem]) -> list[dict[str, Any]]:
    """Problems as JSON-ready dicts."""
    return [{"row": p.row, "column": p.column, "message": p.message} for p in problems]


# --- checking the upload ------------------------------------------------------------------


def check_csv(data: bytes, *, currency: str) -> ParsedFile:
    """Parse the file, turning an unusable one into a 422 that says what is wrong."""
    if len(data) > CSV_MAX_BYTES:
        raise PayloadTooLarge("Use a CSV file under 50 MB.", code="csv_too_large")
    try:
        return parse_products(data, currency=currency)
    except CsvFormatError as error:
        raise ValidationFailed(
            str(error),
            code="csv_unusable",
            data={"errors": [{"field": "file", "message": str(error)}]},
        ) from error


def open_zip(data: bytes | None) -> zipfile.ZipFile | None:
    """The image archive, or a 422 when it is not a zip file."""
    if not data:
        return None
    if len(data) > ZIP_MAX_BYTES:
        raise PayloadTooLarge("Use an image zip under 200 MB.", code="zip_too_large")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        archive.infolist()
    except zipfile.BadZipFile as error:
        message = "The images file is not a zip archive. Zip the pictures and upload it again."
        raise ValidationFailed(
            message, code="zip_unusable", data={"errors": [{"field": "images", "message": message}]}
        ) from error
    return archive


def _entry_name(src: str) -> str:
    return posixpath.basename(urlsplit(src).path).casefold()


def _zip_entries(archive: zipfile.ZipFile | None) -> dict[str, zipfile.ZipInfo]:
    if archive is None:
        return {}
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = posixpath.basename(info.filename).casefold()
        if not info.is_dir() and name and not name.startswith("."):
            entries.setdefault(name, info)
    return entries


# --- applying products --------------------------------------------------------------------


class _Importer:
    def __init__(
        self,
        shop: Shop,
        actor_id: uuid.UUID | None,
        archive: zipfile.ZipFile | None,
        report: ImportReport,
    ) -> None:
        self.bulk = True  # chunks insert new products together; retries go one by one
        self.shop_id = shop.id
        self.actor_id = actor_id
        self.archive = archive
        self.entries = _zip_entries(archive)
        self.report = report

    async def apply_chunk(self, records: list[ProductRecord], *, session: AsyncSession) -> None:
        """Create or update these products (raises on the first one that fails)."""
        shop = await session.get(Shop, self.shop_id)
        if shop is None:
            raise NotFound("The shop was closed during the import.", code="shop_not_found")
        actor = await session.get(User, self.actor_id) if self.actor_id else None
        handles = [record.handle for record in records]
        existing = {
            product.handle: product
            for product in await session.scalars(
                select(Product).where(Product.shop_id == shop.id, Product.handle.in_(handles))
            )
        }
        created: set[str] = set()
        if self.bulk:
            created = await self._create_many(shop, records, existing, session)
        for record in records:
            if record.handle in created:
                image_warnings: list[RowProblem] = []
                await self._attach_images(existing[record.handle], record, image_warnings, session)
                self.report.warnings.extend(image_warnings)
            else:
                await self._apply(shop, actor, record, existing.get(record.handle), session)

    async def _create_many(
        self,
        shop: Shop,
        records: list[ProductRecord],
        existing: dict[str, Product],
        session: AsyncSession,
    ) -> set[str]:
        """Insert the chunk's new products in a few statements (not one query per row), with a
        stock movement "import" for every variant that starts with stock. Products whose SKUs
        are taken in the shop are left to the one-by-one path, which explains the conflict."""
        new = [record for record in records if record.handle not in existing]
        skus = [variant.sku for record in new for variant in record.variants if variant.sku]
        taken: set[str] = set()
        for start in range(0, len(skus), 500):
            found = await session.scalars(
                select(Variant.sku).where(
                    Variant.shop_id == shop.id, Variant.sku.in_(skus[start : start + 500])
                )
            )
            taken.update(sku for sku in found if sku)
        products: list[Product] = []
        for record in new:
            if any(variant.sku in taken for variant in record.variants):
                continue
            warnings: list[RowProblem] = []
            category_id = category_id_for(record, warnings)
            product_in = ProductIn(handle=record.handle, **product_fields(record, category_id))
            products.append(new_product(shop, product_in))
            self.report.warnings.extend(warnings)
        session.add_all(products)
        await session.flush()
        movements = [
            StockMovement(
                variant_id=variant.id,
                shop_id=shop.id,
                delta=variant.stock,
                quantity_after=variant.stock,
                reason="import",
                actor_id=self.actor_id,
            )
            for product in products
            for variant in product.variants
            if variant.stock
        ]
        session.add_all(movements)
        await session.flush()
        self.report.created += len(products)
        existing.update((product.handle, product) for product in products)
        return {product.handle for product in products}

    async def _apply(
        self,
        shop: Shop,
        actor: User | None,
        record: ProductRecord,
        product: Product | None,
        session: AsyncSession,
    ) -> None:
        warnings: list[RowProblem] = []
        category_id = category_id_for(record, warnings)
        fields = product_fields(record, category_id)
        if product is None:
            product = await service.create_product(
                shop,
                ProductIn(handle=record.handle, **fields),
                actor=actor,
                session=session,
                stock_reason="import",
            )
            self.report.created += 1
        elif is_unchanged(product, record, category_id):
            self.report.unchanged += 1
        else:
            await service.update_product(
                product,
                ProductUpdateIn(**fields),
                actor=actor,
                session=session,
                stock_reason="import",
            )
            self.report.updated += 1
        await self._attach_images(product, record, warnings, session)
        self.report.warnings.extend(warnings)

    async def _attach_images(
        self,
        product: Product,
        record: ProductRecord,
        warnings: list[RowProblem],
        session: AsyncSession,
    ) -> None:
        if not record.images:
            return
        if product.images:
            return  # pictures are added once; re-importing the file does not duplicate them
        for image in record.images:
            info = self.entries.get(_entry_name(image.src))
            if info is None or self.archive is None:
                remote = urlsplit(image.src).scheme in {"http", "https"}
                message = (
                    "Image URLs are not fetched: put the picture in the zip beside the CSV, "
                    "or upload it on the product page."
                    if remote
                    else f"“{image.src}” is not in the images zip."
                )
                warnings.append(RowProblem(image.row, "Image Src", message))
                continue
            if info.file_size > IMAGE_MAX_BYTES:
                warnings.append(RowProblem(image.row, "Image Src", "Use an image under 15 MB."))
                continue
            with self.archive.open(info) as handle:
                data = handle.read(IMAGE_MAX_BYTES + 1)
            try:
                await service.add_product_image(
                    product, data, position=image.position - 1, session=session, alt=image.alt
                )
            except AppError as error:
                warnings.append(RowProblem(image.row, "Image Src", error.message))


def _chunks(products: list[ProductRecord], size: int) -> list[list[ProductRecord]]:
    return [products[start : start + size] for start in range(0, len(products), size)]


def _rows_of(record: ProductRecord) -> set[int]:
    rows = {record.row}
    rows.update(variant.row for variant in record.variants)
    rows.update(image.row for image in record.images)
    return rows


async def apply_import(
    shop: Shop,
    parsed: ParsedFile,
    *,
    actor_id: uuid.UUID | None,
    archive: zipfile.ZipFile | None = None,
    on_progress: ProgressCallback | None = None,
    chunk_size: int = CHUNK_PRODUCTS,
) -> ImportReport:
    """Apply parsed products, a chunk per transaction; a product that fails is rejected alone
    (its chunk is retried one product at a time) and the others are kept."""
    report = ImportReport(total_rows=parsed.total_rows, rejected=list(parsed.problems))
    report.processed_rows = len({problem.row for problem in parsed.problems})
    importer = _Importer(shop, actor_id, archive, report)
    await _tell(on_progress, report)
    for chunk in _chunks(parsed.products, chunk_size):
        before = (report.created, report.updated, report.unchanged, len(report.warnings))
        try:
            async with unit_of_work() as session:
                await importer.apply_chunk(chunk, session=session)
        except (AppError, ValidationError, IntegrityError):
            report.created, report.updated, report.unchanged = before[:3]
            del report.warnings[before[3] :]
            importer.bulk = False
            for record in chunk:
                await _apply_alone(importer, record)
            importer.bulk = True
        for record in chunk:
            report.processed_rows += len(_rows_of(record))
        await _tell(on_progress, report)
    report.processed_rows = report.total_rows
    report.rejected.sort(key=lambda problem: problem.row)
    report.warnings.sort(key=lambda problem: problem.row)
    return report


async def _tell(on_progress: ProgressCallback | None, report: ImportReport) -> None:
    if on_progress is not None:
        result = on_progress(report)
        if inspect.isawaitable(result):
            await result


async def _apply_alone(importer: _Importer, record: ProductRecord) -> None:
    report = importer.report
    before = (report.created, report.updated, report.unchanged, len(report.warnings))
    try:
        async with unit_of_work() as session:
            await importer.apply_chunk([record], session=session)
    except (AppError, ValidationError) as error:
        report.created, report.updated, report.unchanged = before[:3]
        del report.warnings[before[3] :]
        report.rejected.append(problem_for(record, error))


async def import_file(
    shop_handle: str,
    csv_data: bytes,
    *,
    zip_data: bytes | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a file into a shop in this process (the CLI); raises AppError when the shop does
    not exist or the file is unusable, before anything is written."""
    async with unit_of_work() as session:
        shop = await shops.get_shop_by_handle(shop_handle, session=session)
    parsed = check_csv(csv_data, currency=shop.currency)
    archive = open_zip(zip_data)
    return await apply_import(shop, parsed, actor_id=None, archive=archive, on_progress=on_progress)
