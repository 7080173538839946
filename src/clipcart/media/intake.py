"""Receive an upload: stream the multipart body to a temporary file, stopping with a 413 as
soon as it passes the size limit (the body is never held in memory)."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from clipcart.core.config import get_settings
from clipcart.core.errors import BadRequest, ValidationFailed
from clipcart.media.config import get_media_settings
from clipcart.media.service import UploadedFile, too_large

FORM_OVERHEAD = 64 * 1024  # room for the caption, visibility and multipart boundaries


@dataclass
class UploadForm:
    """The text fields of an upload form and the video, written to a temporary file."""

    fields: dict[str, str] = field(default_factory=dict)
    file: UploadedFile | None = None


def _temp_directory() -> Path:
    directory = get_settings().data_dir.resolve() / "tmp" / "uploads"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


async def _limited(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise too_large()
        yield chunk


def _copy_to(source: BinaryIO, path: Path) -> int:
    with path.open("wb") as target:
        shutil.copyfileobj(source, target, 1024 * 1024)
    return path.stat().st_size


def _missing_file() -> ValidationFailed:
    return ValidationFailed.field("file", "Choose a video file to upload.", code="file_required")


@asynccontextmanager
async def receive_upload(request: Request) -> AsyncIterator[UploadForm]:
    """The parsed upload; its temporary file is deleted when the block ends, whatever happens."""
    max_bytes = get_media_settings().max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + FORM_OVERHEAD:
        raise too_large()  # refused before a byte of the body is read
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise BadRequest("Send the video as multipart/form-data with a 'file' field.")
    try:
        parser = MultiPartParser(
            request.headers,
            _limited(request, max_bytes + FORM_OVERHEAD),
            max_files=1,
            max_fields=20,
        )
        form = await parser.parse()
    except MultiPartException as error:
        raise BadRequest(f"The upload could not be read: {error.message}") from error
    except RuntimeError as error:  # the body was already read (a no-JS form: the CSRF guard)
        if "consumed" not in str(error).lower():
            raise
        form = await request.form(max_files=1, max_fields=20)
    handle, temp_path = tempfile.mkstemp(prefix="upload-", dir=_temp_directory())
    os.close(handle)
    path = Path(temp_path)
    try:
        result = UploadForm()
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if name != "file" or result.file is not None:
                    continue
                await value.seek(0)
                size = await asyncio.to_thread(_copy_to, value.file, path)
                if size > max_bytes:
                    raise too_large()
                result.file = UploadedFile(path=path, size=size, filename=value.filename or "")
            else:
                result.fields[name] = value
        await form.close()
        if result.file is None:
            raise _missing_file()
        yield result
    finally:
        await form.close()
        await asyncio.to_thread(path.unlink, missing_ok=True)
