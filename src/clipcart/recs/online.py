"""A person's live taste, read from their latest events at request time.

The event endpoint commits every batch before it answers, so the next feed request sees a like,
a long watch, a skip or an add-to-cart at once, in every process, without waiting for the model
to be retrained: the model says what is similar, these signals say what to look for now.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core.db import fixed_limit
from clipcart.recs import domain
from clipcart.recs.models import RecsEvent

_TABLE = cast(Table, RecsEvent.__table__)
SIGNAL_WINDOW = timedelta(days=14)
SIGNAL_LIMIT = 200
# A signal a day old weighs half as much as one from a moment ago.
SIGNAL_HALF_LIFE_HOURS = 24.0


@dataclass
class UserSignals:
    """What a person's recent events say: per-video taste, what they saw, what they shop for."""

    # Decayed sum of what each interaction said about the video (negative: skipped it).
    video_taste: dict[uuid.UUID, float] = field(default_factory=dict)
    # Videos with a positive signal, oldest first, with their weights (the model's input).
    history: list[uuid.UUID] = field(default_factory=list)
    history_weights: list[float] = field(default_factory=list)
    # Video -> when it was last on screen (any event about it says so).
    seen_at: dict[uuid.UUID, datetime] = field(default_factory=dict)
    # Product -> decayed shopping intent (chip taps, sheet opens, add to cart).
    product_intent: dict[uuid.UUID, float] = field(default_factory=dict)
    event_count: int = 0

    @property
    def positive_count(self) -> int:
        """How many videos the person showed they liked."""
        return len(self.history)


def decay(occurred_at: datetime, now: datetime) -> float:
    """1.0 now, halving every SIGNAL_HALF_LIFE_HOURS."""
    hours = max(0.0, (now - occurred_at).total_seconds() / 3600)
    return float(0.5 ** (hours / SIGNAL_HALF_LIFE_HOURS))


SignalRow = tuple[
    int, uuid.UUID | None, uuid.UUID | None, int | None, int | None, bool | None, datetime
]


def signals_from_rows(rows: list[SignalRow], *, now: datetime) -> UserSignals:
    """Fold (type, video, product, watch_ms, duration_ms, completed, occurred_at) rows, newest
    first, into signals (pure)."""
    signals = UserSignals(event_count=len(rows))
    taste = signals.video_taste
    for code, video_id, product_id, watch_ms, duration_ms, completed, occurred_at in rows:
        weight = decay(occurred_at, now)
        if product_id is not None and code in domain.INTENT_WEIGHTS:
            intent = domain.INTENT_WEIGHTS[code] * weight
            signals.product_intent[product_id] = signals.product_intent.get(product_id, 0) + intent
        if video_id is None:
            continue
        # Any event about a video means it was on screen: rows come newest first.
        signals.seen_at.setdefault(video_id, occurred_at)
        if code == domain.IMPRESSION_CODE:
            continue
        said = domain.event_signal(code, watch_ms, duration_ms, completed)
        if said:
            taste[video_id] = taste.get(video_id, 0.0) + said * weight
    # Oldest first for the model: rows came newest first; keep each video's latest position.
    ordered: dict[uuid.UUID, None] = {}
    for row in reversed(rows):
        video_id = row[1]
        if video_id is not None and taste.get(video_id, 0.0) > 0:
            ordered.pop(video_id, None)  # moved to the end: its latest signal counts
            ordered[video_id] = None
    signals.history = list(ordered)
    signals.history_weights = [taste[video_id] for video_id in ordered]
    return signals


# Built once (every For You request reads it): the person's latest events in the window.
_RECENT_SIGNALS = (
    select(
        _TABLE.c.type,
        _TABLE.c.video_id,
        _TABLE.c.product_id,
        _TABLE.c.watch_ms,
        _TABLE.c.duration_ms,
        _TABLE.c.completed,
        _TABLE.c.occurred_at,
    )
    .where(_TABLE.c.user_id == bindparam("user_id"), _TABLE.c.occurred_at >= bindparam("since"))
    .order_by(_TABLE.c.occurred_at.desc())
    .limit(fixed_limit(SIGNAL_LIMIT))
)


async def load_signals(
    user_id: uuid.UUID | None, *, now: datetime, session: AsyncSession
) -> UserSignals:
    """The live signals of a signed-in person (visitors start from the cold-start sources)."""
    if user_id is None:
        return UserSignals()
    parameters = {"user_id": user_id, "since": now - SIGNAL_WINDOW}
    rows = [tuple(row) for row in await session.execute(_RECENT_SIGNALS, parameters)]
    return signals_from_rows(rows, now=now)
