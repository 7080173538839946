"""Money API under /api/v1/ledger: balances, statements, payouts and the automatic payout
setting, for the current user as a creator (`/me`) and for shops they run (`/shops/{handle}`)."""

# No `from __future__ import annotations`: FastAPI must see the local PayeeOf alias itself.
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.dependencies import CurrentUser
from clipcart.core import idempotency
from clipcart.core.pagination import Page
from clipcart.core.routing import DbSession, make_router
from clipcart.ledger import service
from clipcart.ledger.domain import Owner
from clipcart.ledger.schemas import (
    PayeeBalanceOut,
    PayoutIn,
    PayoutOut,
    PayoutScheduleIn,
    PayoutScheduleOut,
    StatementEntryOut,
)
from clipcart.shops import service as shops

router = make_router(prefix="/api/v1/ledger", tags=["ledger"])

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
MONEY_ROLES = frozenset({"owner", "manager"})
"""Shop staff who may see the shop's money and pay it out."""
DEFAULT_CURRENCY = "USD"


@dataclass(frozen=True)
class Payee:
    """Whose money a request is about, who asks, and the currency to show by default."""

    owner: Owner
    user_id: uuid.UUID
    default_currency: str | None


async def creator_payee(user: CurrentUser) -> Payee:
    """The current user, as a creator earning commissions."""
    return Payee(Owner.creator(user.id), user.id, None)


async def seller_payee(handle: str, user: CurrentUser, db: DbSession) -> Payee:
    """A shop the current user owns or manages (404 to outsiders, 403 to other staff)."""
    shop = await shops.get_shop_for_staff(user, handle, session=db, roles=MONEY_ROLES)
    return Payee(Owner.shop(shop.id), user.id, shop.currency)


async def _currency(payee: Payee, currency: str | None, db: AsyncSession) -> str:
    if currency:
        return service.payee_money(0, currency).currency
    if payee.default_currency:
        return payee.default_currency
    balances = await service.list_payee_balances(payee.owner, session=db)
    return balances[0].currency if balances else DEFAULT_CURRENCY


def _add_payee_routes(
    target: APIRouter, prefix: str, resolve: Callable[..., Awaitable[Payee]], who: str
) -> None:
    PayeeOf = Annotated[Payee, Depends(resolve)]

    @target.get(f"{prefix}/balances", summary=f"Balances ({who})")
    async def balances(payee: PayeeOf, db: DbSession) -> list[PayeeBalanceOut]:
        """Pending, available and in-transit money per currency (minor units)."""
        return await service.list_payee_balances(payee.owner, session=db)

    @target.get(f"{prefix}/statement", summary=f"Statement ({who})")
    async def statement(
        payee: PayeeOf,
        db: DbSession,
        currency: str | None = None,
        cursor: str | None = None,
        limit: Annotated[int | None, Query(ge=1, le=100)] = None,
    ) -> Page[StatementEntryOut]:
        """Every transfer that touched the balance, newest first (cursor pagination)."""
        chosen = await _currency(payee, currency, db)
        return await service.get_payee_statement(
            payee.owner, chosen, cursor=cursor, limit=limit, session=db
        )

    @target.get(f"{prefix}/payouts", summary=f"Payouts ({who})")
    async def payouts(
        payee: PayeeOf,
        db: DbSession,
        cursor: str | None = None,
        limit: Annotated[int | None, Query(ge=1, le=100)] = None,
    ) -> Page[PayoutOut]:
        """Payouts, newest first, with their status."""
        return await service.list_payouts(payee.owner, cursor=cursor, limit=limit, session=db)

    @target.post(
        f"{prefix}/payouts",
        status_code=status.HTTP_201_CREATED,
        response_model=PayoutOut,
        summary=f"Request a payout ({who})",
    )
    async def request_payout(
        data: PayoutIn,
        request: Request,
        payee: PayeeOf,
        db: DbSession,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        """Pay out available money (Idempotency-Key required): 422 below the minimum, 409
        above the available balance."""
        amount = service.payee_money(data.amount, data.currency)
        key = idempotency.check_key(idempotency_key)

        async def work() -> PayoutOut:
            payout = await service.create_payout(
                payee=payee.owner,
                amount=amount,
                destination=data.destination,
                requested_by=payee.user_id,
                session=db,
            )
            return PayoutOut.model_validate(payout)

        return await idempotency.run_idempotent(
            owner_id=payee.user_id,
            key=key,
            request_hash=idempotency.fingerprint("POST", request.url.path, data),
            status_code=status.HTTP_201_CREATED,
            work=work,
            session=db,
        )

    @target.get(f"{prefix}/payout-schedule", summary=f"Automatic payouts ({who})")
    async def payout_schedule(
        payee: PayeeOf, db: DbSession, currency: str | None = None
    ) -> PayoutScheduleOut:
        """The automatic payout setting (off, daily or weekly above a minimum)."""
        chosen = await _currency(payee, currency, db)
        return await service.get_payout_schedule(payee.owner, chosen, session=db)

    @target.put(f"{prefix}/payout-schedule", summary=f"Set automatic payouts ({who})")
    async def set_payout_schedule(
        data: PayoutScheduleIn, payee: PayeeOf, db: DbSession
    ) -> PayoutScheduleOut:
        """Turn automatic payouts off, or on daily/weekly above a minimum (minor units)."""
        return await service.set_payout_schedule(payee.owner, data, session=db)


_add_payee_routes(router, "/me", creator_payee, "creator")
_add_payee_routes(router, "/shops/{handle}", seller_payee, "seller")
