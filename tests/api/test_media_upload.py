"""Video upload through the API: real videos made with PyAV are probed, transcoded and
served; bad uploads are refused with a clear problem and leave nothing behind.

The helpers at the top are shared by the other test_media_* modules."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import imageio_ffmpeg
import pytest
from sqlalchemy import func, select

from clipcart.accounts import service as accounts
from clipcart.accounts.models import User
from clipcart.core.config import get_settings
from clipcart.core.db import get_sessionmaker, unit_of_work
from clipcart.media.config import get_media_settings
from clipcart.media.models import Video
from clipcart.media.samples import make_sample_video
from clipcart.media.storage import get_storage
from tests.api.test_accounts_auth import API, assert_problem, signup

VIDEOS = f"{API}/videos"


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real videos: a 2 s 320x240 landscape clip with a tone, the same recorded sideways, a
    silent portrait one, and a 4 s clip (for duration limits)."""
    directory = tmp_path_factory.mktemp("clips")
    landscape = make_sample_video(directory / "landscape.mp4", width=320, height=240)
    # The same landscape pixels, flagged "display turned 90° counter-clockwise" as phones do.
    rotated = directory / "rotated.mp4"
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-display_rotation", "90",
         "-i", str(landscape), "-c", "copy", str(rotated)],
        check=True,
    )  # fmt: skip
    return {
        "rotated": rotated,
        "landscape": landscape,
        "portrait": make_sample_video(
            directory / "portrait.mp4", width=240, height=426, audio=False
        ),
        "long": make_sample_video(directory / "long.mp4", seconds=4.0, width=160, height=120),
    }


@pytest.fixture
def media_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set CLIPCART_MEDIA_* for one test (the settings cache is cleared around it)."""
    get_media_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_media_settings.cache_clear()


async def make_creator(client: httpx.AsyncClient, handle: str = "maya") -> dict[str, Any]:
    """Sign up and grant the creator role."""
    data = await signup(client, handle)
    async with unit_of_work() as session:
        user = await session.scalar(select(User).where(User.handle == handle))
        assert user is not None
        await accounts.grant_role(user, "creator", session=session)
    return data


async def upload(
    client: httpx.AsyncClient,
    content: bytes,
    *,
    filename: str = "clip.mp4",
    caption: str = "",
    visibility: str = "public",
    shop: str | None = None,
) -> httpx.Response:
    """POST a multipart upload."""
    fields = {"caption": caption, "visibility": visibility}
    if shop:
        fields["shop"] = shop
    files = {"file": (filename, io.BytesIO(content), "video/mp4")}
    return await client.post(VIDEOS, data=fields, files=files)


async def upload_ready(client: httpx.AsyncClient, clip: Path, **fields: Any) -> dict[str, Any]:
    """Upload a clip and return the video once processed (jobs run immediately in tests)."""
    response = await upload(client, await asyncio.to_thread(clip.read_bytes), **fields)
    assert response.status_code == 201, response.text
    video_id = response.json()["id"]
    shown = await client.get(f"{VIDEOS}/{video_id}")
    assert shown.status_code == 200, shown.text
    data: dict[str, Any] = shown.json()
    assert data["status"] == "ready", data
    return data


async def video_count() -> int:
    async with get_sessionmaker()() as session:
        return int(await session.scalar(select(func.count()).select_from(Video)) or 0)


def stored_files() -> list[Path]:
    """Every file in local video storage and the upload temp directory."""
    roots = [get_settings().data_dir.resolve() / "video-store"]
    roots.append(get_settings().data_dir.resolve() / "tmp" / "uploads")
    found = [path for root in roots if root.exists() for path in root.rglob("*") if path.is_file()]
    return sorted(found)


async def test_good_upload_becomes_ready_with_poster_preview_and_stream(
    client: httpx.AsyncClient, clips: dict[str, Path]
) -> None:
    await make_creator(client)
    response = await upload(
        client,
        clips["landscape"].read_bytes(),
        filename="whatever.bin",
        caption="Summer #Haul with @Jane and #tips",
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["source"] == {
        "width": 320,
        "height": 240,
        "codec": "h264",
        "has_audio": True,
        "bytes": clips["landscape"].stat().st_size,
    }
    assert created["duration_seconds"] == pytest.approx(2.0, abs=0.1)

    video = (await client.get(f"{VIDEOS}/{created['id']}")).json()
    assert video["status"] == "ready" and video["failure_reason"] is None
    assert (video["width"], video["height"]) == (720, 1280)
    assert video["has_audio"] is True
    assert video["hashtags"] == ["haul", "tips"]
    assert video["mentions"] == ["jane"]
    links = {part["text"]: part["href"] for part in video["caption_parts"] if part["href"]}
    assert links == {"#Haul": "/tag/haul", "@Jane": "/@jane", "#tips": "/tag/tips"}

    stream = await client.get(video["urls"]["stream"])
    assert stream.status_code == 200
    assert stream.headers["content-type"] == "video/mp4"
    assert stream.headers["accept-ranges"] == "bytes"
    body = stream.content
    assert body.find(b"moov") < body.find(b"mdat"), "faststart puts the index first"
    with av.open(io.BytesIO(body), mode="r") as container:
        video_stream = container.streams.video[0]
        assert video_stream.codec_context.name == "h264"
        assert video_stream.codec_context.pix_fmt == "yuv420p"
        assert (video_stream.codec_context.width, video_stream.codec_context.height) == (720, 1280)
        assert container.streams.audio[0].codec_context.name == "aac"
        first = next(container.decode(video_stream)).to_image()
    # Letterboxed: black bands above and below the 4:3 picture, picture in the middle.
    assert max(first.getpixel((360, 20))) < 30
    assert max(first.getpixel((360, 640))) > 60

    poster = await client.get(video["urls"]["poster"])
    assert poster.status_code == 200 and poster.headers["content-type"] == "image/jpeg"
    assert poster.content[:3] == b"\xff\xd8\xff"
    preview = await client.get(video["urls"]["preview"])
    assert preview.status_code == 200
    with av.open(io.BytesIO(preview.content), mode="r") as container:
        assert not container.streams.audio
        assert container.streams.video[0].codec_context.width == 180
    # The upload itself is not kept once transcoded.
    names = {path.name for path in stored_files() if created["id"] in str(path)}
    assert "source" not in names and {"video.mp4", "preview.mp4", "poster-0.jpg"} <= names


async def test_portrait_without_audio_plays_without_an_audio_track(
    client: httpx.AsyncClient, clips: dict[str, Path]
) -> None:
    await make_creator(client)
    video = await upload_ready(client, clips["portrait"])
    assert video["has_audio"] is False
    body = (await client.get(video["urls"]["stream"])).content
    with av.open(io.BytesIO(body), mode="r") as container:
        assert not container.streams.audio
        assert container.streams.video[0].codec_context.height == 1280


@pytest.mark.parametrize(
    ("content_of", "message"),
    [
        (lambda clip: b"this is plain text, not a video\n" * 50, "not a video"),
        (lambda clip: clip.read_bytes()[: len(clip.read_bytes()) // 3], ""),
        (lambda clip: b"", "empty"),
    ],
    ids=["text-named-mp4", "truncated", "empty"],
)
async def test_bad_files_are_refused_and_nothing_is_kept(
    client: httpx.AsyncClient, clips: dict[str, Path], content_of: Any, message: str
) -> None:
    await make_creator(client)
    before = stored_files()
    response = await upload(client, content_of(clips["landscape"]), filename="holiday.mp4")
    body = assert_problem(response, 422, "invalid_video")
    assert message in body["detail"]
    assert body["errors"][0]["field"] == "file"
    assert await video_count() == 0
    assert stored_files() == before


async def test_too_big_is_413_and_nothing_is_kept(
    client: httpx.AsyncClient, clips: dict[str, Path], media_limits: pytest.MonkeyPatch
) -> None:
    await make_creator(client)
    before = stored_files()
    media_limits.setenv("CLIPCART_MEDIA_MAX_UPLOAD_BYTES", "10000")
    get_media_settings.cache_clear()
    response = await upload(client, clips["landscape"].read_bytes())
    body = assert_problem(response, 413, "video_too_large")
    assert "MB" in body["detail"]
    assert await video_count() == 0
    assert stored_files() == before


async def test_too_big_without_content_length_stops_while_streaming(
    client: httpx.AsyncClient, clips: dict[str, Path], media_limits: pytest.MonkeyPatch
) -> None:
    await make_creator(client)
    media_limits.setenv("CLIPCART_MEDIA_MAX_UPLOAD_BYTES", "10000")
    get_media_settings.cache_clear()
    boundary = "clipcartboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    sent: list[int] = []

    async def chunked() -> Any:
        yield head
        for _ in range(1000):  # 64 MB if nobody stopped us
            sent.append(1)
            yield b"\0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await client.post(
        VIDEOS,
        content=chunked(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_problem(response, 413, "video_too_large")
    assert len(sent) < 10, "the server stopped reading soon after the limit"
    assert await video_count() == 0


async def test_too_long_is_refused(
    client: httpx.AsyncClient, clips: dict[str, Path], media_limits: pytest.MonkeyPatch
) -> None:
    await make_creator(client)
    before = stored_files()
    media_limits.setenv("CLIPCART_MEDIA_MAX_DURATION_SECONDS", "3")
    get_media_settings.cache_clear()
    response = await upload(client, clips["long"].read_bytes())
    body = assert_problem(response, 422, "video_too_long")
    assert "limit is 3 seconds" in body["detail"]
    assert await video_count() == 0
    assert stored_files() == before


async def test_only_creators_or_shop_staff_upload(
    client: httpx.AsyncClient, clips: dict[str, Path]
) -> None:
    anonymous = await upload(client, clips["landscape"].read_bytes())
    assert anonymous.status_code in (401, 403)
    await signup(client, "buyer1")
    refused = await upload(client, clips["landscape"].read_bytes())
    assert_problem(refused, 403, "role_required")
    missing_file = await client.post(VIDEOS, data={"caption": "x"}, files={"other": ("a", b"1")})
    assert missing_file.status_code in (403, 422)
    assert await video_count() == 0


async def test_private_videos_are_hidden_edit_and_delete(
    client: httpx.AsyncClient, clips: dict[str, Path], app: Any
) -> None:
    from tests.api.test_accounts_auth import new_client

    await make_creator(client)
    video = await upload_ready(client, clips["portrait"], visibility="private", caption="#secret")
    async with new_client(app) as stranger:
        assert (await stranger.get(f"{VIDEOS}/{video['id']}")).status_code == 404
        assert (await stranger.get(video["urls"]["stream"])).status_code == 404
        assert (await stranger.get("/tag/secret")).status_code in (200, 404)

    changed = await client.patch(
        f"{VIDEOS}/{video['id']}",
        json={"caption": "Now #public", "visibility": "public", "cover_time": 1.0},
    )
    assert changed.status_code == 200, changed.text
    data = changed.json()
    assert data["hashtags"] == ["public"] and data["cover_time"] == 1.0
    assert data["urls"]["poster"] != video["urls"]["poster"]
    assert (await client.get(data["urls"]["poster"])).status_code == 200
    async with new_client(app) as stranger:
        assert (await stranger.get(f"{VIDEOS}/{video['id']}")).status_code == 200
        assert (await stranger.patch(f"{VIDEOS}/{video['id']}", json={})).status_code in (
            401,
            403,
        )
    bad_cover = await client.patch(f"{VIDEOS}/{video['id']}", json={"cover_time": 99})
    assert_problem(bad_cover, 422, "validation_failed")

    listed = await client.get(VIDEOS, params={"limit": 1})
    assert [item["id"] for item in listed.json()["items"]] == [video["id"]]

    deleted = await client.delete(f"{VIDEOS}/{video['id']}")
    assert deleted.status_code == 204
    assert (await client.get(f"{VIDEOS}/{video['id']}")).status_code == 404
    assert await video_count() == 0
    assert not get_storage().exists(f"{video['id']}/video.mp4")
    assert not any(video["id"] in str(path) for path in stored_files())


async def test_my_videos_are_paginated_newest_first(
    client: httpx.AsyncClient, clips: dict[str, Path]
) -> None:
    await make_creator(client)
    ids = [(await upload_ready(client, clips["portrait"]))["id"] for _ in range(3)]
    first = (await client.get(VIDEOS, params={"limit": 2})).json()
    second = (await client.get(VIDEOS, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [v["id"] for v in first["items"] + second["items"]] == list(reversed(ids))
    assert second["next_cursor"] is None


def test_upload_temp_directory_is_private_to_the_data_dir() -> None:
    assert os.fspath(get_settings().data_dir) in os.fspath(
        get_settings().data_dir.resolve() / "tmp" / "uploads"
    )


async def test_a_video_that_cannot_be_transcoded_fails_with_its_reason(
    client: httpx.AsyncClient, clips: dict[str, Path]
) -> None:
    from clipcart.media import tasks

    await make_creator(client)
    video = await upload_ready(client, clips["portrait"])
    # Put it back to processing with an upload that is not a video any more (a damaged disk,
    # say): the job must end in "failed" with a reason the owner can read.
    async with unit_of_work() as session:
        row = await session.get(Video, uuid.UUID(video["id"]))
        assert row is not None
        row.status = "processing"
    broken = get_settings().data_dir / "broken.bin"
    broken.write_bytes(b"not a video at all")
    get_storage().put_file(f"{video['id']}/source", broken, "application/octet-stream")
    assert await tasks.process_video(uuid.UUID(video["id"])) == "failed"
    shown = (await client.get(f"{VIDEOS}/{video['id']}")).json()
    assert shown["status"] == "failed"
    assert "could not be opened" in shown["failure_reason"]
    assert shown["urls"]["stream"] is None
    page = await client.get(f"/v/{video['id']}/status", headers={"Accept": "text/html"})
    assert "Processing failed: The uploaded file could not be opened." in page.text
    assert not get_storage().exists(f"{video['id']}/source")


async def test_api_tokens_need_the_media_write_scope(
    client: httpx.AsyncClient, clips: dict[str, Path], app: Any
) -> None:
    from tests.api.test_accounts_auth import new_client

    await make_creator(client)
    tokens = {}
    for scopes in (["account:read"], ["media:write"]):
        created = await client.post(f"{API}/tokens", json={"name": "bot", "scopes": scopes})
        assert created.status_code == 201, created.text
        tokens[scopes[0]] = created.json()["token"]
    content = await asyncio.to_thread(clips["portrait"].read_bytes)
    async with new_client(app) as program:
        files = {"file": ("a.mp4", content, "video/mp4")}
        refused = await program.post(
            VIDEOS, files=files, headers={"Authorization": f"Bearer {tokens['account:read']}"}
        )
        assert refused.status_code == 403
        assert await video_count() == 0
        allowed = await program.post(
            VIDEOS, files=files, headers={"Authorization": f"Bearer {tokens['media:write']}"}
        )
        assert allowed.status_code == 201, allowed.text


async def test_phone_videos_recorded_sideways_are_turned_upright(
    client: httpx.AsyncClient, clips: dict[str, Path]
) -> None:
    await make_creator(client)
    video = await upload_ready(client, clips["rotated"])
    assert (video["source"]["width"], video["source"]["height"]) == (240, 320)
    body = (await client.get(video["urls"]["stream"])).content
    with av.open(io.BytesIO(body), mode="r") as container:
        first = next(container.decode(video=0)).to_image()
    # Upright 240x320 fills the width (720x960) between 160-pixel bands; the white disc that
    # was at the top of the stored picture is now on the left, as ffmpeg's autorotate shows it.
    assert max(first.getpixel((360, 80))) < 30
    assert min(first.getpixel((105, 730))) > 220
    assert min(first.getpixel((360, 200))) < 220
