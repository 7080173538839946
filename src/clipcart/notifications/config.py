"""Notification settings (SMTP), read from CLIPCART_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotificationSettings(BaseSettings):
    """Where order emails go out; each field is CLIPCART_<NAME>. No SMTP host: no email."""

    model_config = SettingsConfigDict(env_prefix="CLIPCART_", extra="ignore")

    smtp_host: str = Field(default="", description="SMTP server; empty sends no email")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS")
    smtp_implicit_tls: bool = Field(
        default=False, description="Speak TLS from the first byte (SMTPS, usually port 465)"
    )
    smtp_ca_file: Path | None = Field(
        default=None, description="CA certificates to trust for the server (a private CA)"
    )
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    mail_from: str = "ClipCart <orders@clipcart.localhost>"
    email_retry_delay_seconds: int = Field(default=60, ge=0, description="Between email retries")

    @model_validator(mode="after")
    def _one_kind_of_tls(self) -> NotificationSettings:
        if self.smtp_starttls and self.smtp_implicit_tls:
            raise ValueError(
                "Set CLIPCART_SMTP_STARTTLS or CLIPCART_SMTP_IMPLICIT_TLS, not both: a server "
                "speaks TLS from the start (port 465) or upgrades with STARTTLS (port 587)."
            )
        return self

    @property
    def email_enabled(self) -> bool:
        """True when an SMTP server is configured."""
        return bool(self.smtp_host.strip())


@lru_cache(maxsize=1)
def get_notification_settings() -> NotificationSettings:
    """The process-wide settings (tests call `get_notification_settings.cache_clear()`)."""
    return NotificationSettings()
