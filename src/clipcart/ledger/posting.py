"""The posting engine: balanced transfers, one- and two-phase, and reversals.

Posting turns a draft into what is written (legs in account primary-key order with what each
adds to the balance columns) and hands it to transfer_writes, which locks the accounts, refuses
an overdraft or a replay without leaving a trace, and writes balances, transfer and entries in
the caller's transaction (one statement on PostgreSQL). What to answer when nothing was written
(a replay, a second resolution, no money) is decided here, off the hot path.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from clipcart.core import clock
from clipcart.core.errors import NotFound
from clipcart.core.ids import new_id
from clipcart.ledger.accounts import BALANCE_COLUMNS, balance_of
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
from clipcart.ledger.models import LedgerAccount, LedgerTransfer
from clipcart.ledger.schemas import LegOut, TransferOut
from clipcart.ledger.transfer_writes import AccountTotals, LegWrite, TransferWrite, write_transfer


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


async def post_transfer(draft: TransferDraft, *, session: AsyncSession) -> TransferOut:
    """Post `draft` (or return the transfer already posted with its key and same content)."""
    connection = await session.connection()
    content_hash = draft.content_hash()
    write = TransferWrite(
        id=new_id(),
        created_at=clock.now(),
        idempotency_key=draft.idempotency_key,
        kind=draft.kind.value,
        phase=draft.phase.value,
        currency=draft.currency,
        total=draft.total,
        memo=draft.memo,
        reference=draft.reference,
        content_hash=content_hash,
        pending_id=draft.pending_id,
        reverses_id=draft.reverses_id,
        legs=tuple(
            LegWrite(
                leg.account_id,
                leg.side,
                leg.amount,
                column_deltas(draft.phase, leg.side, leg.amount),
                leg.account_id in draft.guarded,
            )
            # Row locks are taken in primary-key order: crossing transfers cannot deadlock.
            for leg in sorted(draft.legs, key=lambda leg: leg.account_id)
        ),
    )
    outcome = await write_transfer(connection, write)
    if outcome.refused_account_id is not None:
        return await _refused(outcome.refused_account_id, draft, content_hash, session)
    if not outcome.written:
        return await _replay(draft, content_hash, session)
    for totals in outcome.totals:
        _refresh_identity_map(session, totals)
    return TransferOut(
        id=write.id,
        idempotency_key=draft.idempotency_key,
        kind=draft.kind.value,
        phase=draft.phase,
        currency=draft.currency,
        total=write.total,
        memo=draft.memo,
        reference=draft.reference,
        pending_id=draft.pending_id,
        reverses_id=draft.reverses_id,
        created_at=write.created_at,
        legs=[
            LegOut(account_id=leg.account_id, side=leg.side, amount=leg.amount)
            for leg in draft.legs
        ],
    )


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


def _refresh_identity_map(session: AsyncSession, totals: AccountTotals) -> None:
    """Keep an already loaded account object in step with the columns just updated."""
    identity_map = session.sync_session.identity_map
    if not identity_map:  # nothing loaded (the common case): skip building the key
        return
    account = identity_map.get(identity_key(LedgerAccount, totals.account_id))
    if account is not None:
        for name in (*BALANCE_COLUMNS, "entry_count"):
            set_committed_value(account, name, getattr(totals, name))


async def _refused(
    account_id: uuid.UUID, draft: TransferDraft, content_hash: str, session: AsyncSession
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
    account = await session.get(LedgerAccount, account_id, populate_existing=True)
    if account is None:
        raise NotFound("That ledger account does not exist.", data={"account_id": str(account_id)})
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
            "requested": next(leg.amount for leg in draft.legs if leg.account_id == account_id),
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
