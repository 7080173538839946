"""Free samples: a creator asks for one of a product open to them; the shop approves or
declines; an approved sample obliges a video with the product within 14 days (tagging it
fulfils the sample); a job records missed deadlines."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.affiliate import domain
from clipcart.affiliate.collaborations import offers_for
from clipcart.affiliate.models import SampleRequest
from clipcart.affiliate.schemas import SampleIn, SampleOut
from clipcart.core import clock
from clipcart.core.errors import Conflict, NotFound, ValidationFailed
from clipcart.shops import service as shops
from clipcart.shops.models import Shop


def sample_out(sample: SampleRequest) -> SampleOut:
    """A sample request for the API and pages."""
    return SampleOut.model_validate(sample, from_attributes=True)


async def request_sample(
    creator_id: uuid.UUID, data: SampleIn, *, session: AsyncSession
) -> SampleRequest:
    """Ask for a free sample of a product open to the creator (422 otherwise; 409 while
    another request for it is open)."""
    offers = await offers_for(creator_id, product_ids=[data.product_id], session=session)
    offer = offers.get(data.product_id)
    if offer is None:
        raise ValidationFailed.field(
            "product_id", "Ask for samples of products open to you through a collaboration."
        )
    open_one = await session.scalar(
        select(SampleRequest.id).where(
            SampleRequest.creator_id == creator_id,
            SampleRequest.product_id == data.product_id,
            SampleRequest.status.in_([domain.REQUESTED, domain.APPROVED]),
        )
    )
    if open_one is not None:
        raise Conflict("You already asked for this sample.", code="sample_already_requested")
    sample = SampleRequest(
        shop_id=offer.collaboration.shop_id,
        product_id=data.product_id,
        creator_id=creator_id,
        status=domain.REQUESTED,
        message=data.message.strip(),
    )
    session.add(sample)
    await session.flush()
    return sample


async def get_sample_for_shop_staff(
    user_id: uuid.UUID, sample_id: uuid.UUID, *, session: AsyncSession
) -> SampleRequest:
    """A sample request to a shop the user works for (404 otherwise)."""
    sample = await session.get(SampleRequest, sample_id, with_for_update=True)
    if sample is None or not await shops.is_shop_staff(user_id, sample.shop_id, session=session):
        raise NotFound("There is no such sample request.", code="sample_not_found")
    return sample


async def decide_sample(
    sample: SampleRequest, *, approve: bool, session: AsyncSession
) -> SampleRequest:
    """Approve (the creator then has 14 days to post) or decline a requested sample."""
    if sample.status != domain.REQUESTED:
        raise Conflict(f"This sample is {sample.status}.", code="sample_wrong_state")
    now = clock.now()
    sample.decided_at = now
    if approve:
        sample.status, sample.due_at = domain.APPROVED, domain.sample_due(now)
    else:
        sample.status = domain.DECLINED
    await session.flush()
    return sample


async def fulfil_samples(
    *, creator_id: uuid.UUID, product_id: uuid.UUID, video_id: uuid.UUID, session: AsyncSession
) -> int:
    """The creator posted a video with the product: approved samples of it are fulfilled."""
    rows = await session.scalars(
        select(SampleRequest).where(
            SampleRequest.creator_id == creator_id,
            SampleRequest.product_id == product_id,
            SampleRequest.status == domain.APPROVED,
        )
    )
    count = 0
    for sample in rows:
        sample.status, sample.fulfilled_at = domain.FULFILLED, clock.now()
        sample.fulfilled_video_id = video_id
        count += 1
    await session.flush()
    return count


async def record_missed_samples(*, session: AsyncSession, limit: int = 500) -> int:
    """Approved samples whose deadline passed without a post are recorded as missed."""
    now = clock.now()
    rows = await session.scalars(
        select(SampleRequest)
        .where(SampleRequest.status == domain.APPROVED, SampleRequest.due_at <= now)
        .order_by(SampleRequest.due_at)
        .limit(limit)
        .with_for_update()
    )
    count = 0
    for sample in rows:
        due = clock.as_utc(sample.due_at) if sample.due_at else None
        if domain.sample_missed(status=sample.status, due_at=due, now=now):
            sample.status, sample.missed_at = domain.MISSED, now
            count += 1
    await session.flush()
    return count


async def list_samples(
    *, session: AsyncSession, creator_id: uuid.UUID | None = None, shop: Shop | None = None
) -> list[SampleRequest]:
    """A creator's or a shop's sample requests, newest first."""
    statement = select(SampleRequest).order_by(SampleRequest.created_at.desc())
    if creator_id is not None:
        statement = statement.where(SampleRequest.creator_id == creator_id)
    if shop is not None:
        statement = statement.where(SampleRequest.shop_id == shop.id)
    return list(await session.scalars(statement.limit(200)))
