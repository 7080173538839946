"""How a transfer reaches the database: one statement on PostgreSQL, a few on SQLite.

Both write the same thing in the caller's transaction and refuse the same things without
leaving a trace (the transaction stays usable):

- every account is locked in primary-key order (no deadlocks between crossing transfers);
- a leg that would overdraw a guarded account, release more than is reserved, or touch an
  account of another currency refuses the whole transfer;
- the transfer row's unique idempotency key, pending_id and reverses_id make a replay or a
  second resolution write nothing at all;
- balances, the per-account entry numbers and the entries are written together.

On PostgreSQL all of it is one statement (one per number of legs), prepared and planned once per
connection and sent straight to asyncpg (one round trip, no SQL compilation per call): lock the
rows (FOR NO KEY UPDATE, ordered), check every leg against the locked rows, insert the transfer
only if all legs pass, update the accounts only if the transfer row was inserted, and insert the
entries from the updated rows. On SQLite, which serialises writers, one conditional UPDATE moves
the legs, then the transfer row and the entries are inserted; a refusal or a taken key undoes the
updates already made (no savepoint needed). Both judge a leg with the same SQL (`_LEG_ALLOWED`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    String,
    Table,
    Uuid,
    bindparam,
    column,
    text,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.selectable import TextualSelect

from clipcart.ledger.accounts import ACCOUNTS
from clipcart.ledger.domain import ColumnDeltas, Side
from clipcart.ledger.models import LedgerEntry, LedgerTransfer

_transfers = cast(Table, LedgerTransfer.__table__)
_entries = cast(Table, LedgerEntry.__table__)


@dataclass(frozen=True, slots=True)
class LegWrite:
    """One leg as written: its account, side, amount and what it adds to the balance columns."""

    account_id: uuid.UUID
    side: Side
    amount: int
    deltas: ColumnDeltas
    guarded: bool


@dataclass(frozen=True, slots=True)
class TransferWrite:
    """A transfer ready to be written; `legs` are in account primary-key order."""

    id: uuid.UUID
    created_at: datetime
    idempotency_key: str
    kind: str
    phase: str
    currency: str
    total: int
    memo: str
    reference: str | None
    content_hash: str
    pending_id: uuid.UUID | None
    reverses_id: uuid.UUID | None
    legs: tuple[LegWrite, ...]


@dataclass(frozen=True, slots=True)
class AccountTotals:
    """An account's columns right after the transfer was applied."""

    account_id: uuid.UUID
    posted_debits: int
    posted_credits: int
    pending_debits: int
    pending_credits: int
    entry_count: int


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """What happened: written (with the new totals), refused at an account, or key taken."""

    totals: tuple[AccountTotals, ...] = ()
    refused_account_id: uuid.UUID | None = None

    @property
    def written(self) -> bool:
        """True when the transfer, its entries and the balances were written."""
        return bool(self.totals)


async def write_transfer(connection: AsyncConnection, transfer: TransferWrite) -> WriteOutcome:
    """Write `transfer` in the connection's transaction, or nothing at all."""
    name = connection.dialect.name
    if name == "postgresql":
        return await _write_postgres(connection, transfer)
    if name == "sqlite":
        return await _write_sqlite(connection, transfer)
    raise RuntimeError(f"the ledger does not support {name}")


# Whether one leg may be applied to its account, judged on the account's current columns
# (`account`) and the leg's deltas (`leg`): the account exists in the transfer's currency, no
# reservation is released twice, and an account that may not go negative (or is guarded by
# this transfer) keeps posted minus outgoing reservations at or above zero. The table's
# not_overdrawn CHECK says the same.
_LEG_ALLOWED = """coalesce(
    account.currency = {currency}
    AND account.pending_debits + leg.d_pnd >= 0
    AND account.pending_credits + leg.d_pnc >= 0
    AND (
        (account.may_go_negative AND NOT leg.guarded)
        OR (account.normal_side = 'credit'
            AND (account.posted_credits + leg.d_pc) - (account.posted_debits + leg.d_pd)
                - (account.pending_debits + leg.d_pnd) >= 0)
        OR (account.normal_side = 'debit'
            AND (account.posted_debits + leg.d_pd) - (account.posted_credits + leg.d_pc)
                - (account.pending_credits + leg.d_pnc) >= 0)
    ), false)"""


# PostgreSQL: one statement per number of legs. Parameters $1-$12 are the transfer row, then
# eight per leg (in primary-key order). Data-modifying CTEs all see one snapshot, so each step
# reads the rows returned by the step before it, never the tables: `locked` returns the latest
# row versions (it waits for and then holds the row locks, so they cannot change until the
# transaction ends), `checked` judges every leg on them, `transfer` is only inserted when no leg
# was refused, `moved` only updates accounts when the transfer row was inserted (ON CONFLICT DO
# NOTHING on the key, pending_id or reverses_id returns nothing), and `written` numbers the
# entries from the updated counters.
#
# The legs are scalar parameters, not arrays, so that the planner knows how many there are
# even without their values: the plan it makes once per connection (generic) then costs what a
# plan made for the values would, and PostgreSQL keeps reusing it. With arrays it assumed ten
# legs, judged that plan dearer, and planned every call anew, which cost more CPU than running
# the statement.
_TRANSFER_PARAMETERS = 12
_LEG_PARAMETERS = 8
_POSTGRES_WRITE = """
WITH legs AS MATERIALIZED (
    SELECT * FROM (VALUES {legs})
        AS leg(account_id, d_pd, d_pc, d_pnd, d_pnc, guarded, side, amount)
),
locked AS MATERIALIZED (
    SELECT account.id, account.currency, account.normal_side, account.may_go_negative,
        account.posted_debits, account.posted_credits, account.pending_debits,
        account.pending_credits, account.entry_count
    FROM ledger_accounts AS account
    WHERE account.id IN ({account_ids})
    ORDER BY account.id
    FOR NO KEY UPDATE
),
checked AS MATERIALIZED (
    SELECT leg.account_id, {leg_allowed} AS allowed
    FROM legs AS leg LEFT JOIN locked AS account ON account.id = leg.account_id
),
transfer AS (
    INSERT INTO ledger_transfers (
        id, created_at, idempotency_key, kind, phase, currency, total, memo, reference,
        content_hash, pending_id, reverses_id
    )
    SELECT $2::uuid, $3::timestamptz, $4::varchar, $5::varchar, $6::varchar, $1::varchar,
        $7::bigint, $8::varchar, $9::varchar, $10::varchar, $11::uuid, $12::uuid
    WHERE NOT EXISTS (SELECT FROM checked WHERE NOT checked.allowed)
    ON CONFLICT DO NOTHING
    RETURNING id, created_at
),
moved AS (
    -- New values come from `locked`, never from the row this UPDATE scans: that is the version
    -- in the statement's snapshot, which a transfer committed while we waited for the lock may
    -- have replaced (PostgreSQL then re-applies the UPDATE to the latest version, but checks
    -- the constraints on the first attempt, from the stale row).
    UPDATE ledger_accounts AS account SET
        posted_debits = current.posted_debits + leg.d_pd,
        posted_credits = current.posted_credits + leg.d_pc,
        pending_debits = current.pending_debits + leg.d_pnd,
        pending_credits = current.pending_credits + leg.d_pnc,
        entry_count = current.entry_count + 1
    FROM legs AS leg, locked AS current, transfer
    -- The IN () lets the planner use the primary key instead of scanning every account.
    WHERE account.id IN ({account_ids}) AND account.id = leg.account_id
        AND current.id = leg.account_id
    RETURNING account.id, account.normal_side, account.posted_debits, account.posted_credits,
        account.pending_debits, account.pending_credits, account.entry_count,
        leg.side, leg.amount, transfer.id AS transfer_id, transfer.created_at
),
written AS (
    INSERT INTO ledger_entries (
        account_id, account_seq, transfer_id, side, amount, balance_after, created_at
    )
    SELECT id, entry_count, transfer_id, side, amount,
        CASE WHEN normal_side = 'debit' THEN posted_debits - posted_credits
            ELSE posted_credits - posted_debits END,
        created_at
    FROM moved
)
SELECT
    (SELECT checked.account_id FROM checked WHERE NOT checked.allowed
        ORDER BY checked.account_id LIMIT 1) AS refused_account_id,
    moved.id, moved.posted_debits, moved.posted_credits, moved.pending_debits,
    moved.pending_credits, moved.entry_count
FROM (SELECT) AS once LEFT JOIN moved ON true
"""
_LEG_TYPES = ("uuid", "bigint", "bigint", "bigint", "bigint", "boolean", "varchar", "bigint")


@cache
def _postgres_write(legs: int) -> str:
    """The statement that writes a transfer of `legs` legs."""
    firsts = [_TRANSFER_PARAMETERS + 1 + _LEG_PARAMETERS * leg for leg in range(legs)]
    rows = ", ".join(
        "(" + ", ".join(f"${first + i}::{kind}" for i, kind in enumerate(_LEG_TYPES)) + ")"
        for first in firsts
    )
    return _POSTGRES_WRITE.format(
        legs=rows,
        account_ids=", ".join(f"${first}::uuid" for first in firsts),
        leg_allowed=_LEG_ALLOWED.format(currency="$1::varchar"),
    )


async def _write_postgres(connection: AsyncConnection, transfer: TransferWrite) -> WriteOutcome:
    legs = transfer.legs
    driver = await _driver_in_transaction(connection)
    parameters: list[Any] = [
        transfer.currency,
        transfer.id,
        transfer.created_at,
        transfer.idempotency_key,
        transfer.kind,
        transfer.phase,
        transfer.total,
        transfer.memo,
        transfer.reference,
        transfer.content_hash,
        transfer.pending_id,
        transfer.reverses_id,
    ]
    for leg in legs:
        deltas = leg.deltas
        parameters += (
            leg.account_id,
            deltas.posted_debits,
            deltas.posted_credits,
            deltas.pending_debits,
            deltas.pending_credits,
            leg.guarded,
            leg.side.value,
            leg.amount,
        )
    # asyncpg prepares each statement once per connection and reuses it (its statement cache).
    rows = await driver.fetch(_postgres_write(len(legs)), *parameters)
    if rows[0]["refused_account_id"] is not None:
        return WriteOutcome(refused_account_id=rows[0]["refused_account_id"])
    if rows[0]["id"] is not None and len(rows) != len(legs):
        # Cannot happen (every leg's row is locked and updated); if it did, the transfer would
        # not balance: fail loudly so the caller's transaction is rolled back.
        raise RuntimeError(f"a ledger transfer updated {len(rows)} of {len(legs)} accounts")
    return WriteOutcome(
        totals=tuple(
            AccountTotals(
                row["id"],
                row["posted_debits"],
                row["posted_credits"],
                row["pending_debits"],
                row["pending_credits"],
                row["entry_count"],
            )
            for row in rows
            if row["id"] is not None
        )
    )


async def _driver_in_transaction(connection: AsyncConnection) -> Any:
    """The asyncpg connection under `connection`, inside the transaction SQLAlchemy tracks.

    SQLAlchemy's asyncpg adapter sends BEGIN lazily, with the first statement, and commits or
    rolls back only a transaction it started itself; when the transfer is the first statement
    of the unit of work, have the adapter start it now, so the caller's commit ends it.
    """
    pooled = await connection.get_raw_connection()
    driver: Any = pooled.driver_connection
    if driver is None:
        raise RuntimeError("the ledger's connection was closed")
    if not driver.is_in_transaction():
        adapter: Any = pooled.dbapi_connection
        await adapter._start_transaction()  # the adapter has no public way to begin eagerly
        if not driver.is_in_transaction() and adapter.isolation_level != "autocommit":
            raise RuntimeError("could not begin a transaction for a ledger transfer")
    return driver


# SQLite (which serialises writers, so there is no lock order to keep): one UPDATE moves every
# leg that may be applied; unless all were, those are taken back. Then the transfer row (ON
# CONFLICT DO NOTHING: a replay or a second resolution writes nothing, and the updates are taken
# back) and its entries.
_SQLITE_LEG_COLUMNS = (
    ("account_id", Uuid()),
    ("d_pd", BigInteger()),
    ("d_pc", BigInteger()),
    ("d_pnd", BigInteger()),
    ("d_pnc", BigInteger()),
    ("guarded", Boolean()),
)
_TOTALS_COLUMNS = (
    "posted_debits", "posted_credits", "pending_debits", "pending_credits", "entry_count",
)  # fmt: skip
_SQLITE_MOVES: dict[int, TextualSelect] = {}


def _sqlite_move(legs: int) -> TextualSelect:
    """The UPDATE for a transfer of `legs` legs, built once per leg count."""
    if legs not in _SQLITE_MOVES:
        # VALUES rather than SELECT ... UNION ALL, which SQLite limits to 500 terms.
        names = ", ".join(
            f"column{number} AS {name}"
            for number, (name, _) in enumerate(_SQLITE_LEG_COLUMNS, start=1)
        )
        values = ", ".join(
            "(" + ", ".join(f":{name}{i}" for name, _ in _SQLITE_LEG_COLUMNS) + ")"
            for i in range(legs)
        )
        # Only fixed SQL and numbered placeholders are put together here.
        rows = f"SELECT {names} FROM (VALUES {values})"  # noqa: S608
        statement = text(
            "UPDATE ledger_accounts AS account SET"  # noqa: S608
            " posted_debits = account.posted_debits + leg.d_pd,"
            " posted_credits = account.posted_credits + leg.d_pc,"
            " pending_debits = account.pending_debits + leg.d_pnd,"
            " pending_credits = account.pending_credits + leg.d_pnc,"
            " entry_count = account.entry_count + 1"
            f" FROM ({rows}) AS leg"
            " WHERE account.id = leg.account_id"
            f" AND {_LEG_ALLOWED.format(currency=':currency')}"
            " RETURNING id, normal_side, posted_debits, posted_credits, pending_debits,"
            " pending_credits, entry_count"
        ).bindparams(
            bindparam("currency", type_=String()),
            *(
                bindparam(f"{name}{i}", type_=type_)
                for i in range(legs)
                for name, type_ in _SQLITE_LEG_COLUMNS
            ),
        )
        _SQLITE_MOVES[legs] = statement.columns(
            column("id", Uuid()),
            column("normal_side", String()),
            *(column(name, BigInteger()) for name in _TOTALS_COLUMNS),
        )
    return _SQLITE_MOVES[legs]


def _account_undo() -> Any:
    c = ACCOUNTS.c
    return (
        update(ACCOUNTS)
        .where(c.id == bindparam("b_account_id"))
        .values(
            posted_debits=c.posted_debits - bindparam("d_pd", type_=BigInteger),
            posted_credits=c.posted_credits - bindparam("d_pc", type_=BigInteger),
            pending_debits=c.pending_debits - bindparam("d_pnd", type_=BigInteger),
            pending_credits=c.pending_credits - bindparam("d_pnc", type_=BigInteger),
            entry_count=c.entry_count - 1,
        )
    )


_ACCOUNT_UNDO = _account_undo()
_INSERT_TRANSFER = sqlite.insert(_transfers).on_conflict_do_nothing().returning(_transfers.c.id)


async def _write_sqlite(connection: AsyncConnection, transfer: TransferWrite) -> WriteOutcome:
    params: dict[str, Any] = {"currency": transfer.currency}
    for index, leg in enumerate(transfer.legs):
        params[f"account_id{index}"] = leg.account_id
        params[f"d_pd{index}"] = leg.deltas.posted_debits
        params[f"d_pc{index}"] = leg.deltas.posted_credits
        params[f"d_pnd{index}"] = leg.deltas.pending_debits
        params[f"d_pnc{index}"] = leg.deltas.pending_credits
        params[f"guarded{index}"] = leg.guarded
    moved = {
        row.id: row
        for row in (await connection.execute(_sqlite_move(len(transfer.legs)), params)).all()
    }
    totals = {
        account_id: AccountTotals(account_id, *(getattr(row, name) for name in _TOTALS_COLUMNS))
        for account_id, row in moved.items()
    }
    if len(totals) != len(transfer.legs):
        await _undo(connection, [leg for leg in transfer.legs if leg.account_id in totals])
        refused = next(leg for leg in transfer.legs if leg.account_id not in totals)
        return WriteOutcome(refused_account_id=refused.account_id)
    transfer_row = {
        "id": transfer.id,
        "created_at": transfer.created_at,
        "idempotency_key": transfer.idempotency_key,
        "kind": transfer.kind,
        "phase": transfer.phase,
        "currency": transfer.currency,
        "total": transfer.total,
        "memo": transfer.memo,
        "reference": transfer.reference,
        "content_hash": transfer.content_hash,
        "pending_id": transfer.pending_id,
        "reverses_id": transfer.reverses_id,
    }
    if (await connection.execute(_INSERT_TRANSFER, transfer_row)).first() is None:
        await _undo(connection, list(transfer.legs))
        return WriteOutcome()
    entries = []
    for leg in transfer.legs:
        row = moved[leg.account_id]
        posted = row.posted_debits - row.posted_credits
        entries.append(
            {
                "account_id": leg.account_id,
                "account_seq": row.entry_count,
                "transfer_id": transfer.id,
                "side": leg.side.value,
                "amount": leg.amount,
                "balance_after": posted if row.normal_side == Side.DEBIT.value else -posted,
                "created_at": transfer.created_at,
            }
        )
    await connection.execute(_entries.insert(), entries)
    return WriteOutcome(totals=tuple(totals[leg.account_id] for leg in transfer.legs))


async def _undo(connection: AsyncConnection, legs: list[LegWrite]) -> None:
    """Take back the account updates of a transfer that will not be written."""
    for leg in legs:
        params = {
            "b_account_id": leg.account_id,
            "d_pd": leg.deltas.posted_debits,
            "d_pc": leg.deltas.posted_credits,
            "d_pnd": leg.deltas.pending_debits,
            "d_pnc": leg.deltas.pending_credits,
        }
        await connection.execute(_ACCOUNT_UNDO, params)
