"""Publish/subscribe fan-out: in-process by default, Redis when configured (same interface)."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import redis.asyncio as aioredis


class PubSub(Protocol):
    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    def subscribe(
        self, channel: str
    ) -> AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...

    async def close(self) -> None: ...


class InProcessPubSub:
    """Fan-out between tasks of one process."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Deliver `message` to every current subscriber of `channel`."""
        for queue in list(self._queues.get(channel, ())):
            queue.put_nowait(json.loads(json.dumps(message)))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Messages published to `channel` from now on, while the block runs."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._queues[channel].add(queue)

        async def messages() -> AsyncIterator[dict[str, Any]]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._queues[channel].discard(queue)
            if not self._queues[channel]:
                del self._queues[channel]

    async def close(self) -> None:
        self._queues.clear()


class RedisPubSub:
    """Fan-out across processes through Redis PUBLISH/SUBSCRIBE."""

    def __init__(self, url: str) -> None:
        self._redis = aioredis.from_url(url)

    async def publish(self, channel: str, message: dict[str, Any]) -> None:
        """Deliver `message` to every subscriber of `channel` in any process."""
        await self._redis.publish(channel, json.dumps(message))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Messages published to `channel` from now on, while the block runs."""
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(channel)

        async def messages() -> AsyncIterator[dict[str, Any]]:
            async for raw in pubsub.listen():
                if raw.get("type") == "message":
                    yield json.loads(raw["data"])

        try:
            yield messages()
        finally:
            await pubsub.unsubscribe(channel)
            await pubsub.aclose()

    async def close(self) -> None:
        await self._redis.aclose()


def create_pubsub(redis_url: str | None) -> InProcessPubSub | RedisPubSub:
    """The backend for this configuration."""
    return RedisPubSub(redis_url) if redis_url else InProcessPubSub()
