"""Demo affiliate data: the demo shop opens products to creators, the demo creator has a video
tagging one (rate locked), a month of views and taps, and a commission in each state (awaiting
payment, pending, available, clawed back) held, released or refunded through the ledger, each
posting dated when that happened (demo/timeline.py).

`seed_affiliate_story` is reusable (the browser test seeds a creator center with it);
`seed_demo_affiliate` finds the demo creator and shop and seeds once."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.affiliate import domain
from clipcart.affiliate.models import Collaboration, Commission, Invitation, TagLock
from clipcart.catalog.models import Product
from clipcart.core import clock
from clipcart.core.ids import new_id
from clipcart.core.money import Money
from clipcart.demo.timeline import Timeline
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
RELEASED_AFTER = timedelta(days=8)  # delivered a day or so after payment, then the window closed
CLAWED_BACK_AFTER = timedelta(days=4, hours=5)  # delivered, sent back, refunded


class SessionStep(Protocol):
    """A step of the story that writes in the session it is given."""

    def __call__(self, *, session: AsyncSession) -> Awaitable[None]: ...


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


@dataclass(frozen=True)
class _Sale:
    """One attributed sale and its commission, told in steps at the moments they happened:
    paid (the commission is recorded and the money held), then released when the return
    window closed, or refunded and the commission clawed back."""

    creator_id: uuid.UUID
    shop_id: uuid.UUID
    product_id: uuid.UUID
    product_title: str
    currency: str
    video_id: uuid.UUID
    rate_bp: int
    days_ago: int
    status: str
    units: int
    total: int
    told_at: datetime  # the story's "now": the sale's moments count back from it
    order_id: uuid.UUID = field(default_factory=new_id)
    line_id: uuid.UUID = field(default_factory=new_id)

    @property
    def amount(self) -> int:
        """The commission on the sale."""
        return domain.commission_amount(self.total, self.rate_bp)

    @property
    def order_ref(self) -> str:
        """The ledger's reference for the sale's order."""
        return f"order:{self.order_id}"

    def moments(self) -> list[tuple[datetime, SessionStep]]:
        """Each step of the sale at the moment it happened, oldest first."""
        paid_at = self.told_at - timedelta(days=self.days_ago, hours=2)
        steps: list[tuple[datetime, SessionStep]] = [(paid_at, self.pay)]
        if self.status == domain.AVAILABLE:
            steps.append((min(paid_at + RELEASED_AFTER, self.told_at), self.release))
        elif self.status == domain.CLAWED_BACK:
            steps.append((paid_at + CLAWED_BACK_AFTER, self.claw_back))
        return steps

    async def pay(self, *, session: AsyncSession) -> None:
        """The buyer paid: the commission is recorded and the order's money held in escrow."""
        moments = [moment for moment, _ in self.moments()]
        paid_at, last = moments[0], moments[-1]
        row = Commission(
            order_id=self.order_id,
            order_line_id=self.line_id,
            order_number=f"CC-DEMO{self.days_ago:02d}{self.units}",
            shop_id=self.shop_id,
            product_id=self.product_id,
            product_title=self.product_title,
            creator_id=self.creator_id,
            currency=self.currency,
            line_total=self.total,
            net_amount=self.total,
            rate_bp=self.rate_bp,
            amount=self.amount,
            clawed_back=self.amount if self.status == domain.CLAWED_BACK else 0,
            status=self.status,
            source_kind="video",
            source_video_id=self.video_id,
            source_event_id=uuid.uuid4(),
            source_at=paid_at - timedelta(minutes=20),
            created_at=paid_at,
            updated_at=last,  # the row is written once, in the state the story ends in
            available_at=last if self.status == domain.AVAILABLE else None,
        )
        session.add(row)
        if self.status == domain.AWAITING_PAYMENT:
            await session.flush()
            return
        await ledger.plan_creator_shares(
            order_ref=self.order_ref,
            shares=[ledger.ShareIn(str(self.line_id), self.creator_id, self.total, self.amount)],
            session=session,
        )
        await ledger.hold_payment(
            order_ref=self.order_ref,
            amount=Money(self.total, self.currency),
            shop_id=self.shop_id,
            commission=Money(self.amount, self.currency),
            fee_rate=FEE_RATE,
            session=session,
        )
        await session.flush()

    async def release(self, *, session: AsyncSession) -> None:
        """The return window closed: the shop's and the creator's shares are released."""
        await ledger.release_order_funds(order_ref=self.order_ref, session=session)

    async def claw_back(self, *, session: AsyncSession) -> None:
        """The buyer sent it back: refunded, and the commission clawed back."""
        await ledger.claim_line_refunds(
            order_ref=self.order_ref, claims={str(self.line_id): self.total}, session=session
        )
        refund_ref = f"demo-return-{self.line_id}"
        await ledger.refund_order(
            order_ref=self.order_ref,
            amount=Money(self.total, self.currency),
            refund_ref=refund_ref,
            session=session,
        )
        # The provider paid the refund out at once (as the sandbox does): without this the
        # platform's refunds account would keep the money forever.
        await ledger.settle_refund(order_ref=self.order_ref, refund_ref=refund_ref, session=session)


async def _in_own_unit_of_work(step: SessionStep) -> None:
    from clipcart.core.db import unit_of_work

    async with unit_of_work() as session:
        await step(session=session)


async def seed_affiliate_story(
    *,
    creator: User,
    shop: Shop,
    products: list[Product],
    session: AsyncSession,
    timeline: Timeline | None = None,
) -> None:
    """Collaborations on the shop's products, the creator's tagged video with a month of
    views and taps, and sales in every commission state, through the ledger, each sale's
    steps dated when they happened: planned on `timeline` (each step then writes in its own
    transaction), or without one played at once, in time order, in `session`."""
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
    own = timeline is None
    plan = Timeline(now) if timeline is None else timeline
    for days_ago, status, index, units in SALES:
        product = products[min(index, len(products) - 1)]
        collaboration = collaborations[min(index, len(collaborations) - 1)]
        sale = _Sale(
            creator_id=creator.id,
            shop_id=shop.id,
            product_id=product.id,
            product_title=product.title,
            currency=product.currency,
            video_id=video.id,
            rate_bp=collaboration.rate_bp,
            days_ago=days_ago,
            status=status,
            units=units,
            total=_price(product) * units,
            told_at=plan.now,
        )
        for moment, step in sale.moments():
            plan.add(
                moment,
                partial(step, session=session) if own else partial(_in_own_unit_of_work, step),
            )
    if own:
        await plan.run()


async def seed_demo_affiliate(session: AsyncSession, *, timeline: Timeline) -> None:
    """Seed the demo creator's affiliate story with the demo shop, once; its sales are
    planned on `timeline`."""
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
        await seed_affiliate_story(
            creator=creator, shop=shop, products=products, session=session, timeline=timeline
        )
