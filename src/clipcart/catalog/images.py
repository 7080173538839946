"""Product images: checked by content, re-encoded at a few sizes, stored under the media root."""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.catalog import domain
from clipcart.catalog.models import Product, ProductImage
from clipcart.catalog.schemas import IMAGE_SIZES
from clipcart.core import events, images
from clipcart.core.config import get_settings
from clipcart.core.errors import Conflict, NotFound, PayloadTooLarge

IMAGE_MAX_BYTES = 15 * 1024 * 1024
IMAGE_MIN_SIDE = 100


def image_directory() -> Path:
    """Where product image files are stored."""
    return get_settings().resolved_media_root / "products"


def _file_name(key: str, size: int) -> str:
    return f"{key}-{size}.webp"


def _write(directory: Path, key: str, files: dict[int, bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for size, content in files.items():
        final = directory / _file_name(key, size)
        partial = final.with_suffix(".part")
        partial.write_bytes(content)
        os.replace(partial, final)  # never serve a half-written file


def _delete(directory: Path, key: str) -> None:
    for size in IMAGE_SIZES:
        (directory / _file_name(key, size)).unlink(missing_ok=True)


async def add_product_image(
    product: Product,
    data: bytes,
    *,
    position: int | None = None,
    session: AsyncSession,
    alt: str = "",
) -> ProductImage:
    """Check an uploaded picture, store it at each size and add it to the product (at most 10)."""
    if len(product.images) >= domain.MAX_IMAGES_PER_PRODUCT:
        raise Conflict(
            f"A product can have at most {domain.MAX_IMAGES_PER_PRODUCT} images.",
            code="too_many_images",
        )
    if len(data) > IMAGE_MAX_BYTES:
        raise PayloadTooLarge("Use an image under 15 MB.", code="image_too_large")
    rendered = await asyncio.to_thread(
        images.render_bounded, data, IMAGE_SIZES, field="file", min_side=IMAGE_MIN_SIDE
    )
    key = secrets.token_hex(16)
    directory = image_directory()
    await asyncio.to_thread(_write, directory, key, rendered.files)
    # Files are written under a fresh key before the row: a failure after this point must not
    # leave them behind.
    try:
        count = len(product.images)
        index = count if position is None else max(0, min(position, count))
        image = ProductImage(
            key=key, width=rendered.width, height=rendered.height, alt=alt.strip()[:255]
        )
        product.images.insert(index, image)
        for order, existing in enumerate(product.images):
            existing.position = order
        await session.flush()
    except BaseException:
        await asyncio.to_thread(_delete, directory, key)
        raise
    return image


async def remove_product_image(
    product: Product, image_id: uuid.UUID, *, session: AsyncSession
) -> None:
    """Remove one image; its files are deleted once that is committed."""
    image = next((image for image in product.images if image.id == image_id), None)
    if image is None:
        raise NotFound("That image is not part of this product.", code="image_not_found")
    product.images.remove(image)
    for order, existing in enumerate(product.images):
        existing.position = order
    await session.flush()
    directory, key = image_directory(), image.key
    events.after_commit(session, lambda: _delete(directory, key))
