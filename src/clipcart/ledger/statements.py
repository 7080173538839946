"""Account statements: every entry with its transfer, newest first, with the running balance."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from clipcart.core.errors import NotFound
from clipcart.core.pagination import Page, paginate
from clipcart.ledger.domain import Phase, Side
from clipcart.ledger.models import LedgerAccount, LedgerEntry
from clipcart.ledger.schemas import StatementLine


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
