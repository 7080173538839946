"""Pub/sub fan-out: the in-process and the Redis backend behave the same."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from clipcart.core.pubsub import InProcessPubSub, RedisPubSub, create_pubsub
from tests.services import require_redis

TIMEOUT = 5.0
# Either backend create_pubsub returns, by its own type: the tests count each one's subscribers
# in its own way.
Backend = InProcessPubSub | RedisPubSub


@pytest.fixture(params=["in-process", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "in-process":
        pubsub: Backend = InProcessPubSub()
    else:
        pubsub = RedisPubSub(require_redis())
    yield pubsub
    await pubsub.close()


@pytest.fixture
def channel() -> str:
    return f"clipcart-test:live:{uuid.uuid4().hex}"


async def take(messages: AsyncIterator[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """The next `count` messages, failing instead of hanging when they do not come."""
    async with asyncio.timeout(TIMEOUT):
        return [await anext(messages) for _ in range(count)]


async def nothing_more(messages: AsyncIterator[dict[str, Any]]) -> bool:
    try:
        async with asyncio.timeout(0.3):
            await anext(messages)
    except TimeoutError:
        return True
    return False


async def subscriber_count(backend: Backend, channel: str) -> int:
    if isinstance(backend, RedisPubSub):
        client = aioredis.from_url(require_redis())
        try:
            [(_, count)] = await client.pubsub_numsub(channel)
            return int(count)
        finally:
            await client.aclose()
    assert isinstance(backend, InProcessPubSub)
    return len(backend._queues.get(channel, ()))


async def wait_for_subscribers(backend: Backend, channel: str, expected: int) -> None:
    """Redis counts subscribers a moment after a connection closes: poll, with a limit."""
    count = -1
    for _ in range(int(TIMEOUT / 0.02)):
        count = await subscriber_count(backend, channel)
        if count == expected:
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"{count} subscribers on {channel}, expected {expected}")


async def test_subscriber_receives_later_messages_in_order(backend: Backend, channel: str) -> None:
    await backend.publish(channel, {"n": -1})  # before anyone listens: lost, as documented
    async with backend.subscribe(channel) as messages:
        for n in range(50):
            await backend.publish(channel, {"n": n, "text": f"comment {n}", "tags": ["a", n]})
        received = await take(messages, 50)
        assert received == [{"n": n, "text": f"comment {n}", "tags": ["a", n]} for n in range(50)]
        assert await nothing_more(messages)


async def test_every_subscriber_receives_every_message(backend: Backend, channel: str) -> None:
    async with backend.subscribe(channel) as first, backend.subscribe(channel) as second:
        for n in range(10):
            await backend.publish(channel, {"n": n})
        expected = [{"n": n} for n in range(10)]
        assert await take(first, 10) == expected
        assert await take(second, 10) == expected


async def test_subscribers_read_concurrently_with_publishing(
    backend: Backend, channel: str
) -> None:
    async with backend.subscribe(channel) as first, backend.subscribe(channel) as second:
        readers = [asyncio.create_task(take(first, 20)), asyncio.create_task(take(second, 20))]
        for n in range(20):
            await backend.publish(channel, {"n": n})
            await asyncio.sleep(0)
        results = await asyncio.gather(*readers)
    assert results == [[{"n": n} for n in range(20)]] * 2


async def test_channels_are_separate(backend: Backend, channel: str) -> None:
    other = channel + ":other"
    async with backend.subscribe(channel) as messages:
        await backend.publish(other, {"for": "someone else"})
        await backend.publish(channel, {"for": "me"})
        assert await take(messages, 1) == [{"for": "me"}]
        assert await nothing_more(messages)


async def test_leaving_the_block_unsubscribes(backend: Backend, channel: str) -> None:
    async with backend.subscribe(channel):
        await wait_for_subscribers(backend, channel, 1)
        async with backend.subscribe(channel):
            await wait_for_subscribers(backend, channel, 2)
        await wait_for_subscribers(backend, channel, 1)
    await wait_for_subscribers(backend, channel, 0)
    await backend.publish(channel, {"to": "nobody"})  # publishing to no one is fine


async def test_an_error_inside_the_block_still_unsubscribes(backend: Backend, channel: str) -> None:
    with pytest.raises(LookupError):
        async with backend.subscribe(channel):
            await wait_for_subscribers(backend, channel, 1)
            raise LookupError("viewer went away")
    await wait_for_subscribers(backend, channel, 0)


async def test_a_late_subscriber_only_sees_what_follows(backend: Backend, channel: str) -> None:
    async with backend.subscribe(channel) as early:
        await backend.publish(channel, {"n": 1})
        async with backend.subscribe(channel) as late:
            await backend.publish(channel, {"n": 2})
            assert await take(late, 1) == [{"n": 2}]
        assert await take(early, 2) == [{"n": 1}, {"n": 2}]


async def test_two_redis_backends_fan_out_across_processes(channel: str) -> None:
    url = require_redis()
    web, worker = RedisPubSub(url), RedisPubSub(url)
    try:
        async with web.subscribe(channel) as messages:
            await worker.publish(channel, {"event": "order_paid"})
            assert await take(messages, 1) == [{"event": "order_paid"}]
    finally:
        await web.close()
        await worker.close()


def test_create_pubsub_picks_the_backend() -> None:
    assert isinstance(create_pubsub(None), InProcessPubSub)
    assert isinstance(create_pubsub("redis://127.0.0.1:6379/15"), RedisPubSub)
