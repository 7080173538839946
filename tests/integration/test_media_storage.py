"""Media storage: the local filesystem and S3 (moto's in-process mock) behave the same,
including byte ranges when serving."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from fastapi import FastAPI, Request, Response
from moto import mock_aws

from clipcart.core.errors import NotFound
from clipcart.media.config import MediaSettings
from clipcart.media.storage import LocalStorage, MediaStorage, S3Storage, create_storage

CONTENT = bytes(range(256)) * 40  # 10 240 bytes


@pytest.fixture
def s3_storage() -> Iterator[S3Storage]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="clipcart-media")
        yield S3Storage(client, "clipcart-media", prefix="test")


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> MediaStorage:
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    return request.getfixturevalue("s3_storage")


def _app(storage: MediaStorage) -> FastAPI:
    app = FastAPI()

    @app.get("/files/{key:path}")
    async def serve(key: str, request: Request) -> Response:
        try:
            return storage.response(key, request, "video/mp4", {"Cache-Control": "private"})
        except NotFound:
            return Response(status_code=404)

    return app


async def test_put_fetch_exists_delete(storage: MediaStorage, tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(CONTENT)
    storage.put_file("v1/video.mp4", source, "video/mp4")
    storage.put_file("v1/poster-0.jpg", source, "image/jpeg")
    storage.put_file("v2/video.mp4", source, "video/mp4")
    assert storage.exists("v1/video.mp4")
    copy = tmp_path / "out.bin"
    storage.fetch("v1/video.mp4", copy)
    assert copy.read_bytes() == CONTENT
    storage.delete_file("v1/poster-0.jpg")
    assert not storage.exists("v1/poster-0.jpg")
    storage.delete_prefix("v1")
    assert not storage.exists("v1/video.mp4")
    assert storage.exists("v2/video.mp4")
    with pytest.raises(FileNotFoundError):
        storage.fetch("v1/video.mp4", copy)
    with pytest.raises(ValueError, match="bad media key"):
        storage.put_file("../escape", source, "video/mp4")


async def test_serving_whole_files_and_ranges(storage: MediaStorage, tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(CONTENT)
    storage.put_file("v1/video.mp4", source, "video/mp4")
    transport = httpx.ASGITransport(app=_app(storage))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        whole = await client.get("/files/v1/video.mp4")
        assert whole.status_code == 200 and whole.content == CONTENT
        assert whole.headers["accept-ranges"] == "bytes"
        assert whole.headers["content-type"] == "video/mp4"
        part = await client.get("/files/v1/video.mp4", headers={"Range": "bytes=100-199"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes 100-199/{len(CONTENT)}"
        assert part.content == CONTENT[100:200]
        tail = await client.get("/files/v1/video.mp4", headers={"Range": "bytes=-10"})
        assert tail.status_code == 206 and tail.content == CONTENT[-10:]
        past = await client.get("/files/v1/video.mp4", headers={"Range": "bytes=999999-"})
        assert past.status_code == 416
        assert past.headers["content-range"] == f"bytes */{len(CONTENT)}"
        missing = await client.get("/files/v9/video.mp4")
        assert missing.status_code == 404


def test_settings_choose_the_backend(tmp_path: Path) -> None:
    local = create_storage(MediaSettings(local_root=tmp_path))
    assert isinstance(local, LocalStorage) and local.root == tmp_path
    with mock_aws():
        s3 = create_storage(MediaSettings(s3_bucket="b", s3_prefix="/media/"))
        assert isinstance(s3, S3Storage)
        assert s3.object_key("v/video.mp4") == "media/v/video.mp4"
