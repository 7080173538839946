"""Ledger settings, read from CLIPCART_* environment variables like the core settings."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LedgerSettings(BaseSettings):
    """Fees and payout limits; each field is CLIPCART_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="CLIPCART_", extra="ignore")

    platform_fee_rate: Decimal = Field(
        default=Decimal("0.05"), ge=0, le=1, description="Share of each order the platform keeps"
    )
    payout_minimum: Decimal = Field(
        default=Decimal("10"), ge=0, description="Smallest payout, in major units of its currency"
    )
    payout_provider: str = Field(default="sandbox", description="Which payout provider pays")
    payout_sandbox_settle_seconds: int = Field(
        default=60, ge=0, description="How long a sandbox payout stays in transit"
    )
    payout_check_delay_seconds: int = Field(
        default=5, ge=1, description="Delay before a job first looks at a new payout"
    )


@lru_cache(maxsize=1)
def get_ledger_settings() -> LedgerSettings:
    """The process-wide ledger settings (tests call `get_ledger_settings.cache_clear()`)."""
    return LedgerSettings()
