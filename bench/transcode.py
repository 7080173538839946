"""Transcode speed: frames per second of ClipCart's transcode (PyAV, the code the upload job
runs) of a generated 30 s 1080x1920 clip, against the ffmpeg command line (imageio-ffmpeg's
binary) doing the same work in the same run: libx264 with the same preset and CRF, the same
scale/pad filter to 720x1280, AAC 128 kb/s stereo 48 kHz, faststart.

    .venv/bin/python -m bench.transcode [--seconds 30] [--rounds 2]

Writes bench/results/transcode.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import imageio_ffmpeg
from rich.console import Console
from rich.table import Table

from clipcart.media import domain
from clipcart.media.config import get_media_settings
from clipcart.media.transcoding import TranscodeSettings, transcode

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "bench" / "results" / "transcode.json"
DATA = REPO_ROOT / "bench" / "results" / "data"
TARGETS = {"ratio": 0.8}
console = Console()


@dataclass(frozen=True)
class Run:
    """One timed transcode: wall-clock seconds, CPU seconds (all threads) and frames."""

    seconds: float
    cpu_seconds: float
    frames: int

    @property
    def fps(self) -> float:
        return self.frames / self.seconds


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def source_clip(seconds: int) -> Path:
    """A 1080x1920 30 fps H.264/AAC clip with moving test patterns (made once, then reused)."""
    path = DATA / f"transcode-source-{seconds}s-1080x1920.mp4"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    draft = path.with_suffix(".part.mp4")
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=1080x1920:rate=30:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}",
            "-c:v", "libx264", "-preset", "fast", "-crf", "20", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "128k", "-shortest", str(draft),
        ],
        check=True,
    )  # fmt: skip
    draft.replace(path)
    return path


def frame_count(path: Path) -> int:
    """Video frames in `path` (decoded, so nothing is guessed)."""
    with av.open(str(path), mode="r") as container:
        stream = container.streams.video[0]
        return sum(1 for _ in container.demux(stream) if _.size)


def ffmpeg_filter(width: int, height: int) -> str:
    """The same scale/pad/format chain the PyAV transcode builds."""
    fitted_width, fitted_height = domain.fit_inside(
        width, height, domain.OUTPUT_WIDTH, domain.OUTPUT_HEIGHT
    )
    return (
        f"scale={fitted_width}:{fitted_height}:flags=bicubic,"
        f"pad={domain.OUTPUT_WIDTH}:{domain.OUTPUT_HEIGHT}:(ow-iw)/2:(oh-ih)/2:black,"
        "setsar=1,format=yuv420p"
    )


def run_ffmpeg(source: Path, output: Path, settings: TranscodeSettings) -> Run:
    """The ffmpeg command line with ClipCart's settings."""
    with av.open(str(source), mode="r") as container:
        context = container.streams.video[0].codec_context
        width, height = context.width, context.height
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-loglevel", "error", "-y", "-i", str(source),
        "-vf", ffmpeg_filter(width, height),
        "-c:v", "libx264", "-preset", settings.preset, "-crf", str(settings.crf),
        "-c:a", "aac", "-ar", str(settings.audio_rate), "-ac", "2",
        "-b:a", str(settings.audio_bitrate),
        "-movflags", "+faststart", str(output),
    ]  # fmt: skip
    cpu, started = _cpu_children(), time.perf_counter()
    subprocess.run(command, check=True)
    elapsed = time.perf_counter() - started
    return Run(seconds=elapsed, cpu_seconds=_cpu_children() - cpu, frames=frame_count(output))


def run_clipcart(source: Path, work: Path, settings: TranscodeSettings) -> Run:
    """ClipCart's transcode, as the upload job runs it (with its poster and preview)."""
    cpu, started = _cpu_self(), time.perf_counter()
    result = transcode(
        source,
        work / "clipcart.mp4",
        poster_path=work / "poster.jpg",
        preview_path=work / "preview.mp4",
        settings=settings,
    )
    elapsed = time.perf_counter() - started
    return Run(seconds=elapsed, cpu_seconds=_cpu_self() - cpu, frames=result.frames)


def _mean_fps(runs: list[Run]) -> float:
    return sum(run.fps for run in runs) / len(runs)


def _cpu_per_frame(runs: list[Run]) -> float:
    return 1000 * sum(run.cpu_seconds for run in runs) / sum(run.frames for run in runs)


def ffmpeg_version() -> str:
    first = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-version"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]
    return first.replace("ffmpeg version ", "")


def main() -> None:
    """Measure both, interleaved, print the table, write the results file."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=30, help="length of the source clip")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds of each")
    args = parser.parse_args()
    media = get_media_settings()
    settings = TranscodeSettings(preset=media.x264_preset, crf=media.x264_crf)
    with console.status("Making the 1080x1920 source clip..."):
        source = source_clip(args.seconds)
    clipcart_runs: list[Run] = []
    ffmpeg_runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-transcode-") as directory:
        work = Path(directory)
        for round_number in range(args.rounds):
            with console.status(f"Round {round_number + 1}/{args.rounds}: ffmpeg CLI..."):
                ffmpeg_runs.append(run_ffmpeg(source, work / "ffmpeg.mp4", settings))
            with console.status(f"Round {round_number + 1}/{args.rounds}: ClipCart..."):
                clipcart_runs.append(run_clipcart(source, work, settings))
    # Other work on a shared machine only ever slows a run down, so each side's fastest round
    # is its truest figure; the rounds alternate so both see the same conditions.
    clipcart_fps = max(run.fps for run in clipcart_runs)
    ffmpeg_fps = max(run.fps for run in ffmpeg_runs)
    table = Table(title=f"Transcode {args.seconds} s 1080x1920 -> 720x1280 H.264/AAC")
    for column in ("transcoder", "frames", "best s", "mean s", "CPU ms/frame", "best frames/s"):
        table.add_column(column, justify="left" if column == "transcoder" else "right")
    for name, runs, fps in (
        ("ClipCart (PyAV)", clipcart_runs, clipcart_fps),
        ("ffmpeg CLI", ffmpeg_runs, ffmpeg_fps),
    ):
        table.add_row(
            name,
            str(runs[0].frames),
            f"{min(run.seconds for run in runs):.2f}",
            f"{sum(run.seconds for run in runs) / len(runs):.2f}",
            f"{_cpu_per_frame(runs):.1f}",
            f"{fps:.1f}",
        )
    console.print(table)
    figures = {
        "clipcart_fps": round(clipcart_fps, 1),
        "ffmpeg_cli_fps": round(ffmpeg_fps, 1),
        "ratio": round(clipcart_fps / ffmpeg_fps, 3),
    }
    verdict = "met" if figures["ratio"] >= TARGETS["ratio"] else "[red]missed[/red]"
    console.print(f"ratio: {figures['ratio']:.3f} (target {TARGETS['ratio']}) {verdict}")
    document: dict[str, Any] = {
        "figures": figures,
        "targets": TARGETS,
        "baselines": {"clipcart_fps": "ffmpeg_cli_fps"},
        "machine": (
            f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
            f"PyAV {av.__version__} (FFmpeg {av.ffmpeg_version_info}); "
            f"ffmpeg CLI {ffmpeg_version()}"
        ),
        "notes": {
            "settings": {
                "preset": settings.preset,
                "crf": settings.crf,
                "audio": f"aac {settings.audio_bitrate} b/s {settings.audio_rate} Hz stereo",
                "filter": ffmpeg_filter(1080, 1920),
            },
            "clipcart_includes": "the poster JPEG and the 3 s 180x320 preview, as the job does",
            "rounds": args.rounds,
            "figure": "fastest of the rounds (wall clock), rounds alternating",
            "mean_fps": {
                "clipcart": round(_mean_fps(clipcart_runs), 1),
                "ffmpeg_cli": round(_mean_fps(ffmpeg_runs), 1),
            },
            "cpu_ms_per_frame": {
                "clipcart": round(_cpu_per_frame(clipcart_runs), 2),
                "ffmpeg_cli": round(_cpu_per_frame(ffmpeg_runs), 2),
            },
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    console.print(f"Wrote {RESULTS.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
