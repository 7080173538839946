"""Settings come from CLIPCART_* variables; a first run gets a private secret and SQLite."""

from __future__ import annotations

import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from clipcart.core import db
from clipcart.core.config import Settings, get_settings


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No CLIPCART_* variables (the test run sets several), and a fresh settings cache."""
    import os

    for name in [name for name in os.environ if name.startswith("CLIPCART_")]:
        monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def test_defaults_without_environment(bare_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bare_env.chdir(tmp_path)
    settings = Settings()
    assert settings.environment == "development"
    assert settings.data_dir == Path("var")
    assert settings.redis_url is None
    assert settings.jobs_immediate is False
    database = tmp_path / "var" / "clipcart.db"
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{database}"
    assert settings.is_sqlite
    assert settings.resolved_media_root == tmp_path / "var" / "media"


async def test_default_database_is_a_working_sqlite_file_under_data_dir(
    bare_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    settings = Settings(data_dir=data_dir)
    engine = db.create_engine(settings.resolved_database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE probe (x INTEGER)"))
            await connection.execute(text("INSERT INTO probe VALUES (42)"))
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT x FROM probe"))).scalar() == 42
    finally:
        await engine.dispose()
    assert (data_dir / "clipcart.db").is_file()


def test_environment_variables_override_defaults(bare_env: pytest.MonkeyPatch) -> None:
    bare_env.setenv("CLIPCART_ENVIRONMENT", "production")
    bare_env.setenv("CLIPCART_DATABASE_URL", "postgresql+asyncpg://app@db:5432/clipcart")
    bare_env.setenv("CLIPCART_REDIS_URL", "redis://cache:6379/0")
    bare_env.setenv("CLIPCART_JOBS_IMMEDIATE", "true")
    bare_env.setenv("CLIPCART_LOGIN_ATTEMPTS_PER_MINUTE_PER_IP", "7")
    bare_env.setenv("CLIPCART_LOG_JSON", "false")
    bare_env.setenv("CLIPCART_DATA_DIR", "/srv/clipcart")
    bare_env.setenv("LOG_LEVEL", "DEBUG")  # not ours: no prefix
    settings = Settings()
    assert settings.environment == "production"
    assert settings.resolved_database_url == "postgresql+asyncpg://app@db:5432/clipcart"
    assert not settings.is_sqlite
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.jobs_immediate is True
    assert settings.login_attempts_per_minute_per_ip == 7
    assert settings.log_json is False
    assert settings.data_dir == Path("/srv/clipcart")
    assert settings.log_level == "INFO"


def test_a_bad_value_in_the_environment_is_refused(bare_env: pytest.MonkeyPatch) -> None:
    bare_env.setenv("CLIPCART_LOGIN_ATTEMPTS_PER_MINUTE_PER_IP", "lots")
    with pytest.raises(ValueError, match="login_attempts_per_minute_per_ip"):
        Settings()


def test_secret_key_is_generated_once_private_and_kept(
    bare_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data_dir = tmp_path / "fresh" / "data"  # does not exist yet
    first = Settings(data_dir=data_dir).resolved_secret_key
    path = data_dir / "secret_key"
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 43  # at least 256 bits
    assert path.read_text().strip() == first
    assert Settings(data_dir=data_dir).resolved_secret_key == first  # the next run
    assert Settings(data_dir=tmp_path / "other").resolved_secret_key != first


def test_configured_secret_key_wins_and_writes_no_file(
    bare_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bare_env.setenv("CLIPCART_SECRET_KEY", "from-the-environment")
    assert Settings(data_dir=tmp_path).resolved_secret_key == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_processes_starting_together_agree_on_one_secret(
    bare_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Several app processes may start at once on a fresh data_dir (threads stand in)."""
    for attempt in range(30):
        settings = Settings(data_dir=tmp_path / f"run{attempt}")
        barrier = threading.Barrier(8)
        secrets: list[str] = []
        errors: list[BaseException] = []

        def read(settings: Settings = settings, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                secrets.append(settings.resolved_secret_key)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=read) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(set(secrets)) == 1
        assert len(secrets[0]) >= 43
        assert list(settings.data_dir.iterdir()) == [settings.data_dir / "secret_key"]


def test_get_settings_is_cached_and_creates_data_dir(
    bare_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bare_env.setenv("CLIPCART_DATA_DIR", str(tmp_path / "made-by-get-settings"))
    settings = get_settings()
    assert settings is get_settings()
    assert (tmp_path / "made-by-get-settings").is_dir()
    bare_env.setenv("CLIPCART_LOG_LEVEL", "DEBUG")
    assert get_settings().log_level == "INFO"  # cached until cleared
    get_settings.cache_clear()
    assert get_settings().log_level == "DEBUG"
