"""One clock for the whole app, timezone-aware UTC, replaceable in tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move time forward by `delta`."""
        self._now += delta


_clock: Clock = SystemClock()


def now() -> datetime:
    """The current time in UTC from the installed clock."""
    return _clock.now()


def set_clock(clock: Clock) -> Clock:
    """Install `clock` and return the previous one."""
    global _clock
    previous, _clock = _clock, clock
    return previous


@contextmanager
def frozen_at(start: datetime | None = None) -> Iterator[FrozenClock]:
    """Run the block with the clock held at `start` (default: now); it moves only when told."""
    frozen = FrozenClock(start)
    previous = set_clock(frozen)
    try:
        yield frozen
    finally:
        set_clock(previous)


def as_utc(value: datetime) -> datetime:
    """Treat a naive datetime read back from SQLite as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
