"""Counters kept exact by atomic `SET n = n + k` updates, and the batched read side for the feed.

Every writer changes a counter only after its own row change took effect (an insert that was
not a duplicate, a delete that removed a row), in the same transaction, so a counter always
equals the rows it counts, whatever clients run at the same time."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    CursorResult,
    Executable,
    Select,
    Table,
    Uuid,
    bindparam,
    case,
    column,
    func,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core.db import dialect_insert
from clipcart.media.models import Video
from clipcart.social.models import (
    Save,
    ShopCounter,
    ShopFollow,
    UserCounter,
    UserFollow,
    VideoCounter,
    VideoLike,
)

VIDEO_COUNTERS = ("likes", "comments", "saves", "shares", "views")


@dataclass(frozen=True)
class VideoCounts:
    """A video's public counters."""

    likes: int = 0
    comments: int = 0
    saves: int = 0
    shares: int = 0
    views: int = 0


@dataclass(frozen=True)
class ViewerVideoState:
    """What one viewer did to one video."""

    liked: bool = False
    saved: bool = False


@dataclass(frozen=True)
class UserCounts:
    """How many follow a person, and how many people and shops they follow."""

    followers: int = 0
    following: int = 0


@dataclass(frozen=True)
class FollowingIds:
    """The people and shops a viewer follows."""

    user_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    shop_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)


async def changed_rows(session: AsyncSession, statement: Executable) -> int:
    """Run an INSERT/UPDATE/DELETE and say how many rows it changed."""
    result = await session.execute(statement)
    return cast(CursorResult[Any], result).rowcount


async def insert_once(session: AsyncSession, model: Any, values: dict[str, Any]) -> bool:
    """Insert a row unless its key exists; True when this call inserted it."""
    statement = dialect_insert(session, model).values(**values).on_conflict_do_nothing()
    return await changed_rows(session, statement) == 1


async def _ensure_row(session: AsyncSession, model: Any, key: str, key_id: uuid.UUID) -> None:
    await session.execute(
        dialect_insert(session, model).values({key: key_id}).on_conflict_do_nothing()
    )


async def add_to_video(session: AsyncSession, video_id: uuid.UUID, **deltas: int) -> VideoCounts:
    """Add to a video's counters atomically and return the new counts."""
    await _ensure_row(session, VideoCounter, "video_id", video_id)
    values = {name: getattr(VideoCounter, name) + delta for name, delta in deltas.items()}
    statement = (
        update(VideoCounter)
        .where(VideoCounter.video_id == video_id)
        .values(values)
        .returning(*(getattr(VideoCounter, name) for name in VIDEO_COUNTERS))
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(statement)).one()
    return VideoCounts(*row)


async def add_to_user(session: AsyncSession, user_id: uuid.UUID, **deltas: int) -> UserCounts:
    """Add to a person's follow counters atomically and return the new counts."""
    await _ensure_row(session, UserCounter, "user_id", user_id)
    values = {name: getattr(UserCounter, name) + delta for name, delta in deltas.items()}
    statement = (
        update(UserCounter)
        .where(UserCounter.user_id == user_id)
        .values(values)
        .returning(UserCounter.followers, UserCounter.following)
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(statement)).one()
    return UserCounts(*row)


async def add_to_shop(session: AsyncSession, shop_id: uuid.UUID, followers: int) -> int:
    """Add to a shop's follower count atomically and return the new count."""
    await _ensure_row(session, ShopCounter, "shop_id", shop_id)
    statement = (
        update(ShopCounter)
        .where(ShopCounter.shop_id == shop_id)
        .values(followers=ShopCounter.followers + followers)
        .returning(ShopCounter.followers)
        .execution_options(synchronize_session=False)
    )
    return int((await session.execute(statement)).scalar_one())


# --- read side: one query per list of ids ------------------------------------------------------


# Every feed page reads these three: built once (building a statement costs about as much as
# running it); a call binds `video_ids` and `viewer_id`.
_VIDEO_COUNTERS = select(
    VideoCounter.video_id, *(getattr(VideoCounter, name) for name in VIDEO_COUNTERS)
).where(VideoCounter.video_id.in_(bindparam("video_ids", expanding=True)))
_LIKED_AND_SAVED = union_all(
    select(VideoLike.video_id, literal("like")).where(
        VideoLike.user_id == bindparam("viewer_id"),
        VideoLike.video_id.in_(bindparam("video_ids", expanding=True)),
    ),
    select(Save.video_id, literal("save")).where(
        Save.user_id == bindparam("viewer_id"),
        Save.video_id.in_(bindparam("video_ids", expanding=True)),
    ),
)
_FOLLOWED = union_all(
    select(UserFollow.followed_id, literal("user")).where(
        UserFollow.follower_id == bindparam("viewer_id")
    ),
    select(ShopFollow.shop_id, literal("shop")).where(
        ShopFollow.follower_id == bindparam("viewer_id")
    ),
)


async def video_counts(
    video_ids: Iterable[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, VideoCounts]:
    """Counters of each video (zeros for videos nobody touched yet), in one query."""
    ids = list(dict.fromkeys(video_ids))
    counts = {video_id: VideoCounts() for video_id in ids}
    if not ids:
        return counts
    rows = await session.execute(_VIDEO_COUNTERS, {"video_ids": ids})
    for video_id, *values in rows:
        counts[video_id] = VideoCounts(*values)
    return counts


async def viewer_video_state(
    viewer_id: uuid.UUID | None, video_ids: Iterable[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, ViewerVideoState]:
    """Whether the viewer liked and saved each video, in one query."""
    ids = list(dict.fromkeys(video_ids))
    state = {video_id: ViewerVideoState() for video_id in ids}
    if viewer_id is None or not ids:
        return state
    liked_ids: set[uuid.UUID] = set()
    saved_ids: set[uuid.UUID] = set()
    parameters = {"viewer_id": viewer_id, "video_ids": ids}
    for video_id, kind in await session.execute(_LIKED_AND_SAVED, parameters):
        (liked_ids if kind == "like" else saved_ids).add(video_id)
    return {
        video_id: ViewerVideoState(liked=video_id in liked_ids, saved=video_id in saved_ids)
        for video_id in ids
    }


async def following_ids(viewer_id: uuid.UUID | None, *, session: AsyncSession) -> FollowingIds:
    """Ids of the people and shops the viewer follows, in one query."""
    if viewer_id is None:
        return FollowingIds()
    user_ids: set[uuid.UUID] = set()
    shop_ids: set[uuid.UUID] = set()
    for target_id, kind in await session.execute(_FOLLOWED, {"viewer_id": viewer_id}):
        (user_ids if kind == "user" else shop_ids).add(target_id)
    return FollowingIds(user_ids=frozenset(user_ids), shop_ids=frozenset(shop_ids))


async def user_counts(
    user_ids: Iterable[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, UserCounts]:
    """Follower and following counts of each person, in one query."""
    ids = list(dict.fromkeys(user_ids))
    counts = {user_id: UserCounts() for user_id in ids}
    if not ids:
        return counts
    rows = await session.execute(
        select(UserCounter.user_id, UserCounter.followers, UserCounter.following).where(
            UserCounter.user_id.in_(ids)
        )
    )
    for user_id, followers, following in rows:
        counts[user_id] = UserCounts(followers=followers, following=following)
    return counts


async def shop_follower_counts(
    shop_ids: Iterable[uuid.UUID], *, session: AsyncSession
) -> dict[uuid.UUID, int]:
    """Follower count of each shop, in one query."""
    ids = list(dict.fromkeys(shop_ids))
    counts = dict.fromkeys(ids, 0)
    if ids:
        rows = await session.execute(
            select(ShopCounter.shop_id, ShopCounter.followers).where(ShopCounter.shop_id.in_(ids))
        )
        for shop_id, followers in rows:
            counts[shop_id] = followers
    return counts


async def record_views(counts: dict[uuid.UUID, int], *, session: AsyncSession) -> None:
    """Add views to videos (the event stream calls this with the views it counted).

    One statement for the whole batch: `INSERT ... SELECT` from the videos that exist (views of
    unknown videos are dropped, not an error) `ON CONFLICT (video_id) DO UPDATE SET views =
    views + excluded.views`. The rows go in video id order, so concurrent batches lock the
    counter rows in the same order and cannot deadlock. On PostgreSQL the videos are read
    FOR KEY SHARE: a video being deleted meanwhile is waited for and then skipped, so the
    foreign key never fails and no savepoint is needed (SQLite has one writer at a time).
    """
    ids = sorted(video_id for video_id, count in counts.items() if count > 0)
    if not ids:
        return
    if session.get_bind().dialect.name == "postgresql":
        # Built once: the event stream calls this for every batch, and building the
        # statement cost more than running it.
        views = [counts[video_id] for video_id in ids]
        await session.execute(
            _postgres_views_upsert(), {"view_video_ids": ids, "view_counts": views}
        )
        return
    await session.execute(_views_upsert(sqlite.insert(VideoCounter), _views_from_case(ids, counts)))


def postgres_record_views_steps(views: str) -> str:
    """PostgreSQL: record_views as steps of a WITH (the caller's statement, which must name
    no step view_counts, viewed_videos or view_counters), counting one view per row of
    `views` (an earlier step or subquery with a video_id column; NULLs are not views).

    What record_views does, in the statement that stored the views' events, so they are
    counted from the rows that statement stored. The same locking: the videos read FOR KEY
    SHARE in id order (views of unknown or deleted videos dropped), then the counters upserted
    in video id order.
    """
    videos, counters = cast(Table, Video.__table__).name, cast(Table, VideoCounter.__table__).name
    # The other counters start at 0 (their defaults are the model's, not the table's).
    assert VIDEO_COUNTERS[-1] == "views"
    others = "0, " * (len(VIDEO_COUNTERS) - 1)
    # Built from the tables' names and the caller's relation: no outside text.
    return (
        f"view_counts AS (SELECT video_id, count(*) AS views FROM {views} AS seen "  # noqa: S608
        "WHERE video_id IS NOT NULL GROUP BY video_id), "
        f"viewed_videos AS (SELECT id FROM {videos} WHERE id IN "
        "(SELECT video_id FROM view_counts) ORDER BY id FOR KEY SHARE), "
        f"view_counters AS (INSERT INTO {counters} (video_id, {', '.join(VIDEO_COUNTERS)}) "
        f"SELECT view_counts.video_id, {others}view_counts.views FROM view_counts "
        "JOIN viewed_videos ON viewed_videos.id = view_counts.video_id "
        "ORDER BY view_counts.video_id "
        f"ON CONFLICT (video_id) DO UPDATE SET views = {counters}.views + excluded.views)"
    )


def _views_upsert(statement: Any, source: Select[Any]) -> Any:
    statement = statement.from_select(["video_id", "views"], source)
    return statement.on_conflict_do_update(
        index_elements=[VideoCounter.video_id],
        set_={"views": VideoCounter.views + statement.excluded.views},
    )


@functools.cache
def _postgres_views_upsert() -> Any:
    """The PostgreSQL upsert, its arrays bound at execution (on the table: an ORM insert given
    parameters would be read as a bulk insert)."""
    return _views_upsert(
        postgresql.insert(cast(Table, VideoCounter.__table__)), _views_from_arrays()
    )


def _views_from_arrays() -> Select[Any]:
    """PostgreSQL: the (video id, views) pairs as two arrays unnested by the server, one small
    statement whatever the number of videos, joined to the videos that exist."""
    given = (
        func.unnest(
            bindparam("view_video_ids", type_=postgresql.ARRAY(Uuid())),
            bindparam("view_counts", type_=postgresql.ARRAY(BigInteger())),
        )
        .table_valued(column("video_id", Uuid()), column("views", BigInteger()))
        .render_derived(name="given")
    )
    return (
        select(Video.id, given.c.views)
        .join_from(given, Video, Video.id == given.c.video_id)
        .where(given.c.views > 0)
        .order_by(Video.id)
        # What the foreign key check takes anyway, taken first: a concurrent delete of a video
        # makes this wait, and the deleted row then drops out instead of failing the key.
        .with_for_update(read=True, key_share=True, of=Video)
    )


def _views_from_case(ids: list[uuid.UUID], counts: dict[uuid.UUID, int]) -> Select[Any]:
    """SQLite: the videos that exist, each with its views from a CASE on its id."""
    views = case({video_id: counts[video_id] for video_id in ids}, value=Video.id)
    # SQLite needs the WHERE so it does not read ON CONFLICT as a join's ON.
    return select(Video.id, views).where(Video.id.in_(ids)).order_by(Video.id)
