"""The creator center's and the shop side's figures: views and product taps (from the event
log), orders, GMV and commission (from commissions), in total, per day, per video, per
product and per creator. Amounts are minor units in one currency (the first seen)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts import service as accounts
from clipcart.accounts.models import User
from clipcart.affiliate import domain
from clipcart.affiliate.models import Collaboration, Commission, TagLock
from clipcart.core import clock
from clipcart.media import service as media
from clipcart.recs import service as recs

DAYS = 30
COUNTED = frozenset({domain.PENDING, domain.AVAILABLE, domain.CLAWED_BACK})


@dataclass
class Figures:
    """Views, taps, orders, GMV and earned commission, in total and per day."""

    views: int = 0
    taps: int = 0
    orders: int = 0
    gmv: int = 0
    commission: int = 0
    daily_views: dict[date, int] = field(default_factory=lambda: defaultdict(int))
    daily_taps: dict[date, int] = field(default_factory=lambda: defaultdict(int))
    daily_gmv: dict[date, int] = field(default_factory=lambda: defaultdict(int))
    daily_commission: dict[date, int] = field(default_factory=lambda: defaultdict(int))

    def add_sale(self, row: Commission) -> None:
        """Count one credited order line (refunded parts are not earned)."""
        day = clock.as_utc(row.created_at).date()
        self.orders += 1
        kept = row.line_total * (row.amount - row.clawed_back) // row.amount if row.amount else 0
        self.gmv += kept
        self.commission += row.amount - row.clawed_back
        self.daily_gmv[day] += kept
        self.daily_commission[day] += row.amount - row.clawed_back

    def series(self, name: str, days: list[date]) -> list[tuple[date, int]]:
        """One daily figure over `days` (0 on quiet days)."""
        daily: dict[date, int] = getattr(self, f"daily_{name}")
        return [(day, daily.get(day, 0)) for day in days]

    def running(self, name: str, days: list[date]) -> list[tuple[date, int]]:
        """One figure added up day by day over `days`."""
        total, out = 0, []
        for day, value in self.series(name, days):
            total += value
            out.append((day, total))
        return out


@dataclass
class Row:
    """A video, product or creator with its figures."""

    id: uuid.UUID
    label: str
    figures: Figures = field(default_factory=Figures)


@dataclass
class Report:
    """A creator's or a shop's affiliate figures over the last days."""

    days: list[date]
    currency: str
    total: Figures
    rows: dict[str, list[Row]]


def _days(now: datetime, count: int) -> list[date]:
    today = now.date()
    return [today - timedelta(days=offset) for offset in range(count - 1, -1, -1)]


def _start(days: list[date]) -> datetime:
    """The first moment of the first day (UTC): totals and charts count the same days."""
    return datetime(days[0].year, days[0].month, days[0].day, tzinfo=UTC)


async def _commissions(
    session: AsyncSession, since: datetime, **where: uuid.UUID
) -> list[Commission]:
    statement = select(Commission).where(
        Commission.created_at >= since, Commission.status.in_(COUNTED)
    )
    for name, value in where.items():
        statement = statement.where(getattr(Commission, name) == value)
    return list(await session.scalars(statement.order_by(Commission.created_at)))


async def creator_report(creator: User, *, session: AsyncSession, days: int = DAYS) -> Report:
    """Per video and per product: views, taps, orders, GMV and commission, per day too."""
    now = clock.now()
    day_list = _days(now, days)
    since = _start(day_list)
    videos, _ = await media.list_my_videos(creator, cursor=None, limit=50, session=session)
    by_video = {video.id: Row(video.id, video.caption or "Untitled video") for video in videos}
    by_product: dict[uuid.UUID, Row] = {}
    total = Figures()
    events = await recs.video_event_times(
        list(by_video), types=["impression", "chip_tap"], since=since, session=session
    )
    for video_id, kind, product_id, occurred_at in events:
        day = clock.as_utc(occurred_at).date()
        targets = [total, by_video[video_id].figures]
        if kind == "impression":
            for figures in targets:
                figures.views += 1
                figures.daily_views[day] += 1
        elif product_id is not None:
            row = by_product.setdefault(product_id, Row(product_id, "Product"))
            for figures in [*targets, row.figures]:
                figures.taps += 1
                figures.daily_taps[day] += 1
    currency = "USD"
    for sale in await _commissions(session, since, creator_id=creator.id):
        currency = sale.currency
        total.add_sale(sale)
        if sale.source_video_id in by_video:
            by_video[sale.source_video_id].figures.add_sale(sale)
        if sale.product_id is not None:
            product = by_product.setdefault(
                sale.product_id, Row(sale.product_id, sale.product_title)
            )
            product.label = sale.product_title
            product.figures.add_sale(sale)
    return Report(
        day_list,
        currency,
        total,
        {
            "videos": sorted(by_video.values(), key=lambda r: -r.figures.views),
            "products": sorted(by_product.values(), key=lambda r: -r.figures.gmv),
        },
    )


async def _count_creator_videos(
    shop_id: uuid.UUID,
    by_creator: dict[uuid.UUID, Row],
    total: Figures,
    since: datetime,
    session: AsyncSession,
) -> None:
    """Views of the creators' videos tagging the shop's products, and taps on those products."""
    locks = (
        await session.execute(
            select(TagLock.video_id, TagLock.creator_id, TagLock.product_id)
            .join(Collaboration, Collaboration.id == TagLock.collaboration_id)
            .where(Collaboration.shop_id == shop_id)
        )
    ).all()
    creators = {video_id: creator_id for video_id, creator_id, _ in locks}
    products = {product_id for _, _, product_id in locks}
    events = await recs.video_event_times(
        list(creators), types=["impression", "chip_tap"], since=since, session=session
    )
    for video_id, kind, product_id, occurred_at in events:
        row = by_creator.setdefault(creators[video_id], Row(creators[video_id], ""))
        day = clock.as_utc(occurred_at).date()
        if kind == "impression":
            for figures in (total, row.figures):
                figures.views += 1
                figures.daily_views[day] += 1
        elif product_id in products:
            for figures in (total, row.figures):
                figures.taps += 1
                figures.daily_taps[day] += 1


async def shop_report(shop_id: uuid.UUID, *, session: AsyncSession, days: int = DAYS) -> Report:
    """Which creators sell the shop's products: views of their videos tagging them, taps,
    orders, GMV and commission per creator."""
    day_list = _days(clock.now(), days)
    total = Figures()
    by_creator: dict[uuid.UUID, Row] = {}
    by_product: dict[uuid.UUID, Row] = {}
    currency = "USD"
    for row in await _commissions(session, _start(day_list), shop_id=shop_id):
        currency = row.currency
        total.add_sale(row)
        by_creator.setdefault(row.creator_id, Row(row.creator_id, "")).figures.add_sale(row)
        if row.product_id is not None:
            product = by_product.setdefault(row.product_id, Row(row.product_id, row.product_title))
            product.figures.add_sale(row)
    await _count_creator_videos(shop_id, by_creator, total, _start(day_list), session)
    users = await accounts.users_by_ids(list(by_creator), session=session)
    for creator_id, seller in by_creator.items():
        user = users.get(creator_id)
        seller.label = f"@{user.handle}" if user else "A former creator"
    return Report(
        day_list,
        currency,
        total,
        {
            "creators": sorted(by_creator.values(), key=lambda r: -r.figures.gmv),
            "products": sorted(by_product.values(), key=lambda r: -r.figures.gmv),
        },
    )
