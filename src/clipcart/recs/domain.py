"""Pure rules of the event log: type and surface codes, the clock window, what counts as a view."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo

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


def in_fixed_zone(moment: datetime, zone: tzinfo | None) -> datetime:
    """`moment` in `zone` when that zone has a fixed offset, else as it is.

    Aware datetimes that share one tzinfo compare and subtract without asking it for their
    offsets (a call into pydantic's Rust for each), and pydantic gives the times of a body
    that share an offset one tzinfo: a bound or an epoch put in their zone once per batch
    spares every event that call. A zone with rules (a DST change) has no fixed offset and
    must be asked.
    """
    if zone is None or zone.utcoffset(None) is None:
        return moment
    return moment.astimezone(zone)


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


# --- What an event says about a person's taste (training data and the live session) ----------

# A like, a share or an add-to-cart say "more of this" louder than a watch. Watches are judged
# by how much of the video was watched (watch_signal). Impressions say nothing about taste.
SIGNAL_WEIGHTS: dict[int, float] = {
    EVENT_TYPE_CODES["like"]: 3.0,
    EVENT_TYPE_CODES["share"]: 3.0,
    EVENT_TYPE_CODES["comment"]: 2.0,
    EVENT_TYPE_CODES["add_to_cart"]: 3.0,
    EVENT_TYPE_CODES["follow"]: 2.0,
    EVENT_TYPE_CODES["sheet_open"]: 1.5,
    EVENT_TYPE_CODES["chip_tap"]: 1.0,
    EVENT_TYPE_CODES["replay"]: 1.5,
}
WATCH_CODE = EVENT_TYPE_CODES["watch"]
IMPRESSION_CODE = EVENT_TYPE_CODES["impression"]
# A watch shorter than this share of the video (and under SKIP_MS) is a skip: "less of this".
SKIP_SHARE = 0.2
SKIP_MS = 2_000
SKIP_SIGNAL = -1.0
# Product touches that show shopping intent, and how strongly.
INTENT_WEIGHTS: dict[int, float] = {
    EVENT_TYPE_CODES["chip_tap"]: 1.0,
    EVENT_TYPE_CODES["sheet_open"]: 1.5,
    EVENT_TYPE_CODES["add_to_cart"]: 3.0,
}


def watch_signal(watch_ms: int | None, duration_ms: int | None, completed: bool | None) -> float:
    """What a watch says: a completed watch 1.5, most of the video 1.0, a skip -1.0, else 0.3."""
    if completed:
        return 1.5
    if not watch_ms or not duration_ms:
        return 0.0
    share = watch_ms / duration_ms
    if share >= 0.5:
        return 1.0
    if share < SKIP_SHARE and watch_ms < SKIP_MS:
        return SKIP_SIGNAL
    return 0.3


def event_signal(
    type_code: int, watch_ms: int | None, duration_ms: int | None, completed: bool | None
) -> float:
    """How much one event says the person wants more videos like this one (negative: fewer)."""
    if type_code == WATCH_CODE:
        return watch_signal(watch_ms, duration_ms, completed)
    return SIGNAL_WEIGHTS.get(type_code, 0.0)


# --- Trending: time-decayed engagement counters, added to as events arrive ---------------------

# A video's trend is the sum of its engagement, each event halving in weight every half-life.
# Stored in "units" of 2^((t - epoch) / half-life): an event at t adds weight * units(t), so
# counters only ever add (one upsert per batch) and score / units(now) is the decayed sum.
# Float64 holds units up to ~2^1023: with a 36-hour half-life that is 4 years after the epoch;
# move the epoch forward (and divide the stored scores) before then.
TREND_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
TREND_HALF_LIFE_HOURS = 36.0
TREND_WEIGHTS: dict[int, float] = {
    EVENT_TYPE_CODES["like"]: 3.0,
    EVENT_TYPE_CODES["share"]: 4.0,
    EVENT_TYPE_CODES["comment"]: 3.0,
    EVENT_TYPE_CODES["add_to_cart"]: 3.0,
    EVENT_TYPE_CODES["follow"]: 2.0,
    EVENT_TYPE_CODES["replay"]: 1.0,
    EVENT_TYPE_CODES["chip_tap"]: 1.0,
}
TREND_COMPLETED_WATCH = 1.0


def trend_units(at: datetime) -> float:
    """The weight one unit of engagement at `at` carries in the stored trend scores."""
    hours = (at - TREND_EPOCH).total_seconds() / 3600
    return float(2.0 ** (hours / TREND_HALF_LIFE_HOURS))


def current_trend(stored_score: float, now: datetime) -> float:
    """A stored trend score as the decayed engagement it means at `now`."""
    return stored_score / trend_units(now)


def trend_increments(
    events: Iterable[tuple[int, uuid.UUID | None, bool | None, datetime]],
) -> dict[uuid.UUID, float]:
    """What a batch of (type code, video id, completed, occurred_at) adds to each video's trend."""
    added: dict[uuid.UUID, float] = {}
    for code, video_id, completed, occurred_at in events:
        if video_id is None:
            continue
        weight = TREND_WEIGHTS.get(code, 0.0)
        if code == WATCH_CODE and completed:
            weight = TREND_COMPLETED_WATCH
        if weight:
            added[video_id] = added.get(video_id, 0.0) + weight * trend_units(occurred_at)
    return added


# --- What a person told the feed ---------------------------------------------------------------

# shopping_mix -> (name, at most one shoppable video in every K)
SHOPPING_MIXES: dict[int, tuple[str, int]] = {
    -1: ("more_entertainment", 6),
    0: ("balanced", 3),
    1: ("more_shopping", 1),
}
SHOPPING_MIX_CODES: dict[str, int] = {name: code for code, (name, _) in SHOPPING_MIXES.items()}
MAX_INTERESTS = 10


def shoppable_every(shopping_mix: int) -> int:
    """K in "at most one shoppable video in K" for a shopping mix setting."""
    return SHOPPING_MIXES.get(shopping_mix, SHOPPING_MIXES[0])[1]
