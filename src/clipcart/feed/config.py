"""Feed settings, read from CLIPCART_* environment variables like the core settings."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class FeedSettings(BaseSettings):
    """How long each process remembers what For You reads; each field is CLIPCART_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="CLIPCART_", extra="ignore")

    feed_shared_list_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How old the shared candidate lists (newest, fresh, trending, by hashtag, "
        "by followed accounts, by wanted products) may be: a new video reaches For You within "
        "this time (0: read them every request)",
    )


@lru_cache(maxsize=1)
def get_feed_settings() -> FeedSettings:
    """The process-wide feed settings."""
    return FeedSettings()
