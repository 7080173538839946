"""The trained model, held in memory by each serving process and swapped when a new one lands.

A process looks at the pointer file at most every CHECK_SECONDS (one stat call); when it names a
new model, the model is loaded and replaces the old one in a single assignment, so requests in
flight finish on the old model and the next ones use the new one: no downtime, no lock.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clipcart.recs import collaborative
from clipcart.recs.training import POINTER_NAME, models_dir

log = logging.getLogger(__name__)
CHECK_SECONDS = 5.0


@dataclass(frozen=True)
class ServedModel:
    """A loaded model with the video id of each of its items."""

    model: collaborative.ItemModel
    # Video ids as 128-bit integers, not UUID objects: a model holds one per item, and ints are
    # not tracked by the garbage collector, whose full passes grew with every UUID kept here.
    video_ints: list[int]
    index_of: dict[int, int]
    trained_at: str

    def similar_to(
        self, history: list[uuid.UUID], weights: list[float], *, k: int
    ) -> list[tuple[uuid.UUID, float]]:
        """The k videos the model rates highest for this history (history videos left out)."""
        index_of = self.index_of
        known = [
            (index_of[video.int], weight)
            for video, weight in zip(history, weights, strict=True)
            if video.int in index_of
        ]
        if not known:
            return []
        items = np.fromiter((index for index, _ in known), dtype=np.int64, count=len(known))
        values = np.fromiter((weight for _, weight in known), dtype=np.float32, count=len(known))
        best, scores = self.model.top(items, values, k=k)
        video_ints = self.video_ints
        return [
            (uuid.UUID(int=video_ints[item]), score)
            for item, score in zip(best.tolist(), scores.tolist(), strict=True)
            if score > 0
        ]


def video_ints_of(raw: np.ndarray) -> list[int]:
    """The 16-byte big-endian rows of a saved id array as integers (UUID.int of each)."""
    rows = np.ascontiguousarray(raw, dtype=np.uint8).reshape(-1, 16)
    high = rows[:, :8].copy().view(">u8").ravel().tolist()
    low = rows[:, 8:].copy().view(">u8").ravel().tolist()
    return [(first << 64) | second for first, second in zip(high, low, strict=True)]


class ModelHolder:
    """The process's current model, reloaded when the pointer file changes."""

    def __init__(self) -> None:
        self._served: ServedModel | None = None
        self._pointer_mtime: float | None = None
        self._checked_at = 0.0

    def current(self) -> ServedModel | None:
        """The model to serve now (None before the first training)."""
        now = time.monotonic()
        if now - self._checked_at >= CHECK_SECONDS:
            self._checked_at = now
            self._reload_if_changed(models_dir())
        return self._served

    def forget(self) -> None:
        """Drop the loaded model so the next request reads the pointer again (tests, CLI)."""
        self._served, self._pointer_mtime, self._checked_at = None, None, 0.0

    def _reload_if_changed(self, folder: Path) -> None:
        pointer = folder / POINTER_NAME
        try:
            mtime = pointer.stat().st_mtime
        except FileNotFoundError:
            return
        if mtime == self._pointer_mtime:
            return
        try:
            described = json.loads(pointer.read_text())
            model = collaborative.load(folder / described["model_file"])
            raw = np.load(folder / described["video_ids_file"])
        except (OSError, ValueError, KeyError):
            log.exception("could not load the recommender model; keeping the current one")
            return
        video_ints = video_ints_of(raw)
        self._served = ServedModel(
            model=model,
            video_ints=video_ints,
            index_of={video: index for index, video in enumerate(video_ints)},
            trained_at=str(described.get("trained_at", "")),
        )
        self._pointer_mtime = mtime


holder = ModelHolder()
