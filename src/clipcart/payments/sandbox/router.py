"""The sandbox provider's HTTP API under /sandbox/v1 (JSON, like a real processor's).

It is a separate service that happens to share the process: plain routes (no ClipCart login,
CSRF or unit-of-work route), each running its own transaction.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Header
from pydantic import BaseModel, Field

from clipcart.core.config import get_settings
from clipcart.core.db import unit_of_work
from clipcart.core.errors import BadRequest
from clipcart.core.money import Money
from clipcart.payments.sandbox import service

router = APIRouter(prefix="/sandbox/v1", tags=["sandbox provider"], include_in_schema=False)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]


class CardIn(BaseModel):
    number: str = Field(min_length=12, max_length=23)
    exp_month: int
    exp_year: int
    cvc: str = Field(min_length=3, max_length=4)


class ChargeIn(BaseModel):
    amount: int
    currency: str = Field(min_length=3, max_length=3)
    payment_method: str
    reference: str | None = None
    capture: bool = False


class CaptureIn(BaseModel):
    amount: int | None = None


class RefundIn(BaseModel):
    amount: int


def _key(value: str | None) -> str:
    if not value:
        raise BadRequest("Idempotency-Key is required.", code="idempotency_key_required")
    return value


@router.post("/payment_methods")
async def create_payment_method(card: CardIn) -> dict[str, Any]:
    """Tokenise a card."""
    async with unit_of_work() as session:
        saved = await service.save_card(
            number=card.number, exp_month=card.exp_month, exp_year=card.exp_year, session=session
        )
        return service.card_out(saved)


@router.post("/charges")
async def create_charge(data: ChargeIn, idempotency_key: IdempotencyKey) -> dict[str, Any]:
    """Authorise (capture=false) or charge a card."""
    try:
        amount = Money(data.amount, data.currency.upper())
    except ValueError as error:
        raise BadRequest(str(error), code="invalid_amount") from error
    async with unit_of_work() as session:
        result = await service.create_charge(
            amount=amount,
            payment_method=data.payment_method,
            idempotency_key=_key(idempotency_key),
            reference=data.reference,
            capture=data.capture,
            session=session,
        )
        body = await service.snapshot(result.charge, session)
    if result.lose_response:
        # Committed, webhook on its way: the answer now arrives after the client gave up.
        await asyncio.sleep(get_settings().payments_sandbox_lost_response_seconds)
    return body


@router.get("/charges")
async def list_charges(idempotency_key: str) -> dict[str, Any]:
    """Find charges by the merchant's idempotency key."""
    async with unit_of_work() as session:
        charge = await service.find_charge(idempotency_key=idempotency_key, session=session)
        data = [await service.snapshot(charge, session)] if charge else []
    return {"object": "list", "data": data}


@router.get("/charges/{charge_id}")
async def get_charge(charge_id: str) -> dict[str, Any]:
    """One charge."""
    async with unit_of_work() as session:
        return await service.snapshot(await service.get_charge(charge_id, session=session), session)


@router.post("/charges/{charge_id}/confirm")
async def confirm_charge(charge_id: str) -> dict[str, Any]:
    """Complete the extra confirmation step."""
    async with unit_of_work() as session:
        charge = await service.confirm_charge(charge_id, session=session)
        return await service.snapshot(charge, session)


@router.post("/charges/{charge_id}/capture")
async def capture_charge(charge_id: str, data: CaptureIn) -> dict[str, Any]:
    """Capture an authorisation."""
    async with unit_of_work() as session:
        charge = await service.capture_charge(charge_id, amount=data.amount, session=session)
        return await service.snapshot(charge, session)


@router.post("/charges/{charge_id}/void")
async def void_charge(charge_id: str) -> dict[str, Any]:
    """Release an authorisation."""
    async with unit_of_work() as session:
        charge = await service.void_charge(charge_id, session=session)
        return await service.snapshot(charge, session)


@router.post("/charges/{charge_id}/refunds")
async def refund_charge(
    charge_id: str, data: RefundIn, idempotency_key: IdempotencyKey
) -> dict[str, Any]:
    """Refund captured money."""
    async with unit_of_work() as session:
        charge, refund = await service.refund_charge(
            charge_id, amount=data.amount, idempotency_key=_key(idempotency_key), session=session
        )
        return {
            "refund": {"id": refund.id, "amount": refund.amount},
            "charge": await service.snapshot(charge, session),
        }
