"""Money: exact minor units, one currency at a time, splits that never lose a cent."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from clipcart.core.money import CurrencyMismatch, Money, minor_unit_exponent

CURRENCIES = ["USD", "EUR", "JPY", "BHD", "KWD", "GBP"]
# What a BIGINT column can hold: every amount that can be stored.
AMOUNTS = st.integers(min_value=-(2**63), max_value=2**63 - 1)
WEIGHTS = st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12).filter(
    lambda weights: sum(weights) > 0
)


def usd(amount: int) -> Money:
    return Money(amount, "USD")


# --- construction --------------------------------------------------------------------------


def test_minor_unit_exponents_follow_iso_4217() -> None:
    assert minor_unit_exponent("USD") == 2
    assert minor_unit_exponent("JPY") == 0
    assert minor_unit_exponent("BHD") == 3


@pytest.mark.parametrize("amount", [19.99, Decimal("19.99"), "1999", True])
def test_amount_must_be_integer_minor_units(amount: object) -> None:
    with pytest.raises(TypeError):
        Money(amount, "USD")  # type: ignore[arg-type]  # the wrong type, on purpose


@pytest.mark.parametrize("currency", ["usd", "XYZ", "", "US"])
def test_unknown_currency_is_refused(currency: str) -> None:
    with pytest.raises(ValueError, match="unknown currency"):
        Money(100, currency)


# --- arithmetic ----------------------------------------------------------------------------


def test_arithmetic_stays_in_minor_units() -> None:
    assert usd(1999) + usd(1) == usd(2000)
    assert usd(500) - usd(1999) == usd(-1499)
    assert -usd(250) == usd(-250)
    assert usd(1999).times(3) == usd(5997)
    assert usd(1999).times(0) == usd(0)
    assert Money.zero("JPY") == Money(0, "JPY")


def test_comparisons_within_one_currency() -> None:
    assert usd(1) < usd(2) <= usd(2)
    assert usd(3) > usd(2) >= usd(2)
    assert not usd(2) < usd(2)


def test_equal_amounts_in_different_currencies_are_not_equal() -> None:
    assert Money(100, "USD") != Money(100, "EUR")
    assert len({Money(100, "USD"), Money(100, "USD"), Money(100, "EUR")}) == 2


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
    ids=["add", "sub", "lt", "le", "gt", "ge"],
)
def test_combining_currencies_raises(combine: Callable[[Money, Money], object]) -> None:
    with pytest.raises(CurrencyMismatch):
        combine(Money(100, "USD"), Money(100, "EUR"))


def test_combining_with_a_bare_number_raises() -> None:
    with pytest.raises(TypeError):
        usd(100) + 1  # type: ignore[operator]  # an unsupported operand, on purpose


def test_money_is_immutable() -> None:
    price = usd(100)
    with pytest.raises(AttributeError):
        price.amount = 5  # type: ignore[misc]  # writing a frozen field, on purpose


# --- parsing major units -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "amount"),
    [
        ("19.99", "USD", 1999),
        ("19.9", "USD", 1990),
        ("19.990", "USD", 1999),  # trailing zeros add no precision
        ("-5.25", "USD", -525),
        ("0", "USD", 0),
        ("1000", "JPY", 1000),
        ("1000.0", "JPY", 1000),
        ("1.234", "BHD", 1234),
        ("0.001", "BHD", 1),
        ("1E+2", "USD", 10000),
    ],
)
def test_from_decimal_parses_major_units(text: str, currency: str, amount: int) -> None:
    assert Money.from_decimal(text, currency) == Money(amount, currency)
    assert Money.from_decimal(Decimal(text), currency) == Money(amount, currency)


@pytest.mark.parametrize(
    ("text", "currency"),
    [
        ("19.999", "USD"),
        ("0.001", "USD"),
        ("1000.5", "JPY"),
        ("1.2345", "BHD"),
        # more significant digits than Decimal's default 28-digit context holds
        ("1.00000000000000000000000000001", "USD"),
        ("1.0000000000000000000000000001", "JPY"),
    ],
)
def test_from_decimal_refuses_more_decimals_than_the_currency_has(text: str, currency: str) -> None:
    with pytest.raises(ValueError, match="more decimals"):
        Money.from_decimal(text, currency)


@pytest.mark.parametrize("text", ["abc", "", "1,50", "Infinity", "-Infinity", "NaN", "sNaN"])
def test_from_decimal_refuses_what_is_not_an_amount_with_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        Money.from_decimal(text, "USD")


@given(amount=AMOUNTS, currency=st.sampled_from(CURRENCIES))
def test_to_decimal_and_back_is_exact(amount: int, currency: str) -> None:
    money = Money(amount, currency)
    assert Money.from_decimal(money.to_decimal(), currency) == money
    assert Money.from_decimal(str(money.to_decimal()), currency) == money


@given(amount=AMOUNTS, currency=st.sampled_from(CURRENCIES), extra=st.integers(1, 9))
def test_from_decimal_refuses_any_digit_beyond_the_minor_unit(
    amount: int, currency: str, extra: int
) -> None:
    major = f"{Money(amount, currency).to_decimal():f}"
    # one digit more than the minor unit: USD 1999 -> "19.991", JPY 5 -> "5.3"
    text = f"{major}{'' if '.' in major else '.'}{extra}"
    assert Decimal(text) != Money(amount, currency).to_decimal()
    with pytest.raises(ValueError, match="more decimals"):
        Money.from_decimal(text, currency)


# --- rates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "rate", "half_up", "bankers"),
    [
        (5, "0.5", 3, 2),  # 2.5
        (7, "0.5", 4, 4),  # 3.5
        (15, "0.1", 2, 2),  # 1.5
        (25, "0.1", 3, 2),  # 2.5
        (149, "0.01", 1, 1),  # 1.49
        (-5, "0.5", -3, -2),  # -2.5: half away from zero, like the positive side
        (-15, "0.1", -2, -2),
        (1999, "0.15", 300, 300),  # 299.85
        (1000, "0", 0, 0),
        (1000, "1", 1000, 1000),
    ],
)
def test_apply_rate_rounds_half_up_to_the_minor_unit(
    amount: int, rate: str, half_up: int, bankers: int
) -> None:
    assert usd(amount).apply_rate(rate) == usd(half_up)
    assert usd(amount).apply_rate(Decimal(rate)) == usd(half_up)
    assert usd(amount).apply_rate(rate, bankers=True) == usd(bankers)


def test_apply_rate_accepts_fractions() -> None:
    assert usd(100).apply_rate(Fraction(1, 3)) == usd(33)
    assert usd(100).apply_rate(Fraction(2, 3)) == usd(67)
    assert usd(3).apply_rate(Fraction(1, 6)) == usd(1)  # 0.5 -> 1


def test_apply_rate_is_exact_beyond_decimal_context_precision() -> None:
    # 0.499...9 (29 nines) is below a half: it must round down, not up.
    assert usd(1).apply_rate("0." + "4" + "9" * 29) == usd(0)
    assert usd(1).apply_rate("0.5" + "0" * 29 + "1") == usd(1)


RATES = st.fractions(min_value=-10, max_value=10, max_denominator=10**6) | st.decimals(
    min_value=-10, max_value=10, places=6, allow_nan=False, allow_infinity=False
)


@given(amount=st.integers(-(10**15), 10**15), rate=RATES)
def test_apply_rate_is_the_nearest_minor_unit_ties_away_from_zero(
    amount: int, rate: Fraction | Decimal
) -> None:
    result = Money(amount, "EUR").apply_rate(rate)
    exact = Fraction(amount) * Fraction(rate)
    assert abs(Fraction(result.amount) - exact) <= Fraction(1, 2)
    if abs(Fraction(result.amount) - exact) == Fraction(1, 2):
        assert abs(result.amount) > abs(exact)
    assert Money(-amount, "EUR").apply_rate(rate) == -result


# --- allocation ----------------------------------------------------------------------------


def test_allocate_examples() -> None:
    assert usd(100).allocate([1, 1, 1]) == [usd(34), usd(33), usd(33)]
    assert usd(-100).allocate([1, 1, 1]) == [usd(-34), usd(-33), usd(-33)]
    assert usd(5).allocate([3, 7]) == [usd(2), usd(3)]  # 1.5 / 3.5: ties stay close to exact
    assert usd(1).allocate([1, 0, 1]) == [usd(1), usd(0), usd(0)]
    assert usd(0).allocate([2, 5]) == [usd(0), usd(0)]
    assert Money(1001, "JPY").allocate([70, 30]) == [Money(701, "JPY"), Money(300, "JPY")]


@pytest.mark.parametrize("weights", [[], [0], [0, 0], [1, -1], [-1, 3]])
def test_allocate_refuses_weights_that_cannot_split(weights: list[int]) -> None:
    with pytest.raises(ValueError):
        usd(100).allocate(weights)


@given(amount=AMOUNTS, weights=WEIGHTS)
@example(amount=-100, weights=[1, 1, 1])
@example(amount=-1, weights=[1, 1])
def test_allocate_always_sums_to_the_total_and_stays_within_one_unit_of_exact(
    amount: int, weights: list[int]
) -> None:
    parts = Money(amount, "USD").allocate(weights)
    assert len(parts) == len(weights)
    assert all(part.currency == "USD" for part in parts)
    assert sum(part.amount for part in parts) == amount
    total = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Fraction(amount * weight, total)
        assert abs(part.amount - exact) < 1
        if weight == 0:
            assert part.amount == 0


@given(amount=AMOUNTS, count=st.integers(1, 50))
def test_allocate_equal_weights_parts_differ_by_at_most_one(amount: int, count: int) -> None:
    parts = [part.amount for part in Money(amount, "USD").allocate([1] * count)]
    assert sum(parts) == amount
    assert max(parts) - min(parts) <= 1


@given(amount=AMOUNTS, weights=WEIGHTS)
@example(amount=100, weights=[1, 1, 1])
def test_allocating_a_refund_mirrors_allocating_the_charge(amount: int, weights: list[int]) -> None:
    """Reversing a split charge must take back from each party exactly what it received."""
    charge = Money(amount, "USD").allocate(weights)
    refund = Money(-amount, "USD").allocate(weights)
    assert refund == [-part for part in charge]


# --- formatting ----------------------------------------------------------------------------


NBSP = "\xa0"


@pytest.mark.parametrize(
    ("money", "locale", "text"),
    [
        (Money(123456, "USD"), "en_US", "$1,234.56"),
        (Money(-500, "USD"), "en_US", "-$5.00"),
        (Money(1999, "EUR"), "en_US", "€19.99"),
        (Money(1235, "JPY"), "en_US", "¥1,235"),
        (Money(12345, "BHD"), "en_US", "BHD12.345"),
        (Money(123456, "EUR"), "de_DE", f"1.234,56{NBSP}€"),
        (Money(1999, "EUR"), "de_DE", f"19,99{NBSP}€"),
        (Money(-500, "USD"), "de_DE", f"-5,00{NBSP}$"),
        (Money(1235, "JPY"), "de_DE", f"1.235{NBSP}¥"),
        (Money(1235, "JPY"), "ja_JP", "￥1,235"),
        (Money(123456, "USD"), "ja_JP", "$1,234.56"),
    ],
)
def test_format_for_locale(money: Money, locale: str, text: str) -> None:
    assert money.format(locale) == text


def test_format_defaults_to_en_us_and_str_is_unambiguous() -> None:
    assert usd(1999).format() == "$19.99"
    assert str(usd(1999)) == "19.99 USD"
    assert str(Money(1000, "JPY")) == "1000 JPY"
    assert str(Money(5, "BHD")) == "0.005 BHD"
