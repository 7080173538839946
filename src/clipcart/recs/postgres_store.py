"""PostgreSQL: a batch of events stored, and added to the trends and the view counters, by one
statement (recs.service validates the batch and gives it here as one list per column)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core.db import fetch_value_in_one_transaction
from clipcart.recs import domain, trending
from clipcart.recs.models import RecsEvent
from clipcart.social import service as social_service

_TABLE = cast(Table, RecsEvent.__table__)
_COLUMNS = [column.name for column in _TABLE.columns]

# PostgreSQL: the whole batch as one array per column, unnested into rows by the server. One
# small prepared statement whatever the batch size, and asyncpg encodes the arrays in C, where
# a multi-row VALUES list costs SQLAlchemy and the driver ~19 parameters per row.
_PG_ARRAY_TYPES = {
    column.name: column.type.compile(dialect=postgresql.dialect()) for column in _TABLE.columns
}
# occurred_at goes as microseconds since PostgreSQL's epoch (see _microseconds): asyncpg's
# encoding of an aware datetime asks its tzinfo for the offset, and pydantic's is a call into
# Rust: ~1.5 µs a value, ten times the arithmetic done here.
_PG_ARRAY_TYPES["occurred_at"] = "BIGINT"
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Columns with one value for the whole batch go as one parameter each, not as an array of
# copies: asyncpg encodes every array element in turn, with an isinstance check against
# collections.abc (a Python-level call) for each, even a None.
_PG_BATCH_CONSTANTS = ("received_at", "user_id", "visitor_id")
_PG_ARRAY_COLUMNS = [name for name in _COLUMNS if name not in _PG_BATCH_CONSTANTS]
# The other columns (but the id) go as an array, or as one value when the batch has the same
# one in every event (often: no target, no share code, one session): then the array is NULL,
# which unnest reads as all NULLs, and COALESCE takes the value instead.
_PG_SAME_COLUMNS = _PG_ARRAY_COLUMNS[1:]


def _pg_selected(name: str) -> str:
    """The SQL of one inserted column: from the arrays, the same-value parameters or the
    batch's constants ($n in the order store sends them)."""
    sql_type = _PG_ARRAY_TYPES[name]
    if name in _PG_BATCH_CONSTANTS:
        number = len(_PG_ARRAY_COLUMNS) + len(_PG_SAME_COLUMNS) + 1
        return f"CAST(${number + _PG_BATCH_CONSTANTS.index(name)} AS {sql_type})"
    if name in _PG_SAME_COLUMNS:
        number = len(_PG_ARRAY_COLUMNS) + 1 + _PG_SAME_COLUMNS.index(name)
        value = f"COALESCE(batch.{name}, CAST(${number} AS {sql_type}))"
        if name == "occurred_at":  # whole microseconds: the product is exact
            return f"(CAST('{_PG_EPOCH.isoformat()}' AS TIMESTAMPTZ) + {value} * INTERVAL '1 us')"
        return value
    return f"batch.{name}"


# Built once from the tables' own metadata and the domain's constants: no outside text reaches
# this SQL. Sent to the driver as it is: SQLAlchemy's text() parameter handling cost more than
# asyncpg's encoding. One statement stores the batch and counts exactly the rows it stored
# (those of a retried batch that were stored before are not returned by ON CONFLICT DO
# NOTHING): their engagement goes to the trends and their impressions to the view counters in
# steps of the same WITH, so no second statement, no per-event work in Python for them, and
# no list of stored ids comes back; it answers how many were stored.
_PG_ARRAYS = ", ".join(
    f"CAST(${number} AS {_PG_ARRAY_TYPES[name]}[])"
    for number, name in enumerate(_PG_ARRAY_COLUMNS, 1)
)
_PG_VIEWS = (
    "(SELECT video_id FROM stored WHERE type IN "  # noqa: S608
    f"({', '.join(str(code) for code in sorted(domain.VIEW_TYPE_CODES))}))"
)
_PG_INSERT_SQL = (
    f"WITH stored AS (INSERT INTO {_TABLE.name} ({', '.join(_COLUMNS)}) "  # noqa: S608
    f"SELECT {', '.join(_pg_selected(name) for name in _COLUMNS)} FROM unnest({_PG_ARRAYS}) "
    f"AS batch({', '.join(_PG_ARRAY_COLUMNS)}) ON CONFLICT (id) DO NOTHING "
    "RETURNING type, video_id, completed, occurred_at), "
    f"trend AS ({trending.postgres_add_events_sql('stored')}), "
    # Every batch runs this one statement: its steps take their row locks (each in id order)
    # in the same order in every batch, so concurrent batches wait on each other, never cycle.
    f"{social_service.postgres_record_views_steps(_PG_VIEWS)} "
    "SELECT count(*) FROM stored"
)


def _microseconds(moments: list[datetime]) -> list[int]:
    """Microseconds since PostgreSQL's epoch of each moment (the epoch put in the moments'
    zone once per zone and batch: see domain.in_fixed_zone)."""
    epochs: dict[int, datetime] = {}  # by id of the moments' tzinfo
    counted = []
    for moment in moments:
        zone = moment.tzinfo
        epoch = epochs.get(id(zone))
        if epoch is None:
            epoch = epochs[id(zone)] = domain.in_fixed_zone(_PG_EPOCH, zone)
        counted.append((moment - epoch) // _MICROSECOND)
    return counted


def _array_or_same(values: list[Any]) -> tuple[list[Any] | None, Any]:
    """(None, the value) when every value is the same one, else (the values, None)."""
    first = values[0]
    if values[-1] == first and values.count(first) == len(values):
        return None, first
    return values, None


async def store(columns: dict[str, list[Any]], *, session: AsyncSession) -> int:
    """PostgreSQL: insert the rows whose id is new (ON CONFLICT DO NOTHING) and add what they
    add to the trends and view counters, in one statement; how many rows were new.

    The rows come in id order (see recs.service._columns): two batches resending some of the
    same events (a retried beacon) then wait on each other's keys in the same order instead of
    deadlocking.
    """
    # The commit waits for the WAL flush like every other: attribution (and so creator
    # commission) is read from these events, so an answered batch must survive a crash.
    arrays: list[list[Any] | None] = [columns["id"]]
    same: list[Any] = []
    for name in _PG_SAME_COLUMNS:
        sent = _microseconds(columns[name]) if name == "occurred_at" else columns[name]
        array, value = _array_or_same(sent)
        arrays.append(array)
        same.append(value)
    constants = [columns[name][0] for name in _PG_BATCH_CONSTANTS]
    arguments = (*arrays, *same, *constants)
    # The request's whole transaction when nothing before it began one (a visitor's batch):
    # BEGIN, COMMIT and SQLAlchemy's cursor cost ~5 µs an event of server CPU, a third of it.
    # Nothing of the request touches the database after it.
    return cast(int, await fetch_value_in_one_transaction(session, _PG_INSERT_SQL, *arguments))
