"""Migrations build the schema the models describe, from nothing, on SQLite and PostgreSQL,
and can be walked all the way down and up again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from clipcart.core.db import Base
from clipcart.core.migrations import (
    alembic_config,
    check_models_match_migrations,
    upgrade_to_head,
)
from clipcart.models import load_all_models
from tests.services import require_postgres

load_all_models()


def _table_names(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        finally:
            await engine.dispose()
        return set(names)

    return asyncio.run(read())


def _model_tables() -> set[str]:
    return set(Base.metadata.tables)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A brand-new, empty SQLite file."""
    return f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A brand-new, empty PostgreSQL database, dropped afterwards."""
    import asyncpg

    base = require_postgres()
    name = f"clipcart_migrations_{uuid.uuid4().hex[:12]}"
    server, _, _ = base.rpartition("/")
    admin_dsn = f"{server}/postgres".replace("postgresql+asyncpg://", "postgresql://", 1)

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(admin_dsn)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_there_is_exactly_one_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"migrations have branched: heads {heads}; add a merge migration"


def test_upgrade_from_empty_to_head_on_sqlite(sqlite_url: str) -> None:
    upgrade_to_head(sqlite_url)
    assert _model_tables() <= _table_names(sqlite_url)
    check_models_match_migrations(sqlite_url)


@pytest.mark.postgres
def test_upgrade_from_empty_to_head_on_postgres(postgres_url: str) -> None:
    upgrade_to_head(postgres_url)
    assert _model_tables() <= _table_names(postgres_url)
    check_models_match_migrations(postgres_url)


def test_downgrade_to_base_and_upgrade_again_on_sqlite(sqlite_url: str) -> None:
    config = alembic_config(sqlite_url)
    upgrade_to_head(sqlite_url)

    command.downgrade(config, "base")
    assert _table_names(sqlite_url) <= {"alembic_version"}, "downgrade left tables behind"

    upgrade_to_head(sqlite_url)
    assert _model_tables() <= _table_names(sqlite_url)
    check_models_match_migrations(sqlite_url)


def test_upgrade_to_head_twice_changes_nothing(sqlite_url: str) -> None:
    upgrade_to_head(sqlite_url)
    before = _table_names(sqlite_url)
    upgrade_to_head(sqlite_url)
    assert _table_names(sqlite_url) == before
