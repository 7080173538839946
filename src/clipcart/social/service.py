"""Social use cases: follow, block, like, share, privacy.

Comments (`social.comments`), saves and collections (`social.saves`), reports
(`social.reports`), visibility (`social.visibility`) and the counters with the feed's batched
reads (`social.counters`) are re-exported here, so other domains use this one module."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.accounts.models import User
from clipcart.core.db import dialect_insert
from clipcart.core.errors import Forbidden, NotFound, RateLimited, ValidationFailed
from clipcart.core.pagination import paginate
from clipcart.core.ratelimit import RateLimiter
from clipcart.media.models import Video
from clipcart.shops import service as shops
from clipcart.social import domain
from clipcart.social.comments import (
    CommentView,
    add_comment,
    comment_views,
    delete_comment,
    get_comment,
    hide_comment,
    like_comment,
    list_comments,
    pin_comment,
    unlike_comment,
    unpin_comment,
)
from clipcart.social.counters import (
    FollowingIds,
    UserCounts,
    VideoCounts,
    ViewerVideoState,
    add_to_shop,
    add_to_user,
    add_to_video,
    changed_rows,
    following_ids,
    insert_once,
    postgres_record_views_steps,
    record_views,
    shop_follower_counts,
    user_counts,
    video_counts,
    viewer_video_state,
)
from clipcart.social.models import Block, Privacy, Share, ShopFollow, UserFollow, VideoLike
from clipcart.social.profiles import is_in_showcase
from clipcart.social.reports import report
from clipcart.social.saves import (
    create_collection,
    default_collection,
    delete_collection,
    list_collections,
    list_saved_videos,
    rename_collection,
    save_video,
    unsave_video,
)
from clipcart.social.visibility import (
    blocked_user_ids,
    blockers_of,
    get_visible_video,
    is_blocked_between,
    is_follower,
)

__all__ = [
    "CommentView",
    "FollowOutcome",
    "FollowingIds",
    "UserCounts",
    "VideoCounts",
    "ViewerVideoState",
    "add_comment",
    "block",
    "blocked_user_ids",
    "blockers_of",
    "check_rate",
    "comment_views",
    "create_collection",
    "create_share",
    "default_collection",
    "delete_collection",
    "delete_comment",
    "follow",
    "following_ids",
    "get_comment",
    "get_visible_video",
    "hide_comment",
    "is_blocked_between",
    "is_follower",
    "is_following",
    "is_in_showcase",
    "like_comment",
    "like_video",
    "liked_video_ids",
    "likes_are_public",
    "list_blocked",
    "list_collections",
    "list_comments",
    "list_followers",
    "list_following",
    "list_saved_videos",
    "pin_comment",
    "postgres_record_views_steps",
    "record_views",
    "rename_collection",
    "report",
    "resolve_share",
    "save_video",
    "set_likes_public",
    "shop_follower_counts",
    "unblock",
    "unfollow",
    "unlike_comment",
    "unlike_video",
    "unpin_comment",
    "unsave_video",
    "user_counts",
    "video_counts",
    "viewer_video_state",
]


async def check_rate(kind: str, who: str, *, limiter: RateLimiter) -> None:
    """Refuse (429) when `who` did `kind` (comment, share, report) too often lately."""
    limit, window = domain.RATE_LIMITS[kind]
    decision = await limiter.hit(f"social:{kind}:{who}", limit=limit, window=window)
    if not decision.allowed:
        raise RateLimited(
            decision.retry_after,
            f"You are doing that too often. Try again in {decision.retry_after} seconds.",
        )


@dataclass(frozen=True)
class FollowOutcome:
    """Whether the follower now follows the target, and the target's follower count."""

    following: bool
    followers: int


# --- follows -----------------------------------------------------------------------------------


def _one_target(user_id: uuid.UUID | None, shop_id: uuid.UUID | None) -> None:
    if (user_id is None) == (shop_id is None):
        raise ValueError("follow exactly one of a user or a shop")


async def _check_can_follow(follower: User, user_id: uuid.UUID, *, session: AsyncSession) -> None:
    if user_id == follower.id:
        raise ValidationFailed.field("user", "You cannot follow yourself.", code="follow_self")
    target = await session.get(User, user_id)
    if target is None or not target.is_active:
        raise NotFound("There is no such account.", code="user_not_found")
    if await _blocked(follower.id, user_id, session=session):
        raise Forbidden("You blocked this account. Unblock it to follow.", code="you_blocked")
    if await _blocked(user_id, follower.id, session=session):
        raise NotFound("There is no such account.", code="user_not_found")  # do not leak


async def _adjust_user_follow(
    follower_id: uuid.UUID, followed_id: uuid.UUID, delta: int, *, session: AsyncSession
) -> int:
    # Counter rows are locked in id order, so two people following each other cannot deadlock.
    followers = 0
    for user_id in sorted((follower_id, followed_id)):
        if user_id == followed_id:
            followers = (await add_to_user(session, user_id, followers=delta)).followers
        else:
            await add_to_user(session, user_id, following=delta)
    return followers


async def follow(
    follower: User,
    *,
    user_id: uuid.UUID | None = None,
    shop_id: uuid.UUID | None = None,
    session: AsyncSession,
) -> FollowOutcome:
    """Follow a person or a shop (idempotent): 422 for yourself, 403/404 when blocked."""
    _one_target(user_id, shop_id)
    if user_id is not None:
        await _check_can_follow(follower, user_id, session=session)
        values = {"follower_id": follower.id, "followed_id": user_id}
        if await insert_once(session, UserFollow, values):
            followers = await _adjust_user_follow(follower.id, user_id, 1, session=session)
            return FollowOutcome(following=True, followers=followers)
        counts = await user_counts([user_id], session=session)
        return FollowOutcome(following=True, followers=counts[user_id].followers)
    assert shop_id is not None
    await shops.get_shop(shop_id, session=session)
    if await insert_once(session, ShopFollow, {"follower_id": follower.id, "shop_id": shop_id}):
        await add_to_user(session, follower.id, following=1)
        return FollowOutcome(following=True, followers=await add_to_shop(session, shop_id, 1))
    counts_by_shop = await shop_follower_counts([shop_id], session=session)
    return FollowOutcome(following=True, followers=counts_by_shop[shop_id])


async def unfollow(
    follower: User,
    *,
    user_id: uuid.UUID | None = None,
    shop_id: uuid.UUID | None = None,
    session: AsyncSession,
) -> FollowOutcome:
    """Stop following a person or a shop (idempotent)."""
    _one_target(user_id, shop_id)
    if user_id is not None:
        removed = await changed_rows(
            session,
            delete(UserFollow).where(
                UserFollow.follower_id == follower.id, UserFollow.followed_id == user_id
            ),
        )
        if removed:
            followers = await _adjust_user_follow(follower.id, user_id, -1, session=session)
            return FollowOutcome(following=False, followers=followers)
        counts = await user_counts([user_id], session=session)
        return FollowOutcome(following=False, followers=counts[user_id].followers)
    assert shop_id is not None
    removed = await changed_rows(
        session,
        delete(ShopFollow).where(
            ShopFollow.follower_id == follower.id, ShopFollow.shop_id == shop_id
        ),
    )
    if removed:
        await add_to_user(session, follower.id, following=-1)
        return FollowOutcome(following=False, followers=await add_to_shop(session, shop_id, -1))
    counts_by_shop = await shop_follower_counts([shop_id], session=session)
    return FollowOutcome(following=False, followers=counts_by_shop[shop_id])


async def list_followers(
    user: User, *, cursor: str | None, limit: int | None, session: AsyncSession
) -> tuple[list[User], str | None]:
    """People following `user`, most recent first."""
    follows, next_cursor = await paginate(
        session,
        select(UserFollow).where(UserFollow.followed_id == user.id),
        order_by=[UserFollow.created_at, UserFollow.follower_id],
        cursor=cursor,
        limit=limit,
    )
    return await _users_in_order([f.follower_id for f in follows], session=session), next_cursor


async def list_following(
    user: User, *, cursor: str | None, limit: int | None, session: AsyncSession
) -> tuple[list[User], str | None]:
    """People `user` follows, most recent first."""
    follows, next_cursor = await paginate(
        session,
        select(UserFollow).where(UserFollow.follower_id == user.id),
        order_by=[UserFollow.created_at, UserFollow.followed_id],
        cursor=cursor,
        limit=limit,
    )
    return await _users_in_order([f.followed_id for f in follows], session=session), next_cursor


async def _users_in_order(ids: list[uuid.UUID], *, session: AsyncSession) -> list[User]:
    if not ids:
        return []
    users = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(ids)))}
    return [users[user_id] for user_id in ids if user_id in users]


# --- blocks --------------------------------------------------------------------------------------


async def _blocked(blocker_id: uuid.UUID, blocked_id: uuid.UUID, *, session: AsyncSession) -> bool:
    return bool(
        await session.scalar(
            select(exists().where(Block.blocker_id == blocker_id, Block.blocked_id == blocked_id))
        )
    )


async def block(user: User, blocked_user: User, *, session: AsyncSession) -> None:
    """Block someone (idempotent): follows both ways end, and neither sees the other."""
    if blocked_user.id == user.id:
        raise ValidationFailed.field("user", "You cannot block yourself.", code="block_self")
    await insert_once(session, Block, {"blocker_id": user.id, "blocked_id": blocked_user.id})
    await unfollow(user, user_id=blocked_user.id, session=session)
    await unfollow(blocked_user, user_id=user.id, session=session)


async def unblock(user: User, blocked_user: User, *, session: AsyncSession) -> None:
    """Lift a block (idempotent); earlier follows do not come back."""
    await session.execute(
        delete(Block).where(Block.blocker_id == user.id, Block.blocked_id == blocked_user.id)
    )


async def list_blocked(user: User, *, session: AsyncSession) -> list[User]:
    """The people `user` blocked, most recent first."""
    statement = (
        select(User)
        .join(Block, Block.blocked_id == User.id)
        .where(Block.blocker_id == user.id)
        .order_by(Block.created_at.desc())
    )
    return list(await session.scalars(statement))


# --- likes -----------------------------------------------------------------------------------


async def like_video(user: User, video: Video, *, session: AsyncSession) -> VideoCounts:
    """Like a video (idempotent); the new counts."""
    if await insert_once(session, VideoLike, {"user_id": user.id, "video_id": video.id}):
        return await add_to_video(session, video.id, likes=1)
    return (await video_counts([video.id], session=session))[video.id]


async def unlike_video(user: User, video: Video, *, session: AsyncSession) -> VideoCounts:
    """Take a like back (idempotent); the new counts."""
    statement = delete(VideoLike).where(
        VideoLike.user_id == user.id, VideoLike.video_id == video.id
    )
    if await changed_rows(session, statement):
        return await add_to_video(session, video.id, likes=-1)
    return (await video_counts([video.id], session=session))[video.id]


# --- shares ------------------------------------------------------------------------------------


async def create_share(
    user: User | None, video: Video, *, channel: str, session: AsyncSession
) -> tuple[Share, VideoCounts]:
    """A share link for a video carrying who shared it; the new counts."""
    if channel not in domain.SHARE_CHANNELS:
        allowed = ", ".join(domain.SHARE_CHANNELS)
        raise ValidationFailed.field("channel", f"Choose one of: {allowed}.", code="bad_channel")
    share = Share(
        code=domain.new_share_code(),
        video_id=video.id,
        user_id=user.id if user else None,
        channel=channel,
    )
    session.add(share)
    await session.flush()
    return share, await add_to_video(session, video.id, shares=1)


async def resolve_share(code: str, *, session: AsyncSession) -> uuid.UUID | None:
    """The id of the person who handed out this share code (None if unknown or anonymous)."""
    if not code or len(code) > 16:
        return None
    return await session.scalar(select(Share.user_id).where(Share.code == code))


async def liked_video_ids(user: User, *, limit: int, session: AsyncSession) -> list[uuid.UUID]:
    """Ids of the videos `user` liked, most recent first."""
    statement = (
        select(VideoLike.video_id)
        .where(VideoLike.user_id == user.id)
        .order_by(VideoLike.created_at.desc())
        .limit(limit)
    )
    return list(await session.scalars(statement))


async def is_following(
    viewer_id: uuid.UUID,
    *,
    user_id: uuid.UUID | None = None,
    shop_id: uuid.UUID | None = None,
    session: AsyncSession,
) -> bool:
    """True when the viewer follows that person or shop."""
    _one_target(user_id, shop_id)
    if user_id is not None:
        condition = exists().where(
            UserFollow.follower_id == viewer_id, UserFollow.followed_id == user_id
        )
    else:
        condition = exists().where(
            ShopFollow.follower_id == viewer_id, ShopFollow.shop_id == shop_id
        )
    return bool(await session.scalar(select(condition)))


async def likes_are_public(user_id: uuid.UUID, *, session: AsyncSession) -> bool:
    """True when the person lets others see the videos they liked."""
    return bool(
        await session.scalar(select(Privacy.likes_public).where(Privacy.user_id == user_id))
    )


async def set_likes_public(user: User, public: bool, *, session: AsyncSession) -> None:
    """Show or hide the videos the person liked on their profile."""
    await session.execute(
        dialect_insert(session, Privacy)
        .values(user_id=user.id, likes_public=public)
        .on_conflict_do_update(index_elements=["user_id"], set_={"likes_public": public})
    )
