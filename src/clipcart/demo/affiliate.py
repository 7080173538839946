"""Demo affiliate data: the demo shop opens products to creators, the demo creator has a video
tagging one (rate locked), a month of views and taps, and a commission in each state (awaiting
payment, pending, available, clawed back) held, released or refunded through the ledger.

`seed_affiliate_story` is reusable (the browser test seeds a creator center with it);
`seed_demo_affiliate` finds the demo creator and shop and seeds once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.affiliate import domain
from clipcart.affiliate.models import Collaboration, Commission, Invitation, TagLock
from clipcart.catalog.models import Product
from clipcart.core import clock
from clipcart.core.ids import new_id
from clipcart.core.money import Money
from clipcart.ledger import service as ledger
from clipcart.media.models import Video, VideoTag
from clipcart.recs.domain import EVENT_TYPE_CODES, SURFACE_CODES
from clipcart.recs.models import RecsEvent
from clipcart.shops.models import Shop

DEMO_CREATOR_HANDLE = "demo_creator"
FEE_RATE = Decimal("0.05")
# (days ago, status, product index, units): one commission in each state; the available ones
# add up to enough for the demo's two payouts (demo/payouts.py) above the payout minimum.
SALES = (
    (26, domain.AVAILABLE, 0, 3),
    (21, domain.AVAILABLE, 0, 4),
    (17, domain.CLAWED_BACK, 1, 1),
    (12, domain.AVAILABLE, 1, 3),
    (6, domain.PENDING, 0, 1),
    (3, domain.PENDING, 1, 2),
    (0, domain.AWAITING_PAYMENT, 0, 1),
)


def _price(product: Product) -> int:
    return min((variant.price for variant in product.variants), default=0)


async def _video(creator: User, caption: str, session: AsyncSession) -> Video:
    now = clock.now()
    video = Video(
        owner_id=creator.id,
        status="ready",
        # Private: the demo has no clip file for it, so it stays out of the public feed.
        visibility="private",
        caption=caption,
        duration_seconds=12.0,
        ready_at=now - timedelta(days=28),
        created_at=now - timedelta(days=28),
    )
    session.add(video)
    await session.flush()
    return video


def _events(creator_video: Video, product: Product) -> list[RecsEvent]:
    now = clock.now()
    rows = []
    for days_ago in range(29, -1, -1):
        views = 30 + (days_ago * 37) % 41 + (29 - days_ago) * 3
        taps = max(1, views // 9 - days_ago % 3)
        for index in range(views + taps):
            kind = "impression" if index < views else "chip_tap"
            at = now - timedelta(days=days_ago, minutes=index * 7)
            rows.append(
                RecsEvent(
                    id=uuid.uuid4(),
                    type=EVENT_TYPE_CODES[kind],
                    occurred_at=at,
                    received_at=at,
                    user_id=None,
                    visitor_id=uuid.uuid4(),
                    surface=SURFACE_CODES["for_you"],
                    video_id=creator_video.id,
                    product_id=product.id if kind == "chip_tap" else None,
                )
            )
    return rows


async def _sale(
    *,
    creator: User,
    shop: Shop,
    product: Product,
    video: Video,
    rate_bp: int,
    days_ago: int,
    status: str,
    units: int,
    session: AsyncSession,
) -> None:
    now = clock.now()
    order_id, line_id = new_id(), new_id()
    order_ref = f"order:{order_id}"
    total = _price(product) * units
    amount = domain.commission_amount(total, rate_bp)
    at = now - timedelta(days=days_ago, hours=2)
    row = Commission(
        order_id=order_id,
        order_line_id=line_id,
        order_number=f"CC-DEMO{days_ago:02d}{units}",
        shop_id=shop.id,
        product_id=product.id,
        product_title=product.title,
        creator_id=creator.id,
        currency=product.currency,
        line_total=total,
        net_amount=total,
        rate_bp=rate_bp,
        amount=amount,
        clawed_back=0,
        status=status,
        source_kind="video",
        source_video_id=video.id,
        source_event_id=uuid.uuid4(),
        source_at=at - timedelta(minutes=20),
        created_at=at,
        available_at=now - timedelta(days=max(days_ago - 8, 0)) if status == "available" else None,
    )
    session.add(row)
    if status == domain.AWAITING_PAYMENT:
        await session.flush()
        return
    await ledger.plan_creator_shares(
        order_ref=order_ref,
        shares=[ledger.ShareIn(str(line_id), creator.id, total, amount)],
        session=session,
    )
    await ledger.hold_payment(
        order_ref=order_ref,
        amount=Money(total, product.currency),
        shop_id=shop.id,
        commission=Money(amount, product.currency),
        fee_rate=FEE_RATE,
        session=session,
    )
    if status == domain.AVAILABLE:
        await ledger.release_order_funds(order_ref=order_ref, session=session)
    elif status == domain.CLAWED_BACK:
        await ledger.claim_line_refunds(
            order_ref=order_ref, claims={str(line_id): total}, session=session
        )
        await ledger.refund_order(
            order_ref=order_ref,
            amount=Money(total, product.currency),
            refund_ref=f"demo-return-{line_id}",
            session=session,
        )
        row.clawed_back = amount
    await session.flush()


async def seed_affiliate_story(
    *, creator: User, shop: Shop, products: list[Product], session: AsyncSession
) -> None:
    """Collaborations on the shop's products, the creator's tagged video with a month of
    views and taps, and sales in every commission state, through the ledger."""
    now = clock.now()
    open_one = Collaboration(
        shop_id=shop.id,
        product_id=products[0].id,
        kind=domain.OPEN,
        rate_bp=1200,
        status=domain.ACTIVE,
        starts_at=now - timedelta(days=30),
    )
    session.add(open_one)
    collaborations = [open_one]
    if len(products) > 1:
        targeted = Collaboration(
            shop_id=shop.id,
            product_id=products[1].id,
            kind=domain.TARGETED,
            rate_bp=1500,
            status=domain.ACTIVE,
            starts_at=now - timedelta(days=30),
            ends_at=now + timedelta(days=60),
        )
        session.add(targeted)
        collaborations.append(targeted)
    await session.flush()
    if len(collaborations) > 1:
        session.add(
            Invitation(collaboration_id=collaborations[1].id, creator_id=creator.id, rate_bp=1500)
        )
    video = await _video(creator, f"Trying {products[0].title} for a week", session)
    for position, (product, collaboration) in enumerate(
        zip(products, collaborations, strict=False)
    ):
        session.add(
            VideoTag(
                video_id=video.id,
                product_id=product.id,
                position=position,
                tagged_by_id=creator.id,
                grounds="affiliate_collaboration",
                collaboration_id=collaboration.id,
            )
        )
        session.add(
            TagLock(
                video_id=video.id,
                product_id=product.id,
                creator_id=creator.id,
                collaboration_id=collaboration.id,
                rate_bp=collaboration.rate_bp,
                locked_until=now + domain.RATE_LOCK - timedelta(days=28),
            )
        )
    session.add_all(_events(video, products[0]))
    await session.flush()
    for days_ago, status, index, units in SALES:
        product = products[min(index, len(products) - 1)]
        collaboration = collaborations[min(index, len(collaborations) - 1)]
        await _sale(
            creator=creator,
            shop=shop,
            product=product,
            video=video,
            rate_bp=collaboration.rate_bp,
            days_ago=days_ago,
            status=status,
            units=units,
            session=session,
        )


async def seed_demo_affiliate(session: AsyncSession) -> None:
    """Seed the demo creator's affiliate story with the demo shop, once."""
    from clipcart.demo.catalog import DEMO_SHOP_HANDLE

    creator = await session.scalar(select(User).where(User.handle == DEMO_CREATOR_HANDLE))
    shop = await session.scalar(select(Shop).where(Shop.handle == DEMO_SHOP_HANDLE))
    if creator is None or shop is None:
        return
    seeded = await session.scalar(select(Collaboration.id).where(Collaboration.shop_id == shop.id))
    if seeded is not None:
        return
    products = list(
        await session.scalars(
            select(Product)
            .where(Product.shop_id == shop.id, Product.status == "active")
            .order_by(Product.created_at)
            .limit(2)
        )
    )
    if products:
        await seed_affiliate_story(creator=creator, shop=shop, products=products, session=session)
