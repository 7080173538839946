"""The posting engine: balanced transfers, one- and two-phase, and reversals.

A transfer is one conditional UPDATE per account in primary-key order (the WHERE refuses an
overdraft atomically and returns the new totals; taking row locks in one order avoids
deadlocks), then the transfer row (its unique idempotency key, pending_id and reverses_id make
replays and double resolutions harmless), then its entries, numbered per account with the
balance after each (on PostgreSQL the transfer row and its entries are one statement).
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Table,
    and_,
    bindparam,
    not_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql.elements import TextClause

from clipcart.core import clock
from clipcart.core.errors import NotFound
from clipcart.core.ids import new_id
from clipcart.ledger.accounts import (
    ACCOUNTS,
    BALANCE_COLUMNS,
    balance_columns,
    balance_of,
    dialect_insert,
)
from clipcart.ledger.domain import (
    Leg,
    Phase,
    Side,
    TransferDraft,
    TransferKind,
    column_deltas,
    reversal_legs,
)
from clipcart.ledger.errors import (
    AlreadyResolved,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransfer,
)
from clipcart.ledger.models import LedgerAccount, LedgerEntry, LedgerTransfer
from clipcart.ledger.schemas import LegOut, TransferOut

_transfers = cast(Table, LedgerTransfer.__table__)
_entries = cast(Table, LedgerEntry.__table__)


def transfer_out(transfer: LedgerTransfer) -> TransferOut:
    """A stored transfer (entries loaded) as handed to callers."""
    return TransferOut(
        id=transfer.id,
        idempotency_key=transfer.idempotency_key,
        kind=transfer.kind,
        phase=Phase(transfer.phase),
        currency=transfer.currency,
        total=transfer.total,
        memo=transfer.memo,
        reference=transfer.reference,
        pending_id=transfer.pending_id,
        reverses_id=transfer.reverses_id,
        created_at=transfer.created_at,
        legs=[
            LegOut(account_id=entry.account_id, side=Side(entry.side), amount=entry.amount)
            for entry in transfer.entries
        ],
    )


async def _load_transfer(condition: Any, session: AsyncSession) -> LedgerTransfer | None:
    statement = (
        select(LedgerTransfer).where(condition).options(selectinload(LedgerTransfer.entries))
    )
    return await session.scalar(statement)


async def get_transfer(transfer_id: uuid.UUID, *, session: AsyncSession) -> TransferOut:
    """A transfer and its legs."""
    transfer = await _load_transfer(LedgerTransfer.id == transfer_id, session)
    if transfer is None:
        raise NotFound("That transfer does not exist.")
    return transfer_out(transfer)


async def find_transfer_by_key(key: str, *, session: AsyncSession) -> TransferOut | None:
    """The transfer posted with idempotency key `key`, if any."""
    transfer = await _load_transfer(LedgerTransfer.idempotency_key == key, session)
    return transfer_out(transfer) if transfer else None


async def find_resolution(pending_id: uuid.UUID, *, session: AsyncSession) -> TransferOut | None:
    """The transfer that posted or voided a pending transfer, if it was resolved."""
    transfer = await _load_transfer(LedgerTransfer.pending_id == pending_id, session)
    return transfer_out(transfer) if transfer else None


def _account_update() -> Any:
    c = ACCOUNTS.c
    d_pd = bindparam("d_pd", type_=BigInteger)
    d_pc = bindparam("d_pc", type_=BigInteger)
    d_pnd = bindparam("d_pnd", type_=BigInteger)
    d_pnc = bindparam("d_pnc", type_=BigInteger)
    guarded = bindparam("guarded", type_=Boolean)
    credit_available = (
        (c.posted_credits + d_pc) - (c.posted_debits + d_pd) - (c.pending_debits + d_pnd)
    )
    debit_available = (
        (c.posted_debits + d_pd) - (c.posted_credits + d_pc) - (c.pending_credits + d_pnc)
    )
    return (
        update(ACCOUNTS)
        .where(
            c.id == bindparam("b_account_id"),
            c.currency == bindparam("b_currency"),
            # Posting or voiding a reservation twice would take it below zero.
            c.pending_debits + d_pnd >= 0,
            c.pending_credits + d_pnc >= 0,
            or_(
                and_(c.may_go_negative, not_(guarded)),
                and_(c.normal_side == "credit", credit_available >= 0),
                and_(c.normal_side == "debit", debit_available >= 0),
            ),
        )
        .values(
            posted_debits=c.posted_debits + d_pd,
            posted_credits=c.posted_credits + d_pc,
            pending_debits=c.pending_debits + d_pnd,
            pending_credits=c.pending_credits + d_pnc,
            entry_count=c.entry_count + 1,
        )
        .returning(c.normal_side, *balance_columns(), c.entry_count)
    )


_ACCOUNT_UPDATE = _account_update()


_INSERT_TRANSFER: dict[str, Any] = {}


def _insert_transfer(session: AsyncSession) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id, built once per database kind."""
    name = session.get_bind().dialect.name
    if name not in _INSERT_TRANSFER:
        statement = dialect_insert(session, _transfers).on_conflict_do_nothing()
        _INSERT_TRANSFER[name] = statement.returning(_transfers.c.id)
    return _INSERT_TRANSFER[name]


_TRANSFER_COLUMNS = (
    "id", "created_at", "idempotency_key", "kind", "phase", "currency", "total", "memo",
    "reference", "content_hash", "pending_id", "reverses_id",
)  # fmt: skip
_WRITE_TRANSFER_POSTGRES: dict[int, TextClause] = {}


def _write_transfer_postgres(legs: int) -> TextClause:
    """On PostgreSQL, the transfer row and its entries in one statement (one round trip):
    the entries are only written if the transfer row was (its key was not taken)."""
    if legs not in _WRITE_TRANSFER_POSTGRES:
        rows = ", ".join(
            f"(CAST(:e{i}_account AS UUID), CAST(:e{i}_seq AS BIGINT), CAST(:e{i}_side AS"
            f" VARCHAR), CAST(:e{i}_amount AS BIGINT), CAST(:e{i}_after AS BIGINT))"
            for i in range(legs)
        )
        columns = ", ".join(_TRANSFER_COLUMNS)
        values = ", ".join(f":{name}" for name in _TRANSFER_COLUMNS)
        # Only fixed table and column names and numbered placeholders are put together here.
        _WRITE_TRANSFER_POSTGRES[legs] = text(
            f"WITH t AS (INSERT INTO {_transfers.name} ({columns}) VALUES ({values})"  # noqa: S608
            " ON CONFLICT DO NOTHING RETURNING id, created_at)"
            f" INSERT INTO {_entries.name}"
            " (account_id, account_seq, transfer_id, side, amount, balance_after, created_at)"
            " SELECT e.account_id, e.seq, t.id, e.side, e.amount, e.balance_after, t.created_at"
            f" FROM t CROSS JOIN (VALUES {rows}) AS e(account_id, seq, side, amount, balance_after)"
            " RETURNING transfer_id"
        )
    return _WRITE_TRANSFER_POSTGRES[legs]


async def _write_transfer(
    connection: AsyncConnection,
    session: AsyncSession,
    transfer_row: dict[str, Any],
    entries: list[dict[str, Any]],
) -> bool:
    """Insert the transfer and its entries; False when its idempotency key was taken."""
    if connection.dialect.name == "postgresql":
        params = dict(transfer_row)
        for index, entry in enumerate(entries):
            params[f"e{index}_account"] = entry["account_id"]
            params[f"e{index}_seq"] = entry["account_seq"]
            params[f"e{index}_side"] = entry["side"]
            params[f"e{index}_amount"] = entry["amount"]
            params[f"e{index}_after"] = entry["balance_after"]
        written = await connection.execute(_write_transfer_postgres(len(entries)), params)
        return written.first() is not None
    if (await connection.execute(_insert_transfer(session), transfer_row)).first() is None:
        return False
    await connection.execute(_entries.insert(), entries)
    return True


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


async def post_transfer(draft: TransferDraft, *, session: AsyncSession) -> TransferOut:
    """Post `draft` (or return the transfer already posted with its key and same content)."""
    # All or nothing without a savepoint (two round trips saved): the guarded account updates
    # go first, in primary-key order; if one is refused, or the transfer row then turns out to
    # exist already, the updates made so far are undone while their row locks are still held,
    # so no one ever sees them.
    connection = await session.connection()
    transfer_id, now, content_hash = new_id(), clock.now(), draft.content_hash()
    applied: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    rows: list[tuple[uuid.UUID, Any]] = []
    for leg in sorted(draft.legs, key=lambda leg: leg.account_id):
        deltas = column_deltas(draft.phase, leg.side, leg.amount)
        params = {
            "b_account_id": leg.account_id,
            "b_currency": draft.currency,
            "guarded": leg.account_id in draft.guarded,
            "d_pd": deltas.posted_debits,
            "d_pc": deltas.posted_credits,
            "d_pnd": deltas.pending_debits,
            "d_pnc": deltas.pending_credits,
        }
        row = (await connection.execute(_ACCOUNT_UPDATE, params)).first()
        if row is None:
            await _undo(connection, applied)
            return await _refused(leg, draft, content_hash, session)
        applied.append(params)
        rows.append((leg.account_id, row))
        posted = row.posted_debits - row.posted_credits
        entries.append(
            {
                "account_id": leg.account_id,
                "account_seq": row.entry_count,
                "transfer_id": transfer_id,
                "side": leg.side.value,
                "amount": leg.amount,
                "balance_after": posted if row.normal_side == Side.DEBIT.value else -posted,
                "created_at": now,
            }
        )
    transfer_row = {
        "id": transfer_id,
        "created_at": now,
        "idempotency_key": draft.idempotency_key,
        "kind": draft.kind.value,
        "phase": draft.phase.value,
        "currency": draft.currency,
        "total": draft.total,
        "memo": draft.memo,
        "reference": draft.reference,
        "content_hash": content_hash,
        "pending_id": draft.pending_id,
        "reverses_id": draft.reverses_id,
    }
    if not await _write_transfer(connection, session, transfer_row, entries):
        await _undo(connection, applied)
        return await _replay(draft, content_hash, session)
    for account_id, row in rows:
        _refresh_identity_map(session, account_id, row)
    return TransferOut(
        id=transfer_id,
        idempotency_key=draft.idempotency_key,
        kind=draft.kind.value,
        phase=draft.phase,
        currency=draft.currency,
        total=draft.total,
        memo=draft.memo,
        reference=draft.reference,
        pending_id=draft.pending_id,
        reverses_id=draft.reverses_id,
        created_at=now,
        legs=[
            LegOut(account_id=leg.account_id, side=leg.side, amount=leg.amount)
            for leg in draft.legs
        ],
    )


async def _undo(connection: AsyncConnection, applied: list[dict[str, Any]]) -> None:
    """Take back account updates of a transfer that will not be written."""
    for params in reversed(applied):
        await connection.execute(_ACCOUNT_UNDO, params)


async def _replay(draft: TransferDraft, content_hash: str, session: AsyncSession) -> TransferOut:
    existing = await _load_transfer(
        LedgerTransfer.idempotency_key == draft.idempotency_key, session
    )
    if existing is None:
        if draft.pending_id is not None:
            raise AlreadyResolved("That pending transfer was already posted or voided.")
        raise AlreadyResolved("That transfer was already reversed.")
    if existing.content_hash != content_hash:
        raise IdempotencyConflict(
            "That idempotency key was already used for a different transfer.",
            data={"idempotency_key": draft.idempotency_key, "transfer_id": str(existing.id)},
        )
    return transfer_out(existing)


def _refresh_identity_map(session: AsyncSession, account_id: uuid.UUID, row: Any) -> None:
    """Keep an already loaded account object in step with the columns just updated."""
    account = session.sync_session.identity_map.get(identity_key(LedgerAccount, account_id))
    if account is not None:
        for name in (*BALANCE_COLUMNS, "entry_count"):
            set_committed_value(account, name, getattr(row, name))


async def _refused(
    leg: Leg, draft: TransferDraft, content_hash: str, session: AsyncSession
) -> TransferOut:
    """Why an account update was refused: a replay, a second resolution, or no money."""
    if await find_transfer_by_key(draft.idempotency_key, session=session) is not None:
        return await _replay(draft, content_hash, session)
    if draft.pending_id is not None and await find_resolution(draft.pending_id, session=session):
        raise AlreadyResolved("That pending transfer was already posted or voided.")
    if draft.reverses_id is not None and await _load_transfer(
        LedgerTransfer.reverses_id == draft.reverses_id, session
    ):
        raise AlreadyResolved("That transfer was already reversed.")
    account = await session.get(LedgerAccount, leg.account_id, populate_existing=True)
    if account is None:
        raise NotFound(
            "That ledger account does not exist.", data={"account_id": str(leg.account_id)}
        )
    if account.currency != draft.currency:
        raise InvalidTransfer(
            f"A {draft.currency} transfer cannot touch a {account.currency} account.",
            data={"account_id": str(account.id)},
        )
    raise InsufficientFunds(
        "There is not enough money in that account.",
        data={
            "account_id": str(account.id),
            "kind": account.kind,
            "available": balance_of(account).available.amount,
            "requested": leg.amount,
        },
    )


async def _pending(pending_id: uuid.UUID, session: AsyncSession) -> LedgerTransfer:
    pending = await _load_transfer(LedgerTransfer.id == pending_id, session)
    if pending is None:
        raise NotFound("That transfer does not exist.")
    if pending.phase != Phase.PENDING.value:
        raise InvalidTransfer("Only a pending transfer can be posted or voided.")
    return pending


def _legs_of(transfer: LedgerTransfer) -> tuple[Leg, ...]:
    return tuple(
        Leg(entry.account_id, Side(entry.side), entry.amount) for entry in transfer.entries
    )


async def _resolve(
    pending_id: uuid.UUID,
    phase: Phase,
    *,
    idempotency_key: str,
    kind: TransferKind,
    memo: str,
    session: AsyncSession,
) -> TransferOut:
    pending = await _pending(pending_id, session)
    draft = TransferDraft(
        idempotency_key,
        kind,
        pending.currency,
        _legs_of(pending),
        phase,
        memo,
        pending.reference,
        pending_id=pending.id,
    )
    return await post_transfer(draft, session=session)


async def post_pending(
    pending_id: uuid.UUID,
    *,
    idempotency_key: str,
    kind: TransferKind = TransferKind.ADJUSTMENT,
    memo: str = "",
    session: AsyncSession,
) -> TransferOut:
    """Post a pending transfer in full, exactly once."""
    return await _resolve(
        pending_id,
        Phase.POST_PENDING,
        idempotency_key=idempotency_key,
        kind=kind,
        memo=memo,
        session=session,
    )


async def void_pending(
    pending_id: uuid.UUID,
    *,
    idempotency_key: str,
    kind: TransferKind = TransferKind.ADJUSTMENT,
    memo: str = "",
    session: AsyncSession,
) -> TransferOut:
    """Void a pending transfer, releasing its reservations, exactly once."""
    return await _resolve(
        pending_id,
        Phase.VOID_PENDING,
        idempotency_key=idempotency_key,
        kind=kind,
        memo=memo,
        session=session,
    )


async def reverse_transfer(
    transfer_id: uuid.UUID,
    *,
    idempotency_key: str,
    kind: TransferKind = TransferKind.REVERSAL,
    memo: str = "",
    session: AsyncSession,
) -> TransferOut:
    """Undo a posted transfer with one that swaps every leg; a transfer is reversed at most once."""
    original = await _load_transfer(LedgerTransfer.id == transfer_id, session)
    if original is None:
        raise NotFound("That transfer does not exist.")
    if original.phase not in (Phase.POSTED.value, Phase.POST_PENDING.value):
        raise InvalidTransfer("Only posted money can be reversed; void a pending transfer.")
    if original.reverses_id is not None:
        raise InvalidTransfer("A reversal is not reversed; post a new transfer instead.")
    draft = TransferDraft(
        idempotency_key,
        kind,
        original.currency,
        reversal_legs(_legs_of(original)),
        Phase.POSTED,
        memo,
        original.reference,
        reverses_id=original.id,
    )
    return await post_transfer(draft, session=session)
