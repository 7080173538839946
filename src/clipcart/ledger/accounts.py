"""Ledger accounts: get-or-create (race-safe), lookups, balances read from their columns."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core import clock
from clipcart.core.db import dialect_insert, insert_for
from clipcart.core.errors import NotFound
from clipcart.core.ids import new_id
from clipcart.ledger.domain import AccountKey, Balance, Side
from clipcart.ledger.models import LedgerAccount
from clipcart.ledger.schemas import BalanceOut

ACCOUNTS = cast(Table, LedgerAccount.__table__)
# SQLite limits how deep a WHERE clause may nest; look accounts up in batches.
_KEYS_PER_QUERY = 100
BALANCE_COLUMNS = ("posted_debits", "posted_credits", "pending_debits", "pending_credits")


def _key_clause(key: AccountKey) -> Any:
    return and_(
        LedgerAccount.kind == key.kind.value,
        LedgerAccount.owner_type == key.owner.type.value,
        LedgerAccount.owner_id == key.owner.id,
        LedgerAccount.currency == key.currency,
    )


def _key_of(account: LedgerAccount) -> tuple[str, str, uuid.UUID, str]:
    return (account.kind, account.owner_type, account.owner_id, account.currency)


def _raw_key(key: AccountKey) -> tuple[str, str, uuid.UUID, str]:
    return (key.kind.value, key.owner.type.value, key.owner.id, key.currency)


async def _select_accounts(
    keys: Sequence[AccountKey], session: AsyncSession
) -> dict[AccountKey, LedgerAccount]:
    wanted = {_raw_key(key): key for key in keys}
    found: dict[AccountKey, LedgerAccount] = {}
    for start in range(0, len(keys), _KEYS_PER_QUERY):
        chunk = keys[start : start + _KEYS_PER_QUERY]
        statement = select(LedgerAccount).where(or_(*[_key_clause(key) for key in chunk]))
        for account in (await session.scalars(statement)).all():
            if _key_of(account) in wanted:
                found[wanted[_key_of(account)]] = account
    return found


async def get_or_create_accounts(
    keys: Sequence[AccountKey], *, session: AsyncSession
) -> dict[AccountKey, LedgerAccount]:
    """The accounts for `keys`, creating missing ones; safe when two requests race to create."""
    keys = list(dict.fromkeys(keys))
    accounts = await _select_accounts(keys, session)
    missing = [key for key in keys if key not in accounts]
    if missing:
        rows = [_new_row(key) for key in missing]
        # A racing creator's row wins the unique constraint; we then read that one.
        for start in range(0, len(rows), _KEYS_PER_QUERY):
            chunk = rows[start : start + _KEYS_PER_QUERY]
            await session.execute(
                dialect_insert(session, ACCOUNTS).values(chunk).on_conflict_do_nothing()
            )
        accounts.update(await _select_accounts(missing, session))
    return accounts


def _new_row(key: AccountKey) -> dict[str, Any]:
    return {
        "id": new_id(),
        "created_at": clock.now(),
        "kind": key.kind.value,
        "owner_type": key.owner.type.value,
        "owner_id": key.owner.id,
        "currency": key.currency,
        "normal_side": key.rules.normal_side.value,
        "may_go_negative": key.rules.may_go_negative,
        "posted_debits": 0,
        "posted_credits": 0,
        "pending_debits": 0,
        "pending_credits": 0,
        "entry_count": 0,
    }


_ACCOUNT_KEY = tuple_(
    ACCOUNTS.c.kind, ACCOUNTS.c.owner_type, ACCOUNTS.c.owner_id, ACCOUNTS.c.currency
)
# Run for every order's parties: built once (building a statement costs about as much as
# running it); the keys are bound as one list.
_IDS_BY_KEY = select(ACCOUNTS.c.id, *_ACCOUNT_KEY.clauses).where(
    _ACCOUNT_KEY.in_(bindparam("keys", expanding=True))
)


def insert_new_rows(session: AsyncSession, table: Table) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id for `table` on this database, built once:
    execute it with the rows as its parameters (the ids of the rows written come back)."""
    return _rows_inserted(session.get_bind().dialect.name, table)


@functools.cache
def _rows_inserted(dialect: str, table: Table) -> Any:
    return insert_for(dialect)(table).on_conflict_do_nothing().returning(table.c.id)


async def get_or_create_account_ids(
    keys: Sequence[AccountKey], *, session: AsyncSession
) -> dict[AccountKey, uuid.UUID]:
    """The ids of the accounts for `keys`, creating missing ones (race-safe): one SELECT, and
    one INSERT when some are missing, of plain rows (no objects loaded). For a few keys at a
    time (one order's parties)."""
    wanted = {_raw_key(key): key for key in keys}
    ids: dict[AccountKey, uuid.UUID] = {}
    found = await session.execute(_IDS_BY_KEY, {"keys": list(wanted)})
    for account in found:
        ids[wanted[(account.kind, account.owner_type, account.owner_id, account.currency)]] = (
            account.id
        )
    missing = [key for key in wanted.values() if key not in ids]
    if missing:
        new_rows = [_new_row(key) for key in missing]
        inserted = await session.execute(insert_new_rows(session, ACCOUNTS), new_rows)
        created = set(inserted.scalars())
        for key, new_row in zip(missing, new_rows, strict=True):
            if new_row["id"] in created:
                ids[key] = new_row["id"]
        raced = [key for key in missing if key not in ids]
        if raced:  # a racing request created these first: read theirs
            ids.update(
                (key, account.id)
                for key, account in (await _select_accounts(raced, session)).items()
            )
    return ids


async def get_or_create_account(key: AccountKey, *, session: AsyncSession) -> LedgerAccount:
    """The account for `key`, created on first use."""
    return (await get_or_create_accounts([key], session=session))[key]


async def find_account(key: AccountKey, *, session: AsyncSession) -> LedgerAccount | None:
    """The account for `key`, if it exists."""
    return await session.scalar(select(LedgerAccount).where(_key_clause(key)))


def balance_of(account: LedgerAccount) -> Balance:
    """The balances held in an account's columns."""
    return Balance(
        account.currency,
        Side(account.normal_side),
        account.posted_debits,
        account.posted_credits,
        account.pending_debits,
        account.pending_credits,
    )


def balance_out(account: LedgerAccount) -> BalanceOut:
    """An account and its balances as handed to callers."""
    balance = balance_of(account)
    return BalanceOut(
        account_id=account.id,
        kind=account.kind,
        owner_type=account.owner_type,
        owner_id=account.owner_id,
        currency=account.currency,
        normal_side=balance.normal_side,
        may_go_negative=account.may_go_negative,
        posted=balance.posted.amount,
        pending=balance.pending.amount,
        available=balance.available.amount,
        posted_debits=account.posted_debits,
        posted_credits=account.posted_credits,
        pending_debits=account.pending_debits,
        pending_credits=account.pending_credits,
    )


async def get_balance(account_id: uuid.UUID, *, session: AsyncSession) -> BalanceOut:
    """An account's current balances, read fresh from the database."""
    account = await session.scalar(
        select(LedgerAccount)
        .where(LedgerAccount.id == account_id)
        .execution_options(populate_existing=True)
    )
    if account is None:
        raise NotFound("That ledger account does not exist.")
    return balance_out(account)


async def lock_account(account_id: uuid.UUID, *, session: AsyncSession) -> Balance:
    """Take the account's row lock until commit (serialises work on one order) and read it."""
    statement = (
        update(ACCOUNTS)
        .where(ACCOUNTS.c.id == account_id)
        .values(entry_count=ACCOUNTS.c.entry_count)
        .returning(ACCOUNTS.c.currency, ACCOUNTS.c.normal_side, *balance_columns())
    )
    row = (await session.execute(statement)).first()
    if row is None:
        raise NotFound("That ledger account does not exist.")
    return Balance(row.currency, Side(row.normal_side), *(getattr(row, c) for c in BALANCE_COLUMNS))


def balance_columns() -> list[Any]:
    """The four balance columns of the accounts table."""
    return [ACCOUNTS.c[name] for name in BALANCE_COLUMNS]
