"""Payouts: a seller's or creator's available money -> payouts in transit -> out of the provider.

A request is refused above the available balance (the debit is guarded by the conditional
UPDATE even though seller and creator balances may otherwise go negative) or below the
configured minimum. Completing and failing a payout share one idempotency key, so a payout
has exactly one outcome; a failure reverses the request, returning the money.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core.errors import NotFound
from clipcart.core.money import Money
from clipcart.ledger.accounts import (
    get_or_create_account,
    get_or_create_accounts,
)
from clipcart.ledger.config import get_ledger_settings
from clipcart.ledger.domain import (
    AccountKey,
    AccountKind,
    Owner,
    Side,
    TransferKind,
    minimum_payout,
    payee_balance_kind,
    simple_transfer,
)
from clipcart.ledger.errors import InvalidTransfer, WrongState
from clipcart.ledger.posting import (
    find_transfer_by_key,
    post_transfer,
    reverse_transfer,
)
from clipcart.ledger.schemas import TransferOut


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
