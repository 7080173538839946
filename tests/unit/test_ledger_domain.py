"""Pure ledger rules: transfers balance, splits and refunds never lose or invent a cent."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clipcart.core.money import Money
from clipcart.ledger.domain import (
    MAX_LEGS,
    AccountKey,
    AccountKind,
    Balance,
    Leg,
    Owner,
    Phase,
    Side,
    TransferDraft,
    TransferKind,
    column_deltas,
    minimum_payout,
    refund_deltas,
    refunded_share,
    remaining_split,
    reversal_legs,
    signed_transfer,
    simple_transfer,
    split_order,
    split_transfer,
)
from clipcart.ledger.errors import InvalidTransfer, UnbalancedTransfer

A, B, C = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
USD = "USD"

amounts = st.integers(min_value=1, max_value=10**12)
rates = st.decimals(min_value=0, max_value=Decimal("0.3"), places=4)


def usd(amount: int) -> Money:
    return Money(amount, USD)


def test_an_unbalanced_transfer_cannot_be_made() -> None:
    legs = (Leg(A, Side.DEBIT, 100), Leg(B, Side.CREDIT, 99))
    with pytest.raises(UnbalancedTransfer):
        TransferDraft("k", TransferKind.ADJUSTMENT, USD, legs)


@pytest.mark.parametrize(
    "legs",
    [
        (Leg(A, Side.DEBIT, 100),),
        (Leg(A, Side.DEBIT, 0), Leg(B, Side.CREDIT, 0)),
        (Leg(A, Side.DEBIT, -5), Leg(B, Side.CREDIT, -5)),
        (Leg(A, Side.DEBIT, 5), Leg(A, Side.CREDIT, 5)),
    ],
    ids=["one leg", "zero", "negative", "same account twice"],
)
def test_malformed_transfers_are_refused(legs: tuple[Leg, ...]) -> None:
    with pytest.raises(InvalidTransfer):
        TransferDraft("k", TransferKind.ADJUSTMENT, USD, legs)


def test_only_resolutions_name_a_pending_transfer() -> None:
    legs = (Leg(A, Side.DEBIT, 1), Leg(B, Side.CREDIT, 1))
    with pytest.raises(InvalidTransfer):
        TransferDraft("k", TransferKind.ADJUSTMENT, USD, legs, Phase.POST_PENDING)
    with pytest.raises(InvalidTransfer):
        TransferDraft("k", TransferKind.ADJUSTMENT, USD, legs, Phase.POSTED, pending_id=C)


def test_an_idempotency_key_is_required_and_bounded() -> None:
    legs = (Leg(A, Side.DEBIT, 1), Leg(B, Side.CREDIT, 1))
    for key in ("", "x" * 201):
        with pytest.raises(InvalidTransfer):
            TransferDraft(key, TransferKind.ADJUSTMENT, USD, legs)


def test_a_transfer_has_a_bounded_number_of_legs() -> None:
    def legs(count: int) -> tuple[Leg, ...]:
        credits = tuple(Leg(uuid.uuid4(), Side.CREDIT, 1) for _ in range(count - 1))
        return (Leg(A, Side.DEBIT, count - 1), *credits)

    TransferDraft("k", TransferKind.ADJUSTMENT, USD, legs(MAX_LEGS))
    with pytest.raises(InvalidTransfer, match="at most 1000 legs"):
        TransferDraft("k", TransferKind.ADJUSTMENT, USD, legs(MAX_LEGS + 1))


@given(st.lists(amounts, min_size=1, max_size=6))
def test_a_split_balances_by_construction(parts: list[int]) -> None:
    credits = [(uuid.uuid4(), usd(part)) for part in parts]
    draft = split_transfer("k", TransferKind.ADJUSTMENT, debit=A, credits=credits)
    debits = sum(leg.amount for leg in draft.legs if leg.side is Side.DEBIT)
    assert debits == sum(parts) == draft.total


@given(st.lists(st.integers(-(10**9), 10**9).filter(bool), min_size=1, max_size=5))
def test_signed_legs_balance_when_they_sum_to_zero(deltas: list[int]) -> None:
    pairs = [(uuid.uuid4(), delta) for delta in deltas]
    pairs.append((uuid.uuid4(), -sum(deltas)))
    if sum(deltas) == 0:
        pairs.pop()
    if len([p for p in pairs if p[1]]) < 2:
        return
    draft = signed_transfer("k", TransferKind.ADJUSTMENT, deltas=pairs, currency=USD)
    assert sum(leg.amount for leg in draft.legs if leg.side is Side.CREDIT) == draft.total


def test_the_content_hash_ignores_leg_order_but_not_amounts() -> None:
    first = simple_transfer("k", TransferKind.ADJUSTMENT, debit=A, credit=B, amount=usd(5))
    legs = tuple(reversed(first.legs))
    same = TransferDraft("k", TransferKind.ADJUSTMENT, USD, legs)
    other = simple_transfer("k", TransferKind.ADJUSTMENT, debit=A, credit=B, amount=usd(6))
    assert first.content_hash() == same.content_hash() != other.content_hash()


def test_a_reversal_swaps_every_leg() -> None:
    legs = (Leg(A, Side.DEBIT, 7), Leg(B, Side.CREDIT, 7))
    assert reversal_legs(legs) == (Leg(A, Side.CREDIT, 7), Leg(B, Side.DEBIT, 7))


def test_column_deltas_move_reservations_into_posted() -> None:
    assert column_deltas(Phase.PENDING, Side.DEBIT, 5).pending_debits == 5
    posted = column_deltas(Phase.POST_PENDING, Side.CREDIT, 5)
    assert (posted.posted_credits, posted.pending_credits) == (5, -5)
    assert column_deltas(Phase.VOID_PENDING, Side.DEBIT, 5).pending_debits == -5


def test_balances_follow_the_normal_side() -> None:
    liability = Balance(USD, Side.CREDIT, 30, 100, 20, 50)
    assert liability.posted == usd(70)
    assert liability.pending == usd(30)
    assert liability.available == usd(50)
    asset = Balance(USD, Side.DEBIT, 100, 30, 0, 10)
    assert asset.posted == usd(70)
    assert asset.available == usd(60)


def test_account_kinds_know_their_owners() -> None:
    shop = Owner.shop(A)
    assert AccountKey(AccountKind.SELLER_BALANCE, shop, USD).rules.may_go_negative
    with pytest.raises(InvalidTransfer):
        AccountKey(AccountKind.PROVIDER_CLEARING, shop, USD)
    assert not AccountKey(
        AccountKind.PROVIDER_CLEARING, Owner.platform(), USD
    ).rules.may_go_negative


@given(amounts, rates, st.floats(min_value=0, max_value=0.5))
def test_an_order_split_adds_up_exactly(
    amount: int, rate: Decimal, commission_share: float
) -> None:
    commission = usd(int(amount * commission_share))
    split = split_order(usd(amount), fee_rate=rate, commission=commission)
    assert split.total == usd(amount)
    assert split.platform == usd(amount).apply_rate(rate)
    assert split.creator == commission
    assert split.seller.amount >= 0


def test_an_order_split_refuses_more_than_the_order() -> None:
    with pytest.raises(InvalidTransfer):
        split_order(usd(100), fee_rate=Decimal("0.05"), commission=usd(96))


@settings(deadline=None)
@given(amounts, rates, st.floats(min_value=0, max_value=0.5), st.data())
def test_any_sequence_of_partial_refunds_returns_exactly_the_split(
    amount: int, rate: Decimal, commission_share: float, data: st.DataObject
) -> None:
    terms = split_order(usd(amount), fee_rate=rate, commission=usd(int(amount * commission_share)))
    refunded = usd(0)
    given_back = [usd(0), usd(0), usd(0)]
    partial = data.draw(st.lists(st.integers(1, amount), max_size=5))
    for step in range(len(partial) + 1):
        left = (terms.total - refunded).amount
        if left == 0:
            break
        refund = usd(min(partial[step], left) if step < len(partial) else left)
        deltas = refund_deltas(terms, refunded, refund)
        assert deltas.total == refund
        given_back = [
            given_back[0] + deltas.seller,
            given_back[1] + deltas.creator,
            given_back[2] + deltas.platform,
        ]
        refunded = refunded + refund
        remaining = remaining_split(terms, refunded)
        assert min(remaining.weights()) >= 0
        assert remaining.total == terms.total - refunded
        assert refunded_share(terms, refunded).weights() == [m.amount for m in given_back]
    assert given_back == [terms.seller, terms.creator, terms.platform]


def test_a_party_without_a_share_never_gives_anything_back() -> None:
    terms = split_order(usd(1001), fee_rate=Decimal("0.05"), commission=None)
    for refunded in range(0, 1001, 7):
        assert refunded_share(terms, usd(refunded)).creator == usd(0)


def test_the_minimum_payout_is_rounded_up_to_the_minor_unit() -> None:
    assert minimum_payout(Decimal("10"), USD) == usd(1000)
    assert minimum_payout(Decimal("0.005"), USD) == usd(1)
    assert minimum_payout(Decimal("10"), "JPY") == Money(10, "JPY")
