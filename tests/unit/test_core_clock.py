"""One clock, timezone-aware UTC, that tests can freeze and move."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from clipcart.core import clock


@pytest.fixture
def frozen() -> Iterator[clock.FrozenClock]:
    """A frozen clock installed for one test, the previous one restored afterwards."""
    frozen = clock.FrozenClock(datetime(2030, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC))
    previous = clock.set_clock(frozen)
    try:
        yield frozen
    finally:
        assert clock.set_clock(previous) is frozen


def test_system_clock_is_aware_utc_wall_time() -> None:
    value = clock.now()
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)
    assert abs(value - datetime.now(UTC)) < timedelta(seconds=5)


def test_frozen_clock_stands_still_until_advanced(frozen: clock.FrozenClock) -> None:
    start = datetime(2030, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)
    assert clock.now() == start
    assert clock.now() == start
    frozen.advance(timedelta(minutes=90))
    assert clock.now() == start + timedelta(minutes=90)
    frozen.advance(timedelta(days=1))
    assert clock.now() == start + timedelta(days=1, minutes=90)
    assert clock.now().utcoffset() == timedelta(0)


def test_set_clock_returns_the_previous_clock_and_restoring_it_works() -> None:
    first = clock.FrozenClock(datetime(2001, 1, 1, tzinfo=UTC))
    second = clock.FrozenClock(datetime(2002, 1, 1, tzinfo=UTC))
    original = clock.set_clock(first)
    try:
        assert clock.set_clock(second) is first
        assert clock.now().year == 2002
        assert clock.set_clock(first) is second
        assert clock.now().year == 2001
    finally:
        clock.set_clock(original)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_frozen_at_holds_the_clock_for_the_block_and_restores_it_even_on_error() -> None:
    start = datetime(2030, 5, 6, 7, 8, tzinfo=UTC)
    with pytest.raises(LookupError), clock.frozen_at(start) as frozen:
        assert clock.now() == start
        frozen.advance(timedelta(hours=2))
        assert clock.now() == start + timedelta(hours=2)
        raise LookupError("the block failed")
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_frozen_clock_defaults_to_now() -> None:
    assert abs(clock.FrozenClock().now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_as_utc_reads_naive_values_as_utc_and_keeps_aware_ones() -> None:
    naive = datetime(2030, 5, 6, 7, 8, 9)
    assert clock.as_utc(naive) == datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
    tokyo = datetime(2030, 5, 6, 16, 8, 9, tzinfo=timezone(timedelta(hours=9)))
    assert clock.as_utc(tokyo) is tokyo
    assert clock.as_utc(tokyo) == datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
