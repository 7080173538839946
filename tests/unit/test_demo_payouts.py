"""How the demo splits a payee's available balance into its paid payout and the one in transit."""

from __future__ import annotations

from clipcart.core.money import Money
from clipcart.demo.payouts import payout_amounts


def test_payout_amounts_are_whole_above_the_minimum_and_within_the_balance() -> None:
    minimum = Money(1000, "USD")
    assert payout_amounts(Money(9550, "USD"), minimum) == [Money(4700, "USD"), Money(1600, "USD")]
    assert payout_amounts(Money(2500, "USD"), minimum) == [Money(1200, "USD"), Money(1000, "USD")]
    assert payout_amounts(Money(1900, "USD"), minimum) == [Money(1000, "USD")]  # 9.00 left
    assert payout_amounts(Money(999, "USD"), minimum) == []
