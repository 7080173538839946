"""POST /api/v1/events: batch limits, per-event rejection with the good kept, duplicates, the
clock window, the visitor cookie, sendBeacon bodies without a CSRF header, views on counters."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from clipcart.accounts.models import User
from clipcart.core import clock
from clipcart.core.db import unit_of_work
from clipcart.media.models import Video
from clipcart.recs import domain
from clipcart.recs.models import RecsEvent
from clipcart.social.models import Share, VideoCounter
from tests.api.test_accounts_auth import API, assert_problem, csrf_for, new_client, signup

EVENTS = f"{API}/events"


@pytest.fixture
def frozen() -> Iterator[clock.FrozenClock]:
    """The server's clock, held still."""
    with clock.frozen_at(datetime(2026, 11, 24, 12, 0, tzinfo=UTC)) as fixed:
        yield fixed


def event(kind: str = "impression", **fields: Any) -> dict[str, Any]:
    """A valid event of `kind` (fields override), happening now."""
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "type": kind,
        "occurred_at": clock.now().isoformat(),
        "session_id": "s-1",
        "surface": "for_you",
        "position": 0,
    }
    needs: dict[str, dict[str, Any]] = {
        "impression": {"video_id": str(uuid.uuid4())},
        "watch": {"video_id": str(uuid.uuid4()), "watch_ms": 1500, "duration_ms": 3000},
        "chip_tap": {"product_id": str(uuid.uuid4())},
        "add_to_cart": {"product_id": str(uuid.uuid4()), "variant_id": str(uuid.uuid4())},
        "share": {"video_id": str(uuid.uuid4()), "channel": "copy_link"},
        "follow": {"target_id": str(uuid.uuid4())},
        "visit": {"share_code": "abc123"},
    }
    body.update(needs.get(kind, {}))
    body.update(fields)
    return body


async def stored() -> list[RecsEvent]:
    async with unit_of_work() as session:
        return list(await session.scalars(select(RecsEvent).order_by(RecsEvent.occurred_at)))


async def post(client: httpx.AsyncClient, events: Any, **kwargs: Any) -> httpx.Response:
    return await client.post(EVENTS, json={"events": events}, **kwargs)


async def make_video(owner_handle: str) -> uuid.UUID:
    """A processed public video row (the files are not needed here)."""
    async with unit_of_work() as session:
        owner = await session.scalar(select(User).where(User.handle == owner_handle))
        assert owner is not None
        video = Video(
            owner_id=owner.id,
            status="ready",
            visibility="public",
            caption="A clip",
            duration_seconds=3.0,
            has_audio=True,
            ready_at=clock.now(),
        )
        session.add(video)
        await session.flush()
        return video.id


async def test_a_visitor_batch_is_stored_with_every_field_and_a_visitor_cookie(
    client: httpx.AsyncClient, frozen: clock.FrozenClock
) -> None:
    video_id, product_id, variant_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    sent = [
        event("impression", video_id=str(video_id), position=3),
        event("watch", video_id=str(video_id), watch_ms=2900, duration_ms=3000, completed=True),
        event("add_to_cart", product_id=str(product_id), variant_id=str(variant_id)),
        event("share", video_id=str(video_id), channel="native", surface="video_page"),
    ]
    response = await post(client, sent)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 4, "duplicates": 0, "rejected": []}

    cookie = response.headers.get_list("set-cookie")
    visitor = [c for c in cookie if c.startswith("clipcart_visitor=")]
    assert len(visitor) == 1
    assert "httponly" in visitor[0].lower() and "samesite=lax" in visitor[0].lower()
    visitor_id = uuid.UUID(client.cookies["clipcart_visitor"])

    rows = {row.id: row for row in await stored()}
    assert len(rows) == 4
    watch = rows[uuid.UUID(sent[1]["id"])]
    assert watch.type == domain.EVENT_TYPE_CODES["watch"]
    assert (watch.watch_ms, watch.duration_ms, watch.completed) == (2900, 3000, True)
    assert watch.user_id is None and watch.visitor_id == visitor_id
    assert watch.received_at == frozen.now() and watch.occurred_at == frozen.now()
    assert watch.session_id == "s-1" and watch.surface == domain.SURFACE_CODES["for_you"]
    cart = rows[uuid.UUID(sent[2]["id"])]
    assert (cart.product_id, cart.variant_id) == (product_id, variant_id)
    share = rows[uuid.UUID(sent[3]["id"])]
    assert share.channel == "native" and share.surface == domain.SURFACE_CODES["video_page"]
    assert rows[uuid.UUID(sent[0]["id"])].position == 3

    # The same browser keeps its visitor id: no new cookie.
    again = await post(client, [event()])
    assert not any(c.startswith("clipcart_visitor=") for c in again.headers.get_list("set-cookie"))
    assert {row.visitor_id for row in await stored()} == {visitor_id}


async def test_bad_events_are_rejected_one_by_one_and_the_good_ones_kept(
    client: httpx.AsyncClient, frozen: clock.FrozenClock
) -> None:
    good = [event(), event("chip_tap"), event("follow")]
    bad_id = event("watch")
    del bad_id["watch_ms"]
    sent: list[Any] = [
        good[0],
        {**event(), "type": "teleport"},
        bad_id,
        good[1],
        {**event(), "id": "not-a-uuid"},
        "not an object",
        {**event(), "occurred_at": "2026-11-24T12:00:00"},  # no zone
        {**event(), "surface": "elsewhere"},
        event("share", channel="Not Valid!"),
        event("add_to_cart", variant_id=None),
        good[2],
    ]
    response = await post(client, sent)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accepted"] == 3 and body["duplicates"] == 0
    rejected = {item["index"]: item for item in body["rejected"]}
    assert sorted(rejected) == [1, 2, 4, 5, 6, 7, 8, 9]
    assert rejected[2]["id"] == bad_id["id"] and "watch_ms" in rejected[2]["reason"]
    assert "type" in rejected[1]["reason"] or "teleport" in rejected[1]["reason"]
    assert rejected[4]["id"] == "not-a-uuid" and rejected[4]["reason"].startswith("id:")
    assert rejected[5]["id"] is None
    assert "occurred_at" in rejected[6]["reason"]
    assert "surface" in rejected[7]["reason"]
    assert "channel" in rejected[8]["reason"]
    assert "variant_id" in rejected[9]["reason"]
    assert {row.id for row in await stored()} == {uuid.UUID(e["id"]) for e in good}


async def test_the_clock_window_is_one_hour_ahead_and_seven_days_back(
    client: httpx.AsyncClient, frozen: clock.FrozenClock
) -> None:
    now = frozen.now()
    edge_ahead = event(occurred_at=(now + timedelta(hours=1)).isoformat())
    edge_back = event(occurred_at=(now - timedelta(days=7)).isoformat())
    too_far = event(occurred_at=(now + timedelta(hours=1, seconds=1)).isoformat())
    too_old = event(occurred_at=(now - timedelta(days=7, seconds=1)).isoformat())
    other_zone = event(occurred_at="2026-11-24T13:30:00+01:00")
    response = await post(client, [edge_ahead, too_far, edge_back, too_old, other_zone])
    body = response.json()
    assert body["accepted"] == 3
    assert [(r["index"], r["id"]) for r in body["rejected"]] == [
        (1, too_far["id"]),
        (3, too_old["id"]),
    ]
    assert "future" in body["rejected"][0]["reason"] and "past" in body["rejected"][1]["reason"]
    rows = {row.id: row for row in await stored()}
    assert rows[uuid.UUID(other_zone["id"])].occurred_at == now + timedelta(minutes=30)


async def test_an_event_sent_twice_is_stored_once(
    client: httpx.AsyncClient, frozen: clock.FrozenClock
) -> None:
    first, second = event(), event("like", video_id=str(uuid.uuid4()))
    assert (await post(client, [first, second])).json()["accepted"] == 2
    retry = await post(client, [first, second, event(), first])
    assert retry.json() == {"accepted": 1, "duplicates": 3, "rejected": []}
    assert len(await stored()) == 3


async def test_batch_size_and_body_limits(client: httpx.AsyncClient) -> None:
    full = await post(client, [event() for _ in range(500)])
    assert full.json()["accepted"] == 500
    assert_problem(await post(client, [event() for _ in range(501)]), 413, "too_many_events")
    # Too many events is refused before any single one is looked at.
    assert_problem(await post(client, [{} for _ in range(501)]), 413, "too_many_events")
    assert_problem(await post(client, []), 422, "validation_failed")
    assert_problem(await client.post(EVENTS, json=[event()]), 422, "validation_failed")
    assert_problem(await client.post(EVENTS, json={"evts": []}), 422, "validation_failed")
    not_json = await client.post(EVENTS, content=b"{nope", headers={"content-type": "text/plain"})
    assert_problem(not_json, 422, "validation_failed")
    huge = json.dumps({"events": [event(session_id="x" * 64)] * 400, "pad": "x" * 1_100_000})
    too_big = await client.post(EVENTS, content=huge, headers={"content-type": "application/json"})
    assert_problem(too_big, 413, "payload_too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: read until the limit
        for _ in range(20):
            yield b" " * 100_000

    streamed = await client.post(EVENTS, content=chunks(), headers={"content-type": "text/plain"})
    assert "content-length" not in streamed.request.headers
    assert_problem(streamed, 413, "payload_too_large")
    xml = await client.post(EVENTS, content=b"<e/>", headers={"content-type": "application/xml"})
    assert_problem(xml, 415, "unsupported_media_type")
    assert len(await stored()) == 500


async def test_a_beacon_with_the_session_cookie_and_no_csrf_header_is_accepted(app: Any) -> None:
    async with new_client(app) as browser:
        await signup(browser, "beacon")
        browser.headers.pop("X-CSRF-Token")
        beacon = json.dumps({"events": [event(), event("watch")]})
        response = await browser.post(
            EVENTS,
            content=beacon,
            headers={"content-type": "text/plain;charset=UTF-8", "sec-fetch-site": "same-origin"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["accepted"] == 2
        # Logged in: no visitor cookie is handed out, the events carry the user.
        assert "clipcart_visitor" not in browser.cookies
        async with unit_of_work() as session:
            user_id = await session.scalar(select(User.id).where(User.handle == "beacon"))
        assert {row.user_id for row in await stored()} == {user_id}

        # Other sites still cannot post events with the user's cookies.
        forged = await browser.post(
            EVENTS, content=beacon, headers={"sec-fetch-site": "cross-site"}
        )
        assert_problem(forged, 403, "csrf_failed")
        # The exemption is this endpoint only: other unsafe requests still need the token.
        logout = await browser.post(f"{API}/auth/logout")
        assert_problem(logout, 403, "csrf_failed")


async def test_a_bearer_token_caller_is_credited(client: httpx.AsyncClient, app: Any) -> None:
    await signup(client, "tokenuser")
    created = await client.post(
        f"{API}/tokens", json={"name": "events", "scopes": ["account:read"]}
    )
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    async with new_client(app) as program:
        response = await program.post(
            EVENTS, json={"events": [event()]}, headers={"authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text
        assert "clipcart_visitor" not in program.cookies
    (row,) = await stored()
    assert row.user_id is not None and row.visitor_id is None


async def test_impressions_add_views_to_the_counters_once(
    client: httpx.AsyncClient, app: Any, frozen: clock.FrozenClock
) -> None:
    await signup(client, "creator")
    first, second = await make_video("creator"), await make_video("creator")
    missing = uuid.uuid4()  # a video that does not exist: its event is kept, no counter
    sent = [
        event(video_id=str(first)),
        event(video_id=str(first)),
        event(video_id=str(second)),
        event(video_id=str(missing)),
        event("watch", video_id=str(first)),  # a watch is not another view
    ]
    async with new_client(app) as visitor:
        assert (await post(visitor, sent)).json()["accepted"] == 5
        assert (await post(visitor, sent[:2])).json()["duplicates"] == 2  # retried: no new views
    async with unit_of_work() as session:
        result = await session.execute(select(VideoCounter.video_id, VideoCounter.views))
        views = {video_id: count for video_id, count in result.all()}
    assert views == {first: 2, second: 1}
    assert len(await stored()) == 5


async def test_a_visit_through_a_share_link_credits_the_sharer(
    client: httpx.AsyncClient, app: Any, frozen: clock.FrozenClock
) -> None:
    await signup(client, "sharer")
    video_id = await make_video("sharer")
    async with unit_of_work() as session:
        sharer_id = await session.scalar(select(User.id).where(User.handle == "sharer"))
        session.add(Share(code="Zx9shareCode", video_id=video_id, user_id=sharer_id, channel="x"))
    async with new_client(app) as visitor:
        known = event("visit", share_code="Zx9shareCode", video_id=str(video_id))
        unknown = event("visit", share_code="nobodys")
        assert (await post(visitor, [known, unknown])).json()["accepted"] == 2
    rows = {row.id: row for row in await stored()}
    assert rows[uuid.UUID(known["id"])].sharer_id == sharer_id
    assert rows[uuid.UUID(known["id"])].share_code == "Zx9shareCode"
    assert rows[uuid.UUID(unknown["id"])].sharer_id is None


async def test_events_need_no_csrf_token_even_with_a_csrf_cookie(client: httpx.AsyncClient) -> None:
    await csrf_for(client)  # the browser now holds the CSRF nonce cookie
    response = await client.post(
        EVENTS, content=json.dumps({"events": [event()]}), headers={"content-type": "text/plain"}
    )
    assert response.status_code == 200, response.text
    async with unit_of_work() as session:
        assert await session.scalar(select(func.count()).select_from(RecsEvent)) == 1


async def test_views_add_to_existing_counters_and_unknown_videos_alone_are_fine(
    client: httpx.AsyncClient, app: Any, frozen: clock.FrozenClock
) -> None:
    await signup(client, "creator")
    liked, fresh = await make_video("creator"), await make_video("creator")
    assert (await client.post(f"{API}/videos/{liked}/like")).status_code in (200, 201)
    async with new_client(app) as visitor:
        only_unknown = [event(video_id=str(uuid.uuid4())) for _ in range(3)]
        assert (await post(visitor, only_unknown)).json()["accepted"] == 3
        first = [event(video_id=str(video)) for video in (liked, fresh, fresh, liked, liked)]
        assert (await post(visitor, first)).json()["accepted"] == 5
        again = [event(video_id=str(video)) for video in (fresh, liked, uuid.uuid4())]
        assert (await post(visitor, again)).json()["accepted"] == 3
    async with unit_of_work() as session:
        result = await session.execute(
            select(VideoCounter.video_id, VideoCounter.likes, VideoCounter.views)
        )
        counters = {video_id: (likes, views) for video_id, likes, views in result.all()}
    # the like kept its count while views were added on top; one counter row per real video
    assert counters == {liked: (1, 4), fresh: (0, 3)}
    assert len(await stored()) == 11


async def test_the_visitor_cookie_is_secure_over_https_and_lasts_a_year(
    app: Any, frozen: clock.FrozenClock
) -> None:
    for base_url, secure in (("http://testserver", False), ("https://testserver", True)):
        async with new_client(app, base_url=base_url) as visitor:
            response = await post(visitor, [event()])
            assert response.status_code == 200, response.text
            (cookie,) = [
                value
                for value in response.headers.get_list("set-cookie")
                if value.startswith("clipcart_visitor=")
            ]
            value, *attributes = [part.strip() for part in cookie.split(";")]
            uuid.UUID(value.removeprefix("clipcart_visitor="))
            expected = {"HttpOnly", "Max-Age=31536000", "Path=/", "SameSite=lax"}
            assert set(attributes) == expected | ({"Secure"} if secure else set())
            # The next batch from the same browser keeps its visitor id: no new cookie.
            again = await post(visitor, [event()])
            assert not [
                value
                for value in again.headers.get_list("set-cookie")
                if value.startswith("clipcart_visitor=")
            ]
