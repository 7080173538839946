"""Profiles: @handle rules, display name, bio, public view, and avatars."""

from __future__ import annotations

import io
import os
import struct
import time
import zlib
from typing import Any

import httpx
import pytest
from PIL import Image

from clipcart.accounts.tasks import sweep_orphan_avatars
from clipcart.core.config import get_settings
from tests.api.test_accounts_auth import API, assert_problem, new_client, signup


def image_bytes(
    fmt: str, size: tuple[int, int] = (300, 200), *, mode: str = "RGB", exif: bool = False
) -> bytes:
    """A picture encoded as `fmt`, optionally with EXIF metadata (a camera make)."""
    picture = Image.new(mode, size, "orange")
    out = io.BytesIO()
    kwargs: dict[str, Any] = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "SecretCam"  # Make
        data[0x0112] = 6  # Orientation: rotate 90
        kwargs["exif"] = data.tobytes()
    picture.save(out, format=fmt, **kwargs)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims a huge image (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


async def put_avatar(
    client: httpx.AsyncClient, content: bytes, name: str = "me.jpg", kind: str = "image/jpeg"
) -> httpx.Response:
    return await client.put(f"{API}/me/avatar", files={"file": (name, content, kind)})


def stored_avatar(url: str) -> Image.Image:
    path = get_settings().resolved_media_root / url.removeprefix("/media/")
    return Image.open(path)


# --- profile ------------------------------------------------------------------------------


async def test_update_profile(client: httpx.AsyncClient) -> None:
    await signup(client)
    response = await client.patch(
        f"{API}/me", json={"display_name": "  Jane D. ", "bio": "I review gadgets."}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["display_name"] == "Jane D."
    assert body["bio"] == "I review gadgets."
    assert body["handle"] == "jane"  # untouched when left out


async def test_change_handle_and_find_by_any_case(client: httpx.AsyncClient) -> None:
    await signup(client)
    response = await client.patch(f"{API}/me", json={"handle": "@Jane_Reviews"})
    assert response.json()["handle"] == "jane_reviews"
    public = await client.get(f"{API}/users/JANE_REVIEWS")
    assert public.status_code == 200
    assert public.json()["handle"] == "jane_reviews"
    assert "email" not in public.json()
    assert "roles" not in public.json()
    assert_problem(await client.get(f"{API}/users/jane"), 404, "user_not_found")


async def test_handle_taken_by_someone_else_is_409(client: httpx.AsyncClient, app: Any) -> None:
    await signup(client)
    async with new_client(app) as bob:
        await signup(bob, "bob")
        response = await bob.patch(f"{API}/me", json={"handle": "JANE"})
        body = assert_problem(response, 409, "already_taken")
        assert body["errors"][0]["field"] == "handle"
        # keeping one's own handle (in another case) is not a conflict
        response = await bob.patch(f"{API}/me", json={"handle": "BOB"})
        assert response.status_code == 200


@pytest.mark.parametrize(
    "handle", ["ab", "x" * 31, "has space", "émile", "admin", "API", "static", "login", ".dot"]
)
async def test_bad_handles_are_422(client: httpx.AsyncClient, handle: str) -> None:
    await signup(client)
    response = await client.patch(f"{API}/me", json={"handle": handle})
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["field"] == "handle"


async def test_reserved_handle_refused_at_signup(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/auth/signup",
        json={"email": "a@example.com", "handle": "Admin", "password": "a fine password"},
    )
    body = assert_problem(response, 422, "validation_failed")
    assert "reserved" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({"display_name": ""}, "display_name"), ({"bio": "x" * 301}, "bio")],
)
async def test_bad_profile_fields_are_422(
    client: httpx.AsyncClient, body: dict[str, str], field: str
) -> None:
    await signup(client)
    problem = assert_problem(await client.patch(f"{API}/me", json=body), 422, "validation_failed")
    assert problem["errors"][0]["field"] == field


# --- avatars ------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
async def test_avatar_accepts_each_format_and_makes_square_webp(
    client: httpx.AsyncClient, fmt: str
) -> None:
    await signup(client)
    response = await put_avatar(client, image_bytes(fmt))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["avatar_url"].endswith("-256.webp")
    assert body["avatar_small_url"].endswith("-64.webp")
    for url, size in ((body["avatar_url"], 256), (body["avatar_small_url"], 64)):
        stored = stored_avatar(url)
        assert stored.format == "WEBP"
        assert stored.size == (size, size)
    served = await client.get(body["avatar_url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/webp"


async def test_avatar_is_judged_by_content_not_name(client: httpx.AsyncClient) -> None:
    await signup(client)
    response = await put_avatar(client, image_bytes("PNG"), name="photo.jpg", kind="image/jpeg")
    assert response.status_code == 200
    response = await put_avatar(client, b"<svg onload=alert(1)>", name="me.png", kind="image/png")
    assert_problem(response, 422, "avatar_invalid")
    response = await put_avatar(client, image_bytes("BMP"), name="me.png", kind="image/png")
    assert_problem(response, 422, "avatar_invalid")


async def test_avatar_strips_exif(client: httpx.AsyncClient) -> None:
    await signup(client)
    response = await put_avatar(client, image_bytes("JPEG", exif=True))
    assert response.status_code == 200
    stored = stored_avatar(response.json()["avatar_url"])
    assert b"SecretCam" not in stored.info.get("exif", b"")
    assert len(stored.getexif()) == 0
    raw = (get_settings().resolved_media_root / response.json()["avatar_url"][7:]).read_bytes()
    assert b"SecretCam" not in raw


async def test_avatar_refuses_bombs_tiny_and_huge_files(client: httpx.AsyncClient) -> None:
    await signup(client)
    assert_problem(await put_avatar(client, png_claiming(40_000, 40_000)), 422, "avatar_invalid")
    assert_problem(await put_avatar(client, png_claiming(9000, 9000)), 422, "avatar_invalid")
    tiny = await put_avatar(client, image_bytes("PNG", (20, 20)))
    problem = assert_problem(tiny, 422, "avatar_invalid")
    assert "at least" in problem["errors"][0]["message"]
    too_big = b"\xff\xd8" + b"\0" * get_settings().avatar_max_bytes
    assert_problem(await put_avatar(client, too_big), 413, "avatar_too_large")
    assert (await client.get(f"{API}/me")).json()["avatar_url"] is None


async def test_replacing_an_avatar_deletes_the_old_files(client: httpx.AsyncClient) -> None:
    await signup(client)
    first = (await put_avatar(client, image_bytes("PNG"))).json()["avatar_url"]
    second = (await put_avatar(client, image_bytes("JPEG"))).json()["avatar_url"]
    assert first != second
    root = get_settings().resolved_media_root
    assert not (root / first.removeprefix("/media/")).exists()
    assert (root / second.removeprefix("/media/")).exists()
    response = await client.delete(f"{API}/me/avatar")
    assert response.json()["avatar_url"] is None
    assert not (root / second.removeprefix("/media/")).exists()


async def test_a_rolled_back_upload_leaves_nothing_referenced(client: httpx.AsyncClient) -> None:
    await signup(client)
    kept = (await put_avatar(client, image_bytes("PNG"))).json()["avatar_url"]
    del client.headers["X-CSRF-Token"]  # the guard refuses: the request rolls back
    assert (await put_avatar(client, image_bytes("JPEG"))).status_code == 403
    assert (await client.get(f"{API}/me")).json()["avatar_url"] == kept
    assert (get_settings().resolved_media_root / kept.removeprefix("/media/")).exists()


async def test_sweep_deletes_only_old_unreferenced_avatar_files(client: httpx.AsyncClient) -> None:
    await signup(client)
    url = (await put_avatar(client, image_bytes("PNG"))).json()["avatar_url"]
    directory = get_settings().resolved_media_root / "avatars"
    kept = directory / url.removeprefix("/media/avatars/")
    old_orphan = directory / "0123456789abcdef0123456789abcdef-256.webp"
    new_orphan = directory / "fedcba9876543210fedcba9876543210-64.webp"
    old_orphan.write_bytes(b"x")
    new_orphan.write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    for path in (kept, old_orphan):
        os.utime(path, (two_hours_ago, two_hours_ago))
    assert await sweep_orphan_avatars() >= 1
    assert kept.exists() and new_orphan.exists()
    assert not old_orphan.exists()
    new_orphan.unlink()
