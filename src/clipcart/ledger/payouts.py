"""Payouts: a seller's or creator's available money -> payouts in transit -> out of the provider.

A request is refused above the available balance (the debit is guarded by the conditional
UPDATE even though seller and creator balances may otherwise go negative) or below the
configured minimum. Completing and failing a payout share one idempotency key, so a payout
has exactly one outcome; a failure reverses the request, returning the money.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core import clock, events
from clipcart.core.errors import NotFound, ValidationFailed
from clipcart.core.money import Money
from clipcart.core.pagination import Page, paginate
from clipcart.ledger.accounts import (
    balance_of,
    find_account,
    get_or_create_account,
    get_or_create_accounts,
)
from clipcart.ledger.config import get_ledger_settings
from clipcart.ledger.domain import (
    AccountKey,
    AccountKind,
    Balance,
    Owner,
    OwnerType,
    Side,
    TransferKind,
    minimum_payout,
    payee_balance_kind,
    simple_transfer,
)
from clipcart.ledger.errors import InsufficientFunds, InvalidTransfer, WrongState
from clipcart.ledger.models import LedgerPayout, LedgerPayoutSchedule
from clipcart.ledger.payout_provider import (
    SANDBOX_BANK_OK,
    ProviderPayout,
    ProviderStatus,
    check_destination,
    get_payout_provider,
)
from clipcart.ledger.posting import (
    find_transfer_by_key,
    post_transfer,
    reverse_transfer,
)
from clipcart.ledger.schemas import PayoutOut, PayoutScheduleIn, PayoutScheduleOut, TransferOut


def _request_key(payout_ref: str) -> str:
    return f"payout:{payout_ref}:request"


def _outcome_key(payout_ref: str) -> str:
    return f"payout:{payout_ref}:outcome"


async def request_payout(
    *,
    payee: Owner,
    amount: Money,
    payout_ref: str,
    minimum: Decimal | None = None,
    session: AsyncSession,
) -> TransferOut:
    """Move `amount` of a payee's available balance to payouts in transit."""
    floor = minimum_payout(
        get_ledger_settings().payout_minimum if minimum is None else minimum, amount.currency
    )
    if amount < floor:
        raise InvalidTransfer(f"The smallest payout is {floor}.", data={"minimum": floor.amount})
    balance_key = AccountKey(payee_balance_kind(payee), payee, amount.currency)
    transit_key = AccountKey(AccountKind.PAYOUTS_IN_TRANSIT, payee, amount.currency)
    accounts = await get_or_create_accounts([balance_key, transit_key], session=session)
    balance = accounts[balance_key].id
    return await post_transfer(
        simple_transfer(
            _request_key(payout_ref),
            TransferKind.PAYOUT_REQUESTED,
            debit=balance,
            credit=accounts[transit_key].id,
            amount=amount,
            memo="Payout requested",
            reference=payout_ref,
            guarded=frozenset({balance}),
        ),
        session=session,
    )


async def _request(payout_ref: str, session: AsyncSession) -> TransferOut:
    request = await find_transfer_by_key(_request_key(payout_ref), session=session)
    if request is None:
        raise NotFound("That payout does not exist.", data={"payout_ref": payout_ref})
    return request


async def _outcome(
    payout_ref: str, kind: TransferKind, session: AsyncSession
) -> TransferOut | None:
    outcome = await find_transfer_by_key(_outcome_key(payout_ref), session=session)
    if outcome is not None and outcome.kind != kind.value:
        verb = "completed" if outcome.kind == TransferKind.PAYOUT_COMPLETED.value else "failed"
        raise WrongState(f"That payout already {verb}.")
    return outcome


async def complete_payout(*, payout_ref: str, session: AsyncSession) -> TransferOut:
    """The money reached the payee: payouts in transit -> out of provider clearing."""
    request = await _request(payout_ref, session)
    outcome = await _outcome(payout_ref, TransferKind.PAYOUT_COMPLETED, session)
    if outcome is not None:
        return outcome
    transit = next(leg.account_id for leg in request.legs if leg.side is Side.CREDIT)
    clearing = await get_or_create_account(
        AccountKey(AccountKind.PROVIDER_CLEARING, Owner.platform(), request.currency),
        session=session,
    )
    return await post_transfer(
        simple_transfer(
            _outcome_key(payout_ref),
            TransferKind.PAYOUT_COMPLETED,
            debit=transit,
            credit=clearing.id,
            amount=request.amount,
            memo="Payout completed",
            reference=payout_ref,
        ),
        session=session,
    )


async def fail_payout(*, payout_ref: str, reason: str = "", session: AsyncSession) -> TransferOut:
    """The payout bounced: reverse the request so the money is available again."""
    request = await _request(payout_ref, session)
    outcome = await _outcome(payout_ref, TransferKind.PAYOUT_FAILED, session)
    if outcome is not None:
        return outcome
    return await reverse_transfer(
        request.id,
        idempotency_key=_outcome_key(payout_ref),
        kind=TransferKind.PAYOUT_FAILED,
        memo=f"Payout failed: {reason}" if reason else "Payout failed",
        session=session,
    )


# --- payouts as payees see them: requests, the provider, automatic payouts ------------------

PAYEE_PAYOUT_STATUSES_OPEN = ("requested", "in_transit")


def _owner_of(payout: LedgerPayout) -> Owner:
    return Owner(OwnerType(payout.owner_type), payout.owner_id)


def payout_out(payout: LedgerPayout) -> PayoutOut:
    """A payout as handed to callers."""
    return PayoutOut.model_validate(payout)


def minimum_payout_for(currency: str) -> Money:
    """The smallest payout in `currency`, from the ledger settings."""
    return minimum_payout(get_ledger_settings().payout_minimum, currency)


def payee_money(amount: int, currency: str) -> Money:
    """Minor units of a currency given by a client; 422 for an unknown currency."""
    try:
        return Money(amount, currency.strip().upper())
    except ValueError as error:
        raise ValidationFailed.field("currency", "Use an ISO 4217 currency code.") from error


async def get_payee_balance(payee: Owner, currency: str, *, session: AsyncSession) -> Balance:
    """The payee's balance in `currency` (zero when nothing was ever earned)."""
    account = await find_account(
        AccountKey(payee_balance_kind(payee), payee, currency), session=session
    )
    if account is None:
        return Balance(currency, Side.CREDIT, 0, 0, 0, 0)
    await session.refresh(account)
    return balance_of(account)


async def _default_destination(payee: Owner, currency: str, session: AsyncSession) -> str:
    schedule = await session.get(LedgerPayoutSchedule, (payee.type.value, payee.id, currency))
    return schedule.destination if schedule is not None else SANDBOX_BANK_OK


def _schedule_processing(payout_id: uuid.UUID) -> None:
    from clipcart.ledger.tasks import schedule_payout_check

    schedule_payout_check(payout_id)


async def create_payout(
    *,
    payee: Owner,
    amount: Money,
    destination: str | None = None,
    requested_by: uuid.UUID | None = None,
    schedule_period: str | None = None,
    session: AsyncSession,
) -> LedgerPayout:
    """Ask for a payout: available balance -> in transit now, the provider after commit.

    422 below the minimum, 409 above the available balance (checked again by the ledger's
    conditional UPDATE, so concurrent requests can never overdraw)."""
    target = check_destination(
        destination or await _default_destination(payee, amount.currency, session)
    )
    floor = minimum_payout(get_ledger_settings().payout_minimum, amount.currency)
    if amount < floor:
        raise InvalidTransfer(
            f"The smallest payout is {floor.format()}.",
            code="payout_below_minimum",
            data={"minimum": floor.amount, "field": "amount"},
        )
    available = (await get_payee_balance(payee, amount.currency, session=session)).available
    if amount > available:
        raise InsufficientFunds(
            f"You can pay out at most {max(available, Money.zero(amount.currency)).format()} now.",
            data={"available": available.amount, "field": "amount"},
        )
    payout = LedgerPayout(
        owner_type=payee.type.value,
        owner_id=payee.id,
        currency=amount.currency,
        amount=amount.amount,
        status="requested",
        destination=target,
        provider=get_payout_provider().name,
        failure_reason="",
        requested_by=requested_by,
        schedule_period=schedule_period,
        updated_at=clock.now(),
    )
    session.add(payout)
    await session.flush()
    await request_payout(payee=payee, amount=amount, payout_ref=str(payout.id), session=session)
    payout_id = payout.id
    events.after_commit(session, lambda: _schedule_processing(payout_id))
    return payout


async def list_payouts(
    payee: Owner, *, cursor: str | None = None, limit: int | None = None, session: AsyncSession
) -> Page[PayoutOut]:
    """The payee's payouts, newest first."""
    statement = select(LedgerPayout).where(
        LedgerPayout.owner_type == payee.type.value, LedgerPayout.owner_id == payee.id
    )
    rows, next_cursor = await paginate(
        session, statement, order_by=[LedgerPayout.id], cursor=cursor, limit=limit
    )
    return Page[PayoutOut](items=[payout_out(row) for row in rows], next_cursor=next_cursor)


async def _settle(payout: LedgerPayout, answer: ProviderPayout, session: AsyncSession) -> None:
    if answer.status is ProviderStatus.PAID:
        await complete_payout(payout_ref=str(payout.id), session=session)
        payout.status = "paid"
    elif answer.status is ProviderStatus.FAILED:
        reason = answer.failure_reason or "The provider could not pay this out."
        await fail_payout(payout_ref=str(payout.id), reason=reason, session=session)
        payout.status = "failed"
        payout.failure_reason = reason[:300]
    else:
        return
    payout.settled_at = clock.now()
    payout.updated_at = clock.now()


async def advance_payout(payout_id: uuid.UUID, *, session: AsyncSession) -> str | None:
    """One step of a payout: submit it to the provider, or ask whether it arrived.

    The payout row is locked (skipped if another worker holds it); the provider is called with
    the payout's id as idempotency key, so a crash before commit only repeats the same call.
    Returns the status after the step, or None when the payout is busy or missing."""
    statement = (
        select(LedgerPayout)
        .where(LedgerPayout.id == payout_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    payout = await session.scalar(statement)
    if payout is None:
        return None
    provider = get_payout_provider()
    if payout.status == "requested":
        answer = await provider.submit(
            idempotency_key=f"payout:{payout.id}",
            amount=Money(payout.amount, payout.currency),
            destination=payout.destination,
        )
        payout.provider_reference = answer.reference
        payout.status = "in_transit"
        payout.submitted_at = clock.now()
        payout.updated_at = clock.now()
        await _settle(payout, answer, session)
    elif payout.status == "in_transit" and payout.provider_reference:
        await _settle(payout, await provider.retrieve(payout.provider_reference), session)
    await session.flush()
    return payout.status


async def open_payout_ids(*, session: AsyncSession) -> list[uuid.UUID]:
    """Payouts not yet paid or failed, oldest first."""
    rows = await session.scalars(
        select(LedgerPayout.id)
        .where(LedgerPayout.status.in_(PAYEE_PAYOUT_STATUSES_OPEN))
        .order_by(LedgerPayout.id)
    )
    return list(rows.all())


def schedule_period(frequency: str, now: datetime) -> str | None:
    """The period an automatic payout belongs to: a UTC day or an ISO week (None when off)."""
    if frequency == "daily":
        return f"daily:{now.date().isoformat()}"
    if frequency == "weekly":
        year, week, _ = now.isocalendar()
        return f"weekly:{year}-W{week:02d}"
    return None


async def get_payout_schedule(
    payee: Owner, currency: str, *, session: AsyncSession
) -> PayoutScheduleOut:
    """The payee's automatic payout setting for `currency` (off when never set)."""
    schedule = await session.get(LedgerPayoutSchedule, (payee.type.value, payee.id, currency))
    if schedule is None:
        return PayoutScheduleOut(
            currency=currency, frequency="off", minimum=0, destination=SANDBOX_BANK_OK
        )
    return PayoutScheduleOut(
        currency=schedule.currency,
        frequency=schedule.frequency,
        minimum=schedule.minimum,
        destination=schedule.destination,
    )


async def set_payout_schedule(
    payee: Owner, schedule_in: PayoutScheduleIn, *, session: AsyncSession
) -> PayoutScheduleOut:
    """Turn automatic payouts off, or on daily/weekly above a minimum."""
    currency = payee_money(0, schedule_in.currency).currency
    payee_balance_kind(payee)
    destination = check_destination(schedule_in.destination or SANDBOX_BANK_OK)
    schedule = await session.get(LedgerPayoutSchedule, (payee.type.value, payee.id, currency))
    if schedule is None:
        schedule = LedgerPayoutSchedule(
            owner_type=payee.type.value, owner_id=payee.id, currency=currency
        )
        session.add(schedule)
    schedule.frequency = schedule_in.frequency
    schedule.minimum = schedule_in.minimum
    schedule.destination = destination
    schedule.updated_at = clock.now()
    await session.flush()
    return await get_payout_schedule(payee, currency, session=session)


async def active_schedules(*, session: AsyncSession) -> list[tuple[Owner, str]]:
    """Payees and currencies with automatic payouts on."""
    rows = await session.execute(
        select(
            LedgerPayoutSchedule.owner_type,
            LedgerPayoutSchedule.owner_id,
            LedgerPayoutSchedule.currency,
        )
        .where(LedgerPayoutSchedule.frequency != "off")
        .order_by(LedgerPayoutSchedule.owner_type, LedgerPayoutSchedule.owner_id)
    )
    return [(Owner(OwnerType(row[0]), row[1]), row[2]) for row in rows]


async def pay_out_on_schedule(
    payee: Owner, currency: str, *, now: datetime, session: AsyncSession
) -> LedgerPayout | None:
    """The automatic payout of this period: the whole available balance when it is above both
    minimums and nothing was paid out automatically in this period yet (else None)."""
    schedule = await session.get(LedgerPayoutSchedule, (payee.type.value, payee.id, currency))
    period = schedule_period(schedule.frequency, now) if schedule is not None else None
    if schedule is None or period is None:
        return None
    done = await session.scalar(
        select(LedgerPayout.id).where(
            LedgerPayout.owner_type == payee.type.value,
            LedgerPayout.owner_id == payee.id,
            LedgerPayout.currency == currency,
            LedgerPayout.schedule_period == period,
        )
    )
    if done is not None:
        return None
    available = (await get_payee_balance(payee, currency, session=session)).available
    floor = minimum_payout(get_ledger_settings().payout_minimum, currency)
    if available.amount <= 0 or available < floor or available.amount < schedule.minimum:
        return None
    return await create_payout(
        payee=payee,
        amount=available,
        destination=schedule.destination,
        schedule_period=period,
        session=session,
    )
