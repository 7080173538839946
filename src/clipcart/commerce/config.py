"""Commerce settings, read from CLIPCART_* environment variables like the core settings."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommerceSettings(BaseSettings):
    """Reservation, delivery and return timings; each field is CLIPCART_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="CLIPCART_", extra="ignore")

    reservation_minutes: int = Field(
        default=15, ge=1, le=24 * 60, description="How long placed-but-unpaid stock is held"
    )
    delivery_auto_confirm_days: int = Field(
        default=10, ge=1, description="Days after shipping an order counts as delivered"
    )
    return_window_days: int = Field(
        default=7, ge=0, description="Days after delivery a buyer may ask for a return"
    )
    return_answer_hours: int = Field(
        default=48, ge=1, description="Hours a seller has to answer a return request"
    )


@lru_cache(maxsize=1)
def get_commerce_settings() -> CommerceSettings:
    """The process-wide commerce settings (tests call `get_commerce_settings.cache_clear()`)."""
    return CommerceSettings()
