"""Pure re-ranking rules applied after scoring, and the cursor that carries them across pages:
nothing seen in the last N days, no two videos by the same creator in a row, at most one
shoppable video in K (K from the viewer's shopping setting), a bounded exploration budget per
page, and no video twice in one scrolling session."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from clipcart.feed.ranking import Scored

SEEN_DAYS = 3
EXPLORE_PER_PAGE = 2
# How many served videos the cursor remembers (6 bytes each); older ones are seen by then.
CURSOR_MEMORY = 48
_SUFFIX = 6
_VERSION = 1


def suffix(identifier: uuid.UUID) -> bytes:
    """The random tail of a UUID, enough to tell a session's videos apart."""
    return identifier.bytes[-_SUFFIX:]


@dataclass
class MixState:
    """What the rules need to remember between pages (carried in the cursor)."""

    page: int = 0
    since_shoppable: int = 1_000  # items since the last shoppable one
    last_creator: bytes = b""
    served: list[bytes] = field(default_factory=list)


def encode_cursor(state: MixState) -> str:
    """The state as an opaque URL-safe cursor."""
    served = state.served[-CURSOR_MEMORY:]
    raw = bytes([_VERSION, min(state.page, 255), min(state.since_shoppable, 255)])
    raw += state.last_creator.ljust(_SUFFIX, b"\0")[:_SUFFIX] + bytes([len(served)])
    raw += b"".join(served)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> MixState | None:
    """The state in a cursor; a fresh state for none; None when it is not one of ours."""
    if not cursor:
        return MixState()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        return None
    head = 3 + _SUFFIX + 1
    if len(raw) < head or raw[0] != _VERSION:
        return None
    count = raw[head - 1]
    if len(raw) != head + count * _SUFFIX:
        return None
    served = [raw[head + i * _SUFFIX : head + (i + 1) * _SUFFIX] for i in range(count)]
    last = raw[3 : 3 + _SUFFIX]
    return MixState(
        page=raw[1], since_shoppable=raw[2], last_creator=last.strip(b"\0") and last, served=served
    )


def unseen(
    candidates: Iterable[uuid.UUID],
    seen_at: dict[uuid.UUID, datetime],
    *,
    now: datetime,
    days: int = SEEN_DAYS,
) -> list[uuid.UUID]:
    """The candidates not on the viewer's screen in the last `days` days."""
    since = now - timedelta(days=days)
    never = since - timedelta(1)  # what a video never seen counts as: before the window
    return [video for video in candidates if seen_at.get(video, never) < since]


def arrange(
    ranked: Sequence[Scored],
    *,
    size: int,
    shoppable_every: int,
    state: MixState,
    explore_per_page: int = EXPLORE_PER_PAGE,
) -> tuple[list[Scored], MixState]:
    """Fill a page from best to worst, skipping what would break a rule: the same creator twice
    in a row, a second shoppable video within `shoppable_every`, more exploring videos than the
    budget, or a video this session already showed. When every candidate left would break a
    rule (a small world), the creator rule gives way first, then the density, so the feed goes
    on; the exploration budget never does. Returns the page and the state after it."""
    served_before = set(state.served)  # looked up once per candidate: a set, not the list
    remaining = [item for item in ranked if suffix(item.features.video_id) not in served_before]
    page: list[Scored] = []
    since_shoppable, last_creator = state.since_shoppable, state.last_creator
    explored = 0
    while remaining and len(page) < size:
        chosen = None
        for strict_creator, strict_density in ((True, True), (False, True), (False, False)):
            for index, item in enumerate(remaining):
                features = item.features
                if strict_creator and suffix(features.creator_id) == last_creator:
                    continue
                if strict_density and features.shoppable and since_shoppable < shoppable_every - 1:
                    continue
                if item.exploring and explored >= explore_per_page:
                    continue
                chosen = remaining.pop(index)
                break
            if chosen is not None:
                break
        if chosen is None:
            break
        page.append(chosen)
        explored += chosen.exploring
        since_shoppable = 0 if chosen.features.shoppable else since_shoppable + 1
        last_creator = suffix(chosen.features.creator_id)
    served = [*state.served, *(suffix(item.features.video_id) for item in page)]
    after = MixState(
        page=state.page + 1,
        since_shoppable=min(since_shoppable, 255),
        last_creator=last_creator,
        served=served[-CURSOR_MEMORY:],
    )
    return page, after
