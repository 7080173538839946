"""Demo clips rendered straight into the files the app serves: a 720x1280 H.264/AAC MP4 with
faststart (product pictures zooming and panning under a caption card, a soft chord), its 3 s
muted 180x320 preview and its poster, in one pass and without a transcode afterwards."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
from av.audio.stream import AudioStream
from av.video.stream import VideoStream
from PIL import Image, ImageDraw

from clipcart.demo.catalog import font
from clipcart.media import domain as media_domain

WIDTH, HEIGHT = media_domain.OUTPUT_WIDTH, media_domain.OUTPUT_HEIGHT
FPS = 20
AUDIO_RATE = 44100
PICTURE_SIDE = 660
PICTURE_TOP = 400
ZOOM = 1.3  # how far the picture zooms in over the clip


@dataclass(frozen=True)
class ClipFiles:
    """Where a rendered clip's three files go."""

    video: Path
    preview: Path
    poster: Path


def _open(path: Path) -> av.container.OutputContainer:
    return av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"})


def _video_stream(container: av.container.OutputContainer, width: int, height: int) -> VideoStream:
    stream = cast(VideoStream, container.add_stream("libx264", rate=FPS))
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.options = {"preset": "ultrafast", "crf": "23", "tune": "stillimage"}
    return stream


def _backdrop(colour: tuple[int, int, int]) -> Image.Image:
    top = np.array([max(0, c - 90) for c in colour], dtype=np.float32)
    bottom = np.array([max(0, c - 10) for c in colour], dtype=np.float32)
    mix = np.linspace(0.0, 1.0, HEIGHT, dtype=np.float32)[:, None]
    rows = (top * (1 - mix) + bottom * mix).astype(np.uint8)
    return Image.fromarray(np.repeat(rows[:, None, :], WIDTH, axis=1), "RGB")


def _caption_card(canvas: Image.Image, title: str, price: str, line: str) -> None:
    draw = ImageDraw.Draw(canvas)
    draw.rounded_rectangle([40, 110, WIDTH - 40, 350], radius=36, fill=(255, 255, 255))
    title_font = font(44 if len(title) < 24 else 36)
    draw.text((80, 140), title, font=title_font, fill=(25, 25, 25))
    draw.text((80, 205), price, font=font(64), fill=(200, 20, 80))
    draw.text((80, 290), line[:34], font=font(28), fill=(90, 90, 90))


def _tone(seconds: float) -> np.ndarray:
    """A soft major chord that fades in and out, as 16-bit mono samples."""
    t = np.arange(int(seconds * AUDIO_RATE)) / AUDIO_RATE
    chord = sum(np.sin(2 * math.pi * hz * t) for hz in (261.63, 329.63, 392.0)) / 3
    envelope = np.minimum(1.0, np.minimum(t / 0.5, (seconds - t) / 0.8))
    return (chord * envelope * 7000).astype(np.int16)


def render_clip(
    files: ClipFiles,
    pictures: list[bytes],
    *,
    title: str,
    price: str,
    line: str,
    colour: tuple[int, int, int],
    seconds: float,
) -> None:
    """Write the clip, its preview and its poster for `pictures` (one or two product images)."""
    images = [Image.open(io.BytesIO(p)).convert("RGB") for p in pictures[:2]] or [
        Image.new("RGB", (PICTURE_SIDE, PICTURE_SIDE), colour)
    ]
    base = _backdrop(colour)
    _caption_card(base, title, price, line)
    frames = round(seconds * FPS)
    preview_frames = round(min(seconds, media_domain.PREVIEW_SECONDS) * FPS)
    poster_at = min(frames - 1, FPS)
    with _open(files.video) as container, _open(files.preview) as preview:
        video = _video_stream(container, WIDTH, HEIGHT)
        small = _video_stream(preview, media_domain.PREVIEW_WIDTH, media_domain.PREVIEW_HEIGHT)
        audio = cast(AudioStream, container.add_stream("aac", rate=AUDIO_RATE))
        audio.layout = "mono"
        for index in range(frames):
            progress = index / max(1, frames - 1)
            picture = images[min(len(images) - 1, int(progress * len(images)))]
            side = picture.width / (1.0 + (ZOOM - 1.0) * progress)
            drift = (picture.width - side) / 2 + math.sin(progress * math.pi) * (
                picture.width - side
            ) / 3
            box = (drift, (picture.height - side) / 2, drift + side, (picture.height + side) / 2)
            canvas = base.copy()
            canvas.paste(
                picture.resize((PICTURE_SIDE, PICTURE_SIDE), Image.Resampling.BILINEAR, box=box),
                ((WIDTH - PICTURE_SIDE) // 2, PICTURE_TOP),
            )
            frame = av.VideoFrame.from_image(canvas)
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            container.mux(video.encode(frame))
            if index < preview_frames:
                tiny = av.VideoFrame.from_image(canvas.reduce(4))
                tiny.pts, tiny.time_base = index, Fraction(1, FPS)
                preview.mux(small.encode(tiny))
            if index == poster_at:
                canvas.save(files.poster, format="JPEG", quality=85)
        container.mux(video.encode(None))
        preview.mux(small.encode(None))
        samples = _tone(seconds)
        for offset in range(0, len(samples), 1024):
            chunk = samples[offset : offset + 1024]
            sound = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
            sound.sample_rate, sound.pts = AUDIO_RATE, offset
            sound.time_base = Fraction(1, AUDIO_RATE)
            container.mux(audio.encode(sound))
        container.mux(audio.encode(None))
