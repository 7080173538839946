"""Return photos: checked by content, re-encoded as WebP without metadata (core.images), and
kept private. They can show a buyer's home, face or address label, so they are stored outside
the public media root and served only through the API to the order's buyer, the shop's staff
and admins (`GET /api/v1/returns/{id}/photos/{name}`)."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import uuid
from pathlib import Path

from clipcart.core import images
from clipcart.core.config import get_settings

PHOTOS_MAX = 4
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_SIZES = (1280, 320)
_NAME = re.compile(r"([0-9a-f]{32})-([0-9]+)\.webp")


def photo_name(key: str, size: int) -> str:
    """The file name of one size of a return photo."""
    return f"{key}-{size}.webp"


def photo_url(return_id: uuid.UUID, key: str, size: int = PHOTO_SIZES[0]) -> str:
    """Where a return photo is served (to those who may see the return)."""
    return f"/api/v1/returns/{return_id}/photos/{photo_name(key, size)}"


def photo_directory() -> Path:
    """Where return photos are stored: under the data directory, never under the media root."""
    return get_settings().data_dir.resolve() / "private" / "returns"


def legacy_photo_directory() -> Path:
    """Where earlier versions stored return photos, publicly served under /media/returns."""
    return get_settings().resolved_media_root / "returns"


def photo_file(name: str, photo_keys: list[str]) -> Path | None:
    """The stored file of `name` if it is one size of one of `photo_keys`, else None."""
    match = _NAME.fullmatch(name)
    if match is None or match[1] not in photo_keys or int(match[2]) not in PHOTO_SIZES:
        return None
    path = photo_directory() / name
    return path if path.is_file() else None


def move_legacy_photos() -> int:
    """Move photos stored publicly by earlier versions into the private directory (at start-up;
    safe to run in several processes at once); how many files were moved."""
    legacy = legacy_photo_directory()
    if not legacy.is_dir():
        return 0
    directory = photo_directory()
    directory.mkdir(parents=True, exist_ok=True)
    moved = 0
    for path in legacy.glob("*.webp"):
        try:
            shutil.move(path, directory / path.name)  # the two may be on different disks
        except FileNotFoundError:  # another process moved it first
            continue
        moved += 1
    return moved


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
