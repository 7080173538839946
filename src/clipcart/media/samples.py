"""Small generated videos (moving colour bars and a tone) for tests, the demo and benchmarks."""

from __future__ import annotations

import array
import math
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
from av.audio.stream import AudioStream
from av.video.stream import VideoStream
from PIL import Image, ImageDraw


def make_sample_video(
    path: Path,
    *,
    width: int = 320,
    height: int = 240,
    seconds: float = 2.0,
    fps: int = 25,
    audio: bool = True,
    codec: str = "libx264",
) -> Path:
    """Write an MP4 at `path`: a bright moving picture and (optionally) a 440 Hz tone."""
    frame_count = max(1, round(seconds * fps))
    with av.open(str(path), mode="w", format="mp4") as container:
        video = cast(
            VideoStream, container.add_stream(codec, rate=fps, options={"preset": "ultrafast"})
        )
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio_stream = None
        if audio:
            audio_stream = cast(AudioStream, container.add_stream("aac", rate=44100))
            audio_stream.layout = "mono"
        for index in range(frame_count):
            picture = Image.new("RGB", (width, height), (40 + index * 3 % 200, 120, 200))
            draw = ImageDraw.Draw(picture)
            x = (index * 6) % max(1, width)
            draw.rectangle((x, height // 4, x + width // 4, height * 3 // 4), fill=(250, 220, 40))
            draw.ellipse((width // 3, 10, width // 3 + height // 5, 10 + height // 5), fill="white")
            frame = av.VideoFrame.from_image(picture)
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if audio_stream is not None:
            write_tone(container, audio_stream, seconds=seconds)
    return path


def write_tone(
    container: av.container.OutputContainer,
    stream: AudioStream,
    *,
    seconds: float,
    frequencies: tuple[float, ...] = (440.0,),
    amplitude: int = 9000,
    rate: int = 44100,
) -> None:
    """Encode `seconds` of mono tone (the frequencies mixed) into `stream`, then flush it."""
    chunk = 1024
    total = int(seconds * rate)
    for offset in range(0, total, chunk):
        count = min(chunk, total - offset)
        samples = array.array(
            "h",
            (
                int(
                    amplitude
                    * sum(math.sin(2 * math.pi * hz * (offset + i) / rate) for hz in frequencies)
                    / len(frequencies)
                )
                for i in range(count)
            ),
        )
        audio_frame = av.AudioFrame(format="s16", layout="mono", samples=count)
        audio_frame.planes[0].update(samples.tobytes())
        audio_frame.sample_rate = rate
        audio_frame.pts = offset
        audio_frame.time_base = Fraction(1, rate)
        container.mux(stream.encode(audio_frame))
    container.mux(stream.encode(None))
