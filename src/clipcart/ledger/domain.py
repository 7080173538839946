"""Pure ledger rules: account kinds, balanced transfers, balance arithmetic, order splits."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum

from clipcart.core.money import Money, minor_unit_exponent
from clipcart.ledger.errors import InvalidTransfer, UnbalancedTransfer

PLATFORM_OWNER_ID = uuid.UUID(int=0)
MAX_KEY_LENGTH = 200
MAX_LEGS = 1000  # PostgreSQL takes at most 32,767 parameters in one statement (8 a leg)


class Side(StrEnum):
    """Which side of an account an entry is on."""

    DEBIT = "debit"
    CREDIT = "credit"

    @property
    def opposite(self) -> Side:
        """The other side (reversals swap every leg)."""
        return Side.CREDIT if self is Side.DEBIT else Side.DEBIT


class Phase(StrEnum):
    """How a transfer moves money: at once, reserved, or resolving a reservation."""

    POSTED = "posted"
    PENDING = "pending"
    POST_PENDING = "post_pending"
    VOID_PENDING = "void_pending"


class OwnerType(StrEnum):
    """Who an account belongs to."""

    PLATFORM = "platform"
    SHOP = "shop"
    USER = "user"
    ORDER = "order"


class AccountKind(StrEnum):
    """The accounts of the marketplace."""

    PROVIDER_CLEARING = "provider_clearing"
    BUYER_FUNDS_HELD = "buyer_funds_held"
    SELLER_BALANCE = "seller_balance"
    CREATOR_BALANCE = "creator_balance"
    PLATFORM_FEES = "platform_fees"
    REFUNDS = "refunds"
    PAYOUTS_IN_TRANSIT = "payouts_in_transit"


class TransferKind(StrEnum):
    """What a transfer means to the business (its mechanics are its Phase)."""

    PAYMENT_HOLD = "payment_hold"
    ORDER_SPLIT = "order_split"
    ORDER_RELEASE = "order_release"
    ORDER_SPLIT_VOID = "order_split_void"
    ORDER_REFUND = "order_refund"
    REFUND_SETTLED = "refund_settled"
    PAYOUT_REQUESTED = "payout_requested"
    PAYOUT_COMPLETED = "payout_completed"
    PAYOUT_FAILED = "payout_failed"
    REVERSAL = "reversal"
    ADJUSTMENT = "adjustment"


@dataclass(frozen=True, slots=True)
class KindRules:
    """How an account kind behaves."""

    normal_side: Side
    may_go_negative: bool
    owner_types: frozenset[OwnerType]


_PLATFORM = frozenset({OwnerType.PLATFORM})
_PAYEES = frozenset({OwnerType.SHOP, OwnerType.USER})

RULES: dict[AccountKind, KindRules] = {
    # Asset: money sitting at the payment provider.
    AccountKind.PROVIDER_CLEARING: KindRules(Side.DEBIT, False, _PLATFORM),
    # Liabilities: money owed to buyers (held per order), sellers, creators.
    AccountKind.BUYER_FUNDS_HELD: KindRules(Side.CREDIT, False, frozenset({OwnerType.ORDER})),
    # A seller's balance may go negative after a refund post-release; later sales recover it.
    AccountKind.SELLER_BALANCE: KindRules(Side.CREDIT, True, frozenset({OwnerType.SHOP})),
    AccountKind.CREATOR_BALANCE: KindRules(Side.CREDIT, True, frozenset({OwnerType.USER})),
    AccountKind.PLATFORM_FEES: KindRules(Side.CREDIT, False, _PLATFORM),
    AccountKind.REFUNDS: KindRules(Side.CREDIT, False, _PLATFORM),
    AccountKind.PAYOUTS_IN_TRANSIT: KindRules(Side.CREDIT, False, _PAYEES),
}


@dataclass(frozen=True, slots=True)
class Owner:
    """Who owns an account: the platform, a shop, a user (creator) or an order's escrow."""

    type: OwnerType
    id: uuid.UUID

    @classmethod
    def platform(cls) -> Owner:
        """The platform itself."""
        return cls(OwnerType.PLATFORM, PLATFORM_OWNER_ID)

    @classmethod
    def shop(cls, shop_id: uuid.UUID) -> Owner:
        """A shop (seller)."""
        return cls(OwnerType.SHOP, shop_id)

    @classmethod
    def creator(cls, user_id: uuid.UUID) -> Owner:
        """A user earning commission."""
        return cls(OwnerType.USER, user_id)


@dataclass(frozen=True, slots=True)
class AccountKey:
    """What identifies an account: kind, owner and currency."""

    kind: AccountKind
    owner: Owner
    currency: str

    def __post_init__(self) -> None:
        rules = RULES[self.kind]
        if self.owner.type not in rules.owner_types:
            raise InvalidTransfer(f"a {self.kind} account cannot belong to a {self.owner.type}")
        Money.zero(self.currency)  # refuses unknown currencies

    @property
    def rules(self) -> KindRules:
        """The rules of this account's kind."""
        return RULES[self.kind]


def payee_balance_kind(owner: Owner) -> AccountKind:
    """The balance account kind of a payee (shops are sellers, users are creators)."""
    if owner.type is OwnerType.SHOP:
        return AccountKind.SELLER_BALANCE
    if owner.type is OwnerType.USER:
        return AccountKind.CREATOR_BALANCE
    raise InvalidTransfer(f"a {owner.type} is not paid out")


@dataclass(frozen=True, slots=True)
class Leg:
    """One side of a transfer: `amount` minor units debited or credited to an account."""

    account_id: uuid.UUID
    side: Side
    amount: int


@dataclass(frozen=True, slots=True)
class TransferDraft:
    """A transfer about to be posted; refuses to exist unless it balances."""

    idempotency_key: str
    kind: TransferKind
    currency: str
    legs: tuple[Leg, ...]
    phase: Phase = Phase.POSTED
    memo: str = ""
    reference: str | None = None
    pending_id: uuid.UUID | None = None
    reverses_id: uuid.UUID | None = None
    # Accounts that must not be overdrawn by this transfer even if their kind may go negative.
    guarded: frozenset[uuid.UUID] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        check_transfer(self)

    @property
    def total(self) -> int:
        """The sum of the debits (equal to the sum of the credits)."""
        return sum(leg.amount for leg in self.legs if leg.side is Side.DEBIT)

    def content_hash(self) -> str:
        """A digest of what the transfer does, to tell a replay from a reused key."""
        content = [
            self.kind.value,
            self.phase.value,
            self.currency,
            sorted([str(leg.account_id), leg.side.value, leg.amount] for leg in self.legs),
            self.memo,
            self.reference,
            str(self.pending_id) if self.pending_id else None,
            str(self.reverses_id) if self.reverses_id else None,
        ]
        raw = json.dumps(content, separators=(",", ":"), sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()


def check_transfer(draft: TransferDraft) -> None:
    """Refuse a transfer that is empty, unbalanced, non-positive or touches an account twice."""
    if not draft.idempotency_key or len(draft.idempotency_key) > MAX_KEY_LENGTH:
        raise InvalidTransfer(f"an idempotency key has 1 to {MAX_KEY_LENGTH} characters")
    Money.zero(draft.currency)
    if len(draft.legs) < 2:
        raise InvalidTransfer("a transfer needs at least one debit and one credit")
    if len(draft.legs) > MAX_LEGS:
        raise InvalidTransfer(f"a transfer has at most {MAX_LEGS} legs")
    if len({leg.account_id for leg in draft.legs}) != len(draft.legs):
        raise InvalidTransfer("a transfer touches each account at most once")
    for leg in draft.legs:
        if not isinstance(leg.amount, int) or isinstance(leg.amount, bool) or leg.amount <= 0:
            raise InvalidTransfer("every leg moves a positive whole number of minor units")
    debits = sum(leg.amount for leg in draft.legs if leg.side is Side.DEBIT)
    credits = sum(leg.amount for leg in draft.legs if leg.side is Side.CREDIT)
    if debits != credits:
        raise UnbalancedTransfer(f"debits {debits} != credits {credits}")
    resolves = draft.phase in (Phase.POST_PENDING, Phase.VOID_PENDING)
    if resolves != (draft.pending_id is not None):
        raise InvalidTransfer("only a post or void of a pending transfer names a pending_id")
    if draft.reverses_id is not None and draft.phase is not Phase.POSTED:
        raise InvalidTransfer("a reversal is posted at once")


def simple_transfer(
    key: str,
    kind: TransferKind,
    *,
    debit: uuid.UUID,
    credit: uuid.UUID,
    amount: Money,
    phase: Phase = Phase.POSTED,
    memo: str = "",
    reference: str | None = None,
    guarded: frozenset[uuid.UUID] = frozenset(),
) -> TransferDraft:
    """A two-leg transfer, balanced by construction."""
    legs = (Leg(debit, Side.DEBIT, amount.amount), Leg(credit, Side.CREDIT, amount.amount))
    return TransferDraft(key, kind, amount.currency, legs, phase, memo, reference, guarded=guarded)


def split_transfer(
    key: str,
    kind: TransferKind,
    *,
    debit: uuid.UUID,
    credits: list[tuple[uuid.UUID, Money]],
    phase: Phase = Phase.POSTED,
    memo: str = "",
    reference: str | None = None,
) -> TransferDraft:
    """One debit fanned out to several credits; the debit is their sum, so it balances."""
    parts = [(account, money) for account, money in credits if money.amount != 0]
    if not parts:
        raise InvalidTransfer("a split needs at least one non-zero credit")
    total = parts[0][1]
    for _, money in parts[1:]:
        total = total + money
    credit_legs = [Leg(account, Side.CREDIT, money.amount) for account, money in parts]
    legs = (Leg(debit, Side.DEBIT, total.amount), *credit_legs)
    return TransferDraft(key, kind, total.currency, legs, phase, memo, reference)


def signed_transfer(
    key: str,
    kind: TransferKind,
    *,
    deltas: list[tuple[uuid.UUID, int]],
    currency: str,
    memo: str = "",
    reference: str | None = None,
) -> TransferDraft:
    """Legs from signed amounts (positive debits, negative credits) that must sum to zero."""
    legs = tuple(
        Leg(account, Side.DEBIT if delta > 0 else Side.CREDIT, abs(delta))
        for account, delta in deltas
        if delta != 0
    )
    return TransferDraft(key, kind, currency, legs, Phase.POSTED, memo, reference)


def reversal_legs(legs: tuple[Leg, ...]) -> tuple[Leg, ...]:
    """The legs that undo `legs`."""
    return tuple(Leg(leg.account_id, leg.side.opposite, leg.amount) for leg in legs)


@dataclass(frozen=True, slots=True)
class ColumnDeltas:
    """What one leg adds to an account's four balance columns."""

    posted_debits: int = 0
    posted_credits: int = 0
    pending_debits: int = 0
    pending_credits: int = 0


def column_deltas(phase: Phase, side: Side, amount: int) -> ColumnDeltas:
    """How a leg of a transfer in `phase` changes the posted and pending columns."""
    debit = side is Side.DEBIT
    if phase is Phase.POSTED:
        return ColumnDeltas(posted_debits=amount) if debit else ColumnDeltas(posted_credits=amount)
    if phase is Phase.PENDING:
        return (
            ColumnDeltas(pending_debits=amount) if debit else ColumnDeltas(pending_credits=amount)
        )
    if phase is Phase.POST_PENDING:
        if debit:
            return ColumnDeltas(posted_debits=amount, pending_debits=-amount)
        return ColumnDeltas(posted_credits=amount, pending_credits=-amount)
    return ColumnDeltas(pending_debits=-amount) if debit else ColumnDeltas(pending_credits=-amount)


def posted_effect(normal_side: Side, phase: Phase, side: Side, amount: int) -> int:
    """How much a leg moves the posted balance in the account's normal direction."""
    if phase not in (Phase.POSTED, Phase.POST_PENDING):
        return 0
    return amount if side is normal_side else -amount


@dataclass(frozen=True, slots=True)
class Balance:
    """An account's balances, read from its columns, in its normal direction."""

    currency: str
    normal_side: Side
    posted_debits: int
    posted_credits: int
    pending_debits: int
    pending_credits: int

    @property
    def posted(self) -> Money:
        """The settled balance (credits - debits for credit-normal accounts)."""
        if self.normal_side is Side.CREDIT:
            return Money(self.posted_credits - self.posted_debits, self.currency)
        return Money(self.posted_debits - self.posted_credits, self.currency)

    @property
    def pending(self) -> Money:
        """Reserved amounts not yet posted: incoming minus outgoing."""
        if self.normal_side is Side.CREDIT:
            return Money(self.pending_credits - self.pending_debits, self.currency)
        return Money(self.pending_debits - self.pending_credits, self.currency)

    @property
    def available(self) -> Money:
        """What may be spent now: posted minus outgoing reservations."""
        outgoing = self.pending_debits if self.normal_side is Side.CREDIT else self.pending_credits
        return self.posted - Money(outgoing, self.currency)


@dataclass(frozen=True, slots=True)
class OrderSplit:
    """Who gets what of an order's money: seller, creator commission, platform fee."""

    seller: Money
    creator: Money
    platform: Money

    @property
    def total(self) -> Money:
        """The whole amount split."""
        return self.seller + self.creator + self.platform

    def weights(self) -> list[int]:
        """The parts as allocation weights."""
        return [self.seller.amount, self.creator.amount, self.platform.amount]

    def minus(self, other: OrderSplit) -> OrderSplit:
        """Part by part difference."""
        return OrderSplit(
            self.seller - other.seller, self.creator - other.creator, self.platform - other.platform
        )


def split_order(amount: Money, *, fee_rate: Decimal, commission: Money | None) -> OrderSplit:
    """Platform fee on the gross amount, commission as given, the seller the exact remainder."""
    if amount.amount <= 0:
        raise InvalidTransfer("an order amount is positive")
    if not Decimal(0) <= fee_rate <= Decimal(1):
        raise InvalidTransfer("a fee rate is between 0 and 1")
    commission = commission if commission is not None else Money.zero(amount.currency)
    if commission.amount < 0:
        raise InvalidTransfer("a commission is not negative")
    fee = amount.apply_rate(fee_rate)
    seller = amount - fee - commission
    if seller.amount < 0:
        raise InvalidTransfer("fee and commission exceed the order amount")
    return OrderSplit(seller, commission, fee)


def refunded_share(terms: OrderSplit, refunded: Money) -> OrderSplit:
    """Each party's part of a cumulative refund, proportional to the split, to the cent."""
    if not Money.zero(refunded.currency) <= refunded <= terms.total:
        raise InvalidTransfer("a refund is between nothing and the order amount")
    seller, creator, platform = refunded.allocate(terms.weights())
    return OrderSplit(seller, creator, platform)


def refund_deltas(terms: OrderSplit, refunded_before: Money, refund: Money) -> OrderSplit:
    """What each party gives back for one more refund; the parts always sum to `refund`."""
    # A part may be -1 cent: largest-remainder rounding is not monotonic in the total.
    return refunded_share(terms, refunded_before + refund).minus(
        refunded_share(terms, refunded_before)
    )


def remaining_split(terms: OrderSplit, refunded: Money) -> OrderSplit:
    """What is still owed to each party after `refunded` went back to the buyer."""
    return terms.minus(refunded_share(terms, refunded))


def minimum_payout(minimum: Decimal, currency: str) -> Money:
    """The configured minimum payout in `currency`, rounded up to its minor unit."""
    scaled = minimum.scaleb(minor_unit_exponent(currency)).to_integral_value(ROUND_CEILING)
    return Money(int(scaled), currency)
