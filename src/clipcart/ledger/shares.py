"""Creator shares of an order's escrow (pure): an order whose lines earn commissions for
several creators is split portion by portion, each with its own seller / creator / fee split.

A portion is one credited line (its paid amount, its creator and commission) or "the rest" of
the order (lines nobody earns on, shipping). Each refund is assigned to portions when it
happens, and the assignment is kept (`refunded` per line): first to the lines it was declared
for (`claim`, what commerce says the line has had back in all), then to the rest, then to the
other lines. Within a portion the cumulative refund is shared out with
`domain.refunded_share`, so any sequence of refunds adds up exactly, a line's refund claws back
exactly that line's commission, and no party's remaining share goes negative.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from clipcart.core.money import Money
from clipcart.ledger.domain import OrderSplit, refunded_share, split_order
from clipcart.ledger.errors import InvalidTransfer


@dataclass(frozen=True, slots=True)
class CreatorShare:
    """A commission one order line earns a creator: the line's paid amount and the commission."""

    line_ref: str
    creator_id: uuid.UUID
    amount: int
    commission: int
    claim: int = 0
    refunded: int = 0


@dataclass(frozen=True, slots=True)
class Portion:
    """Part of an order's money with its own split (line_ref None: the rest of the order)."""

    line_ref: str | None
    creator_id: uuid.UUID | None
    split: OrderSplit
    claim: int = 0
    refunded: int = 0  # what refunds assigned to this line so far (the rest: derived)

    @property
    def amount(self) -> int:
        """The portion's whole amount."""
        return self.split.total.amount


@dataclass(frozen=True, slots=True)
class Parties:
    """What each party gets (or gives back): seller, platform fee, each creator."""

    seller: Money
    platform: Money
    creators: dict[uuid.UUID, Money] = field(default_factory=dict)

    @property
    def creator_total(self) -> Money:
        """All creators together."""
        total = Money.zero(self.seller.currency)
        for money in self.creators.values():
            total = total + money
        return total

    @property
    def total(self) -> Money:
        """Everything."""
        return self.seller + self.platform + self.creator_total

    def minus(self, other: Parties) -> Parties:
        """Party by party difference."""
        creators = {
            creator: self.creators.get(creator, Money.zero(self.seller.currency))
            - other.creators.get(creator, Money.zero(self.seller.currency))
            for creator in {*self.creators, *other.creators}
        }
        return Parties(self.seller - other.seller, self.platform - other.platform, creators)


def order_portions(
    amount: Money, *, fee_rate: Decimal, shares: list[CreatorShare]
) -> list[Portion]:
    """The portions of an order: one per credited line (capped by what is left of the order),
    then the rest. The fee is taken per portion; a commission never exceeds what the line
    leaves after the fee."""
    portions: list[Portion] = []
    left = amount.amount
    for share in shares:
        if share.commission < 0 or share.amount < 0:
            raise InvalidTransfer("a creator share is not negative")
        line_amount = min(share.amount, left)
        if line_amount <= 0:
            continue
        money = Money(line_amount, amount.currency)
        fee = money.apply_rate(fee_rate)
        commission = Money(min(share.commission, line_amount - fee.amount), amount.currency)
        split = split_order(money, fee_rate=fee_rate, commission=commission)
        portions.append(
            Portion(share.line_ref, share.creator_id, split, share.claim, share.refunded)
        )
        left -= line_amount
    if left > 0:
        rest = split_order(Money(left, amount.currency), fee_rate=fee_rate, commission=None)
        portions.append(Portion(None, None, rest))
    return portions


def assigned_so_far(portions: list[Portion], refunded: int) -> list[int]:
    """Per portion, what the refunds so far (`refunded` in all) were assigned to it: the
    lines' as kept, the rest of the order the remainder."""
    lines = sum(portion.refunded for portion in portions if portion.line_ref is not None)
    return [
        portion.refunded if portion.line_ref is not None else max(0, refunded - lines)
        for portion in portions
    ]


def assign_refund(portions: list[Portion], previous: list[int], amount: int) -> list[int]:
    """Per portion, the cumulative refund after one more refund of `amount`: to the lines
    it was declared for first, then the rest of the order, then the other lines in order."""
    if amount < 0 or sum(previous) + amount > sum(portion.amount for portion in portions):
        raise InvalidTransfer("a refund is between nothing and what is left of the order")
    assigned = list(previous)
    left = amount
    claimed = [index for index, portion in enumerate(portions) if portion.line_ref is not None]
    rest = [index for index, portion in enumerate(portions) if portion.line_ref is None]
    for index in claimed:
        target = min(portions[index].claim, portions[index].amount)
        take = min(left, max(0, target - assigned[index]))
        assigned[index] += take
        left -= take
    for index in [*rest, *claimed]:
        take = min(left, portions[index].amount - assigned[index])
        assigned[index] += take
        left -= take
    return assigned


def _parties(currency: str, splits: list[tuple[uuid.UUID | None, OrderSplit]]) -> Parties:
    zero = Money.zero(currency)
    seller, platform = zero, zero
    creators: dict[uuid.UUID, Money] = {}
    for creator_id, split in splits:
        seller, platform = seller + split.seller, platform + split.platform
        if creator_id is not None:
            creators[creator_id] = creators.get(creator_id, zero) + split.creator
    return Parties(seller, platform, creators)


def party_totals(portions: list[Portion], currency: str) -> Parties:
    """What each party gets of the whole order."""
    return _parties(currency, [(portion.creator_id, portion.split) for portion in portions])


def refunded_parts(portions: list[Portion], assigned: list[int], currency: str) -> Parties:
    """Each party's part of the refunds assigned to each portion, to the cent."""
    return _parties(
        currency,
        [
            (portion.creator_id, refunded_share(portion.split, Money(part, currency)))
            for portion, part in zip(portions, assigned, strict=True)
        ],
    )


def line_clawbacks(portions: list[Portion], currency: str) -> dict[str, Money]:
    """Per credited line, how much of its commission the refunds assigned to it took back."""
    return {
        portion.line_ref: refunded_share(portion.split, Money(portion.refunded, currency)).creator
        for portion in portions
        if portion.line_ref is not None
    }
