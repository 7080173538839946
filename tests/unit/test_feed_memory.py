"""The feed's in-process memory: entries live for a fixed time, then are read again; the map
stays within its size, dropping the oldest first."""

from __future__ import annotations

from clipcart.feed.memory import Expiring


def test_an_entry_is_found_until_it_expires() -> None:
    cache: Expiring[str, int] = Expiring(10, 5.0)
    cache.store({"a": 1, "b": 2}, now=100.0)
    assert cache.lookup(["a", "b", "c"], now=104.9) == ({"a": 1, "b": 2}, ["c"])
    assert cache.lookup(["a", "b"], now=105.0) == ({}, ["a", "b"])


def test_storing_again_renews_the_lifetime() -> None:
    cache: Expiring[str, int] = Expiring(10, 5.0)
    cache.store({"a": 1, "b": 2}, now=100.0)
    cache.store({"a": 3}, now=103.0)
    found, absent = cache.lookup(["a", "b"], now=106.0)
    assert found == {"a": 3} and absent == ["b"]


def test_expired_entries_are_dropped_when_new_ones_are_stored() -> None:
    cache: Expiring[int, int] = Expiring(100, 5.0)
    cache.store({key: key for key in range(50)}, now=0.0)
    cache.store({50: 50}, now=4.0)
    cache.store({51: 51}, now=6.0)  # the first fifty have expired by now
    assert len(cache) == 2
    assert cache.lookup([50, 51], now=6.0) == ({50: 50, 51: 51}, [])


def test_a_full_map_drops_the_oldest_entries_first() -> None:
    cache: Expiring[int, str] = Expiring(3, 60.0)
    cache.store({1: "one", 2: "two", 3: "three"}, now=0.0)
    cache.store({1: "one again"}, now=1.0)  # renewed: now the newest
    cache.store({4: "four"}, now=2.0)
    assert len(cache) == 3
    assert cache.lookup([1, 2, 3, 4], now=2.0) == ({1: "one again", 3: "three", 4: "four"}, [2])


def test_clear_forgets_everything() -> None:
    cache: Expiring[str, int] = Expiring(10, 5.0)
    cache.store({"a": 1}, now=0.0)
    cache.clear()
    assert len(cache) == 0 and cache.lookup(["a"], now=0.0) == ({}, ["a"])
