"""Transcode with PyAV: H.264 (libx264, yuv420p) + AAC MP4 with faststart, 720x1280 portrait.

Landscape (or any non 9:16) input is letterboxed: scaled to fit inside 720x1280 and padded
with black, so nothing of the picture is cut off. A video without sound gets no audio track
(browsers play such MP4s). The same pass writes the poster JPEG and a 3 s muted preview."""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.filter
from av.audio.stream import AudioStream
from av.video.frame import VideoFrame
from av.video.stream import VideoStream
from PIL import ImageStat

from clipcart.media import domain

POSTER_SEARCH_SECONDS = 3.0  # look this far for a "good" (not black) default cover frame
DARK_LUMA = 24.0
MAX_FRAME_RATE = Fraction(60)


@dataclass(frozen=True)
class TranscodeSettings:
    """Encoder settings (the benchmark runs ffmpeg with the same ones)."""

    preset: str = "veryfast"
    crf: int = 23
    audio_rate: int = 48000
    audio_bitrate: int = 128_000


@dataclass(frozen=True)
class TranscodeResult:
    """What the transcode produced."""

    frames: int
    duration: float
    has_audio: bool


class TranscodeFailed(Exception):
    """The video could not be transcoded; the message is shown to its owner."""


def upright_filters(rotation: float) -> list[tuple[str, str]]:
    """Filters that turn a picture stored with this display rotation (degrees counter-clockwise,
    as phones record it) upright, like the ffmpeg command line does by itself."""
    turn = round(rotation) % 360
    if turn == 90:
        return [("transpose", "cclock")]
    if turn == 270:
        return [("transpose", "clock")]
    if turn == 180:
        return [("hflip", ""), ("vflip", "")]
    return []


def _video_filter(stream: VideoStream, width: int, height: int, rotation: float) -> av.filter.Graph:
    turns = upright_filters(rotation)
    if round(rotation) % 180 == 90:
        width, height = height, width
    fitted_width, fitted_height = domain.fit_inside(
        width, height, domain.OUTPUT_WIDTH, domain.OUTPUT_HEIGHT
    )
    graph = av.filter.Graph()
    source = graph.add_buffer(template=stream)
    previous = source
    for name, argument in turns:
        node = graph.add(name, argument) if argument else graph.add(name)
        previous.link_to(node)
        previous = node
    scale = graph.add("scale", f"{fitted_width}:{fitted_height}:flags=bicubic")
    pad = graph.add(
        "pad", f"{domain.OUTPUT_WIDTH}:{domain.OUTPUT_HEIGHT}:(ow-iw)/2:(oh-ih)/2:black"
    )
    setsar = graph.add("setsar", "1")
    pixel_format = graph.add("format", "yuv420p")
    sink = graph.add("buffersink")
    previous.link_to(scale)
    scale.link_to(pad)
    pad.link_to(setsar)
    setsar.link_to(pixel_format)
    pixel_format.link_to(sink)
    graph.configure()
    return graph


def _mean_luma(frame: VideoFrame) -> float:
    small = frame.reformat(width=72, height=128, format="gray")
    return float(ImageStat.Stat(small.to_image()).mean[0])


def poster_jpeg(frame: VideoFrame) -> bytes:
    """A JPEG of `frame` (already 720x1280)."""
    buffer = io.BytesIO()
    frame.to_image().save(buffer, format="JPEG", quality=85, optimize=True)
    return buffer.getvalue()


class _PosterPicker:
    """Keeps the frame to use as the cover: the one at `cover_time`, or by default the first
    frame of the first seconds that is not (nearly) black."""

    def __init__(self, cover_time: float | None) -> None:
        self.cover_time = cover_time
        self.chosen: VideoFrame | None = None
        self.fallback: VideoFrame | None = None
        self.done = False

    def offer(self, frame: VideoFrame, seconds: float) -> None:
        if self.done:
            return
        if self.fallback is None:
            self.fallback = frame
        if self.cover_time is not None:
            if seconds + 1e-3 >= self.cover_time:
                self.chosen, self.done = frame, True
            else:
                self.fallback = frame  # the latest frame before the time, if the video ends
            return
        if _mean_luma(frame) > DARK_LUMA:
            self.chosen, self.done = frame, True
        elif seconds > POSTER_SEARCH_SECONDS:
            self.done = True

    def frame(self) -> VideoFrame | None:
        return self.chosen or self.fallback


def _open_output(path: Path) -> av.container.OutputContainer:
    return av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"})


def _add_video_stream(
    output: av.container.OutputContainer,
    *,
    rate: Fraction,
    width: int,
    height: int,
    preset: str,
    crf: int,
    time_base: Fraction,
) -> VideoStream:
    stream = output.add_stream("libx264", rate=rate, options={"preset": preset, "crf": str(crf)})
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.time_base = time_base
    stream.codec_context.time_base = time_base
    stream.codec_context.thread_type = "AUTO"
    stream.codec_context.thread_count = 0  # let x264 pick (one per core), as ffmpeg does
    return stream


def transcode(
    source: Path,
    output_path: Path,
    *,
    poster_path: Path | None = None,
    preview_path: Path | None = None,
    cover_time: float | None = None,
    settings: TranscodeSettings | None = None,
) -> TranscodeResult:
    """Transcode `source` to `output_path` (and write the poster and preview when asked)."""
    settings = settings or TranscodeSettings()
    try:
        source_container = av.open(str(source), mode="r", metadata_errors="ignore")
    except av.FFmpegError as error:
        raise TranscodeFailed("The uploaded file could not be opened.") from error
    try:
        return _transcode_open(
            source_container, output_path, poster_path, preview_path, cover_time, settings
        )
    except av.FFmpegError as error:
        raise TranscodeFailed(f"The video could not be converted ({error.strerror}).") from error
    finally:
        source_container.close()


_DONE = object()


class _FrameReader:
    """Demuxes, decodes and filters in a thread of its own while the caller encodes, as the
    ffmpeg command line does: PyAV releases the GIL inside FFmpeg, so on a machine with two
    cores decoding no longer waits for x264 and x264 no longer waits for decoding."""

    def __init__(
        self,
        source: av.container.InputContainer,
        video_in: VideoStream,
        audio_in: AudioStream | None,
        width: int,
        height: int,
    ) -> None:
        self.source, self.video_in, self.audio_in = source, video_in, audio_in
        self.width, self.height = width, height
        self.queue: queue.Queue[object] = queue.Queue(maxsize=32)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="transcode-reader", daemon=True)

    def frames(self) -> Iterator[VideoFrame | av.AudioFrame]:
        """Filtered video frames and decoded audio frames, in demux order."""
        self.thread.start()
        while True:
            item = self.queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]

    def stop(self) -> None:
        """Stop reading (after an error downstream) and wait for the thread."""
        self.stopping.set()
        while self.thread.is_alive():
            try:
                self.queue.get_nowait()
            except queue.Empty:
                self.thread.join(timeout=0.05)

    def _put(self, item: object) -> None:
        while not self.stopping.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _drain(self, graph: av.filter.Graph) -> None:
        while True:
            try:
                self._put(graph.vpull())
            except (av.BlockingIOError, av.EOFError):
                return

    def _run(self) -> None:
        graph: av.filter.Graph | None = None  # built from the first frame (it knows rotation)
        try:
            streams = [self.video_in] + ([self.audio_in] if self.audio_in is not None else [])
            for packet in self.source.demux(*streams):
                if self.stopping.is_set():
                    return
                for decoded in packet.decode():
                    if isinstance(decoded, av.AudioFrame):
                        self._put(decoded)
                    elif isinstance(decoded, VideoFrame):
                        if graph is None:
                            graph = _video_filter(
                                self.video_in, self.width, self.height, decoded.rotation
                            )
                        graph.vpush(decoded)
                        self._drain(graph)
            if graph is not None:
                graph.vpush(None)
                self._drain(graph)
            self._put(_DONE)
        except BaseException as error:  # handed to the encoding thread, which raises it
            self._put(error)


def _transcode_open(
    source: av.container.InputContainer,
    output_path: Path,
    poster_path: Path | None,
    preview_path: Path | None,
    cover_time: float | None,
    settings: TranscodeSettings,
) -> TranscodeResult:
    if not source.streams.video:
        raise TranscodeFailed("The file has no video stream.")
    video_in = source.streams.video[0]
    video_in.thread_type = "AUTO"
    audio_in: AudioStream | None = source.streams.audio[0] if source.streams.audio else None
    width, height = video_in.codec_context.width, video_in.codec_context.height
    rate = Fraction(video_in.average_rate or 30)
    rate = min(rate, MAX_FRAME_RATE)
    time_base = video_in.time_base or Fraction(1, 90000)
    start = video_in.start_time or 0
    output = _open_output(output_path)
    preview = _open_output(preview_path) if preview_path else None
    video_out = _add_video_stream(
        output,
        rate=rate,
        width=domain.OUTPUT_WIDTH,
        height=domain.OUTPUT_HEIGHT,
        preset=settings.preset,
        crf=settings.crf,
        time_base=time_base,
    )
    preview_out = (
        _add_video_stream(
            preview,
            rate=rate,
            width=domain.PREVIEW_WIDTH,
            height=domain.PREVIEW_HEIGHT,
            preset="ultrafast",  # a 3 s thumbnail-sized loop: speed over bytes
            crf=28,
            time_base=time_base,
        )
        if preview
        else None
    )
    audio_out = None
    if audio_in is not None:
        audio_out = output.add_stream("aac", rate=settings.audio_rate)
        audio_out.layout = "stereo"
        audio_out.bit_rate = settings.audio_bitrate
    picker = _PosterPicker(cover_time)
    frames = 0
    last_seconds = 0.0
    preview_done = preview_out is None
    reader = _FrameReader(source, video_in, audio_in, width, height)
    try:
        for frame in reader.frames():
            if isinstance(frame, av.AudioFrame):
                if audio_out is not None:
                    frame.pts = None  # the encoder's resampler numbers samples itself
                    output.mux(audio_out.encode(frame))
                continue
            if frame.pts is None:
                continue
            frame.pts -= start
            frame.time_base = time_base
            seconds = float(frame.pts * time_base)
            last_seconds = max(last_seconds, seconds)
            picker.offer(frame, seconds)
            output.mux(video_out.encode(frame))
            frames += 1
            if not preview_done and preview_out is not None and preview is not None:
                if seconds < domain.PREVIEW_SECONDS:
                    small = frame.reformat(width=domain.PREVIEW_WIDTH, height=domain.PREVIEW_HEIGHT)
                    small.pts, small.time_base = frame.pts, time_base
                    preview.mux(preview_out.encode(small))
                else:
                    preview_done = True
        output.mux(video_out.encode(None))
        if audio_out is not None:
            output.mux(audio_out.encode(None))
        if preview is not None and preview_out is not None:
            preview.mux(preview_out.encode(None))
    finally:
        reader.stop()
        output.close()
        if preview is not None:
            preview.close()
    if frames == 0:
        raise TranscodeFailed("The video has no pictures that could be decoded.")
    chosen = picker.frame()
    if poster_path is not None and chosen is not None:
        poster_path.write_bytes(poster_jpeg(chosen))
    return TranscodeResult(
        frames=frames, duration=last_seconds + float(1 / rate), has_audio=audio_out is not None
    )


def extract_poster(video_path: Path, cover_time: float) -> bytes:
    """A JPEG of the frame of an (already transcoded) video at `cover_time` seconds."""
    try:
        container = av.open(str(video_path), mode="r")
    except av.FFmpegError as error:
        raise TranscodeFailed("The video could not be opened.") from error
    try:
        stream = container.streams.video[0]
        time_base = stream.time_base or Fraction(1, 90000)
        target = int(cover_time / time_base)
        container.seek(target, stream=stream, backward=True, any_frame=False)
        picker = _PosterPicker(cover_time)
        for frame in container.decode(stream):
            if frame.pts is None:
                continue
            picker.offer(frame, float(frame.pts * time_base))
            if picker.done:
                break
        chosen = picker.frame()
        if chosen is None:
            raise TranscodeFailed("No picture was found at that time.")
        return poster_jpeg(chosen)
    finally:
        container.close()
