"""Settings read from CLIPCART_* environment variables."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything ClipCart can be configured with; each field is CLIPCART_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="CLIPCART_", extra="ignore")

    environment: str = Field(default="development", description="development, test or production")
    data_dir: Path = Field(default=Path("var"), description="Where SQLite, jobs and media live")
    database_url: str | None = Field(default=None, description="SQLAlchemy async URL")
    database_pool_size: int = Field(
        default=20,
        ge=1,
        description="PostgreSQL connections each process keeps open (10 more when busy)",
    )
    redis_url: str | None = Field(default=None, description="Redis URL; in-process when unset")
    media_root: Path | None = Field(default=None, description="Media files; data_dir/media")
    secret_key: str | None = Field(default=None, description="Signs tokens; generated if unset")
    base_url: str = "http://127.0.0.1:8000"
    log_json: bool = True
    log_level: str = "INFO"

    session_idle_timeout_seconds: int = 7 * 24 * 3600
    session_absolute_timeout_seconds: int = 30 * 24 * 3600
    login_attempts_per_minute_per_ip: int = 20
    login_failures_before_backoff: int = 5
    login_backoff_base_seconds: int = 30
    login_backoff_max_seconds: int = 3600
    signups_per_hour_per_ip: int = 30

    jobs_immediate: bool = Field(default=False, description="Run jobs inline (tests)")
    avatar_max_bytes: int = 5 * 1024 * 1024

    idempotency_lock_seconds: int = Field(
        default=60, description="After this, an unfinished Idempotency-Key may be retried"
    )
    payments_provider: str = Field(default="sandbox", description="Payment provider name")
    payments_sandbox_enabled: bool = Field(default=True, description="Serve /sandbox/v1")
    payments_sandbox_url: str | None = Field(
        default=None, description="Sandbox provider API; base_url + /sandbox when unset"
    )
    payments_webhook_url: str | None = Field(
        default=None, description="Where the sandbox sends webhooks; ours when unset"
    )
    payments_webhook_secret: str | None = Field(
        default=None, description="Shared webhook signing secret; derived when unset"
    )
    payments_webhook_tolerance_seconds: int = 300
    payments_provider_timeout_seconds: float = 10.0
    payments_sandbox_lost_response_seconds: float = Field(
        default=15.0, description="How long the sandbox sits on a lost answer (test card 0119)"
    )
    payments_sandbox_webhook_delay_seconds: float = 1.0

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite under data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'clipcart.db').resolve()}"

    @property
    def resolved_media_root(self) -> Path:
        """Where uploaded and generated media is stored."""
        return (self.media_root or self.data_dir / "media").resolve()

    @property
    def is_sqlite(self) -> bool:
        """True on the embedded default database."""
        return self.resolved_database_url.startswith("sqlite")

    @property
    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated on first run and kept in data_dir."""
        if self.secret_key:
            return self.secret_key
        return _secret_from_file(self.data_dir / "secret_key")


def _secret_from_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written in full under a private name, then linked into place: processes starting
        # together never read a half-written file, and the first link wins.
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call `get_settings.cache_clear()`)."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings
