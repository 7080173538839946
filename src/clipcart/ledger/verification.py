"""Ledger verification: stored balances against the entries, and every transfer's balance.

Each check is one SQL statement, so each sees one consistent snapshot even while money moves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.ledger.models import LedgerAccount, LedgerEntry, LedgerTransfer
from clipcart.ledger.schemas import Discrepancy

_a = LedgerAccount.__table__
_t = LedgerTransfer.__table__
_e = LedgerEntry.__table__

POSTED_PHASES = ("posted", "post_pending")
RESOLVING_PHASES = ("post_pending", "void_pending")

CHECKS: tuple[str, ...] = (
    "account totals",
    "transfer balance",
    "currency totals",
    "pending resolutions",
    "reversals",
    "running balances",
)


def _sum_when(condition: Any, value: Any) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


def _found(check: str, subject: Any, expected: Any, actual: Any, detail: str) -> Discrepancy:
    return Discrepancy(
        check=check,
        subject=str(subject),
        expected=None if expected is None else int(expected),
        actual=None if actual is None else int(actual),
        detail=detail,
    )


async def _account_totals(session: AsyncSession) -> list[Discrepancy]:
    joined = _e.join(_t, _t.c.id == _e.c.transfer_id)
    debit, credit = _e.c.side == "debit", _e.c.side == "credit"
    posted, pending = _t.c.phase.in_(POSTED_PHASES), _t.c.phase == "pending"
    resolving = _t.c.phase.in_(RESOLVING_PHASES)
    sums = (
        select(
            _e.c.account_id,
            _sum_when(and_(debit, posted), _e.c.amount).label("posted_debits"),
            _sum_when(and_(credit, posted), _e.c.amount).label("posted_credits"),
            func.coalesce(
                func.sum(
                    case(
                        (and_(debit, pending), _e.c.amount),
                        (and_(debit, resolving), -_e.c.amount),
                        else_=0,
                    )
                ),
                0,
            ).label("pending_debits"),
            func.coalesce(
                func.sum(
                    case(
                        (and_(credit, pending), _e.c.amount),
                        (and_(credit, resolving), -_e.c.amount),
                        else_=0,
                    )
                ),
                0,
            ).label("pending_credits"),
            func.count().label("entry_count"),
            func.max(_e.c.account_seq).label("last_seq"),
        )
        .select_from(joined)
        .group_by(_e.c.account_id)
        .subquery()
    )
    names = ("posted_debits", "posted_credits", "pending_debits", "pending_credits", "entry_count")
    summed = {name: func.coalesce(sums.c[name], 0) for name in names}
    credit_available = _a.c.posted_credits - _a.c.posted_debits - _a.c.pending_debits
    debit_available = _a.c.posted_debits - _a.c.posted_credits - _a.c.pending_credits
    overdrawn = and_(
        ~_a.c.may_go_negative,
        or_(
            and_(_a.c.normal_side == "credit", credit_available < 0),
            and_(_a.c.normal_side == "debit", debit_available < 0),
        ),
    )
    statement = (
        select(
            _a.c.id,
            *(_a.c[name] for name in names),
            *(summed[name].label(f"sum_{name}") for name in names),
            func.coalesce(sums.c.last_seq, 0).label("last_seq"),
            overdrawn.label("overdrawn"),
        )
        .select_from(_a.outerjoin(sums, sums.c.account_id == _a.c.id))
        .where(
            or_(
                overdrawn,
                func.coalesce(sums.c.last_seq, 0) != _a.c.entry_count,
                *(summed[name] != _a.c[name] for name in names),
            )
        )
    )
    found: list[Discrepancy] = []
    for row in await session.execute(statement):
        for name in names:
            stored, summed_value = getattr(row, name), getattr(row, f"sum_{name}")
            if stored != summed_value:
                found.append(
                    _found("account totals", row.id, summed_value, stored, f"{name} != entries")
                )
        if row.last_seq != row.entry_count:
            found.append(
                _found("account totals", row.id, row.entry_count, row.last_seq, "entry numbering")
            )
        if row.overdrawn:
            found.append(
                _found("account totals", row.id, 0, None, "overdrawn, though it may not be")
            )
    return found


async def _transfer_balance(session: AsyncSession) -> list[Discrepancy]:
    sums = (
        select(
            _e.c.transfer_id,
            _sum_when(_e.c.side == "debit", _e.c.amount).label("debits"),
            _sum_when(_e.c.side == "credit", _e.c.amount).label("credits"),
            func.count().label("legs"),
        )
        .group_by(_e.c.transfer_id)
        .subquery()
    )
    statement = (
        select(_t.c.id, _t.c.total, sums.c.debits, sums.c.credits, sums.c.legs)
        .select_from(_t.outerjoin(sums, sums.c.transfer_id == _t.c.id))
        .where(
            or_(
                sums.c.transfer_id.is_(None),
                sums.c.debits != sums.c.credits,
                sums.c.debits != _t.c.total,
                sums.c.legs < 2,
            )
        )
    )
    found = [
        _found("transfer balance", row.id, row.debits, row.credits, "debits != credits or total")
        for row in await session.execute(statement)
    ]
    mismatched = (
        select(_e.c.transfer_id, _e.c.account_id)
        .select_from(_e.join(_t, _t.c.id == _e.c.transfer_id).join(_a, _a.c.id == _e.c.account_id))
        .where(_a.c.currency != _t.c.currency)
    )
    found += [
        _found("transfer balance", row.transfer_id, None, None, f"currency of {row.account_id}")
        for row in await session.execute(mismatched)
    ]
    return found


async def _currency_totals(session: AsyncSession) -> list[Discrepancy]:
    entries = (
        select(
            _t.c.currency,
            _sum_when(_e.c.side == "debit", _e.c.amount).label("debits"),
            _sum_when(_e.c.side == "credit", _e.c.amount).label("credits"),
        )
        .select_from(_e.join(_t, _t.c.id == _e.c.transfer_id))
        .group_by(_t.c.currency)
    )
    columns = select(
        _a.c.currency,
        func.sum(_a.c.posted_debits).label("debits"),
        func.sum(_a.c.posted_credits).label("credits"),
    ).group_by(_a.c.currency)
    found = []
    for label, statement in (("all entries", entries), ("posted balances", columns)):
        for row in await session.execute(statement):
            if row.debits != row.credits:
                detail = f"{label}: total debits != total credits"
                found.append(
                    _found("currency totals", row.currency, row.debits, row.credits, detail)
                )
    return found


async def _mirrors(
    session: AsyncSession, *, check: str, link: str, same_side: bool
) -> list[Discrepancy]:
    """Entries of transfers linked by `link` must repeat (or swap) their original's legs."""
    own, original = _e.alias("own"), _e.alias("original")
    linked = _t.c[link]
    side_matches = original.c.side == own.c.side if same_side else original.c.side != own.c.side
    statement = (
        select(_t.c.id, own.c.account_id, own.c.amount, original.c.amount.label("original_amount"))
        .select_from(
            _t.join(own, own.c.transfer_id == _t.c.id).outerjoin(
                original,
                and_(
                    original.c.transfer_id == linked,
                    original.c.account_id == own.c.account_id,
                    side_matches,
                ),
            )
        )
        .where(
            linked.is_not(None),
            or_(original.c.amount.is_(None), original.c.amount != own.c.amount),
        )
    )
    found = [
        _found(check, row.id, row.original_amount, row.amount, f"leg on {row.account_id}")
        for row in await session.execute(statement)
    ]
    own_legs = select(func.count()).where(_e.c.transfer_id == _t.c.id).scalar_subquery()
    original_legs = select(func.count()).where(_e.c.transfer_id == linked).scalar_subquery()
    counted = select(_t.c.id, own_legs.label("own"), original_legs.label("original")).where(
        linked.is_not(None), own_legs != original_legs
    )
    found += [
        _found(check, row.id, row.original, row.own, "number of legs")
        for row in await session.execute(counted)
    ]
    if link == "pending_id":
        target = _t.alias("target")
        wrong = (
            select(_t.c.id)
            .select_from(_t.join(target, target.c.id == _t.c.pending_id))
            .where(target.c.phase != "pending")
        )
        found += [
            _found(check, row.id, None, None, "resolves a transfer that is not pending")
            for row in await session.execute(wrong)
        ]
    return found


async def _running_balances(session: AsyncSession) -> list[Discrepancy]:
    effect = case(
        (
            _t.c.phase.in_(POSTED_PHASES),
            case((_e.c.side == _a.c.normal_side, _e.c.amount), else_=-_e.c.amount),
        ),
        else_=literal(0),
    )
    running = (
        select(
            _e.c.account_id,
            _e.c.account_seq,
            _e.c.balance_after,
            func.sum(effect)
            .over(partition_by=_e.c.account_id, order_by=_e.c.account_seq)
            .label("running"),
            func.row_number()
            .over(partition_by=_e.c.account_id, order_by=_e.c.account_seq)
            .label("position"),
        )
        .select_from(_e.join(_t, _t.c.id == _e.c.transfer_id).join(_a, _a.c.id == _e.c.account_id))
        .subquery()
    )
    statement = select(running).where(
        or_(
            running.c.running != running.c.balance_after,
            running.c.position != running.c.account_seq,
        )
    )
    return [
        _found(
            "running balances",
            f"{row.account_id}#{row.account_seq}",
            row.running,
            row.balance_after,
            "balance after entry" if row.position == row.account_seq else "gap in numbering",
        )
        for row in await session.execute(statement)
    ]


async def verify_ledger(
    *, session: AsyncSession, on_check: Callable[[str], None] | None = None
) -> list[Discrepancy]:
    """Everything that does not add up; an empty list means the ledger is consistent."""
    steps: dict[str, Callable[[AsyncSession], Awaitable[list[Discrepancy]]]] = {
        "account totals": _account_totals,
        "transfer balance": _transfer_balance,
        "currency totals": _currency_totals,
        "pending resolutions": lambda s: _mirrors(
            s, check="pending resolutions", link="pending_id", same_side=True
        ),
        "reversals": lambda s: _mirrors(s, check="reversals", link="reverses_id", same_side=False),
        "running balances": _running_balances,
    }
    found: list[Discrepancy] = []
    for name in CHECKS:
        found += await steps[name](session)
        if on_check is not None:
            on_check(name)
    return found
