"""Migrations build the schema the models describe, from nothing, on SQLite and PostgreSQL,
and can be walked all the way down and up again."""

from __future__ import annotations

import asyncio
import sqlite3
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


def test_the_seller_role_leaves_people_who_no_longer_work_for_a_shop(sqlite_url: str) -> None:
    """a1d5c7e3f208: removing someone from a shop's staff used to leave them the seller role."""
    config = alembic_config(sqlite_url)
    command.upgrade(config, "f7a2c4e9b105")
    path = sqlite_url.split("///", 1)[1]
    staffed, removed = uuid.uuid4().hex, uuid.uuid4().hex
    granted = "2026-01-01 00:00:00"
    with sqlite3.connect(path) as database:  # no foreign keys enforced: roles and staff only
        database.executemany(
            "INSERT INTO user_roles (user_id, role, granted_at) VALUES (?, ?, ?)",
            [
                (staffed, "seller_staff", granted),
                (removed, "seller_staff", granted),
                (removed, "buyer", granted),
            ],
        )
        database.execute(
            "INSERT INTO shop_staff (shop_id, user_id, role, added_at) VALUES (?, ?, ?, ?)",
            (uuid.uuid4().hex, staffed, "owner", granted),
        )
    command.upgrade(config, "head")
    with sqlite3.connect(path) as database:
        roles = set(database.execute("SELECT user_id, role FROM user_roles"))
    assert roles == {(staffed, "seller_staff"), (removed, "buyer")}
