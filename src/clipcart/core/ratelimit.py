"""Rate limits and counters with expiry: in-process by default, Redis when configured."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis


@dataclass(frozen=True)
class Decision:
    """Whether a hit is allowed, and if not, how long until it would be."""

    allowed: bool
    remaining: int
    retry_after: int


class RateLimiter(Protocol):
    async def hit(self, key: str, *, limit: int, window: int) -> Decision: ...

    async def increment(self, key: str, *, ttl: int) -> int: ...

    async def reset(self, key: str) -> None: ...

    async def block(self, key: str, *, seconds: int) -> None: ...

    async def blocked_for(self, key: str) -> int: ...

    async def close(self) -> None: ...


class InProcessRateLimiter:
    """Fixed-window counters in this process's memory (the embedded default)."""

    def __init__(self) -> None:
        self._counters: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def _incr(self, key: str, ttl: int) -> tuple[int, float]:
        now = time.monotonic()
        with self._lock:
            count, expires = self._counters.get(key, (0, 0.0))
            if expires <= now:
                count, expires = 0, now + ttl
            count += 1
            self._counters[key] = (count, expires)
            return count, expires - now

    async def hit(self, key: str, *, limit: int, window: int) -> Decision:
        """Count one hit on `key`; at most `limit` per `window` seconds are allowed."""
        count, left = self._incr(f"hit:{key}:{window}", window)
        if count > limit:
            return Decision(False, 0, max(1, math.ceil(left)))
        return Decision(True, limit - count, 0)

    async def increment(self, key: str, *, ttl: int) -> int:
        """Add one to a counter that expires `ttl` seconds after it started."""
        return self._incr(f"count:{key}", ttl)[0]

    async def reset(self, key: str) -> None:
        """Forget the counter and any block on `key`."""
        with self._lock:
            self._counters.pop(f"count:{key}", None)
            self._counters.pop(f"block:{key}", None)

    async def block(self, key: str, *, seconds: int) -> None:
        """Refuse `key` for the next `seconds`."""
        with self._lock:
            self._counters[f"block:{key}"] = (1, time.monotonic() + seconds)

    async def blocked_for(self, key: str) -> int:
        """Seconds left on a block of `key` (0 when not blocked)."""
        with self._lock:
            _, expires = self._counters.get(f"block:{key}", (0, 0.0))
        left = expires - time.monotonic()
        return max(0, math.ceil(left))

    async def close(self) -> None:
        self._counters.clear()


class RedisRateLimiter:
    """The same counters in Redis, shared by every process."""

    def __init__(self, url: str, prefix: str = "clipcart:rl:") -> None:
        self._redis = aioredis.from_url(url)
        self._prefix = prefix

    async def _incr(self, key: str, ttl: int) -> tuple[int, int]:
        full = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(full)
            pipe.expire(full, ttl, nx=True)
            pipe.ttl(full)
            count, _, left = await pipe.execute()
        return int(count), int(left)

    async def hit(self, key: str, *, limit: int, window: int) -> Decision:
        """Count one hit on `key`; at most `limit` per `window` seconds are allowed."""
        count, left = await self._incr(f"hit:{key}:{window}", window)
        if count > limit:
            return Decision(False, 0, max(1, left))
        return Decision(True, limit - count, 0)

    async def increment(self, key: str, *, ttl: int) -> int:
        """Add one to a counter that expires `ttl` seconds after it started."""
        return (await self._incr(f"count:{key}", ttl))[0]

    async def reset(self, key: str) -> None:
        """Forget the counter and any block on `key`."""
        await self._redis.delete(f"{self._prefix}count:{key}", f"{self._prefix}block:{key}")

    async def block(self, key: str, *, seconds: int) -> None:
        """Refuse `key` for the next `seconds`."""
        if seconds <= 0:  # Redis refuses a zero expiry; a block of no time is no block
            await self._redis.delete(f"{self._prefix}block:{key}")
            return
        await self._redis.set(f"{self._prefix}block:{key}", 1, ex=seconds)

    async def blocked_for(self, key: str) -> int:
        """Seconds left on a block of `key` (0 when not blocked)."""
        left = await self._redis.ttl(f"{self._prefix}block:{key}")
        return max(0, int(left))

    async def close(self) -> None:
        await self._redis.aclose()


def create_rate_limiter(redis_url: str | None) -> InProcessRateLimiter | RedisRateLimiter:
    """The backend for this configuration."""
    return RedisRateLimiter(redis_url) if redis_url else InProcessRateLimiter()
