"""Social pages without JavaScript: follower lists, follow/block forms, the blocked list and
privacy setting, the report form, and what the profile partial shows."""

from __future__ import annotations

import httpx

from clipcart.accounts.models import User
from clipcart.core.db import get_sessionmaker
from clipcart.social.models import Block, Report, UserFollow
from clipcart.web.social_pages import profile_extras
from clipcart.web.templating import templates
from tests.api.test_accounts_auth import API
from tests.api.test_social_likes import PersonMaker, count_rows, make_video, person

__all__ = ["person"]


async def test_follower_pages_and_the_follow_form(
    person: PersonMaker, client: httpx.AsyncClient
) -> None:
    creator, fan = await person("creator"), await person("fan")
    followed = await fan.client.post(
        "/@creator/follow", data={"action": "follow", "next": "/@creator/followers"}
    )
    assert followed.status_code == 303
    assert followed.headers["location"] == "/@creator/followers"
    assert await count_rows(UserFollow, follower_id=fan.id) == 1

    page = await client.get("/@creator/followers")
    assert page.status_code == 200
    assert "@fan" in page.text and "1 follower<" in page.text
    mine = await creator.client.get("/@creator/followers")
    assert 'action="/@fan/follow"' in mine.text  # follow back, as a plain form
    following = await client.get("/@fan/following")
    assert "@creator" in following.text

    unfollowed = await fan.client.post(
        "/@creator/follow", data={"action": "unfollow", "next": "https://evil.example/"}
    )
    assert unfollowed.status_code == 303
    assert unfollowed.headers["location"] == "/@creator"  # never off-site
    assert await count_rows(UserFollow) == 0

    yourself = await fan.client.post("/@fan/follow", data={"action": "follow"})
    assert yourself.status_code == 303 and await count_rows(UserFollow) == 0
    assert "cannot follow yourself" in (await fan.client.get(yourself.headers["location"])).text

    anonymous = await client.post("/@creator/follow", data={"action": "follow"})
    assert anonymous.status_code in (303, 403)
    assert (await client.get("/@nobody/followers")).status_code == 404


async def test_block_form_blocked_list_and_privacy(person: PersonMaker) -> None:
    me, pest = await person("myself"), await person("pest")
    blocked = await me.client.post("/@pest/block", data={"action": "block"})
    assert blocked.status_code == 303 and blocked.headers["location"] == "/settings/blocked"
    assert await count_rows(Block) == 1
    listing = await me.client.get("/settings/blocked")
    assert listing.status_code == 200 and "@pest" in listing.text
    # the blocked person is refused following, and sees a 404, not who blocked them
    refused = await pest.client.post("/@myself/follow", data={"action": "follow"})
    assert refused.status_code == 404
    await me.client.post("/@pest/block", data={"action": "unblock"})
    assert await count_rows(Block) == 0
    assert "You have not blocked anyone" in (await me.client.get("/settings/blocked")).text

    assert 'name="likes_public" checked' not in (await me.client.get("/settings/blocked")).text
    turned_on = await me.client.post("/settings/privacy", data={"likes_public": "on"})
    assert turned_on.status_code == 303
    assert 'name="likes_public" checked' in (await me.client.get("/settings/blocked")).text
    await me.client.post("/settings/privacy", data={})
    assert 'name="likes_public" checked' not in (await me.client.get("/settings/blocked")).text


async def test_report_form(person: PersonMaker, client: httpx.AsyncClient) -> None:
    creator, fan = await person("creator"), await person("fan")
    video_id = await make_video(creator)
    form = await fan.client.get(
        f"/report?target_type=video&target_id={video_id}&next=/v/{video_id}"
    )
    assert form.status_code == 200
    assert "Report this video" in form.text and 'value="scam_or_fraud"' in form.text
    assert (await fan.client.get("/report?target_type=planet&target_id=x")).status_code == 404
    assert (await client.get(f"/report?target_type=video&target_id={video_id}")).status_code == 303

    base = {"target_type": "video", "target_id": str(video_id), "next": f"/v/{video_id}"}
    bad = await fan.client.post("/report", data=base | {"reason": "boring"})
    assert bad.status_code == 422 and "Choose one of the listed reasons" in bad.text
    garbled = await fan.client.post("/report", data=base | {"target_id": "x", "reason": "spam"})
    assert garbled.status_code == 422
    assert await count_rows(Report) == 0

    sent = await fan.client.post("/report", data=base | {"reason": "spam", "details": "bot"})
    assert sent.status_code == 303 and sent.headers["location"] == f"/v/{video_id}"
    again = await fan.client.post("/report", data=base | {"reason": "spam"})
    assert again.status_code == 409 and "already reported" in again.text
    assert await count_rows(Report) == 1


async def test_profile_extras_and_partial(person: PersonMaker) -> None:
    creator, fan, pest = await person("creator"), await person("fan"), await person("pest")
    public = await make_video(creator, caption="public one")
    await make_video(creator, visibility="private", caption="secret one")
    liked_elsewhere = await make_video(fan, caption="fan video")
    await fan.client.post(f"{API}/users/creator/follow")
    await creator.client.post(f"{API}/videos/{liked_elsewhere}/like")
    await fan.client.post(f"{API}/videos/{public}/like")
    await creator.client.post(f"{API}/users/pest/block")

    async with get_sessionmaker()() as session:
        users = {
            u.handle: u for u in [await session.get(User, p.id) for p in (creator, fan, pest)] if u
        }
        as_fan = await profile_extras(users["fan"], users["creator"], session=session)
        as_self = await profile_extras(users["creator"], users["creator"], session=session)
        as_pest = await profile_extras(users["pest"], users["creator"], session=session)
        anonymous = await profile_extras(None, users["creator"], session=session)

    assert as_fan["social_following"] is True and as_fan["social_counts"].followers == 1
    assert [tile["caption"] for tile in as_fan["social_videos"]] == ["public one"]
    assert as_fan["social_videos"][0]["likes"] == 1
    assert as_fan["social_liked"] == []  # liked videos are private by default
    assert [t["caption"] for t in as_self["social_liked"]] == ["fan video"]
    assert as_pest["social_blocked"] is True and as_pest["social_videos"] == []
    assert anonymous["social_following"] is False

    await creator.client.post("/settings/privacy", data={"likes_public": "on"})
    async with get_sessionmaker()() as session:
        again = await profile_extras(None, users["creator"], session=session)
    assert [t["caption"] for t in again["social_liked"]] == ["fan video"]

    template = templates.env.get_template("social/_profile.html")
    html = template.render(viewer=users["fan"], csrf_token="token", **as_fan)
    assert 'action="/@creator/follow"' in html and 'value="unfollow"' in html
    assert "public one" in html and "secret one" not in html
    assert 'href="/@creator/followers"' in html
    blocked_html = template.render(viewer=users["pest"], csrf_token="token", **as_pest)
    assert "You cannot see or follow this account" in blocked_html
    assert "public one" not in blocked_html
