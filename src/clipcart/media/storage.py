"""Where media files live: the local filesystem by default, S3-compatible storage when
CLIPCART_MEDIA_S3_BUCKET is set. Both serve byte ranges (HTTP 206) for video playback."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from fastapi import Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from clipcart.core.config import get_settings
from clipcart.core.errors import NotFound
from clipcart.media import domain
from clipcart.media.config import MediaSettings, get_media_settings

CHUNK = 256 * 1024


class MediaStorage(Protocol):
    """Put, fetch, delete and serve files by key ("videos/<id>/<name>")."""

    def put_file(self, key: str, source: Path, content_type: str) -> None: ...

    def fetch(self, key: str, destination: Path) -> None: ...

    def exists(self, key: str) -> bool: ...

    def delete_prefix(self, prefix: str) -> None: ...

    def delete_file(self, key: str) -> None: ...

    def response(
        self, key: str, request: Request, content_type: str, headers: dict[str, str]
    ) -> Response: ...


def _check_key(key: str) -> None:
    if not key or key.startswith("/") or ".." in key.split("/") or "\\" in key:
        raise ValueError(f"bad media key: {key!r}")


class LocalStorage:
    """Files under a directory; Starlette's FileResponse answers Range requests (206/416)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        """The file behind `key`."""
        _check_key(key)
        return self.root / key

    def put_file(self, key: str, source: Path, content_type: str) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        draft = target.with_name(f".{target.name}.part")
        shutil.copyfile(source, draft)
        draft.replace(target)  # readers never see half a file

    def fetch(self, key: str, destination: Path) -> None:
        source = self.path(key)
        if not source.is_file():
            raise FileNotFoundError(key)
        shutil.copyfile(source, destination)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete_file(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        _check_key(prefix)
        shutil.rmtree(self.root / prefix, ignore_errors=True)

    def response(
        self, key: str, request: Request, content_type: str, headers: dict[str, str]
    ) -> Response:
        path = self.path(key)
        if not path.is_file():
            raise NotFound("That media file does not exist.", code="media_not_found")
        return FileResponse(path, media_type=content_type, headers=headers)


class S3Storage:
    """Objects in an S3-compatible bucket (boto3). Ranges are answered by asking the bucket
    for exactly those bytes."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def object_key(self, key: str) -> str:
        """The bucket key of a media key."""
        _check_key(key)
        return self.prefix + key

    def put_file(self, key: str, source: Path, content_type: str) -> None:
        self.client.upload_file(
            str(source), self.bucket, self.object_key(key), ExtraArgs={"ContentType": content_type}
        )

    def fetch(self, key: str, destination: Path) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.download_file(self.bucket, self.object_key(key), str(destination))
        except ClientError as error:
            raise FileNotFoundError(key) from error

    def _size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError:
            return None
        return int(head["ContentLength"])

    def exists(self, key: str) -> bool:
        return self._size(key) is not None

    def delete_file(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def delete_prefix(self, prefix: str) -> None:
        _check_key(prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.object_key(prefix) + "/"):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})

    def response(
        self, key: str, request: Request, content_type: str, headers: dict[str, str]
    ) -> Response:
        size = self._size(key)
        if size is None:
            raise NotFound("That media file does not exist.", code="media_not_found")
        base = {**headers, "Accept-Ranges": "bytes"}
        try:
            wanted = domain.parse_byte_range(request.headers.get("range"), size)
        except domain.RangeNotSatisfiable:
            return Response(status_code=416, headers={**base, "Content-Range": f"bytes */{size}"})
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Key": self.object_key(key)}
        status = 200
        if wanted is not None:
            first, last = wanted
            arguments["Range"] = f"bytes={first}-{last}"
            base["Content-Range"] = f"bytes {first}-{last}/{size}"
            base["Content-Length"] = str(last - first + 1)
            status = 206
        else:
            base["Content-Length"] = str(size)
        if request.method == "HEAD":
            return Response(status_code=status, headers=base, media_type=content_type)
        body = self.client.get_object(**arguments)["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        return StreamingResponse(
            iterate_in_threadpool(chunks()),
            status_code=status,
            headers=base,
            media_type=content_type,
        )


def create_storage(settings: MediaSettings | None = None) -> MediaStorage:
    """The storage these settings describe."""
    settings = settings or get_media_settings()
    if settings.s3_bucket:
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=settings.s3_secret_access_key,
        )
        return S3Storage(client, settings.s3_bucket, settings.s3_prefix)
    # Outside the public /media mount: every video file is served through an access check.
    return LocalStorage(settings.local_root or get_settings().data_dir.resolve() / "video-store")


@lru_cache(maxsize=1)
def get_storage() -> MediaStorage:
    """The process-wide media storage (tests call `get_storage.cache_clear()`)."""
    return create_storage()
