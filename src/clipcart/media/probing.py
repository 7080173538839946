"""What a file really is, found by opening it with PyAV (never by its name)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

from clipcart.core.errors import ValidationFailed


class InvalidVideo(ValidationFailed):
    """The upload is not a video we can use; the message says why."""

    code = "invalid_video"


@dataclass(frozen=True)
class Probe:
    """Facts about a video file."""

    container: str
    video_codec: str
    width: int
    height: int
    duration: float
    frame_rate: float | None
    has_audio: bool


def _refuse(message: str) -> InvalidVideo:
    return InvalidVideo(message, data={"errors": [{"field": "file", "message": message}]})


def probe_video(path: Path) -> Probe:
    """Open `path` as a media container and describe its video; InvalidVideo when it is not one.

    Decoding the first frame catches files whose header is fine but whose data is not."""
    if path.stat().st_size == 0:
        raise _refuse("The file is empty. Choose a video file and try again.")
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as error:
        raise _refuse(
            "This file is not a video we can read. Upload an MP4, MOV or WebM."
        ) from error
    try:
        if not container.streams.video:
            raise _refuse("This file has no video in it. Upload a video file.")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if not width or not height:
            raise _refuse("This video has no picture size; it may be damaged.")
        duration = _duration(container, stream)
        try:
            first = next(container.decode(stream), None)
        except av.FFmpegError as error:
            raise _refuse("This video is damaged: its pictures cannot be decoded.") from error
        if first is None:
            raise _refuse("This video has no pictures in it; it may be truncated.")
        if round(first.rotation) % 180 == 90:  # shown turned a quarter: report what people see
            width, height = height, width
        rate = float(stream.average_rate) if stream.average_rate else None
        return Probe(
            container=container.format.name,
            video_codec=stream.codec_context.name,
            width=width,
            height=height,
            duration=duration,
            frame_rate=rate,
            has_audio=bool(container.streams.audio),
        )
    finally:
        container.close()


def _duration(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return float("nan")
