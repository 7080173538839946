"""The sandbox processor's behaviour, driven by test card numbers.

4242424242424242 succeeds; 4000000000009995 is declined (insufficient_funds); 4000000000009979
is declined (stolen_card); 4000002500003155 needs a confirmation step first; 4000000000000119
charges but the answer is lost (the router sits on it past the client's timeout). Every change
emits a webhook event, delivered by a job after commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core import clock, events
from clipcart.core.errors import BadRequest, Conflict, NotFound
from clipcart.core.money import Money
from clipcart.payments.sandbox.models import SandboxCard, SandboxCharge, SandboxEvent, SandboxRefund

CARD_SUCCESS = "4242424242424242"
CARD_INSUFFICIENT_FUNDS = "4000000000009995"
CARD_STOLEN = "4000000000009979"
CARD_REQUIRES_ACTION = "4000002500003155"
CARD_LOST_RESPONSE = "4000000000000119"

DECLINES = {
    CARD_INSUFFICIENT_FUNDS: ("insufficient_funds", "The card has insufficient funds."),
    CARD_STOLEN: ("stolen_card", "The card was reported stolen."),
}


def _new(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def brand_of(number: str) -> str:
    """The card network, from the number's prefix."""
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or number[:2] == "22":
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    return "unknown"


def _luhn_ok(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_out(card: SandboxCard) -> dict[str, Any]:
    """A card as the API shows it: never the number."""
    return {
        "id": card.token,
        "object": "payment_method",
        "brand": card.brand,
        "last4": card.number[-4:],
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
    }


def charge_out(charge: SandboxCharge, refunds: list[SandboxRefund]) -> dict[str, Any]:
    """A charge as the API and webhooks show it."""
    return {
        "id": charge.id,
        "object": "charge",
        "status": charge.status,
        "amount": charge.amount,
        "currency": charge.currency,
        "amount_captured": charge.amount_captured,
        "amount_refunded": charge.amount_refunded,
        "refunds": [
            {"id": refund.id, "amount": refund.amount, "idempotency_key": refund.idempotency_key}
            for refund in refunds
        ],
        "failure_code": charge.failure_code,
        "failure_message": charge.failure_message,
        "reference": charge.reference,
        "idempotency_key": charge.idempotency_key,
        "sequence": charge.sequence,
        "payment_method": charge.card_token,
    }


async def save_card(
    *, number: str, exp_month: int, exp_year: int, session: AsyncSession
) -> SandboxCard:
    """Tokenise a test card."""
    number = number.replace(" ", "")
    if not (number.isdigit() and 12 <= len(number) <= 19 and _luhn_ok(number)):
        raise BadRequest("That is not a valid card number.", code="invalid_number")
    today = clock.now()
    if not 1 <= exp_month <= 12 or (exp_year, exp_month) < (today.year, today.month):
        raise BadRequest("The card has expired.", code="expired_card")
    card = SandboxCard(
        token=_new("pm"),
        number=number,
        brand=brand_of(number),
        exp_month=exp_month,
        exp_year=exp_year,
    )
    session.add(card)
    await session.flush()
    return card


async def _refunds(charge: SandboxCharge, session: AsyncSession) -> list[SandboxRefund]:
    if not charge.amount_refunded:
        # Refunds are only made by refund_charge, which adds each to amount_refunded (above
        # zero): none yet, nothing to read (every authorisation and capture shows its refunds).
        return []
    rows = await session.scalars(
        select(SandboxRefund)
        .where(SandboxRefund.charge_id == charge.id)
        .order_by(SandboxRefund.created_at, SandboxRefund.id)
    )
    return list(rows)


async def snapshot(charge: SandboxCharge, session: AsyncSession) -> dict[str, Any]:
    """The charge's JSON with its refunds."""
    return charge_out(charge, await _refunds(charge, session))


async def _emit(event_type: str, charge: SandboxCharge, session: AsyncSession) -> None:
    charge.sequence += 1
    await session.flush()
    event_id = _new("evt")
    payload = {
        "id": event_id,
        "type": event_type,
        "created": int(clock.now().timestamp()),
        "data": {"object": await snapshot(charge, session)},
    }
    session.add(SandboxEvent(id=event_id, type=event_type, payload=payload))
    await session.flush()

    def schedule() -> None:
        from clipcart.payments.sandbox.tasks import schedule_delivery

        schedule_delivery(event_id)

    events.after_commit(session, schedule)


@dataclass
class ChargeResult:
    """A charge, and whether the sandbox should lose its answer."""

    charge: SandboxCharge
    lose_response: bool = False


async def create_charge(
    *,
    amount: Money,
    payment_method: str,
    idempotency_key: str,
    reference: str | None,
    capture: bool,
    session: AsyncSession,
) -> ChargeResult:
    """Authorise (and optionally capture) a charge; the same idempotency key replays it."""
    existing = await find_charge(idempotency_key=idempotency_key, session=session)
    if existing is not None:
        if (existing.amount, existing.currency, existing.card_token) != (
            amount.amount,
            amount.currency,
            payment_method,
        ):
            raise Conflict("Idempotency key reused with other parameters.", code="idempotency")
        return ChargeResult(existing)
    if amount.amount <= 0:
        raise BadRequest("Amount must be positive.", code="invalid_amount")
    card = await session.get(SandboxCard, payment_method)
    if card is None:
        raise NotFound("No such payment method.", code="no_such_payment_method")
    charge = SandboxCharge(
        id=_new("ch"),
        idempotency_key=idempotency_key,
        card_token=card.token,
        amount=amount.amount,
        currency=amount.currency,
        status="authorised",
        amount_captured=0,
        amount_refunded=0,
        reference=reference,
        sequence=0,
    )
    session.add(charge)
    if card.number in DECLINES:
        charge.failure_code, charge.failure_message = DECLINES[card.number]
        charge.status = "failed"
        await _emit("charge.failed", charge, session)
        return ChargeResult(charge)
    if card.number == CARD_REQUIRES_ACTION:
        charge.status = "requires_action"
        await _emit("charge.requires_action", charge, session)
        return ChargeResult(charge)
    await _authorised(charge, capture=capture, session=session)
    return ChargeResult(charge, lose_response=card.number == CARD_LOST_RESPONSE)


async def _authorised(charge: SandboxCharge, *, capture: bool, session: AsyncSession) -> None:
    charge.status = "authorised"
    await _emit("charge.authorised", charge, session)
    if capture:
        charge.status = "captured"
        charge.amount_captured = charge.amount
        await _emit("charge.captured", charge, session)


# Built once (every charge and capture reads one; building a statement costs about as much as
# running it): a charge by the key bound as `key`, and one by the id bound as `charge_id`,
# locked.
_CHARGE_BY_KEY = select(SandboxCharge).where(SandboxCharge.idempotency_key == bindparam("key"))
_LOCKED_CHARGE = (
    select(SandboxCharge).where(SandboxCharge.id == bindparam("charge_id")).with_for_update()
)


async def find_charge(*, idempotency_key: str, session: AsyncSession) -> SandboxCharge | None:
    """The charge created with `idempotency_key`."""
    charge: SandboxCharge | None = await session.scalar(_CHARGE_BY_KEY, {"key": idempotency_key})
    return charge


async def get_charge(charge_id: str, *, session: AsyncSession) -> SandboxCharge:
    """A charge, locked for update; 404 when unknown."""
    charge = await session.scalar(_LOCKED_CHARGE, {"charge_id": charge_id})
    if charge is None:
        raise NotFound("No such charge.", code="no_such_charge")
    return charge


def _state_error(charge: SandboxCharge, action: str) -> Conflict:
    return Conflict(f"A {charge.status} charge cannot be {action}.", code="charge_state")


async def confirm_charge(charge_id: str, *, session: AsyncSession) -> SandboxCharge:
    """The customer completed the extra step: the charge is authorised."""
    charge = await get_charge(charge_id, session=session)
    if charge.status == "requires_action":
        await _authorised(charge, capture=False, session=session)
    elif charge.status != "authorised":
        raise _state_error(charge, "confirmed")
    return charge


async def capture_charge(
    charge_id: str, *, amount: int | None, session: AsyncSession
) -> SandboxCharge:
    """Capture an authorisation (all of it, or less); capturing again changes nothing."""
    charge = await get_charge(charge_id, session=session)
    if charge.status in {"captured", "partially_refunded", "refunded"}:
        return charge
    if charge.status != "authorised":
        raise _state_error(charge, "captured")
    amount = charge.amount if amount is None else amount
    if not 0 < amount <= charge.amount:
        raise BadRequest("Capture at most the authorised amount.", code="invalid_amount")
    charge.status = "captured"
    charge.amount_captured = amount
    await _emit("charge.captured", charge, session)
    return charge


async def void_charge(charge_id: str, *, session: AsyncSession) -> SandboxCharge:
    """Release an authorisation."""
    charge = await get_charge(charge_id, session=session)
    if charge.status in {"cancelled"}:
        return charge
    if charge.status not in {"authorised", "requires_action"}:
        raise _state_error(charge, "voided")
    charge.status = "cancelled"
    await _emit("charge.voided", charge, session)
    return charge


async def refund_charge(
    charge_id: str, *, amount: int, idempotency_key: str, session: AsyncSession
) -> tuple[SandboxCharge, SandboxRefund]:
    """Refund captured money; the same idempotency key replays the refund."""
    charge = await get_charge(charge_id, session=session)
    existing = await session.scalar(
        select(SandboxRefund).where(SandboxRefund.idempotency_key == idempotency_key)
    )
    if existing is not None:
        if existing.amount != amount or existing.charge_id != charge_id:
            raise Conflict("Idempotency key reused with other parameters.", code="idempotency")
        return charge, existing
    if charge.status not in {"captured", "partially_refunded"}:
        raise _state_error(charge, "refunded")
    if not 0 < amount <= charge.amount_captured - charge.amount_refunded:
        raise BadRequest("Refund at most what is left.", code="invalid_amount")
    refund = SandboxRefund(
        id=_new("re"), charge_id=charge.id, idempotency_key=idempotency_key, amount=amount
    )
    session.add(refund)
    charge.amount_refunded += amount
    charge.status = (
        "refunded" if charge.amount_refunded == charge.amount_captured else "partially_refunded"
    )
    await _emit("charge.refunded", charge, session)
    return charge, refund
