"""A world's counters, each built by one aggregate statement once its rows are in, and the
counts a report gives."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Subquery,
    Table,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from clipcart.demo.world.tables import tables
from clipcart.recs.domain import VIEW_TYPE_CODES


def _grouped(table: Table, key: str, *where: ColumnElement[bool]) -> Subquery:
    """Rows of `table` counted per `key`, in one pass (a hash aggregate, not a lookup per row)."""
    column = table.c[key]
    return (
        select(column.label("key"), func.count().label("n"))
        .where(*where)
        .group_by(column)
        .subquery()
    )


def _outer(
    base: FromClause, key: ColumnElement[Any], counts: list[Subquery]
) -> tuple[FromClause, list[ColumnElement[int]]]:
    """`base` left-joined to each count; the counts with 0 where a row has none."""
    joined = base
    values: list[ColumnElement[int]] = []
    for count in counts:
        joined = joined.outerjoin(count, count.c.key == key)
        values.append(func.coalesce(count.c.n, 0))
    return joined, values


async def fill_counters(
    connection: AsyncConnection, *, domain: str, guest_ids: Sequence[uuid.UUID] = ()
) -> None:
    """Set the video, user and shop counters of the world's rows (and its guests') from the
    rows they count: one aggregate INSERT ... SELECT per counter table."""
    t = tables()
    world_users = select(t.users.c.id).where(t.users.c.email.like(f"%@{domain}"))
    if guest_ids:  # a guest may have counted a follow before: count them again from scratch
        await connection.execute(
            delete(t.user_counters).where(t.user_counters.c.user_id.in_(guest_ids))
        )
    views = _grouped(t.events, "video_id", t.events.c.type.in_(sorted(VIEW_TYPE_CODES)))
    joined, (likes, comments, saves, viewed) = _outer(
        t.videos,
        t.videos.c.id,
        [_grouped(t.likes, "video_id"), _grouped(t.comments, "video_id"),
         _grouped(t.saves, "video_id"), views],
    )  # fmt: skip
    await connection.execute(
        insert(t.video_counters).from_select(
            ["video_id", "likes", "comments", "saves", "shares", "views"],
            select(t.videos.c.id, likes, comments, saves, literal_column("0"), viewed)
            .select_from(joined)
            .where(t.videos.c.owner_id.in_(world_users)),
        )
    )
    joined, (followers, following_people, following_shops) = _outer(
        t.users,
        t.users.c.id,
        [_grouped(t.user_follows, "followed_id"), _grouped(t.user_follows, "follower_id"),
         _grouped(t.shop_follows, "follower_id")],
    )  # fmt: skip
    await connection.execute(
        insert(t.user_counters).from_select(
            ["user_id", "followers", "following"],
            select(t.users.c.id, followers, following_people + following_shops)
            .select_from(joined)
            .where(or_(t.users.c.email.like(f"%@{domain}"), t.users.c.id.in_(list(guest_ids)))),
        )
    )
    owned = select(t.shop_staff.c.shop_id).where(
        t.shop_staff.c.role == "owner", t.shop_staff.c.user_id.in_(world_users)
    )
    joined, (shop_followers,) = _outer(t.shops, t.shops.c.id, [_grouped(t.shop_follows, "shop_id")])
    await connection.execute(
        insert(t.shop_counters).from_select(
            ["shop_id", "followers"],
            select(t.shops.c.id, shop_followers).select_from(joined).where(t.shops.c.id.in_(owned)),
        )
    )


async def count_world(connection: AsyncConnection) -> dict[str, int]:
    """How many rows of each kind the database holds."""
    t = tables()
    counted = {
        "users": t.users,
        "shops": t.shops,
        "products": t.products,
        "variants": t.variants,
        "videos": t.videos,
        "video_tags": t.video_tags,
        "events": t.events,
        "likes": t.likes,
        "follows": t.user_follows,
        "shop_follows": t.shop_follows,
        "saves": t.saves,
        "comments": t.comments,
    }
    counts: dict[str, int] = {}
    for name, table in counted.items():
        counts[name] = int(await connection.scalar(select(func.count()).select_from(table)) or 0)
    return counts
