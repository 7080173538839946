"""Follows (people and shops), follower lists, and blocks through the API."""

from __future__ import annotations

from typing import Any

import httpx

from clipcart.core.db import get_sessionmaker
from clipcart.social import service
from clipcart.social.models import Block, Comment, ShopFollow, UserFollow
from tests.api.test_accounts_auth import API, assert_problem
from tests.api.test_shops import open_shop
from tests.api.test_social_comments import post_comment
from tests.api.test_social_likes import PersonMaker, count_rows, make_video, person

__all__ = ["person"]


async def counts(client: httpx.AsyncClient, handle: str) -> dict[str, Any]:
    """A person's follower and following counts."""
    response = await client.get(f"{API}/users/{handle}/counts")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_follow_is_idempotent_and_counted(person: PersonMaker) -> None:
    creator, fan = await person("creator"), await person("fan")
    for _ in range(2):
        followed = await fan.client.post(f"{API}/users/creator/follow")
        assert followed.status_code == 200, followed.text
        assert followed.json() == {"following": True, "followers": 1}
    assert await count_rows(UserFollow) == 1
    assert await counts(fan.client, "creator") == {"followers": 1, "following": 0}
    assert await counts(fan.client, "fan") == {"followers": 0, "following": 1}

    await creator.client.post(f"{API}/users/fan/follow")
    followers = (await fan.client.get(f"{API}/users/creator/followers")).json()
    assert [p["handle"] for p in followers["items"]] == ["fan"]
    following = (await fan.client.get(f"{API}/users/creator/following")).json()
    assert [p["handle"] for p in following["items"]] == ["fan"]

    async with get_sessionmaker()() as session:
        assert await service.is_follower(fan.id, creator.id, session=session)
        ids = await service.following_ids(fan.id, session=session)
        assert ids.user_ids == {creator.id} and ids.shop_ids == frozenset()

    for _ in range(2):
        gone = await fan.client.delete(f"{API}/users/creator/follow")
        assert gone.json() == {"following": False, "followers": 0}
    assert await counts(fan.client, "fan") == {"followers": 1, "following": 0}


async def test_following_yourself_is_422(person: PersonMaker) -> None:
    me = await person("myself")
    assert_problem(await me.client.post(f"{API}/users/myself/follow"), 422, "follow_self")
    assert_problem(await me.client.post(f"{API}/users/nobody/follow"), 404, "user_not_found")
    odd = await me.client.post(f"{API}/users/a%00b/follow")
    assert 400 <= odd.status_code < 500
    assert (await me.client.post(f"{API}/shops/a%00b/follow")).status_code < 500
    assert await count_rows(UserFollow) == 0


async def test_follower_lists_page_with_a_cursor(person: PersonMaker) -> None:
    creator = await person("creator")
    handles = [f"fan{index}" for index in range(5)]
    for handle in handles:
        fan = await person(handle)
        await fan.client.post(f"{API}/users/creator/follow")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await creator.client.get(f"{API}/users/creator/followers", params=params)).json()
        seen += [p["handle"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(handles))
    assert (await counts(creator.client, "creator"))["followers"] == 5
    bad = await creator.client.get(f"{API}/users/creator/followers", params={"cursor": "zz"})
    assert_problem(bad, 400, "invalid_cursor")


async def test_shops_can_be_followed(person: PersonMaker) -> None:
    seller, fan = await person("merchant"), await person("fan")
    shop = await open_shop(seller.client, "acme")
    for _ in range(2):
        followed = await fan.client.post(f"{API}/shops/acme/follow")
        assert followed.json() == {"following": True, "followers": 1}
    assert await count_rows(ShopFollow) == 1
    assert await counts(fan.client, "fan") == {"followers": 0, "following": 1}
    async with get_sessionmaker()() as session:
        ids = await service.following_ids(fan.id, session=session)
    assert {str(i) for i in ids.shop_ids} == {shop["id"]}
    gone = await fan.client.delete(f"{API}/shops/acme/follow")
    assert gone.json() == {"following": False, "followers": 0}
    assert_problem(await fan.client.post(f"{API}/shops/nope/follow"), 404, "shop_not_found")


async def test_blocking_ends_follows_and_refuses_the_blocked(person: PersonMaker) -> None:
    creator, pest, fan = await person("creator"), await person("pest"), await person("fan")
    video_id = await make_video(creator)
    await pest.client.post(f"{API}/users/creator/follow")
    await creator.client.post(f"{API}/users/pest/follow")
    pest_comment = await post_comment(pest, video_id, "pest was here")
    await post_comment(fan, video_id, "fan was here")

    blocked = await creator.client.post(f"{API}/users/pest/block")
    assert blocked.json() == {"blocked": True}
    again = await creator.client.post(f"{API}/users/pest/block")
    assert again.json() == {"blocked": True}
    assert await count_rows(Block) == 1
    assert await count_rows(UserFollow) == 0
    assert await counts(creator.client, "creator") == {"followers": 0, "following": 0}
    assert await counts(creator.client, "pest") == {"followers": 0, "following": 0}

    # the blocked person cannot view, comment, like or follow
    for response in (
        await pest.client.get(f"{API}/videos/{video_id}/social"),
        await pest.client.get(f"{API}/videos/{video_id}/comments"),
        await pest.client.post(f"{API}/videos/{video_id}/comments", json={"body": "hi"}),
        await pest.client.post(f"{API}/videos/{video_id}/like"),
    ):
        assert_problem(response, 404, "video_not_found")
    assert_problem(await pest.client.post(f"{API}/users/creator/follow"), 404, "user_not_found")
    # the blocker cannot follow without unblocking first
    assert_problem(await creator.client.post(f"{API}/users/pest/follow"), 403, "you_blocked")
    # the blocker stops seeing the blocked person's comments; others still do
    mine = await creator.client.get(f"{API}/videos/{video_id}/comments")
    assert [c["body"] for c in mine.json()["items"]] == ["fan was here"]
    theirs = await fan.client.get(f"{API}/videos/{video_id}/comments")
    assert [c["body"] for c in theirs.json()["items"]] == ["fan was here", "pest was here"]
    assert_problem(
        await creator.client.post(f"{API}/comments/{pest_comment['id']}/like"),
        404,
        "comment_not_found",
    )
    assert await count_rows(Comment, video_id=video_id) == 2

    listed = (await creator.client.get(f"{API}/me/blocks")).json()
    assert [p["handle"] for p in listed] == ["pest"]
    async with get_sessionmaker()() as session:
        assert await service.is_blocked_between(pest.id, creator.id, session=session)
        assert await service.is_blocked_between(creator.id, pest.id, session=session)
        assert not await service.is_blocked_between(fan.id, creator.id, session=session)

    unblocked = await creator.client.delete(f"{API}/users/pest/block")
    assert unblocked.json() == {"blocked": False}
    assert (await pest.client.get(f"{API}/videos/{video_id}/social")).status_code == 200
    assert (await pest.client.post(f"{API}/users/creator/follow")).status_code == 200
    assert_problem(await creator.client.post(f"{API}/users/creator/block"), 422, "block_self")


async def test_followers_only_videos_open_to_followers_and_blocks_close_every_video(
    person: PersonMaker,
) -> None:
    creator, fan, stranger = await person("creator"), await person("fan"), await person("stranger")
    for_followers = await make_video(creator, visibility="followers")
    public = await make_video(creator)
    await fan.client.post(f"{API}/users/creator/follow")

    assert (await fan.client.get(f"{API}/videos/{for_followers}")).status_code == 200
    assert (await fan.client.get(f"/v/{for_followers}")).status_code == 200
    assert (await creator.client.get(f"{API}/videos/{for_followers}")).status_code == 200
    assert_problem(
        await stranger.client.get(f"{API}/videos/{for_followers}"), 404, "video_not_found"
    )
    await fan.client.delete(f"{API}/users/creator/follow")
    assert_problem(await fan.client.get(f"{API}/videos/{for_followers}"), 404, "video_not_found")

    # once blocked, the video page and the video's API answer as if nothing were there
    assert (await stranger.client.get(f"{API}/videos/{public}")).status_code == 200
    await creator.client.post(f"{API}/users/stranger/block")
    assert_problem(await stranger.client.get(f"{API}/videos/{public}"), 404, "video_not_found")
    assert (await stranger.client.get(f"/v/{public}")).status_code == 404
    assert (await fan.client.get(f"{API}/videos/{public}")).status_code == 200
