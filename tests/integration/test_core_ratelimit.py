"""Rate limits and counters: the in-process and the Redis backend behave the same."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from clipcart.core.ratelimit import (
    InProcessRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    create_rate_limiter,
)
from tests.services import require_redis


async def delete_keys(url: str, prefix: str) -> None:
    """Remove this test's keys, and only those."""
    client = aioredis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def redis_prefix() -> AsyncIterator[tuple[str, str]]:
    """A Redis URL and a key prefix of this test's own; its keys are deleted afterwards."""
    url = require_redis()
    prefix = f"clipcart-test:rl:{uuid.uuid4().hex}:"
    yield url, prefix
    await delete_keys(url, prefix)


@pytest.fixture(params=["in-process", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    """Each backend in turn; the Redis one with keys of its own."""
    if request.param == "in-process":
        in_process = InProcessRateLimiter()
        yield in_process
        await in_process.close()
        return
    url = require_redis()
    prefix = f"clipcart-test:rl:{uuid.uuid4().hex}:"
    backend = RedisRateLimiter(url, prefix=prefix)
    try:
        yield backend
    finally:
        await backend.close()
        await delete_keys(url, prefix)


async def test_hit_allows_limit_then_refuses_until_the_window_ends(limiter: RateLimiter) -> None:
    decisions = [await limiter.hit("login:203.0.113.9", limit=3, window=60) for _ in range(5)]
    assert [d.allowed for d in decisions] == [True, True, True, False, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0, 0]
    assert [d.retry_after for d in decisions[:3]] == [0, 0, 0]
    for refused in decisions[3:]:
        assert 0 < refused.retry_after <= 60


async def test_keys_and_windows_are_counted_apart(limiter: RateLimiter) -> None:
    assert (await limiter.hit("login:a", limit=1, window=60)).allowed
    assert not (await limiter.hit("login:a", limit=1, window=60)).allowed
    assert (await limiter.hit("login:b", limit=1, window=60)).allowed
    assert (await limiter.hit("login:a", limit=1, window=3600)).allowed


async def test_a_refused_hit_says_at_most_the_window(limiter: RateLimiter) -> None:
    for _ in range(3):
        await limiter.hit("signup:x", limit=2, window=5)
    refused = await limiter.hit("signup:x", limit=2, window=5)
    assert not refused.allowed
    assert 1 <= refused.retry_after <= 5


async def test_increment_counts_and_reset_forgets(limiter: RateLimiter) -> None:
    assert [await limiter.increment("failures:ada", ttl=60) for _ in range(3)] == [1, 2, 3]
    assert await limiter.increment("failures:bob", ttl=60) == 1
    await limiter.reset("failures:ada")
    assert await limiter.increment("failures:ada", ttl=60) == 1
    assert await limiter.increment("failures:bob", ttl=60) == 2


async def test_block_and_blocked_for(limiter: RateLimiter) -> None:
    assert await limiter.blocked_for("login:ada") == 0
    await limiter.block("login:ada", seconds=30)
    assert 0 < await limiter.blocked_for("login:ada") <= 30
    assert await limiter.blocked_for("login:bob") == 0
    await limiter.block("login:ada", seconds=300)  # a longer block replaces the shorter
    assert 30 < await limiter.blocked_for("login:ada") <= 300
    await limiter.reset("login:ada")
    assert await limiter.blocked_for("login:ada") == 0


async def test_a_block_of_no_time_blocks_nothing(limiter: RateLimiter) -> None:
    await limiter.block("login:ada", seconds=0)
    assert await limiter.blocked_for("login:ada") == 0
    await limiter.block("login:ada", seconds=60)
    await limiter.block("login:ada", seconds=0)
    assert await limiter.blocked_for("login:ada") == 0


async def test_everything_expires(limiter: RateLimiter) -> None:
    assert (await limiter.hit("api:t", limit=1, window=1)).allowed
    assert not (await limiter.hit("api:t", limit=1, window=1)).allowed
    assert await limiter.increment("failures:t", ttl=1) == 1
    assert await limiter.increment("failures:t", ttl=1) == 2
    await limiter.block("login:t", seconds=1)
    assert await limiter.blocked_for("login:t") == 1
    await asyncio.sleep(1.2)
    assert (await limiter.hit("api:t", limit=1, window=1)).allowed
    assert await limiter.increment("failures:t", ttl=1) == 1
    assert await limiter.blocked_for("login:t") == 0


async def test_the_window_is_fixed_from_the_first_hit(limiter: RateLimiter) -> None:
    """Hits inside the window do not push its end back (a steady trickle is not locked out)."""
    assert await limiter.increment("failures:w", ttl=2) == 1
    await asyncio.sleep(1.1)
    assert await limiter.increment("failures:w", ttl=2) == 2
    await asyncio.sleep(1.1)
    assert await limiter.increment("failures:w", ttl=2) == 1


async def test_two_redis_limiters_share_counts_like_two_processes(
    redis_prefix: tuple[str, str],
) -> None:
    url, prefix = redis_prefix
    first, second = RedisRateLimiter(url, prefix=prefix), RedisRateLimiter(url, prefix=prefix)
    try:
        assert (await first.hit("login:ip", limit=3, window=60)).remaining == 2
        assert (await second.hit("login:ip", limit=3, window=60)).remaining == 1
        assert (await first.hit("login:ip", limit=3, window=60)).allowed
        assert not (await second.hit("login:ip", limit=3, window=60)).allowed
        assert await first.increment("failures:ada", ttl=60) == 1
        assert await second.increment("failures:ada", ttl=60) == 2
        await first.block("login:ada", seconds=60)
        assert await second.blocked_for("login:ada") > 0
        await second.reset("login:ada")
        assert await first.blocked_for("login:ada") == 0
    finally:
        await first.close()
        await second.close()


async def test_concurrent_hits_never_allow_more_than_the_limit(limiter: RateLimiter) -> None:
    decisions = await asyncio.gather(
        *(limiter.hit("burst", limit=10, window=60) for _ in range(50))
    )
    assert sum(decision.allowed for decision in decisions) == 10


def test_create_rate_limiter_picks_the_backend() -> None:
    assert isinstance(create_rate_limiter(None), InProcessRateLimiter)
    assert isinstance(create_rate_limiter("redis://127.0.0.1:6379/15"), RedisRateLimiter)
