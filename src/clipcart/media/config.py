"""Media settings, read from CLIPCART_MEDIA_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MediaSettings(BaseSettings):
    """Upload limits, transcode quality and where media is stored; each is CLIPCART_MEDIA_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="CLIPCART_MEDIA_", extra="ignore")

    max_upload_bytes: int = Field(default=200 * 1024 * 1024, gt=0, description="Upload size cap")
    max_duration_seconds: float = Field(default=180.0, gt=0, description="Longest video accepted")
    min_duration_seconds: float = Field(default=0.2, gt=0, description="Shortest video accepted")
    x264_preset: str = Field(default="veryfast", description="libx264 preset for transcodes")
    x264_crf: int = Field(default=23, ge=0, le=51, description="libx264 constant rate factor")
    local_root: Path | None = Field(
        default=None, description="Local video files; data_dir/video-store when unset"
    )
    s3_bucket: str | None = Field(default=None, description="Store media in this S3 bucket")
    s3_endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint")
    s3_region: str = Field(default="us-east-1", description="S3 region")
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_prefix: str = Field(default="", description="Key prefix inside the bucket")


@lru_cache(maxsize=1)
def get_media_settings() -> MediaSettings:
    """The process-wide media settings (tests call `get_media_settings.cache_clear()`)."""
    return MediaSettings()
