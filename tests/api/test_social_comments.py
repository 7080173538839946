"""Comments through the API: posting, replies one level deep, likes, pinning, hiding,
deleting, @mentions, and who may see or do what."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from clipcart.social.domain import RATE_LIMITS
from clipcart.social.models import Comment, CommentLike, CommentMention
from tests.api.test_accounts_auth import API, assert_problem
from tests.api.test_social_likes import (
    Person,
    PersonMaker,
    count_rows,
    make_video,
    person,
    stored_counts,
)

__all__ = ["person"]


async def post_comment(
    who: Person, video_id: uuid.UUID, body: str, parent_id: str | None = None
) -> dict[str, Any]:
    """Post a comment and return it."""
    payload: dict[str, Any] = {"body": body}
    if parent_id is not None:
        payload["parent_id"] = parent_id
    response = await who.client.post(f"{API}/videos/{video_id}/comments", json=payload)
    assert response.status_code == 201, response.text
    comment: dict[str, Any] = response.json()["comment"]
    return comment


async def listed(client: httpx.AsyncClient, video_id: uuid.UUID) -> list[str]:
    """Bodies of the top-level comments the client sees, in order."""
    response = await client.get(f"{API}/videos/{video_id}/comments")
    assert response.status_code == 200, response.text
    return [item["body"] for item in response.json()["items"]]


async def test_post_and_list_comments_with_counts(
    person: PersonMaker, client: httpx.AsyncClient
) -> None:
    creator, fan = await person("creator"), await person("fan")
    video_id = await make_video(creator)
    response = await fan.client.post(
        f"{API}/videos/{video_id}/comments", json={"body": "  Love this!  "}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["counts"]["comments"] == 1
    assert body["comment"]["body"] == "Love this!"
    assert body["comment"]["author"]["handle"] == "fan"
    assert body["comment"]["parent_id"] is None
    await post_comment(creator, video_id, "Thanks")
    assert await listed(client, video_id) == ["Thanks", "Love this!"]  # newest first
    assert (await stored_counts(video_id)).comments == 2

    for bad in ("", "   ", "x" * 501, "nul \x00 byte", "bell \x07"):
        assert_problem(
            await fan.client.post(f"{API}/videos/{video_id}/comments", json={"body": bad}),
            422,
            "validation_failed",
        )
    anonymous = await client.post(f"{API}/videos/{video_id}/comments", json={"body": "hi"})
    assert anonymous.status_code in (401, 403)
    assert await count_rows(Comment) == 2


async def test_commenting_on_a_private_video_you_cannot_see_is_404(
    person: PersonMaker,
) -> None:
    creator, stranger = await person("creator"), await person("stranger")
    private = await make_video(creator, visibility="private")
    followers_only = await make_video(creator, visibility="followers")
    for video_id in (private, followers_only):
        response = await stranger.client.post(
            f"{API}/videos/{video_id}/comments", json={"body": "let me in"}
        )
        assert_problem(response, 404, "video_not_found")
        assert_problem(
            await stranger.client.get(f"{API}/videos/{video_id}/comments"), 404, "video_not_found"
        )
    assert await count_rows(Comment) == 0


async def test_replies_stay_one_level_deep(person: PersonMaker) -> None:
    creator, fan, other = await person("creator"), await person("fan"), await person("other")
    video_id = await make_video(creator)
    top = await post_comment(fan, video_id, "Where is this from?")
    reply = await post_comment(creator, video_id, "Our shop!", top["id"])
    assert reply["parent_id"] == top["id"]
    nested = await post_comment(other, video_id, "Thanks!", reply["id"])
    assert nested["parent_id"] == top["id"]  # a reply to a reply joins the top-level comment

    page = (await fan.client.get(f"{API}/videos/{video_id}/comments")).json()["items"]
    assert [item["body"] for item in page] == ["Where is this from?"]
    assert page[0]["reply_count"] == 2
    replies = await fan.client.get(f"{API}/comments/{top['id']}/replies")
    assert [item["body"] for item in replies.json()["items"]] == ["Our shop!", "Thanks!"]
    assert (await stored_counts(video_id)).comments == 3

    elsewhere = await make_video(creator)
    wrong_video = await fan.client.post(
        f"{API}/videos/{elsewhere}/comments", json={"body": "hi", "parent_id": top["id"]}
    )
    assert_problem(wrong_video, 404, "comment_not_found")
    missing = await fan.client.post(
        f"{API}/videos/{video_id}/comments", json={"body": "hi", "parent_id": str(uuid.uuid4())}
    )
    assert_problem(missing, 404, "comment_not_found")


async def test_comment_likes_are_idempotent(person: PersonMaker) -> None:
    creator, fan = await person("creator"), await person("fan")
    video_id = await make_video(creator)
    comment = await post_comment(creator, video_id, "First")
    for _ in range(2):
        liked = await fan.client.post(f"{API}/comments/{comment['id']}/like")
        assert liked.status_code == 200, liked.text
        assert liked.json() == {"liked": True, "like_count": 1}
    items = (await fan.client.get(f"{API}/videos/{video_id}/comments")).json()["items"]
    assert items[0]["liked"] is True and items[0]["like_count"] == 1
    for _ in range(2):
        unliked = await fan.client.delete(f"{API}/comments/{comment['id']}/like")
        assert unliked.json() == {"liked": False, "like_count": 0}
    assert await count_rows(CommentLike) == 0


async def test_pinning_keeps_one_pinned_comment_first(person: PersonMaker) -> None:
    creator, fan = await person("creator"), await person("fan")
    video_id = await make_video(creator)
    first = await post_comment(fan, video_id, "first")
    second = await post_comment(fan, video_id, "second")
    await post_comment(fan, video_id, "third")

    assert_problem(
        await fan.client.post(f"{API}/comments/{first['id']}/pin"), 403, "not_video_owner"
    )
    pinned = await creator.client.post(f"{API}/comments/{first['id']}/pin")
    assert pinned.status_code == 200 and pinned.json()["is_pinned"] is True
    assert await listed(fan.client, video_id) == ["first", "third", "second"]

    await creator.client.post(f"{API}/comments/{second['id']}/pin")
    assert await listed(fan.client, video_id) == ["second", "third", "first"]
    assert await count_rows(Comment, is_pinned=True) == 1

    reply = await post_comment(fan, video_id, "a reply", first["id"])
    assert_problem(
        await creator.client.post(f"{API}/comments/{reply['id']}/pin"), 422, "validation_failed"
    )
    unpinned = await creator.client.delete(f"{API}/comments/{second['id']}/pin")
    assert unpinned.json()["is_pinned"] is False
    assert await listed(fan.client, video_id) == ["third", "second", "first"]


async def test_comment_pages_follow_the_cursor(person: PersonMaker) -> None:
    creator = await person("creator")
    video_id = await make_video(creator)
    for index in range(5):
        await post_comment(creator, video_id, f"c{index}")
    await creator.client.post(
        f"{API}/comments/"
        + (await creator.client.get(f"{API}/videos/{video_id}/comments")).json()["items"][-1]["id"]
        + "/pin"
    )
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await creator.client.get(f"{API}/videos/{video_id}/comments", params=params)).json()
        seen += [item["body"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["c0", "c4", "c3", "c2", "c1"]


async def test_hiding_leaves_a_comment_out_for_others(person: PersonMaker) -> None:
    creator, troll, fan = await person("creator"), await person("troll"), await person("fan")
    video_id = await make_video(creator)
    rude = await post_comment(troll, video_id, "rude")
    await post_comment(fan, video_id, "nice")
    assert_problem(
        await fan.client.post(f"{API}/comments/{rude['id']}/hide"), 403, "not_video_owner"
    )
    hidden = await creator.client.post(f"{API}/comments/{rude['id']}/hide")
    assert hidden.status_code == 200 and hidden.json()["is_hidden"] is True
    assert await listed(fan.client, video_id) == ["nice"]
    assert await listed(creator.client, video_id) == ["nice", "rude"]  # the creator still sees it
    assert await listed(troll.client, video_id) == ["nice", "rude"]  # and so does its author
    assert_problem(
        await fan.client.post(f"{API}/comments/{rude['id']}/like"), 404, "comment_not_found"
    )
    shown = await creator.client.delete(f"{API}/comments/{rude['id']}/hide")
    assert shown.json()["is_hidden"] is False
    assert await listed(fan.client, video_id) == ["nice", "rude"]


async def test_deleting_by_author_or_creator_only(person: PersonMaker) -> None:
    creator, fan, other = await person("creator"), await person("fan"), await person("other")
    video_id = await make_video(creator)
    top = await post_comment(fan, video_id, "top")
    await post_comment(other, video_id, "reply one", top["id"])
    lone_reply = await post_comment(other, video_id, "reply two", top["id"])
    own = await post_comment(other, video_id, "mine")
    assert (await stored_counts(video_id)).comments == 4

    assert_problem(
        await fan.client.delete(f"{API}/comments/{own['id']}"), 403, "not_comment_author"
    )
    by_author = await other.client.delete(f"{API}/comments/{lone_reply['id']}")
    assert by_author.status_code == 200, by_author.text
    assert by_author.json()["counts"]["comments"] == 3
    top_listed = (await fan.client.get(f"{API}/videos/{video_id}/comments")).json()["items"]
    assert next(c for c in top_listed if c["id"] == top["id"])["reply_count"] == 1

    by_creator = await creator.client.delete(f"{API}/comments/{top['id']}")
    assert by_creator.json()["counts"]["comments"] == 1  # the reply went with it
    assert await count_rows(Comment) == 1
    assert (await stored_counts(video_id)).comments == 1
    assert_problem(
        await creator.client.delete(f"{API}/comments/{top['id']}"), 404, "comment_not_found"
    )


async def test_mentions_are_parsed_and_stored(person: PersonMaker) -> None:
    creator, fan, friend = await person("creator"), await person("fan"), await person("friend.x")
    video_id = await make_video(creator)
    comment = await post_comment(
        fan, video_id, "@Friend.X look! cc @creator and @nobody_here, mail a@b.com"
    )
    assert comment["mentions"] == ["creator", "friend.x"]
    assert await count_rows(CommentMention, user_id=friend.id) == 1
    assert await count_rows(CommentMention) == 2


async def test_comment_flooding_is_rate_limited(person: PersonMaker) -> None:
    creator, fan = await person("creator"), await person("fan")
    video_id = await make_video(creator)
    limit, _window = RATE_LIMITS["comment"]
    for index in range(limit):
        await post_comment(fan, video_id, f"comment {index}")
    flood = await fan.client.post(f"{API}/videos/{video_id}/comments", json={"body": "one more"})
    assert_problem(flood, 429, "rate_limited")
    assert int(flood.headers["retry-after"]) >= 1
    assert await count_rows(Comment) == limit
    # someone else is not held back by it
    await post_comment(creator, video_id, "still fine")
