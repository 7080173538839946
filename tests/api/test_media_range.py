"""Video files are served with HTTP Range support (what <video> seeking relies on)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.api.test_media_upload import clips, make_creator, upload_ready

__all__ = ["clips"]


async def _ready(client: httpx.AsyncClient, clip: Path) -> tuple[dict[str, Any], bytes]:
    await make_creator(client)
    video = await upload_ready(client, clip)
    whole = await client.get(video["urls"]["stream"])
    assert whole.status_code == 200
    assert whole.headers["accept-ranges"] == "bytes"
    assert int(whole.headers["content-length"]) == len(whole.content)
    return video, whole.content


async def test_ranges_give_206_with_the_exact_bytes(
    client: httpx.AsyncClient, clips: dict[str, Path]
) -> None:
    video, body = await _ready(client, clips["portrait"])
    size = len(body)
    url = video["urls"]["stream"]

    first = await client.get(url, headers={"Range": "bytes=0-99"})
    assert first.status_code == 206
    assert first.headers["content-range"] == f"bytes 0-99/{size}"
    assert first.headers["content-length"] == "100"
    assert first.content == body[:100]

    middle = await client.get(url, headers={"Range": "bytes=1000-"})
    assert middle.status_code == 206
    assert middle.headers["content-range"] == f"bytes 1000-{size - 1}/{size}"
    assert middle.content == body[1000:]

    suffix = await client.get(url, headers={"Range": "bytes=-500"})
    assert suffix.status_code == 206
    assert suffix.content == body[-500:]

    beyond_end = await client.get(url, headers={"Range": f"bytes={size - 10}-{size + 5000}"})
    assert beyond_end.status_code == 206
    assert beyond_end.content == body[-10:]


async def test_unsatisfiable_range_is_416(
    client: httpx.AsyncClient, clips: dict[str, Path]
) -> None:
    video, body = await _ready(client, clips["portrait"])
    response = await client.get(video["urls"]["stream"], headers={"Range": f"bytes={len(body)}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(body)}"


async def test_posters_and_previews_also_take_ranges(
    client: httpx.AsyncClient, clips: dict[str, Path]
) -> None:
    video, _ = await _ready(client, clips["landscape"])
    preview = await client.get(video["urls"]["preview"], headers={"Range": "bytes=0-9"})
    assert preview.status_code == 206 and len(preview.content) == 10
    assert preview.content[4:8] == b"ftyp"
    poster = await client.get(video["urls"]["poster"], headers={"Range": "bytes=0-2"})
    assert poster.status_code == 206 and poster.content == b"\xff\xd8\xff"
