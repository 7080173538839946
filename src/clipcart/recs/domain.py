"""Pure rules of the event log: type and surface codes, the clock window, what counts as a view."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

# Stored as SMALLINT codes: a compact row, and the recommender compares small integers.
# Codes are forever: append new ones, never renumber.
EVENT_TYPE_CODES: dict[str, int] = {
    "impression": 1,
    "watch": 2,
    "replay": 3,
    "chip_tap": 4,
    "sheet_open": 5,
    "add_to_cart": 6,
    "share": 7,
    "follow": 8,
    "like": 9,
    "comment": 10,
    "visit": 11,
}
EVENT_TYPE_NAMES: dict[int, str] = {code: name for name, code in EVENT_TYPE_CODES.items()}

SURFACE_CODES: dict[str, int] = {
    "for_you": 1,
    "following": 2,
    "video_page": 3,
    "hashtag": 4,
    "profile": 5,
    "shop": 6,
}
SURFACE_NAMES: dict[int, str] = {code: name for name, code in SURFACE_CODES.items()}

MAX_AHEAD = timedelta(hours=1)
MAX_AGE = timedelta(days=7)

# A video that came on screen was seen: that is the view the counters show.
VIEW_TYPE_CODES = frozenset({EVENT_TYPE_CODES["impression"]})


def clock_window(now: datetime) -> tuple[datetime, datetime]:
    """The earliest and latest believable `occurred_at` at `now` (both allowed)."""
    return now - MAX_AGE, now + MAX_AHEAD


def clock_problem(occurred_at: datetime, *, now: datetime) -> str | None:
    """Why a client's `occurred_at` is not believable, or None when it is."""
    if occurred_at > now + MAX_AHEAD:
        return "occurred_at is more than 1 hour in the future"
    if occurred_at < now - MAX_AGE:
        return "occurred_at is more than 7 days in the past"
    return None


def count_views(events: Iterable[tuple[int, uuid.UUID | None]]) -> dict[uuid.UUID, int]:
    """Views per video among stored `(type_code, video_id)` pairs."""
    views: Counter[uuid.UUID] = Counter(
        video_id for code, video_id in events if code in VIEW_TYPE_CODES and video_id is not None
    )
    return dict(views)


def describe_error(location: tuple[int | str, ...], message: str) -> str:
    """A readable reason from one validation error (its location inside the event)."""
    # Discriminated unions put the type name first in the location: drop it.
    parts = [str(part) for part in location if str(part) not in EVENT_TYPE_CODES]
    field = ".".join(parts)
    return f"{field}: {message}" if field else message
