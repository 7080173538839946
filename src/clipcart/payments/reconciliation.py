"""Does what the provider captured match what the ledger holds? Every captured intent must
have exactly its captured amount held (or already released/refunded) in the ledger."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core.errors import NotFound
from clipcart.ledger import service as ledger
from clipcart.ledger.schemas import Discrepancy
from clipcart.payments.models import PaymentIntent


async def verify_captures_match_ledger(*, session: AsyncSession) -> list[Discrepancy]:
    """One discrepancy per captured payment whose ledger hold is missing or differs."""
    found: list[Discrepancy] = []
    captured = await session.scalars(
        select(PaymentIntent)
        .where(PaymentIntent.amount_captured > 0)
        .order_by(PaymentIntent.created_at, PaymentIntent.id)
    )
    for intent in captured:
        subject = f"payment {intent.id} (order {intent.order_ref})"
        try:
            escrow = await ledger.get_escrow(intent.order_ref, session=session)
        except NotFound:
            found.append(
                Discrepancy(
                    check="capture_has_ledger_hold",
                    subject=subject,
                    expected=intent.amount_captured,
                    actual=None,
                    detail="captured at the provider but never held in the ledger",
                )
            )
            continue
        if escrow.amount != intent.amount_captured or escrow.currency != intent.currency:
            found.append(
                Discrepancy(
                    check="capture_matches_ledger_hold",
                    subject=subject,
                    expected=intent.amount_captured,
                    actual=escrow.amount,
                    detail=f"provider captured {intent.currency}, ledger holds {escrow.currency}",
                )
            )
    return found
