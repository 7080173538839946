"""Train the collaborative model from the event log and publish it for the serving processes.

One aggregate query folds the log into (person, video, signal, last time) rows, the model is fit
on the positive ones, and the files are published by renaming a pointer file: a serving process
keeps answering from the old model until it sees the new pointer (`recs.serving`), so retraining
never interrupts the feed.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
from scipy import sparse
from sqlalchemy import Float, Table, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core import clock
from clipcart.core.config import get_settings
from clipcart.recs import collaborative, domain
from clipcart.recs.models import RecsEvent

log = logging.getLogger(__name__)
_TABLE = cast(Table, RecsEvent.__table__)
TRAINING_WINDOW = timedelta(days=90)
POINTER_NAME = "current.json"
KEEP_MODELS = 3


@dataclass(frozen=True)
class TrainingReport:
    """What a training run learned from, and where the model went."""

    trained_at: str
    users: int
    videos: int
    interactions: int
    modelled_videos: int
    seconds: float
    model_file: str


def models_dir() -> Path:
    """Where trained models are published (under the data directory)."""
    return get_settings().data_dir / "models" / "recs"


def _signal_sql() -> Any:
    """The SQL of domain.event_signal: what one event says about the video (see recs.domain)."""
    code, watch_ms, duration = _TABLE.c.type, _TABLE.c.watch_ms, _TABLE.c.duration_ms
    watched = and_(code == domain.WATCH_CODE, watch_ms.is_not(None), duration > 0)
    whens: list[tuple[Any, float]] = [
        (and_(code == domain.WATCH_CODE, _TABLE.c.completed.is_(True)), 1.5),
        (and_(watched, watch_ms * 2 >= duration), 1.0),
        (
            and_(
                watched,
                watch_ms < duration * domain.SKIP_SHARE,
                watch_ms < domain.SKIP_MS,
            ),
            domain.SKIP_SIGNAL,
        ),
        (watched, 0.3),
    ]
    whens += [(code == type_code, weight) for type_code, weight in domain.SIGNAL_WEIGHTS.items()]
    return func.sum(case(*whens, else_=0.0).cast(Float))


async def read_interactions(
    *, since: datetime, session: AsyncSession
) -> list[tuple[uuid.UUID, uuid.UUID, float, datetime]]:
    """(person, video, summed signal, last time) for every pair with a positive signal."""
    signal = _signal_sql().label("signal")
    statement = (
        select(_TABLE.c.user_id, _TABLE.c.video_id, signal, func.max(_TABLE.c.occurred_at))
        .where(
            _TABLE.c.occurred_at >= since,
            _TABLE.c.user_id.is_not(None),
            _TABLE.c.video_id.is_not(None),
            _TABLE.c.type != domain.IMPRESSION_CODE,
        )
        .group_by(_TABLE.c.user_id, _TABLE.c.video_id)
    )
    rows = await session.execute(statement)
    return [(user, video, float(value), at) for user, video, value, at in rows if value > 0]


def build_matrix(
    rows: list[tuple[uuid.UUID, uuid.UUID, float, datetime]],
) -> tuple[sparse.csr_matrix, list[uuid.UUID], list[np.ndarray]]:
    """The users x videos matrix, the video id of each column, and each user's videos oldest
    first (pure)."""
    user_index: dict[uuid.UUID, int] = {}
    video_index: dict[uuid.UUID, int] = {}
    users = np.empty(len(rows), dtype=np.int32)
    videos = np.empty(len(rows), dtype=np.int32)
    weights = np.empty(len(rows), dtype=np.float32)
    stamps = np.empty(len(rows), dtype=np.float64)
    for position, (user, video, weight, at) in enumerate(rows):
        users[position] = user_index.setdefault(user, len(user_index))
        videos[position] = video_index.setdefault(video, len(video_index))
        weights[position] = weight
        stamps[position] = at.timestamp()
    matrix = sparse.csr_matrix(
        (weights, (users, videos)), shape=(len(user_index), len(video_index)), dtype=np.float32
    )
    order = np.lexsort((stamps, users))
    bounds = np.searchsorted(users[order], np.arange(len(user_index) + 1))
    sequences = [videos[order[bounds[i] : bounds[i + 1]]] for i in range(len(user_index))]
    return matrix, list(video_index), sequences


def publish(
    model: collaborative.ItemModel, video_ids: list[uuid.UUID], report: dict[str, Any]
) -> Path:
    """Write the model and its video ids, then point `current.json` at them (atomic rename)."""
    folder = models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"model-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    collaborative.save(model, folder / f"{stem}.npz")
    ids = np.frombuffer(b"".join(video.bytes for video in video_ids), dtype=np.uint8)
    np.save(folder / f"{stem}-videos.npy", ids.reshape(-1, 16))
    pointer = {**report, "model_file": f"{stem}.npz", "video_ids_file": f"{stem}-videos.npy"}
    temporary = folder / f".{POINTER_NAME}.{os.getpid()}"
    temporary.write_text(json.dumps(pointer))
    os.replace(temporary, folder / POINTER_NAME)
    _remove_old_models(folder, keep={pointer["model_file"], pointer["video_ids_file"]})
    return folder / pointer["model_file"]


def _remove_old_models(folder: Path, *, keep: set[str]) -> None:
    models = sorted(folder.glob("model-*.npz"), key=lambda path: path.stat().st_mtime)
    for old in models[:-KEEP_MODELS]:
        if old.name in keep:
            continue
        old.unlink(missing_ok=True)
        (folder / f"{old.stem}-videos.npy").unlink(missing_ok=True)


async def train(
    *, session: AsyncSession, progress: Callable[[str], None] | None = None
) -> TrainingReport | None:
    """Fit the model on the last TRAINING_WINDOW of events and publish it (None: no data)."""
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    now = clock.now()
    say("Reading the event log")
    rows = await read_interactions(since=now - TRAINING_WINDOW, session=session)
    if not rows:
        return None
    say(f"Building the matrix from {len(rows):,} interactions")
    matrix, video_ids, sequences = build_matrix(rows)
    say(f"Fitting the model on {matrix.shape[0]:,} people x {matrix.shape[1]:,} videos")
    model = collaborative.fit(matrix, sequences=sequences)
    report = {
        "trained_at": now.isoformat(),
        "users": int(matrix.shape[0]),
        "videos": int(matrix.shape[1]),
        "interactions": int(matrix.nnz),
        "modelled_videos": int(getattr(model, "modelled_items", model.n_items)),
    }
    say("Publishing")
    path = publish(model, video_ids, report)
    seconds = round(time.perf_counter() - started, 2)
    log.info("recommender trained", extra={**report, "seconds": seconds})
    return TrainingReport(**report, seconds=seconds, model_file=str(path))  # type: ignore[arg-type]


def report_dict(report: TrainingReport) -> dict[str, Any]:
    """The report as plain data (for the CLI and the job log)."""
    return asdict(report)
