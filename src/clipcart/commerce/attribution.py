"""Where a purchase came from, for the affiliate program: the source the buyer came with
(a video, a live room, a share link) when it is valid, else their last touch of the product in
the event stream (within 14 days), else "direct"."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
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
    """The kind the buyer's `source` claims, with its video/live id or share code (pure):
    a share link first, then a live room, then a video; ("direct", None, None) for none."""
    code = source.get("share_code")
    if isinstance(code, str) and 0 < len(code) <= 16:
        return domain.SOURCE_SHARE, _uuid(source.get("video_id")), code
    live_id = _uuid(source.get("live_id"))
    if live_id is not None:
        return domain.SOURCE_LIVE, live_id, None
    video_id = _uuid(source.get("video_id"))
    if video_id is not None:
        return domain.SOURCE_VIDEO, video_id, None
    return domain.SOURCE_DIRECT, None, None


def choose(explicit: Attribution | None, touch: Attribution | None) -> Attribution:
    """The rule: a valid explicit source wins, then the last touch, then direct (pure)."""
    if explicit is not None and explicit.kind != domain.SOURCE_DIRECT:
        return explicit
    if touch is not None:
        return touch
    return DIRECT


async def _video_creator(video_id: uuid.UUID, session: AsyncSession) -> uuid.UUID | None:
    try:
        video = await media.get_video_for(None, video_id, session=session)
    except NotFound:
        return None
    return video.owner_id


async def _explicit(source: Mapping[str, Any], session: AsyncSession) -> Attribution | None:
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
    return None


async def _last_touch(
    buyer_id: uuid.UUID, product_id: uuid.UUID, session: AsyncSession
) -> Attribution | None:
    since = clock.now() - timedelta(days=domain.ATTRIBUTION_DAYS)
    event = await recs.last_product_touch(buyer_id, product_id, since=since, session=session)
    if event is None:
        return None
    if event.video_id is not None:
        return Attribution(
            kind=domain.SOURCE_VIDEO,
            video_id=event.video_id,
            creator_id=await _video_creator(event.video_id, session),
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
    return None


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
    explicit = await _explicit(source, session) if source else None
    if explicit is None:
        return choose(None, await _last_touch(buyer_id, product_id, session))
    if explicit.video_id is not None:
        touch = await _last_touch(buyer_id, product_id, session)
        if touch is not None and touch.video_id == explicit.video_id:
            return replace(explicit, event_id=touch.event_id, at=touch.at)
    return explicit
