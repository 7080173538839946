"""Where a purchase came from, for the affiliate program: the source the buyer came with
(a video, a live room, a share link, a creator's showcase) when it is valid, else their latest
touch of the product in the event stream (within 14 days) that names a creator, else their
latest touch, else "direct"."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.commerce import domain
from clipcart.core import clock
from clipcart.core.errors import NotFound
from clipcart.media import service as media
from clipcart.recs import service as recs
from clipcart.social import service as social


@dataclass(frozen=True)
class Attribution:
    """What led to a purchase (OrderLine.source_*)."""

    kind: str = domain.SOURCE_DIRECT
    video_id: uuid.UUID | None = None
    live_id: uuid.UUID | None = None
    creator_id: uuid.UUID | None = None
    event_id: uuid.UUID | None = None
    at: datetime | None = None


DIRECT = Attribution()


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def explicit_claim(source: Mapping[str, Any]) -> tuple[str, uuid.UUID | None, str | None]:
    """The kind the buyer's `source` claims, with its video/live/showcase creator id or share
    code (pure): a share link first, then a live room, then a video, then a showcase;
    ("direct", None, None) for none."""
    code = source.get("share_code")
    if isinstance(code, str) and 0 < len(code) <= 16:
        return domain.SOURCE_SHARE, _uuid(source.get("video_id")), code
    live_id = _uuid(source.get("live_id"))
    if live_id is not None:
        return domain.SOURCE_LIVE, live_id, None
    video_id = _uuid(source.get("video_id"))
    if video_id is not None:
        return domain.SOURCE_VIDEO, video_id, None
    showcase_id = _uuid(source.get("showcase_id"))
    if showcase_id is not None:
        return domain.SOURCE_SHOWCASE, showcase_id, None
    return domain.SOURCE_DIRECT, None, None


def choose(explicit: Attribution | None, touch: Attribution | None) -> Attribution:
    """The rule: a valid explicit source wins, then the last touch, then direct (pure)."""
    if explicit is not None and explicit.kind != domain.SOURCE_DIRECT:
        return explicit
    if touch is not None:
        return touch
    return DIRECT


def latest_touch(touches: Sequence[Attribution]) -> Attribution | None:
    """Of the buyer's sourced touches of a product, newest first: the newest that names a
    creator (a video since deleted names none, and does not hide an earlier creator's video
    or showcase), else the newest (pure)."""
    for touch in touches:
        if touch.creator_id is not None:
            return touch
    return touches[0] if touches else None


async def _video_creator(video_id: uuid.UUID, session: AsyncSession) -> uuid.UUID | None:
    try:
        video = await media.get_video_for(None, video_id, session=session)
    except NotFound:
        return None
    return video.owner_id


async def _explicit(
    source: Mapping[str, Any], product_id: uuid.UUID, session: AsyncSession
) -> Attribution | None:
    kind, target, code = explicit_claim(source)
    now = clock.now()
    if kind == domain.SOURCE_SHARE and code is not None:
        sharer = await social.resolve_share(code, session=session)
        if sharer is not None:
            return Attribution(kind=kind, video_id=target, creator_id=sharer, at=now)
        kind = domain.SOURCE_VIDEO  # an unknown code: the video it came with may still count
    if kind == domain.SOURCE_LIVE:
        return Attribution(kind=kind, live_id=target, at=now)
    if kind == domain.SOURCE_VIDEO and target is not None:
        creator = await _video_creator(target, session)
        if creator is None:
            return None
        return Attribution(kind=kind, video_id=target, creator_id=creator, at=now)
    if kind == domain.SOURCE_SHOWCASE and target is not None:
        if not await social.is_in_showcase(target, product_id, session=session):
            return None  # not (or no longer) in that showcase: the claim does not count
        return Attribution(kind=kind, creator_id=target, at=now)
    return None


async def _touch(
    event: recs.EventRecord,
    product_id: uuid.UUID,
    creators: dict[uuid.UUID, uuid.UUID | None],
    session: AsyncSession,
) -> Attribution | None:
    """Where one chip tap, sheet open or add to cart came from: a video, a share link or a
    creator's showcase; None for a tap that came from none of them."""
    if event.video_id is not None:
        if event.video_id not in creators:
            creators[event.video_id] = await _video_creator(event.video_id, session)
        return Attribution(
            kind=domain.SOURCE_VIDEO,
            video_id=event.video_id,
            creator_id=creators[event.video_id],
            event_id=event.id,
            at=event.occurred_at,
        )
    if event.share_code:
        return Attribution(
            kind=domain.SOURCE_SHARE,
            creator_id=event.sharer_id,
            event_id=event.id,
            at=event.occurred_at,
        )
    if event.surface == "profile" and event.target_id is not None:
        if not await social.is_in_showcase(event.target_id, product_id, session=session):
            return None
        return Attribution(
            kind=domain.SOURCE_SHOWCASE,
            creator_id=event.target_id,
            event_id=event.id,
            at=event.occurred_at,
        )
    return None  # a tap on the shop's own pages: no one to credit


async def _touches(
    buyer_id: uuid.UUID, product_id: uuid.UUID, session: AsyncSession
) -> list[Attribution]:
    """The buyer's touches of the product in the attribution window, newest first."""
    since = clock.now() - timedelta(days=domain.ATTRIBUTION_DAYS)
    events = await recs.product_touches(buyer_id, product_id, since=since, session=session)
    creators: dict[uuid.UUID, uuid.UUID | None] = {}  # video -> its creator, read once
    touches = [await _touch(event, product_id, creators, session) for event in events]
    return [touch for touch in touches if touch is not None]


async def attribute(
    buyer_id: uuid.UUID,
    product_id: uuid.UUID,
    source: Mapping[str, Any] | None,
    *,
    session: AsyncSession,
) -> Attribution:
    """The attribution of one order line, with its evidence: the event that shows the touch
    (for a source the buyer came with, the matching chip tap or sheet open when there is one).
    Who earns a commission on it is the affiliate program's rule (affiliate.credited_touch)."""
    explicit = await _explicit(source, product_id, session) if source else None
    touches = await _touches(buyer_id, product_id, session)
    if explicit is None:
        return choose(None, latest_touch(touches))
    same = next(
        (
            touch
            for touch in touches
            if touch.kind == explicit.kind
            and touch.creator_id == explicit.creator_id
            and (explicit.video_id is None or touch.video_id == explicit.video_id)
        ),
        None,
    )
    if same is not None and explicit.kind in (domain.SOURCE_VIDEO, domain.SOURCE_SHOWCASE):
        return replace(explicit, event_id=same.event_id, at=same.at)
    return explicit
