"""Escrow: an order's money from capture to release, and refunds before and after release.

Design (how "pending" and "available" balances work):

- Every order gets its own buyer-funds-held account (owned by its `LedgerEscrow` row, which
  records the split terms once). The database refuses to take more out of it than went in.
- `hold_payment` posts provider clearing -> held, then a *pending* (two-phase) split transfer
  held -> seller, creator commission, platform fee. The pending transfer reserves the held money
  (pending debits) and shows up as the seller's and creator's *pending* balance (pending credits
  on their balance accounts); their *available* balance is the posted balance.
- `release_order_funds` posts that pending split: pending becomes available, exactly once.
- `refund_before_release` voids the pending split, moves the refund held -> refunds, and
  reserves a new pending split of what remains. Shares of refunds are allocated cumulatively
  (`domain.refunded_share`), so any sequence of partial refunds adds up to the split exactly.
- `refund_after_release` takes each party's share back from seller, creator (the commission
  clawback) and platform fee; seller and creator balances may go negative and later sales
  recover them. `settle_refund` moves refunds -> provider clearing once the provider paid it.

Work on one order is serialised by locking its held account's row first. Each use case is
idempotent: the same call again returns the same transfer; a different one under a used
reference is a 409.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import cast

from sqlalchemy import Table, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from clipcart.core import clock
from clipcart.core.errors import NotFound
from clipcart.core.ids import new_id
from clipcart.core.money import Money
from clipcart.ledger.accounts import (
    find_account,
    get_or_create_account_ids,
    get_or_create_accounts,
    insert_new_rows,
    lock_account,
)
from clipcart.ledger.config import get_ledger_settings
from clipcart.ledger.domain import (
    AccountKey,
    AccountKind,
    OrderSplit,
    Owner,
    OwnerType,
    Phase,
    Side,
    TransferKind,
    signed_transfer,
    simple_transfer,
    split_order,
    split_transfer,
)
from clipcart.ledger.errors import IdempotencyConflict, InvalidTransfer, WrongState
from clipcart.ledger.escrow_shares import creator_shares, keep_assignment, share_rows
from clipcart.ledger.models import LedgerEntry, LedgerEscrow, LedgerTransfer
from clipcart.ledger.posting import (
    find_transfer_by_key,
    post_pending,
    post_transfer,
    transfer_out,
    void_pending,
)
from clipcart.ledger.schemas import EscrowOut, TransferOut
from clipcart.ledger.shares import (
    CreatorShare,
    Parties,
    Portion,
    assign_refund,
    assigned_so_far,
    order_portions,
    party_totals,
    refunded_parts,
)


def _platform(kind: AccountKind, currency: str) -> AccountKey:
    return AccountKey(kind, Owner.platform(), currency)


def _held_key(escrow: LedgerEscrow) -> AccountKey:
    return AccountKey(
        AccountKind.BUYER_FUNDS_HELD, Owner(OwnerType.ORDER, escrow.id), escrow.currency
    )


def _seller_key(escrow: LedgerEscrow) -> AccountKey:
    return AccountKey(AccountKind.SELLER_BALANCE, Owner.shop(escrow.shop_id), escrow.currency)


def _creator_key(creator_id: uuid.UUID, currency: str) -> AccountKey:
    return AccountKey(AccountKind.CREATOR_BALANCE, Owner.creator(creator_id), currency)


def _single_portion(escrow: LedgerEscrow) -> Portion:
    """An escrow with at most one creator, split over the whole order."""
    return Portion(
        None,
        escrow.creator_id,
        OrderSplit(
            Money(escrow.seller_amount, escrow.currency),
            Money(escrow.creator_amount, escrow.currency),
            Money(escrow.platform_amount, escrow.currency),
        ),
    )


async def _portions(escrow: LedgerEscrow, session: AsyncSession) -> list[Portion]:
    """The escrow's portions: per credited line when creator shares were planned."""
    if escrow.creator_amount:
        shares = creator_shares(await share_rows(escrow.order_ref, session))
        if shares:
            amount = Money(escrow.amount, escrow.currency)
            return order_portions(amount, fee_rate=Decimal(escrow.fee_rate), shares=shares)
    return [_single_portion(escrow)]


def _creator_ids(portions: list[Portion]) -> list[uuid.UUID]:
    return sorted({portion.creator_id for portion in portions if portion.creator_id is not None})


def _key(order_ref: str, step: str) -> str:
    return f"order:{order_ref}:{step}"


async def _party_accounts(
    escrow: LedgerEscrow, creators: list[uuid.UUID], session: AsyncSession
) -> dict[str, uuid.UUID]:
    keys = {
        "held": _held_key(escrow),
        "seller": _seller_key(escrow),
        "platform": _platform(AccountKind.PLATFORM_FEES, escrow.currency),
        "refunds": _platform(AccountKind.REFUNDS, escrow.currency),
        "clearing": _platform(AccountKind.PROVIDER_CLEARING, escrow.currency),
    }
    for creator_id in creators:
        keys[f"creator:{creator_id}"] = _creator_key(creator_id, escrow.currency)
    ids = await get_or_create_account_ids(list(keys.values()), session=session)
    return {name: ids[key] for name, key in keys.items()}


def _split_credits(
    accounts: dict[str, uuid.UUID], parties: Parties
) -> list[tuple[uuid.UUID, Money]]:
    credits = [(accounts["seller"], parties.seller), (accounts["platform"], parties.platform)]
    for creator_id, money in sorted(parties.creators.items()):
        credits.append((accounts[f"creator:{creator_id}"], money))
    return credits


def _escrow_out(escrow: LedgerEscrow, held_id: uuid.UUID, hold: TransferOut) -> EscrowOut:
    return EscrowOut(
        order_ref=escrow.order_ref,
        currency=escrow.currency,
        amount=escrow.amount,
        seller_amount=escrow.seller_amount,
        creator_amount=escrow.creator_amount,
        platform_amount=escrow.platform_amount,
        shop_id=escrow.shop_id,
        creator_id=escrow.creator_id,
        escrow_account_id=held_id,
        hold_transfer_id=hold.id,
    )


async def hold_payment(
    *,
    order_ref: str,
    amount: Money,
    shop_id: uuid.UUID,
    creator_id: uuid.UUID | None = None,
    commission: Money | None = None,
    fee_rate: Decimal | None = None,
    session: AsyncSession,
) -> EscrowOut:
    """A captured payment: clearing -> held, with the split to seller/creator/fee reserved."""
    rate = get_ledger_settings().platform_fee_rate if fee_rate is None else fee_rate
    shares: list[CreatorShare] = []
    if commission is not None and commission.amount and creator_id is None:
        # A commission without one creator: the shares planned per line at checkout.
        shares = creator_shares(await share_rows(order_ref, session))
        if not shares:
            raise InvalidTransfer("A commission needs the creator who earns it.")
        terms = party_totals(order_portions(amount, fee_rate=rate, shares=shares), amount.currency)
        creator_id = shares[0].creator_id  # the escrow row names one; the shares name all
    else:
        split = split_order(amount, fee_rate=rate, commission=commission)
        creators = {creator_id: split.creator} if creator_id is not None else {}
        terms = Parties(split.seller, split.platform, creators)
    values = {
        "currency": amount.currency,
        "amount": amount.amount,
        "shop_id": shop_id,
        "creator_id": creator_id if terms.creator_total.amount else None,
        "seller_amount": terms.seller.amount,
        "creator_amount": terms.creator_total.amount,
        "platform_amount": terms.platform.amount,
    }
    row = {"id": new_id(), "created_at": clock.now(), "order_ref": order_ref, "fee_rate": str(rate)}
    inserted = await session.execute(
        insert_new_rows(session, cast(Table, LedgerEscrow.__table__)), row | values
    )
    escrow_id = inserted.scalar()
    if escrow_id is None:
        escrow = await _load_escrow(order_ref, session)
        if any(getattr(escrow, name) != value for name, value in values.items()):
            raise IdempotencyConflict("That order's payment was already held with other terms.")
    else:
        # Just written: the row is what was sent, no need to read it back.
        escrow = LedgerEscrow(id=escrow_id, order_ref=order_ref, fee_rate=str(rate), **values)
    accounts = await _party_accounts(escrow, sorted(terms.creators), session)
    hold = await post_transfer(
        simple_transfer(
            _key(order_ref, "hold"),
            TransferKind.PAYMENT_HOLD,
            debit=accounts["clearing"],
            credit=accounts["held"],
            amount=amount,
            memo="Payment captured",
            reference=order_ref,
        ),
        session=session,
    )
    await post_transfer(
        split_transfer(
            _key(order_ref, "split"),
            TransferKind.ORDER_SPLIT,
            debit=accounts["held"],
            credits=_split_credits(accounts, terms),
            phase=Phase.PENDING,
            memo="Order split, until release",
            reference=order_ref,
        ),
        session=session,
    )
    return _escrow_out(escrow, accounts["held"], hold)


async def _load_escrow(order_ref: str, session: AsyncSession) -> LedgerEscrow:
    escrow = await session.scalar(select(LedgerEscrow).where(LedgerEscrow.order_ref == order_ref))
    if escrow is None:
        raise NotFound("No payment is held for that order.", data={"order_ref": order_ref})
    return escrow


async def get_escrow(order_ref: str, *, session: AsyncSession) -> EscrowOut:
    """The terms and held account of an order's payment."""
    escrow = await _load_escrow(order_ref, session)
    held = await find_account(_held_key(escrow), session=session)
    hold = await find_transfer_by_key(_key(order_ref, "hold"), session=session)
    if held is None or hold is None:
        raise NotFound("No payment is held for that order.", data={"order_ref": order_ref})
    return _escrow_out(escrow, held.id, hold)


async def _locked_escrow(
    order_ref: str, session: AsyncSession
) -> tuple[LedgerEscrow, dict[str, uuid.UUID], Money, list[Portion]]:
    """The order's terms, accounts, held amount and portions, with the held account locked."""
    escrow = await _load_escrow(order_ref, session)
    held_id = (await get_or_create_accounts([_held_key(escrow)], session=session))[
        _held_key(escrow)
    ].id
    held = await lock_account(held_id, session=session)
    portions = await _portions(escrow, session)  # read under the lock: claims may have moved
    accounts = await _party_accounts(escrow, _creator_ids(portions), session)
    return escrow, accounts, held.posted, portions


async def _unresolved_split(order_ref: str, session: AsyncSession) -> TransferOut | None:
    resolution = aliased(LedgerTransfer)
    statement = (
        select(LedgerTransfer)
        .where(
            LedgerTransfer.reference == order_ref,
            LedgerTransfer.kind == TransferKind.ORDER_SPLIT.value,
            LedgerTransfer.phase == Phase.PENDING.value,
            ~exists().where(resolution.pending_id == LedgerTransfer.id),
        )
        .options(selectinload(LedgerTransfer.entries))
    )
    split = await session.scalar(statement)
    return transfer_out(split) if split else None


def refunded_by(transfer: TransferOut, refunds_account: uuid.UUID) -> Money:
    """What a refund transfer gives back to the buyer: its credit to the refunds account. A
    refund after release can round its shares of seller, creator and fee both ways, so the
    transfer's total may be larger than this."""
    owed = sum(
        leg.amount
        for leg in transfer.legs
        if leg.account_id == refunds_account and leg.side is Side.CREDIT
    )
    return Money(owed, transfer.currency)


async def refunded_so_far(
    order_ref: str, refunds_account: uuid.UUID, currency: str, session: AsyncSession
) -> Money:
    """What refunds of the order gave back to the buyer so far."""
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerTransfer, LedgerTransfer.id == LedgerEntry.transfer_id)
        .where(
            LedgerTransfer.reference == order_ref,
            LedgerTransfer.kind == TransferKind.ORDER_REFUND.value,
            LedgerEntry.account_id == refunds_account,
            LedgerEntry.side == Side.CREDIT.value,
        )
    )
    return Money(int(total or 0), currency)


async def is_released(order_ref: str, *, session: AsyncSession) -> bool:
    """Whether the order's funds went to the seller and creator."""
    return await find_transfer_by_key(_key(order_ref, "release"), session=session) is not None


async def release_order_funds(*, order_ref: str, session: AsyncSession) -> TransferOut:
    """At completion: post the reserved split, so seller and creator money becomes available."""
    await _locked_escrow(order_ref, session)
    released = await find_transfer_by_key(_key(order_ref, "release"), session=session)
    if released is not None:
        return released
    split = await _unresolved_split(order_ref, session)
    if split is None:
        raise WrongState("Nothing is left to release: the order was refunded in full.")
    return await post_pending(
        split.id,
        idempotency_key=_key(order_ref, "release"),
        kind=TransferKind.ORDER_RELEASE,
        memo="Order completed",
        session=session,
    )


async def _existing_refund(
    key: str, amount: Money, refunds_account: uuid.UUID, session: AsyncSession
) -> TransferOut | None:
    existing = await find_transfer_by_key(key, session=session)
    if existing is not None and refunded_by(existing, refunds_account) != amount:
        raise IdempotencyConflict("That refund reference was used for another amount.")
    return existing


def _check_refund(escrow: LedgerEscrow, amount: Money, limit: Money) -> None:
    if amount.currency != escrow.currency:
        raise InvalidTransfer(f"This order was paid in {escrow.currency}.")
    if amount.amount <= 0:
        raise InvalidTransfer("A refund is a positive amount.")
    if amount > limit:
        raise InvalidTransfer(
            f"At most {limit} can still be refunded.", data={"refundable": limit.amount}
        )


async def refund_before_release(
    *, order_ref: str, amount: Money, refund_ref: str, session: AsyncSession
) -> TransferOut:
    """Give held money back to the buyer (held -> refunds) and shrink the reserved split."""
    escrow, accounts, held, portions = await _locked_escrow(order_ref, session)
    key = _key(order_ref, f"refund:{refund_ref}")
    existing = await _existing_refund(key, amount, accounts["refunds"], session)
    if existing is not None:
        return existing
    if await is_released(order_ref, session=session):
        raise WrongState("The order's funds were released; refund after release instead.")
    _check_refund(escrow, amount, held)
    previous = assigned_so_far(portions, (Money(escrow.amount, escrow.currency) - held).amount)
    split = await _unresolved_split(order_ref, session)
    if split is not None:
        await void_pending(
            split.id,
            idempotency_key=f"{key}:void",
            kind=TransferKind.ORDER_SPLIT_VOID,
            memo="Split replaced after a refund",
            session=session,
        )
    refund = await post_transfer(
        simple_transfer(
            key,
            TransferKind.ORDER_REFUND,
            debit=accounts["held"],
            credit=accounts["refunds"],
            amount=amount,
            memo="Refund before release",
            reference=order_ref,
        ),
        session=session,
    )
    assigned = assign_refund(portions, previous, amount.amount)
    await keep_assignment(order_ref, portions, assigned, session)
    remaining = party_totals(portions, escrow.currency).minus(
        refunded_parts(portions, assigned, escrow.currency)
    )
    if remaining.total.amount:
        await post_transfer(
            split_transfer(
                f"{key}:split",
                TransferKind.ORDER_SPLIT,
                debit=accounts["held"],
                credits=_split_credits(accounts, remaining),
                phase=Phase.PENDING,
                memo="Order split after a refund, until release",
                reference=order_ref,
            ),
            session=session,
        )
    return refund


async def refund_after_release(
    *, order_ref: str, amount: Money, refund_ref: str, session: AsyncSession
) -> TransferOut:
    """Take a refund back from seller, creator (clawback) and fee in proportion to the split."""
    escrow, accounts, _held, portions = await _locked_escrow(order_ref, session)
    key = _key(order_ref, f"refund:{refund_ref}")
    existing = await _existing_refund(key, amount, accounts["refunds"], session)
    if existing is not None:
        return existing
    if not await is_released(order_ref, session=session):
        raise WrongState("The order's funds are still held; refund before release instead.")
    refunded = await refunded_so_far(order_ref, accounts["refunds"], escrow.currency, session)
    _check_refund(escrow, amount, Money(escrow.amount, escrow.currency) - refunded)
    # A part may be -1 cent (largest-remainder rounding is not monotonic), or give back to a
    # creator what an earlier refund took before commerce said which line it was for.
    previous = assigned_so_far(portions, refunded.amount)
    assigned = assign_refund(portions, previous, amount.amount)
    await keep_assignment(order_ref, portions, assigned, session)
    shares = refunded_parts(portions, assigned, escrow.currency).minus(
        refunded_parts(portions, previous, escrow.currency)
    )
    deltas = [
        (accounts["seller"], shares.seller.amount),
        (accounts["platform"], shares.platform.amount),
        (accounts["refunds"], -amount.amount),
    ]
    for creator_id, money in sorted(shares.creators.items()):
        deltas.append((accounts[f"creator:{creator_id}"], money.amount))
    return await post_transfer(
        signed_transfer(
            key,
            TransferKind.ORDER_REFUND,
            deltas=deltas,
            currency=escrow.currency,
            memo="Refund after release",
            reference=order_ref,
        ),
        session=session,
    )


async def refund_order(
    *, order_ref: str, amount: Money, refund_ref: str, session: AsyncSession
) -> TransferOut:
    """Refund an order from wherever its money is now (held, or released)."""
    await _locked_escrow(order_ref, session)
    refund = (
        refund_after_release
        if await is_released(order_ref, session=session)
        else (refund_before_release)
    )
    return await refund(order_ref=order_ref, amount=amount, refund_ref=refund_ref, session=session)


async def settle_refund(*, order_ref: str, refund_ref: str, session: AsyncSession) -> TransferOut:
    """The provider paid a refund out: refunds -> provider clearing."""
    escrow = await _load_escrow(order_ref, session)
    key = _key(order_ref, f"refund:{refund_ref}")
    refund = await find_transfer_by_key(key, session=session)
    if refund is None:
        raise NotFound("That refund does not exist.", data={"refund_ref": refund_ref})
    refunds_key = _platform(AccountKind.REFUNDS, escrow.currency)
    clearing_key = _platform(AccountKind.PROVIDER_CLEARING, escrow.currency)
    accounts = await get_or_create_accounts([refunds_key, clearing_key], session=session)
    refunds, clearing = accounts[refunds_key].id, accounts[clearing_key].id
    return await post_transfer(
        simple_transfer(
            f"{key}:settle",
            TransferKind.REFUND_SETTLED,
            debit=refunds,
            credit=clearing,
            amount=refunded_by(refund, refunds),
            memo="Refund paid out by the provider",
            reference=order_ref,
        ),
        session=session,
    )
