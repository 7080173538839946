"""For You, end to end through the API: live taste from the events a page sends (liking cooking
videos shifts the next page to cooking; an add-to-cart brings that product's videos), the
explanation of each item, feed settings (shopping density, interests for a cold start), and no
chip for a suspended shop's products."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx

from clipcart.accounts import service as accounts
from clipcart.core import clock
from clipcart.core.db import unit_of_work
from clipcart.media.models import Video, VideoHashtag, VideoTag
from tests.api.test_accounts_auth import API, assert_problem, new_client, signup
from tests.api.test_feed import FEED, _user_id, seller_setup

PREFERENCES = f"{API}/me/feed-preferences"


async def topic_videos(
    owner: str,
    topic: str,
    count: int,
    *,
    product_ids: list[uuid.UUID] | None = None,
    shop_id: uuid.UUID | None = None,
    hours_old: float = 72,
) -> list[uuid.UUID]:
    """Ready public videos about one #topic (rows only: the feed needs no files)."""
    owner_id = await _user_id(owner)
    ids = []
    async with unit_of_work() as session:
        for index in range(count):
            video = Video(
                owner_id=owner_id,
                shop_id=shop_id,
                status="ready",
                visibility="public",
                caption=f"#{topic} number {index}",
                duration_seconds=10.0,
                created_at=clock.now() - timedelta(hours=hours_old, minutes=index),
                ready_at=clock.now(),
            )
            video.hashtags.append(VideoHashtag(name=topic))
            for position, product_id in enumerate(product_ids or []):
                video.tags.append(
                    VideoTag(product_id=product_id, position=position, grounds="own_shop")
                )
            session.add(video)
            await session.flush()
            ids.append(video.id)
    return ids


def event(kind: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "occurred_at": clock.now().isoformat(),
        **{
            key: str(value) if isinstance(value, uuid.UUID) else value
            for key, value in fields.items()
        },
    }


async def send(client: httpx.AsyncClient, *events: dict[str, Any]) -> None:
    response = await client.post(f"{API}/events", json={"events": list(events)})
    assert response.status_code == 200 and response.json()["accepted"] == len(events), response.text


async def page(client: httpx.AsyncClient, limit: int = 6, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(FEED, params={"limit": limit, **params})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def topics(items: list[dict[str, Any]]) -> list[str]:
    return [item["video"]["hashtags"][0] for item in items]


async def creators(app: Any, *handles: str) -> None:
    for handle in handles:
        async with new_client(app) as other:
            await signup(other, handle)


async def test_liking_cooking_videos_shifts_the_next_page_to_cooking(
    app: Any, client: httpx.AsyncClient
) -> None:
    await creators(app, "chef_ana", "chef_bo", "gamer_cy", "gamer_di", "dancer_ed")
    cooking = await topic_videos("chef_ana", "cooking", 4) + await topic_videos(
        "chef_bo", "cooking", 4
    )
    for handle, topic in (("gamer_cy", "gaming"), ("gamer_di", "gaming"), ("dancer_ed", "dance")):
        # Newer than the cooking videos, so a cold feed puts them first.
        await topic_videos(handle, topic, 4, hours_old=24)
    await signup(client, "viewer")

    before = topics(await page(client))
    assert before.count("cooking") <= 1, before

    liked = cooking[:3]
    for video_id in liked:
        await send(
            client,
            event("impression", video_id=video_id),
            event("watch", video_id=video_id, watch_ms=10_000, duration_ms=10_000, completed=True),
            event("like", video_id=video_id),
        )
    after = await page(client)
    assert topics(after).count("cooking") >= 3, topics(after)
    assert not {item["video"]["id"] for item in after} & {str(v) for v in liked}  # seen
    first_cooking = next(item for item in after if item["video"]["hashtags"][0] == "cooking")
    assert "topics you have been enjoying" in first_cooking["why"]["summary"] or (
        "creator" in first_cooking["why"]["summary"]
    )


async def test_a_skip_pushes_that_kind_of_video_down(app: Any, client: httpx.AsyncClient) -> None:
    await creators(app, "gamer_cy", "dancer_ed", "gamer_fi", "dancer_gu")
    games = await topic_videos("gamer_cy", "gaming", 3) + await topic_videos(
        "gamer_fi", "gaming", 3
    )
    await topic_videos("dancer_ed", "dance", 3, hours_old=80)
    await topic_videos("dancer_gu", "dance", 3, hours_old=80)
    await signup(client, "viewer")
    assert topics(await page(client, limit=2)) == ["gaming", "gaming"]
    for video_id in games[:3]:
        await send(client, event("watch", video_id=video_id, watch_ms=300, duration_ms=10_000))
    assert topics(await page(client, limit=2))[0] == "dance"


async def test_the_explanation_is_the_score_terms(client: httpx.AsyncClient) -> None:
    await signup(client, "olivia")
    await topic_videos("olivia", "cooking", 3)
    for item in await page(client):
        why = item["why"]
        assert abs(why["score"] - sum(term["value"] for term in why["terms"])) < 1e-3
        assert {term["name"] for term in why["terms"]} == {
            "watch",
            "engagement",
            "purchase",
            "freshness",
            "exploration",
        }
        positive = sorted((t for t in why["terms"] if t["value"] > 0), key=lambda t: -t["value"])
        assert why["reasons"] == [term["text"] for term in positive[:2]]
        for reason in why["reasons"]:
            assert reason in why["summary"]
        assert why["sources"] and why["summary"].startswith("You are seeing this because")


async def test_an_add_to_cart_brings_videos_of_that_product(
    app: Any, client: httpx.AsyncClient
) -> None:
    setup = await seller_setup(client, products=2)
    wanted, other = (uuid.UUID(p["id"]) for p in setup["products"])
    await topic_videos("olivia", "gear", 2, product_ids=[wanted], shop_id=setup["shop_id"])
    await topic_videos(
        "olivia", "gear", 2, product_ids=[other], shop_id=setup["shop_id"], hours_old=1
    )
    async with new_client(app) as buyer:
        await signup(buyer, "bruno")
        first = await page(buyer, limit=1)
        assert first[0]["products"][0]["id"] == str(other)
        await send(buyer, event("add_to_cart", product_id=wanted, variant_id=uuid.uuid4()))
        top = (await page(buyer, limit=1))[0]
        assert top["products"][0]["id"] == str(wanted)
        assert "shopping" in top["why"]["sources"]


async def test_the_shopping_setting_moves_how_many_shoppable_videos_come(
    app: Any, client: httpx.AsyncClient
) -> None:
    setup = await seller_setup(client, products=1)
    product = uuid.UUID(setup["products"][0]["id"])
    await creators(app, "fun_a", "fun_b")
    await topic_videos(
        "olivia", "gear", 6, product_ids=[product], shop_id=setup["shop_id"], hours_old=1
    )
    await topic_videos("fun_a", "comedy", 6, hours_old=50)
    await topic_videos("fun_b", "comedy", 6, hours_old=50)
    async with new_client(app) as viewer:
        await signup(viewer, "viewer")

        async def shoppable_flags(mix: str) -> list[bool]:
            response = await viewer.put(PREFERENCES, json={"shopping_mix": mix})
            assert response.status_code == 200, response.text
            return [bool(item["products"]) for item in await page(viewer, limit=12)]

        balanced = await shoppable_flags("balanced")
        assert sum(balanced) == 4 and all(sum(balanced[i : i + 3]) <= 1 for i in range(12))
        calm = await shoppable_flags("more_entertainment")
        assert sum(calm) == 2 and all(sum(calm[i : i + 6]) <= 1 for i in range(12))
        assert sum(await shoppable_flags("more_shopping")) == 6


async def test_interests_start_a_new_account_and_bad_settings_are_refused(
    app: Any, client: httpx.AsyncClient
) -> None:
    await creators(app, "chef_ana", "gamer_cy")
    await topic_videos("chef_ana", "cooking", 3, hours_old=100)
    await topic_videos("gamer_cy", "gaming", 3, hours_old=10)
    assert_problem(await client.get(PREFERENCES), 401, "not_authenticated")
    await signup(client, "newbie")
    assert topics(await page(client, limit=1)) == ["gaming"]
    response = await client.put(PREFERENCES, json={"interests": ["#Cooking"]})
    assert response.json() == {
        "shopping_mix": "balanced",
        "interests": ["cooking"],
        "shoppable_every": 3,
    }
    top = (await page(client, limit=1))[0]
    assert top["video"]["hashtags"] == ["cooking"] and "interests" in top["why"]["sources"]
    assert_problem(
        await client.put(PREFERENCES, json={"shopping_mix": "lots"}), 422, "validation_failed"
    )
    bad = await client.put(PREFERENCES, json={"interests": ["no spaces please"]})
    assert assert_problem(bad, 422, "validation_failed")["errors"][0]["field"] == "interests"
    assert (await client.get(PREFERENCES)).json()["interests"] == ["cooking"]


async def test_a_suspended_shops_products_get_no_chip(app: Any, client: httpx.AsyncClient) -> None:
    setup = await seller_setup(client, products=1)
    product = uuid.UUID(setup["products"][0]["id"])
    await topic_videos("olivia", "gear", 1, product_ids=[product], shop_id=setup["shop_id"])
    assert (await page(client))[0]["products"]
    async with new_client(app) as moderator:
        await signup(moderator, "mod")
        suspend = f"{API}/shops/acme/suspension"
        assert_problem(await client.put(suspend), 403, "role_required")
        async with unit_of_work() as session:
            user = await accounts.get_user_by_handle("mod", session=session)
            await accounts.grant_role(user, "moderator", session=session)
        response = await moderator.put(suspend)
        assert response.status_code == 200 and response.json()["status"] == "suspended"
        item = (await page(client))[0]
        assert item["products"] == []  # at once: chips are checked when a page is hydrated
        assert (await moderator.delete(suspend)).json()["status"] == "active"
        assert (await page(client))[0]["products"]


async def test_following_and_trending_sources(app: Any, client: httpx.AsyncClient) -> None:
    await creators(app, "old_friend", "star", "newbie")
    friend = await topic_videos("old_friend", "diary", 1, hours_old=200)
    hit = await topic_videos("star", "dance", 1, hours_old=150)
    await topic_videos("newbie", "misc", 6, hours_old=100)
    for number in range(3):  # other people love the hit
        async with new_client(app) as fan:
            await signup(fan, f"fan{number}")
            await send(
                fan,
                event("like", video_id=hit[0]),
                event("share", video_id=hit[0], channel="copy_link"),
            )
    await signup(client, "viewer")
    top = (await page(client, limit=1))[0]
    assert top["video"]["id"] == str(hit[0]) and "trending" in top["why"]["sources"]
    assert "trending right now" in top["why"]["summary"]
    assert (await client.post(f"{API}/users/old_friend/follow")).status_code in (200, 201)
    items = {item["video"]["id"]: item for item in await page(client, limit=3)}
    assert "following" in items[str(friend[0])]["why"]["sources"]
