"""Affiliate API under /api/v1/affiliate: shops open collaborations and answer sample
requests; creators browse offers, keep a showcase, ask for samples and see commissions."""

# No `from __future__ import annotations`: FastAPI reads the annotations itself.
import uuid
from typing import Annotated

from fastapi import Query, status

from clipcart.accounts.dependencies import CurrentUser
from clipcart.affiliate import browse, domain, samples, service
from clipcart.affiliate.models import Collaboration, Invitation
from clipcart.affiliate.schemas import (
    CollaborationIn,
    CollaborationOut,
    CollaborationUpdateIn,
    CommissionOut,
    InvitationOut,
    OfferOut,
    SampleDecisionIn,
    SampleIn,
    SampleOut,
    ShowcaseIn,
)
from clipcart.core import clock
from clipcart.core.routing import DbSession, make_router
from clipcart.shops import service as shops

router = make_router(prefix="/api/v1/affiliate", tags=["affiliate"])

MANAGING_ROLES = frozenset({"owner", "manager"})


def collaboration_out(
    collaboration: Collaboration, invitations: list[InvitationOut] | None = None
) -> CollaborationOut:
    """A collaboration for the API."""
    return CollaborationOut(
        id=collaboration.id,
        shop_id=collaboration.shop_id,
        product_id=collaboration.product_id,
        kind=collaboration.kind,
        rate_bp=collaboration.rate_bp,
        rate=domain.rate_label(collaboration.rate_bp),
        status=collaboration.status,
        live=domain.is_live(
            status=collaboration.status,
            starts_at=clock.as_utc(collaboration.starts_at),
            ends_at=clock.as_utc(collaboration.ends_at) if collaboration.ends_at else None,
            now=clock.now(),
        ),
        starts_at=collaboration.starts_at,
        ends_at=collaboration.ends_at,
        invitations=invitations or [],
    )


def _invitations(rows: list[Invitation]) -> list[InvitationOut]:
    return [InvitationOut(creator_id=row.creator_id, rate_bp=row.rate_bp) for row in rows]


@router.post(
    "/shops/{handle}/collaborations",
    status_code=status.HTTP_201_CREATED,
    summary="Open a product to creators",
)
async def open_collaboration(
    handle: str, data: CollaborationIn, user: CurrentUser, db: DbSession
) -> CollaborationOut:
    """Open one of the shop's products to all creators or to invited ones, at a rate."""
    shop = await shops.get_shop_for_staff(user, handle, session=db, roles=MANAGING_ROLES)
    collaboration = await service.open_collaboration(shop, data, session=db)
    invitations = (await service.invitations_of([collaboration.id], session=db))[collaboration.id]
    return collaboration_out(
        collaboration,
        [InvitationOut(creator_id=i.creator_id, rate_bp=i.rate_bp) for i in invitations],
    )


@router.get("/shops/{handle}/collaborations", summary="The shop's collaborations")
async def list_collaborations(
    handle: str, user: CurrentUser, db: DbSession
) -> list[CollaborationOut]:
    """Every collaboration of the shop, newest first, with its invitations."""
    shop = await shops.get_shop_for_staff(user, handle, session=db)
    rows = await service.list_shop_collaborations(shop, session=db)
    invitations = await service.invitations_of([row.id for row in rows], session=db)
    return [
        collaboration_out(
            row,
            [
                InvitationOut(creator_id=i.creator_id, rate_bp=i.rate_bp)
                for i in invitations[row.id]
            ],
        )
        for row in rows
    ]


@router.patch("/collaborations/{collaboration_id}", summary="Change or pause a collaboration")
async def update_collaboration(
    collaboration_id: uuid.UUID, data: CollaborationUpdateIn, user: CurrentUser, db: DbSession
) -> CollaborationOut:
    """A new rate (tags made before keep their locked rate), pause or resume, a new end."""
    collaboration = await service.get_collaboration_for_staff(user, collaboration_id, session=db)
    return collaboration_out(await service.update_collaboration(collaboration, data, session=db))


@router.get("/shops/{handle}/commissions", summary="Creators selling the shop's products")
async def shop_commissions(handle: str, user: CurrentUser, db: DbSession) -> list[CommissionOut]:
    """Commissions on the shop's products, newest first, with their evidence."""
    shop = await shops.get_shop_for_staff(user, handle, session=db)
    rows = await service.list_commissions(shop_id=shop.id, session=db)
    return [service.commission_out(row) for row in rows]


@router.get("/offers", summary="Products open to me")
async def offers(
    user: CurrentUser,
    db: DbSession,
    category_id: int | None = None,
    min_rate_bp: Annotated[int | None, Query(ge=0)] = None,
    min_price: Annotated[int | None, Query(ge=0)] = None,
    max_price: Annotated[int | None, Query(ge=0)] = None,
    shop_id: uuid.UUID | None = None,
    min_shop_score: Annotated[
        int | None, Query(ge=0, le=100, description="The shop's fulfilment score, in percent")
    ] = None,
    min_sales: Annotated[int | None, Query(ge=0)] = None,
    sort: str = "commission",
) -> list[OfferOut]:
    """Active products open to the current creator, with the rate they would earn."""
    filters = browse.OfferFilters(
        category_id=category_id,
        min_rate_bp=min_rate_bp,
        min_price=min_price,
        max_price=max_price,
        shop_id=shop_id,
        min_shop_score=min_shop_score,
        min_sales=min_sales,
        sort=sort,
    )
    return await browse.browse_offers(user.id, filters, session=db)


@router.get("/me/commissions", summary="My commissions")
async def my_commissions(user: CurrentUser, db: DbSession) -> list[CommissionOut]:
    """The current creator's commissions, newest first, with their evidence."""
    rows = await service.list_commissions(creator_id=user.id, session=db)
    return [service.commission_out(row) for row in rows]


@router.post("/me/showcase", status_code=status.HTTP_204_NO_CONTENT, summary="Showcase a product")
async def add_to_showcase(data: ShowcaseIn, user: CurrentUser, db: DbSession) -> None:
    """Add a product open to me to my profile's showcase."""
    await browse.add_to_showcase(user.id, data.product_id, session=db)


@router.delete(
    "/me/showcase/{product_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Take a product off my showcase",
)
async def remove_from_showcase(product_id: uuid.UUID, user: CurrentUser, db: DbSession) -> None:
    """Remove a product from my showcase."""
    await browse.remove_from_showcase(user.id, product_id, session=db)


@router.post("/samples", status_code=status.HTTP_201_CREATED, summary="Ask for a free sample")
async def request_sample(data: SampleIn, user: CurrentUser, db: DbSession) -> SampleOut:
    """Ask the shop for a free sample of a product open to me."""
    return samples.sample_out(await samples.request_sample(user.id, data, session=db))


@router.get("/me/samples", summary="My sample requests")
async def my_samples(user: CurrentUser, db: DbSession) -> list[SampleOut]:
    """My sample requests with their deadlines."""
    rows = await samples.list_samples(creator_id=user.id, session=db)
    return [samples.sample_out(row) for row in rows]


@router.get("/shops/{handle}/samples", summary="Sample requests to the shop")
async def shop_samples(handle: str, user: CurrentUser, db: DbSession) -> list[SampleOut]:
    """Sample requests to the shop, newest first."""
    shop = await shops.get_shop_for_staff(user, handle, session=db)
    return [samples.sample_out(row) for row in await samples.list_samples(shop=shop, session=db)]


@router.post("/samples/{sample_id}/decision", summary="Approve or decline a sample")
async def decide_sample(
    sample_id: uuid.UUID, data: SampleDecisionIn, user: CurrentUser, db: DbSession
) -> SampleOut:
    """Approve (the creator must post within 14 days) or decline a requested sample."""
    sample = await samples.get_sample_for_shop_staff(user.id, sample_id, session=db)
    return samples.sample_out(await samples.decide_sample(sample, approve=data.approve, session=db))
