"""Counters on PostgreSQL stay equal to the rows they count while many clients like, unlike,
follow, comment and save at the same moment (each client its own connection and transaction)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select

from clipcart.accounts.models import User
from clipcart.core.clock import now
from clipcart.core.db import get_sessionmaker, unit_of_work
from clipcart.media.models import Video
from clipcart.recs import service as recs_service
from clipcart.recs.models import RecsEvent
from clipcart.recs.schemas import EventIn, event_adapter
from clipcart.social import service
from clipcart.social.models import (
    Comment,
    CommentLike,
    Save,
    UserCounter,
    UserFollow,
    VideoCounter,
    VideoLike,
)
from tests.services import require_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _postgres() -> None:
    require_postgres()


async def _users(count: int) -> list[uuid.UUID]:
    async with unit_of_work() as session:
        users = [
            User(
                email=f"user{index}@example.com",
                handle=f"user{index}",
                display_name=f"User {index}",
                password_hash="not-a-real-hash",
            )
            for index in range(count)
        ]
        session.add_all(users)
        await session.flush()
        return [user.id for user in users]


async def _video(owner_id: uuid.UUID) -> uuid.UUID:
    async with unit_of_work() as session:
        video = Video(owner_id=owner_id, status="ready", visibility="public", ready_at=now())
        session.add(video)
        await session.flush()
        return video.id


async def _as(user_id: uuid.UUID, action: str, video_id: uuid.UUID, **extra: Any) -> None:
    async with unit_of_work() as session:
        user = await session.get(User, user_id)
        assert user is not None
        video = await service.get_visible_video(user, video_id, session=session)
        await asyncio.sleep(random.random() / 100)  # interleave the transactions
        if action == "like":
            await service.like_video(user, video, session=session)
        elif action == "unlike":
            await service.unlike_video(user, video, session=session)
        elif action == "save":
            await service.save_video(user, video, session=session)
        elif action == "unsave":
            await service.unsave_video(user, video, session=session)
        elif action == "comment":
            await service.add_comment(user, video, body="hello", session=session, **extra)


async def _count(model: Any, *conditions: Any) -> int:
    async with get_sessionmaker()() as session:
        counted = await session.execute(select(func.count()).select_from(model).where(*conditions))
        return counted.scalar_one()


async def _video_counter(video_id: uuid.UUID) -> VideoCounter:
    async with get_sessionmaker()() as session:
        counter = await session.get(VideoCounter, video_id)
        assert counter is not None
        return counter


async def test_concurrent_likes_and_unlikes_keep_the_counter_exact() -> None:
    users = await _users(50)
    video_id = await _video(users[0])
    # everyone likes at once, each of them twice
    await asyncio.gather(*(_as(u, "like", video_id) for u in users for _ in range(2)))
    assert await _count(VideoLike, VideoLike.video_id == video_id) == 50
    assert (await _video_counter(video_id)).likes == 50

    # some unlike (twice) while others like again
    unlikers, relikers = users[:20], users[20:]
    tasks = [_as(u, "unlike", video_id) for u in unlikers for _ in range(2)]
    tasks += [_as(u, "like", video_id) for u in relikers]
    random.shuffle(tasks)
    await asyncio.gather(*tasks)
    rows = await _count(VideoLike, VideoLike.video_id == video_id)
    assert rows == 30
    assert (await _video_counter(video_id)).likes == rows


async def test_concurrent_saves_and_comments_keep_counters_exact() -> None:
    users = await _users(30)
    video_id = await _video(users[0])
    tasks = [_as(u, "save", video_id) for u in users]
    tasks += [_as(u, "unsave", video_id) for u in users[:10]]
    tasks += [_as(u, "comment", video_id) for u in users]
    random.shuffle(tasks)
    await asyncio.gather(*tasks)
    counter = await _video_counter(video_id)
    assert counter.saves == await _count(Save, Save.video_id == video_id)
    assert counter.comments == await _count(Comment, Comment.video_id == video_id) == 30

    async with get_sessionmaker()() as session:
        top = await session.scalar(select(Comment.id).where(Comment.video_id == video_id).limit(1))
    assert top is not None
    await asyncio.gather(*(_as(u, "comment", video_id, parent_id=top) for u in users))

    async def like_comment(user_id: uuid.UUID) -> None:
        async with unit_of_work() as session:
            user = await session.get(User, user_id)
            assert user is not None
            await service.like_comment(user, top, session=session)

    await asyncio.gather(*(like_comment(u) for u in users for _ in range(2)))
    async with get_sessionmaker()() as session:
        comment = await session.get(Comment, top)
        assert comment is not None
        assert comment.reply_count == 30
        assert comment.like_count == 30 == await _count(CommentLike, CommentLike.comment_id == top)
    assert (await _video_counter(video_id)).comments == await _count(
        Comment, Comment.video_id == video_id
    )


async def test_concurrent_mutual_follows_neither_deadlock_nor_drift() -> None:
    users = await _users(31)
    creator, fans = users[0], users[1:]

    async def follow(follower_id: uuid.UUID, followed_id: uuid.UUID, *, undo: bool) -> None:
        async with unit_of_work() as session:
            follower = await session.get(User, follower_id)
            assert follower is not None
            await asyncio.sleep(random.random() / 100)
            if undo:
                await service.unfollow(follower, user_id=followed_id, session=session)
            else:
                await service.follow(follower, user_id=followed_id, session=session)

    tasks = [follow(fan, creator, undo=False) for fan in fans]
    tasks += [follow(creator, fan, undo=False) for fan in fans]  # both ways at the same time
    tasks += [follow(fan, creator, undo=True) for fan in fans[:10]]
    random.shuffle(tasks)
    await asyncio.gather(*tasks)

    async with get_sessionmaker()() as session:
        counters = {row.user_id: row for row in await session.scalars(select(UserCounter))}
    for user_id in users:
        followers = await _count(UserFollow, UserFollow.followed_id == user_id)
        following = await _count(UserFollow, UserFollow.follower_id == user_id)
        counter = counters.get(user_id)
        assert (counter.followers if counter else 0) == followers
        assert (counter.following if counter else 0) == following
    assert counters[creator].following == 30


# --- views from the event stream ---------------------------------------------------------------


async def _views() -> dict[uuid.UUID, int]:
    async with get_sessionmaker()() as session:
        rows = await session.execute(select(VideoCounter.video_id, VideoCounter.views))
        return {video_id: views for video_id, views in rows.all()}


def _impression(event_id: uuid.UUID, video_id: uuid.UUID) -> EventIn:
    return event_adapter.validate_python(
        {
            "id": str(event_id),
            "type": "impression",
            "occurred_at": now().isoformat(),
            "surface": "for_you",
            "position": 0,
            "video_id": str(video_id),
        }
    )


async def _ingest(events: list[EventIn]) -> tuple[int, int]:
    async with unit_of_work() as session:
        await asyncio.sleep(random.random() / 100)  # interleave the transactions
        accepted, duplicates, rejected = await recs_service.record_events(
            list(enumerate(events)), user_id=None, visitor_id=uuid.uuid4(), session=session
        )
        assert rejected == []
        return accepted, duplicates


async def test_concurrent_event_batches_count_every_impression_exactly_once() -> None:
    (owner,) = await _users(1)
    videos = [await _video(owner) for _ in range(12)]
    unknown = uuid.uuid4()  # views of a video that does not exist are dropped, not an error
    chooser = random.Random(11)
    # 40 batches from 40 connections over the same videos in shuffled orders, and every
    # impression sent twice (in two different batches, as a retried beacon would be).
    impressions = [(uuid.uuid4(), chooser.choice([*videos, unknown])) for _ in range(600)]
    batches: list[list[EventIn]] = [[] for _ in range(40)]
    for event_id, video_id in impressions:
        for batch in chooser.sample(batches, 2):
            batch.append(_impression(event_id, video_id))
    for batch in batches:
        chooser.shuffle(batch)

    outcomes = await asyncio.gather(*(_ingest(batch) for batch in batches))

    assert sum(accepted for accepted, _ in outcomes) == len(impressions)
    assert sum(duplicates for _, duplicates in outcomes) == len(impressions)
    expected = Counter(video_id for _, video_id in impressions if video_id != unknown)
    counted = await _views()
    assert counted == dict(expected)
    assert await _count(RecsEvent) == len(impressions)  # the unknown video's events are kept


async def test_a_video_deleted_while_its_views_are_counted_does_not_lose_the_batch() -> None:
    (owner,) = await _users(1)
    doomed, kept = await _video(owner), await _video(owner)
    async with get_sessionmaker()() as deleter:
        video = await deleter.get(Video, doomed)
        assert video is not None
        await deleter.delete(video)
        await deleter.flush()  # the row is deleted and locked, not yet committed
        batch = [_impression(uuid.uuid4(), video_id) for video_id in (doomed, kept, kept)]
        ingesting = asyncio.create_task(_ingest(batch))
        await asyncio.sleep(0.5)  # the counting waits on the deleted row's lock
        assert not ingesting.done()
        await deleter.commit()
    assert await ingesting == (3, 0)
    counted = await _views()
    assert counted == {kept: 2}
    # the statement waited for the delete, then skipped the deleted video: no error, no retry
    assert await _count(RecsEvent) == 3
