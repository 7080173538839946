"""Account statements: every entry with its transfer, newest first, with the running balance."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from clipcart.core import clock
from clipcart.core.errors import NotFound
from clipcart.core.pagination import Page, paginate
from clipcart.ledger.accounts import balance_of, find_account
from clipcart.ledger.config import get_ledger_settings
from clipcart.ledger.domain import (
    AccountKey,
    AccountKind,
    Owner,
    OwnerType,
    Phase,
    Side,
    TransferKind,
    minimum_payout,
    payee_balance_kind,
)
from clipcart.ledger.models import LedgerAccount, LedgerEntry, LedgerEscrow
from clipcart.ledger.schemas import PayeeBalanceOut, StatementEntryOut, StatementLine


async def get_statement(
    account_id: uuid.UUID,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    newest_first: bool = True,
    session: AsyncSession,
) -> Page[StatementLine]:
    """One page of an account's statement; `next_cursor` continues it."""
    account = await session.get(LedgerAccount, account_id)
    if account is None:
        raise NotFound("That ledger account does not exist.")
    statement = (
        select(LedgerEntry)
        .where(LedgerEntry.account_id == account_id)
        .options(joinedload(LedgerEntry.transfer))
    )
    entries, next_cursor = await paginate(
        session,
        statement,
        order_by=[LedgerEntry.account_seq],
        cursor=cursor,
        limit=limit,
        descending=newest_first,
    )
    lines = [
        StatementLine(
            sequence=entry.account_seq,
            transfer_id=entry.transfer_id,
            kind=entry.transfer.kind,
            phase=Phase(entry.transfer.phase),
            side=Side(entry.side),
            amount=entry.amount,
            balance_after=entry.balance_after,
            currency=account.currency,
            memo=entry.transfer.memo,
            reference=entry.transfer.reference,
            created_at=entry.created_at,
        )
        for entry in entries
    ]
    return Page[StatementLine](items=lines, next_cursor=next_cursor)


# --- what sellers and creators see: balances per currency, labelled statements, history ---

_SALE_WORD = {OwnerType.SHOP: "Sale", OwnerType.USER: "Commission"}


def describe_entry(kind: str, phase: Phase, side: Side, owner_type: OwnerType) -> str:
    """What a statement line means to a seller or creator, in plain words."""
    sale = _SALE_WORD.get(owner_type, "Sale")
    if kind == TransferKind.ORDER_SPLIT.value:
        return f"{sale} held until the order completes"
    if kind == TransferKind.ORDER_RELEASE.value:
        return f"{sale} released"
    if kind == TransferKind.ORDER_SPLIT_VOID.value:
        return f"Held {sale.lower()} replaced after a refund"
    if kind == TransferKind.ORDER_REFUND.value:
        if owner_type is OwnerType.USER:
            return "Commission clawed back (refund)"
        return "Refund to the buyer"
    if kind == TransferKind.PAYOUT_REQUESTED.value:
        return "Payout"
    if kind == TransferKind.PAYOUT_FAILED.value:
        return "Payout failed: money returned"
    if kind == TransferKind.REVERSAL.value:
        return "Correction"
    return "Adjustment" if side is Side.CREDIT else "Charge"


def signed_amount(side: Side, amount: int) -> int:
    """+ for money in, - for money out (payee balances are credit-normal)."""
    return amount if side is Side.CREDIT else -amount


async def list_payee_balances(payee: Owner, *, session: AsyncSession) -> list[PayeeBalanceOut]:
    """The payee's balance in every currency they ever earned in, with what is in transit."""
    balance_kind = payee_balance_kind(payee)
    accounts = (
        await session.scalars(
            select(LedgerAccount)
            .where(
                LedgerAccount.owner_type == payee.type.value,
                LedgerAccount.owner_id == payee.id,
                LedgerAccount.kind.in_([balance_kind.value, AccountKind.PAYOUTS_IN_TRANSIT.value]),
            )
            .order_by(LedgerAccount.currency)
            .execution_options(populate_existing=True)
        )
    ).all()
    by_currency: dict[str, dict[str, LedgerAccount]] = {}
    for account in accounts:
        by_currency.setdefault(account.currency, {})[account.kind] = account
    minimum = get_ledger_settings().payout_minimum
    result = []
    for currency, kinds in by_currency.items():
        balance = kinds.get(balance_kind.value)
        transit = kinds.get(AccountKind.PAYOUTS_IN_TRANSIT.value)
        own = balance_of(balance) if balance is not None else None
        result.append(
            PayeeBalanceOut(
                currency=currency,
                posted=own.posted.amount if own else 0,
                pending=own.pending.amount if own else 0,
                available=own.available.amount if own else 0,
                in_transit=balance_of(transit).posted.amount if transit else 0,
                minimum_payout=minimum_payout(minimum, currency).amount,
            )
        )
    return result


async def get_payee_statement(
    payee: Owner,
    currency: str,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    session: AsyncSession,
) -> Page[StatementEntryOut]:
    """One page of the payee's statement in `currency`, newest first, each line labelled and
    tied to its order (with the order's amount and platform fee where there is one)."""
    account = await find_account(
        AccountKey(payee_balance_kind(payee), payee, currency), session=session
    )
    if account is None:
        return Page[StatementEntryOut](items=[])
    page = await get_statement(account.id, cursor=cursor, limit=limit, session=session)
    references = {line.reference for line in page.items if line.reference}
    escrows = {
        escrow.order_ref: escrow
        for escrow in (
            await session.scalars(
                select(LedgerEscrow).where(LedgerEscrow.order_ref.in_(references))
            )
        ).all()
    }
    items = []
    for line in page.items:
        escrow = escrows.get(line.reference or "")
        items.append(
            StatementEntryOut(
                sequence=line.sequence,
                created_at=line.created_at,
                kind=line.kind,
                description=describe_entry(line.kind, line.phase, line.side, payee.type),
                reference=line.reference,
                amount=signed_amount(line.side, line.amount),
                pending=line.phase in (Phase.PENDING, Phase.VOID_PENDING),
                balance_after=line.balance_after,
                currency=line.currency,
                order_amount=escrow.amount if escrow else None,
                platform_fee=escrow.platform_amount if escrow else None,
            )
        )
    return Page[StatementEntryOut](items=items, next_cursor=page.next_cursor)


async def get_balance_history(
    payee: Owner, currency: str, *, days: int = 30, session: AsyncSession
) -> list[tuple[date, int]]:
    """The posted balance at the end of each of the last `days` UTC days (oldest first)."""
    today = clock.now().astimezone(UTC).date()
    start = datetime.combine(today - timedelta(days=days - 1), time.min, tzinfo=UTC)
    account = await find_account(
        AccountKey(payee_balance_kind(payee), payee, currency), session=session
    )
    if account is None:
        return [(today - timedelta(days=days - 1 - index), 0) for index in range(days)]
    opening = await session.scalar(
        select(LedgerEntry.balance_after)
        .where(LedgerEntry.account_id == account.id, LedgerEntry.created_at < start)
        .order_by(LedgerEntry.account_seq.desc())
        .limit(1)
    )
    rows = await session.execute(
        select(LedgerEntry.created_at, LedgerEntry.balance_after)
        .where(LedgerEntry.account_id == account.id, LedgerEntry.created_at >= start)
        .order_by(LedgerEntry.account_seq)
    )
    closing: dict[date, int] = {}
    for created_at, balance_after in rows:
        closing[clock.as_utc(created_at).astimezone(UTC).date()] = balance_after
    history = []
    running = opening or 0
    for index in range(days):
        day = start.date() + timedelta(days=index)
        running = closing.get(day, running)
        history.append((day, running))
    return history
