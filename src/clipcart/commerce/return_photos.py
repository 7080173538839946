"""Return photos: checked by content, re-encoded as WebP without metadata (core.images),
stored under the media root like product pictures."""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path

from clipcart.core import images
from clipcart.core.config import get_settings

PHOTOS_MAX = 4
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_SIZES = (1280, 320)


def photo_name(key: str, size: int) -> str:
    """The file name of one size of a return photo."""
    return f"{key}-{size}.webp"


def photo_url(key: str, size: int = PHOTO_SIZES[0]) -> str:
    """Where a return photo is served."""
    return f"/media/returns/{photo_name(key, size)}"


def photo_directory() -> Path:
    """Where return photos are stored."""
    return get_settings().resolved_media_root / "returns"


def _write_photos(rendered: list[dict[int, bytes]]) -> list[str]:
    directory = photo_directory()
    directory.mkdir(parents=True, exist_ok=True)
    keys: list[str] = []
    for files in rendered:
        key = secrets.token_hex(16)
        for size, content in files.items():
            final = directory / photo_name(key, size)
            partial = final.with_suffix(".part")
            partial.write_bytes(content)
            os.replace(partial, final)  # never serve a half-written file
        keys.append(key)
    return keys


def _render_photos(photos: list[bytes]) -> list[dict[int, bytes]]:
    return [
        images.render_bounded(content, PHOTO_SIZES, field="photos", code="photo_invalid").files
        for content in photos
    ]


async def store_photos(photos: list[bytes]) -> list[str]:
    """Check and re-encode every photo (422 on field "photos" for one that is not a picture),
    then store them; their keys."""
    if not photos:
        return []
    rendered = await asyncio.to_thread(_render_photos, photos)
    return await asyncio.to_thread(_write_photos, rendered)
