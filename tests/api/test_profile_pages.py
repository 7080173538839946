"""The profile pages over HTTP: public to all, editable by the owner (avatar included), with
friendly answers for impossible or differently-cased handles."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.api.test_pages import HTML, avatar_png, form_token, log_out, sign_up


async def test_a_profile_is_public_but_only_the_owner_may_edit(client: httpx.AsyncClient) -> None:
    account = await sign_up(client, display_name="Grace Hopper")
    await log_out(client)

    profile = await client.get(f"/@{account['handle']}", headers=HTML)

    assert profile.status_code == 200 and "Grace Hopper" in profile.text
    assert "Edit profile" not in profile.text
    assert "Followers" in profile.text and "Log in to follow" in profile.text
    assert 'href="/studio/videos"' not in profile.text


@pytest.mark.parametrize("handle", ["a%00b", "%00", "no%20such", "x" * 200])
async def test_an_impossible_handle_is_a_friendly_404(
    client: httpx.AsyncClient, handle: str
) -> None:
    answer = await client.get(f"/@{handle}", headers=HTML)
    assert answer.status_code == 404 and "text/html" in answer.headers["content-type"]
    api = await client.get(f"/api/v1/users/{handle}")
    assert api.status_code == 404 and api.json()["code"] == "user_not_found"


async def test_a_profile_handle_in_other_case_redirects_to_the_canonical_one(
    client: httpx.AsyncClient,
) -> None:
    account = await sign_up(client)

    answer = await client.get(f"/@{account['handle'].upper()}", headers=HTML)

    assert answer.status_code == 301 and answer.headers["location"] == f"/@{account['handle']}"


async def test_edit_profile_with_an_avatar(client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    token = await form_token(client, "/settings/profile")

    answer = await client.post(
        "/settings/profile",
        data={
            "display_name": "New Name",
            "handle": account["handle"],
            "bio": "I film recipes\nand sell pans.",
            "csrf_token": token,
        },
        files={"avatar": ("me.png", avatar_png(), "image/png")},
        headers=HTML,
    )

    assert answer.status_code == 303, answer.text
    profile = await client.get(answer.headers["location"], headers=HTML)
    assert "New Name" in profile.text and "I film recipes\nand sell pans." in profile.text
    avatar = re.search(r'<img class="avatar avatar-large" src="(/media/[^"]+)"', profile.text)
    assert avatar, profile.text
    picture = await client.get(avatar.group(1))
    assert picture.status_code == 200 and picture.content[:4] == b"RIFF"


async def test_edit_profile_errors_keep_the_input(client: httpx.AsyncClient) -> None:
    account = await sign_up(client, display_name="Before")
    token = await form_token(client, "/settings/profile")

    answer = await client.post(
        "/settings/profile",
        data={"display_name": "", "handle": account["handle"], "bio": "kept", "csrf_token": token},
        files={"avatar": ("not.png", b"this is not a picture", "image/png")},
        headers=HTML,
    )

    assert answer.status_code == 422
    assert 'id="f-display_name-error"' in answer.text
    assert ">kept</textarea>" in answer.text
    profile = await client.get(f"/@{account['handle']}", headers=HTML)
    assert "Before" in profile.text  # nothing was saved


async def test_a_bad_avatar_is_refused_next_to_the_picture_field(client: httpx.AsyncClient) -> None:
    account = await sign_up(client)
    token = await form_token(client, "/settings/profile")

    answer = await client.post(
        "/settings/profile",
        data={"display_name": "Changed", "handle": account["handle"], "csrf_token": token},
        files={"avatar": ("not.png", b"this is not a picture", "image/png")},
        headers=HTML,
    )

    assert answer.status_code == 422
    assert 'id="f-avatar-error"' in answer.text and "JPEG, PNG" in answer.text
    profile = await client.get(f"/@{account['handle']}", headers=HTML)
    assert "Changed" not in profile.text  # the whole change was rolled back
