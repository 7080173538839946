"""Collaborations: a shop opens a product to creators (open, or targeted at invited creators
with their own rates and dates), changes the rate, pauses and resumes; creators browse what is
open to them; tagging another shop's product in a video locks the rate for 30 days."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts import service as accounts
from clipcart.accounts.models import User
from clipcart.affiliate import domain
from clipcart.affiliate.models import Collaboration, Invitation, TagLock
from clipcart.affiliate.schemas import CollaborationIn, CollaborationUpdateIn
from clipcart.catalog import service as catalog
from clipcart.core import clock
from clipcart.core.errors import Forbidden, NotFound, ValidationFailed
from clipcart.shops import service as shops
from clipcart.shops.models import Shop

MANAGING_ROLES = frozenset({"owner", "manager"})


def _check_rate(rate_bp: int, field: str = "rate_bp") -> None:
    problem = domain.rate_problem(rate_bp)
    if problem:
        raise ValidationFailed.field(field, problem, code="rate_out_of_range")


async def open_collaboration(
    shop: Shop, data: CollaborationIn, *, session: AsyncSession
) -> Collaboration:
    """Open one of the shop's products to creators (422 for another shop's product, a rate
    out of range, dates the wrong way round, or a targeted one without creators)."""
    product = await catalog.get_product(data.product_id, session=session)
    if product.shop_id != shop.id:
        raise ValidationFailed.field("product_id", "Choose one of your shop's products.")
    _check_rate(data.rate_bp)
    starts_at = clock.as_utc(data.starts_at) if data.starts_at else clock.now()
    ends_at = clock.as_utc(data.ends_at) if data.ends_at else None
    if ends_at is not None and ends_at <= starts_at:
        raise ValidationFailed.field("ends_at", "The end must come after the start.")
    if data.kind == domain.TARGETED and not data.creators:
        raise ValidationFailed.field("creators", "Invite at least one creator.")
    collaboration = Collaboration(
        shop_id=shop.id,
        product_id=product.id,
        kind=data.kind,
        rate_bp=data.rate_bp,
        status=domain.ACTIVE,
        starts_at=starts_at,
        ends_at=ends_at,
        note=data.note.strip(),
    )
    session.add(collaboration)
    await session.flush()
    for invite in data.creators if data.kind == domain.TARGETED else []:
        _check_rate(invite.rate_bp or data.rate_bp, "creators")
        creator = await accounts.get_user_by_handle(invite.handle, session=session)
        session.add(
            Invitation(
                collaboration_id=collaboration.id,
                creator_id=creator.id,
                rate_bp=invite.rate_bp or data.rate_bp,
            )
        )
    await session.flush()
    return collaboration


async def get_collaboration_for_staff(
    user: User, collaboration_id: uuid.UUID, *, session: AsyncSession
) -> Collaboration:
    """A collaboration of a shop `user` manages (404 otherwise)."""
    collaboration = await session.get(Collaboration, collaboration_id)
    if collaboration is None:
        raise NotFound("There is no such collaboration.", code="collaboration_not_found")
    role = await shops.staff_role(user.id, collaboration.shop_id, session=session)
    if role is None:
        raise NotFound("There is no such collaboration.", code="collaboration_not_found")
    if role not in MANAGING_ROLES:
        raise Forbidden("Only the shop's owner or managers can change collaborations.")
    return collaboration


async def update_collaboration(
    collaboration: Collaboration, data: CollaborationUpdateIn, *, session: AsyncSession
) -> Collaboration:
    """Change the rate (new tags only: tags made before keep their locked rate), the end,
    or pause/resume."""
    if data.rate_bp is not None:
        _check_rate(data.rate_bp)
        collaboration.rate_bp = data.rate_bp
    if data.status is not None:
        collaboration.status = data.status
    if data.ends_at is not None:
        ends_at = clock.as_utc(data.ends_at)
        if ends_at <= clock.as_utc(collaboration.starts_at):
            raise ValidationFailed.field("ends_at", "The end must come after the start.")
        collaboration.ends_at = ends_at
    collaboration.updated_at = clock.now()
    await session.flush()
    return collaboration


async def list_shop_collaborations(shop: Shop, *, session: AsyncSession) -> list[Collaboration]:
    """The shop's collaborations, newest first."""
    rows = await session.scalars(
        select(Collaboration)
        .where(Collaboration.shop_id == shop.id)
        .order_by(Collaboration.created_at.desc(), Collaboration.id.desc())
    )
    return list(rows)


async def invitations_of(
    collaboration_ids: list[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, list[Invitation]]:
    """The invitations of several collaborations."""
    grouped: dict[uuid.UUID, list[Invitation]] = {cid: [] for cid in collaboration_ids}
    if collaboration_ids:
        rows = await session.scalars(
            select(Invitation).where(Invitation.collaboration_id.in_(collaboration_ids))
        )
        for row in rows:
            grouped[row.collaboration_id].append(row)
    return grouped


@dataclass(frozen=True)
class Offer:
    """A collaboration open to one creator, at the rate they would earn."""

    collaboration: Collaboration
    rate_bp: int


def _live(collaboration: Collaboration, now: datetime) -> bool:
    return domain.is_live(
        status=collaboration.status,
        starts_at=clock.as_utc(collaboration.starts_at),
        ends_at=clock.as_utc(collaboration.ends_at) if collaboration.ends_at else None,
        now=now,
    )


async def offers_for(
    creator_id: uuid.UUID,
    *,
    session: AsyncSession,
    product_ids: list[uuid.UUID] | None = None,
    now: datetime | None = None,
) -> dict[uuid.UUID, Offer]:
    """Per product, the best live collaboration open to the creator (open ones, and targeted
    ones they are invited to at their own rate)."""
    now = now or clock.now()
    statement = (
        select(Collaboration, Invitation.rate_bp)
        .outerjoin(
            Invitation,
            (Invitation.collaboration_id == Collaboration.id)
            & (Invitation.creator_id == creator_id),
        )
        .where(
            Collaboration.status == domain.ACTIVE,
            or_(Collaboration.kind == domain.OPEN, Invitation.creator_id.is_not(None)),
        )
    )
    if product_ids is not None:
        statement = statement.where(Collaboration.product_id.in_(product_ids))
    offers: dict[uuid.UUID, Offer] = {}
    for collaboration, invited_rate in (await session.execute(statement)).all():
        if not _live(collaboration, now):
            continue
        rate = invited_rate if invited_rate is not None else collaboration.rate_bp
        best = offers.get(collaboration.product_id)
        if best is None or rate > best.rate_bp:
            offers[collaboration.product_id] = Offer(collaboration, rate)
    return offers


async def offer_for(
    creator_id: uuid.UUID, product_id: uuid.UUID, *, session: AsyncSession
) -> Offer | None:
    """The best live collaboration on a product open to the creator, if any."""
    return (await offers_for(creator_id, product_ids=[product_id], session=session)).get(product_id)


async def authorise_tag(
    *, creator_id: uuid.UUID, video_id: uuid.UUID, product_id: uuid.UUID, session: AsyncSession
) -> TagLock:
    """Let a creator tag another shop's product in their video: 403 without a live
    collaboration open to them; otherwise the rate is locked on the tag for 30 days."""
    offer = await offer_for(creator_id, product_id, session=session)
    if offer is None:
        raise Forbidden(
            "Tagging another shop's product needs an active affiliate collaboration. Find "
            "products open to you in the creator center.",
            code="affiliate_collaboration_required",
            data={"product_id": str(product_id)},
        )
    now = clock.now()
    lock = await session.scalar(
        select(TagLock).where(TagLock.video_id == video_id, TagLock.product_id == product_id)
    )
    if lock is None:
        lock = TagLock(video_id=video_id, product_id=product_id, creator_id=creator_id)
        session.add(lock)
    lock.collaboration_id = offer.collaboration.id
    lock.rate_bp = offer.rate_bp
    lock.locked_until = now + domain.RATE_LOCK
    await session.flush()
    return lock


async def rate_for_sale(
    *,
    creator_id: uuid.UUID,
    product_id: uuid.UUID,
    video_id: uuid.UUID | None,
    session: AsyncSession,
) -> tuple[int, uuid.UUID] | None:
    """(rate, collaboration) a sale credited to the creator earns: a tagged video's locked
    rate while the lock lasts, else the best live collaboration open to them; None: nothing."""
    now = clock.now()
    offer = await offer_for(creator_id, product_id, session=session)
    if video_id is not None:
        lock = await session.scalar(
            select(TagLock).where(
                TagLock.video_id == video_id,
                TagLock.product_id == product_id,
                TagLock.creator_id == creator_id,
            )
        )
        if lock is not None:
            rate = domain.lock_rate(
                locked_rate_bp=lock.rate_bp,
                locked_until=clock.as_utc(lock.locked_until),
                current_rate_bp=offer.rate_bp if offer else None,
                now=now,
            )
            if rate is not None:
                locked = now < clock.as_utc(lock.locked_until)
                return rate, lock.collaboration_id if locked or offer is None else (
                    offer.collaboration.id
                )
    if offer is None:
        return None
    return offer.rate_bp, offer.collaboration.id
