"""Money: integer minor units plus an ISO 4217 currency. Never a float."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from babel.numbers import format_currency, get_currency_precision, list_currencies

KNOWN_CURRENCIES = frozenset(list_currencies())


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


def minor_unit_exponent(currency: str) -> int:
    """How many decimal places the currency's minor unit has (JPY 0, USD 2, BHD 3)."""
    if currency not in KNOWN_CURRENCIES:
        raise ValueError(f"unknown currency {currency!r}")
    return int(get_currency_precision(currency))


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An exact amount of one currency, in its minor unit (cents for USD)."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        minor_unit_exponent(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Nothing, in `currency`."""
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, value: Decimal | str, currency: str) -> Money:
        """Parse a major-unit amount like "19.99"; refuses more decimals than the currency has."""
        exponent = minor_unit_exponent(currency)
        try:
            # Fraction is exact; Decimal arithmetic would round past 28 significant digits.
            scaled = Fraction(Decimal(value)) * 10**exponent
        except (InvalidOperation, OverflowError, ValueError) as error:
            raise ValueError(f"{value!r} is not an amount") from error
        if scaled.denominator != 1:
            raise ValueError(f"{value} has more decimals than {currency} allows")
        return cls(int(scaled), currency)

    def to_decimal(self) -> Decimal:
        """The amount in major units, exactly."""
        return Decimal(self.amount).scaleb(-minor_unit_exponent(self.currency))

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError("can only combine Money with Money")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._check(other)
        return self.amount >= other.amount

    def times(self, quantity: int) -> Money:
        """This amount `quantity` times (line totals)."""
        return Money(self.amount * quantity, self.currency)

    def apply_rate(self, rate: Decimal | Fraction | str, *, bankers: bool = False) -> Money:
        """This amount times a rate (fees, tax, commission), rounded half-up to the minor unit."""
        exact = Fraction(self.amount) * Fraction(str(rate))  # str: a float means what it prints
        if bankers:
            return Money(round(exact), self.currency)
        # half away from zero, so a refund rounds exactly like the charge it reverses
        units = math.floor(abs(exact) + Fraction(1, 2))
        return Money(units if exact >= 0 else -units, self.currency)

    def allocate(self, weights: list[int]) -> list[Money]:
        """Split into parts proportional to `weights`; the parts always sum to this amount."""
        if not weights or any(weight < 0 for weight in weights) or sum(weights) == 0:
            raise ValueError("weights must be non-negative and not all zero")
        if self.amount < 0:
            # a refund is split exactly like the charge it reverses
            return [-part for part in (-self).allocate(weights)]
        total = sum(weights)
        shares = [self.amount * weight // total for weight in weights]
        remainder = self.amount - sum(shares)
        order = sorted(
            range(len(weights)),
            key=lambda i: (self.amount * weights[i]) % total,
            reverse=True,
        )
        for index in order[: abs(remainder)]:
            shares[index] += 1 if remainder > 0 else -1
        return [Money(share, self.currency) for share in shares]

    def format(self, locale: str = "en_US") -> str:
        """The amount as a person reads it, for `locale` ("$19.99", "19,99 €")."""
        return str(format_currency(self.to_decimal(), self.currency, locale=locale))

    def __str__(self) -> str:
        return f"{self.to_decimal()} {self.currency}"
