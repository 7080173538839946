"""Run Alembic from code: `clipcart migrate`, the demo, and tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from clipcart.core.config import get_settings

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def alembic_config(database_url: str | None = None) -> Config:
    """Alembic configuration pointing at this checkout's migrations and `database_url`."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url or get_settings().resolved_database_url
    return config


def upgrade_to_head(database_url: str | None = None) -> None:
    """Bring the database schema up to the newest migration."""
    command.upgrade(alembic_config(database_url), "head")


def check_models_match_migrations(database_url: str | None = None) -> None:
    """Raise when a model change has no migration (`alembic check`)."""
    command.check(alembic_config(database_url))
