"""Video jobs: transcode an upload into the files people watch."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import uuid
from pathlib import Path

from clipcart.core import clock
from clipcart.core.db import unit_of_work
from clipcart.core.jobs import huey, run_async
from clipcart.media import service
from clipcart.media.config import get_media_settings
from clipcart.media.models import Video
from clipcart.media.storage import get_storage
from clipcart.media.transcoding import TranscodeFailed, TranscodeSettings, transcode

log = logging.getLogger(__name__)


async def process_video(video_id: uuid.UUID) -> str:
    """Transcode a processing video; it ends ready or failed (with a reason). Its status."""
    async with unit_of_work() as session:
        video = await session.get(Video, video_id)
        if video is None or video.status != "processing":
            return "gone" if video is None else video.status
        cover_time = video.cover_time
    storage = get_storage()
    settings = get_media_settings()
    failure: str | None = None
    has_audio = False
    with tempfile.TemporaryDirectory(prefix="clipcart-transcode-") as directory:
        work = Path(directory)
        source = work / "source"
        try:
            storage.fetch(service.key(video_id, service.SOURCE_KEY), source)
            result = transcode(
                source,
                work / service.VIDEO_KEY,
                poster_path=work / "poster.jpg",
                preview_path=work / service.PREVIEW_KEY,
                cover_time=cover_time,
                settings=TranscodeSettings(preset=settings.x264_preset, crf=settings.x264_crf),
            )
            has_audio = result.has_audio
            storage.put_file(
                service.key(video_id, service.VIDEO_KEY), work / "video.mp4", "video/mp4"
            )
            storage.put_file(
                service.key(video_id, service.PREVIEW_KEY), work / service.PREVIEW_KEY, "video/mp4"
            )
            storage.put_file(
                service.key(video_id, f"{service.POSTER_KEY}-0.jpg"),
                work / "poster.jpg",
                "image/jpeg",
            )
        except TranscodeFailed as error:
            failure = str(error)
        except FileNotFoundError:
            failure = "The uploaded file was lost before it could be converted. Upload it again."
        except Exception:
            log.exception("transcode failed", extra={"video_id": str(video_id)})
            failure = "Something went wrong while converting this video. Upload it again."
    async with unit_of_work() as session:
        video = await session.get(Video, video_id)
        if video is None:  # deleted while we worked
            get_storage().delete_prefix(str(video_id))
            return "gone"
        if failure is None:
            video.status, video.ready_at, video.has_audio = "ready", clock.now(), has_audio
            video.poster_version = 0
        else:
            video.status, video.failure_reason = "failed", failure[:500]
    _forget_source(video_id)
    return "ready" if failure is None else "failed"


def _forget_source(video_id: uuid.UUID) -> None:
    # The upload is only needed to transcode: ready videos are served from the new files.
    key = service.key(video_id, service.SOURCE_KEY)
    with contextlib.suppress(FileNotFoundError):
        get_storage().delete_file(key)


@huey.task(name="media.process_video", retries=0)
def process_video_job(video_id: str) -> str:
    """Job: transcode one video."""
    return str(run_async(process_video)(uuid.UUID(video_id)))


async def enqueue_processing(video_id: uuid.UUID) -> None:
    """Queue the transcode; with immediate jobs (tests) run it now, off the event loop."""
    if huey.immediate:
        await asyncio.to_thread(process_video_job.call_local, str(video_id))
    else:
        process_video_job(str(video_id))
