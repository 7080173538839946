"""Keyset pagination: every row exactly once, in a stable order, whatever the page size."""

from __future__ import annotations

import base64
import json
import math
import random
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import MetaData, String, Uuid, delete, select
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Mapped, mapped_column

from clipcart.core.db import UTCDateTime, get_engine, get_sessionmaker
from clipcart.core.errors import BadRequest
from clipcart.core.pagination import MAX_LIMIT, encode_cursor, paginate
from clipcart.core.problems import install_error_handlers
from clipcart.core.routing import DbSession, make_router


class ScratchBase(DeclarativeBase):
    """Tables that exist only while this module runs (real tables belong in migrations)."""

    metadata = MetaData()
    type_annotation_map = {datetime: UTCDateTime(), uuid.UUID: Uuid()}


class Listing(ScratchBase):
    __tablename__ = "core_test_pagination_listings"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    score: Mapped[int]
    posted_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(String(40))


ROW_COUNT = 37
START = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def make_listings() -> list[Listing]:
    """Few distinct sort values (many ties); random ids, so id order is not insertion order."""
    rng = random.Random(20300601)
    listings = [
        Listing(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            score=rng.randrange(4),
            posted_at=START + timedelta(minutes=rng.randrange(5), microseconds=rng.randrange(2)),
            title=f"listing {index}",
        )
        for index in range(ROW_COUNT)
    ]
    rng.shuffle(listings)
    return listings


@pytest.fixture(scope="module")
async def listings() -> AsyncIterator[list[dict[str, Any]]]:
    async with get_engine().begin() as connection:
        await connection.run_sync(ScratchBase.metadata.drop_all)
        await connection.run_sync(ScratchBase.metadata.create_all)
    rows = make_listings()
    snapshot = [
        {"id": r.id, "score": r.score, "posted_at": r.posted_at, "title": r.title} for r in rows
    ]
    async with get_sessionmaker()() as session:
        session.add_all(rows)
        await session.commit()
    yield snapshot
    async with get_sessionmaker()() as session:
        await session.execute(delete(Listing))
        await session.commit()
    async with get_engine().begin() as connection:
        await connection.run_sync(ScratchBase.metadata.drop_all)


ORDERINGS: dict[str, list[InstrumentedAttribute[Any]]] = {
    "id": [Listing.id],
    "score,id": [Listing.score, Listing.id],
    "posted_at,id": [Listing.posted_at, Listing.id],
    "score,posted_at,id": [Listing.score, Listing.posted_at, Listing.id],
}


def expected_ids(
    rows: list[dict[str, Any]],
    order_by: Sequence[InstrumentedAttribute[Any]],
    *,
    descending: bool,
    keep: Callable[[dict[str, Any]], bool] = lambda row: True,
) -> list[uuid.UUID]:
    kept = [row for row in rows if keep(row)]
    kept.sort(key=lambda row: tuple(row[column.key] for column in order_by), reverse=descending)
    return [row["id"] for row in kept]


async def walk(
    statement: Any,
    order_by: Sequence[InstrumentedAttribute[Any]],
    *,
    limit: int,
    descending: bool,
) -> list[list[uuid.UUID]]:
    """Every page, following next_cursor until it is None (each page in its own session)."""
    pages: list[list[uuid.UUID]] = []
    cursor: str | None = None
    while True:
        async with get_sessionmaker()() as session:
            rows, cursor = await paginate(
                session,
                statement,
                order_by=order_by,
                cursor=cursor,
                limit=limit,
                descending=descending,
            )
        pages.append([row.id for row in rows])
        assert len(pages) <= ROW_COUNT + 1, "pagination does not terminate"
        if cursor is None:
            return pages


@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("ordering", list(ORDERINGS))
async def test_every_page_size_yields_every_row_once_in_order(
    listings: list[dict[str, Any]], ordering: str, descending: bool
) -> None:
    order_by = ORDERINGS[ordering]
    expected = expected_ids(listings, order_by, descending=descending)
    for limit in range(1, ROW_COUNT + 2):
        pages = await walk(select(Listing), order_by, limit=limit, descending=descending)
        walked = [listing_id for page in pages for listing_id in page]
        assert walked == expected, f"page size {limit}"
        # full pages, then the rest; no empty page at the end
        assert len(pages) == math.ceil(ROW_COUNT / limit)
        assert all(len(page) == limit for page in pages[:-1])
        assert 1 <= len(pages[-1]) <= limit


async def test_filters_are_kept_while_paging(listings: list[dict[str, Any]]) -> None:
    order_by = ORDERINGS["score,posted_at,id"]
    statement = select(Listing).where(Listing.score >= 2)
    expected = expected_ids(listings, order_by, descending=True, keep=lambda r: r["score"] >= 2)
    assert 0 < len(expected) < ROW_COUNT
    for limit in (1, 2, 3, 7):
        pages = await walk(statement, order_by, limit=limit, descending=True)
        assert [listing_id for page in pages for listing_id in page] == expected


async def test_limit_is_clamped(listings: list[dict[str, Any]]) -> None:
    async with get_sessionmaker()() as session:
        for asked, size in [(None, 20), (0, 1), (-5, 1), (MAX_LIMIT + 50, ROW_COUNT)]:
            rows, _ = await paginate(
                session, select(Listing), order_by=[Listing.id], cursor=None, limit=asked
            )
            assert len(rows) == size


async def test_rows_added_between_pages_do_not_shift_the_walk(
    listings: list[dict[str, Any]],
) -> None:
    """Keyset cursors hold a position, not an offset: a newer row does not repeat an old one."""
    order_by = [Listing.posted_at, Listing.id]
    async with get_sessionmaker()() as session:
        first, cursor = await paginate(
            session, select(Listing), order_by=order_by, cursor=None, limit=10
        )
        session.add(
            Listing(id=uuid.uuid4(), score=0, posted_at=START + timedelta(days=1), title="newer")
        )
        await session.commit()
    try:
        seen = [row.id for row in first]
        while cursor:
            async with get_sessionmaker()() as session:
                rows, cursor = await paginate(
                    session, select(Listing), order_by=order_by, cursor=cursor, limit=10
                )
            seen += [row.id for row in rows]
        assert seen == expected_ids(listings, order_by, descending=True)
    finally:
        async with get_sessionmaker()() as session:
            await session.execute(delete(Listing).where(Listing.title == "newer"))
            await session.commit()


def raw_cursor(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


GOOD_ID = {"u": str(uuid.uuid4())}
MALFORMED_CURSORS = {
    "not base64": "!!!not-base64!!!",
    "not json": base64.urlsafe_b64encode(b"\xff\xfe{").decode(),
    "not a list": raw_cursor({"score": 1}),
    "too short": raw_cursor([1]),
    "too long": raw_cursor([1, GOOD_ID, 3]),
    "bad uuid text": raw_cursor([1, {"u": "nope"}]),
    "uuid not text": raw_cursor([1, {"u": 5}]),
    "uuid as list": raw_cursor([1, {"u": [1, 2]}]),
    "text for an integer": raw_cursor(["many", GOOD_ID]),
    "integer for a uuid": raw_cursor([1, 12345]),
    "text for a uuid": raw_cursor([1, "0190c0de-0000-7000-8000-000000000001"]),
    "fraction for an integer": raw_cursor([1.5, GOOD_ID]),
    "integer beyond any column": raw_cursor([2**70, GOOD_ID]),
    "empty": "=",
}


@pytest.mark.parametrize("cursor", list(MALFORMED_CURSORS.values()), ids=list(MALFORMED_CURSORS))
async def test_malformed_cursor_is_a_bad_request(
    listings: list[dict[str, Any]], cursor: str
) -> None:
    async with get_sessionmaker()() as session:
        with pytest.raises(BadRequest) as raised:
            await paginate(
                session,
                select(Listing),
                order_by=[Listing.score, Listing.id],
                cursor=cursor,
                limit=5,
            )
    assert raised.value.status == 400
    assert raised.value.code == "invalid_cursor"


@pytest.mark.parametrize(
    "values",
    [
        [{"t": "yesterday"}, GOOD_ID],
        [{"t": 5}, GOOD_ID],
        [{"t": "2030-06-01T12:00:00"}, GOOD_ID],  # naive: cursors we make carry an offset
        ["2030-06-01T12:00:00+00:00", GOOD_ID],
    ],
    ids=["not a date", "number", "naive", "plain text"],
)
async def test_malformed_datetime_cursor_is_a_bad_request(
    listings: list[dict[str, Any]], values: list[Any]
) -> None:
    async with get_sessionmaker()() as session:
        with pytest.raises(BadRequest):
            await paginate(
                session,
                select(Listing),
                order_by=[Listing.posted_at, Listing.id],
                cursor=raw_cursor(values),
                limit=5,
            )


async def test_cursor_from_another_ordering_is_a_bad_request(
    listings: list[dict[str, Any]],
) -> None:
    async with get_sessionmaker()() as session:
        _, cursor = await paginate(
            session, select(Listing), order_by=[Listing.posted_at, Listing.id], cursor=None, limit=3
        )
        assert cursor is not None
        with pytest.raises(BadRequest):
            await paginate(
                session,
                select(Listing),
                order_by=[Listing.score, Listing.id],
                cursor=cursor,
                limit=3,
            )


async def test_cursors_we_make_round_trip_every_key_type(listings: list[dict[str, Any]]) -> None:
    first = sorted(listings, key=lambda r: (r["score"], r["posted_at"], r["id"]), reverse=True)
    cursor = encode_cursor([first[0]["score"], first[0]["posted_at"], first[0]["id"]])
    async with get_sessionmaker()() as session:
        rows, _ = await paginate(
            session,
            select(Listing),
            order_by=ORDERINGS["score,posted_at,id"],
            cursor=cursor,
            limit=ROW_COUNT,
        )
    assert [row.id for row in rows] == [row["id"] for row in first[1:]]


def listings_api() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app, html_renderer=None)
    router = make_router(prefix="/api/v1")

    @router.get("/listings")
    async def list_listings(
        session: DbSession, cursor: str | None = None, limit: int | None = None
    ) -> dict[str, Any]:
        rows, next_cursor = await paginate(
            session,
            select(Listing),
            order_by=[Listing.score, Listing.id],
            cursor=cursor,
            limit=limit,
        )
        return {"items": [row.title for row in rows], "next_cursor": next_cursor}

    app.include_router(router)
    return app


async def test_api_walk_and_bad_cursor_answer(listings: list[dict[str, Any]]) -> None:
    transport = httpx.ASGITransport(app=listings_api(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        titles: list[str] = []
        params: dict[str, Any] = {"limit": 8}
        while True:
            response = await http.get("/api/v1/listings", params=params)
            assert response.status_code == 200
            body = response.json()
            titles += body["items"]
            if body["next_cursor"] is None:
                break
            params["cursor"] = body["next_cursor"]
        assert sorted(titles) == sorted(row["title"] for row in listings)
        assert len(titles) == ROW_COUNT

        for cursor in (MALFORMED_CURSORS["text for an integer"], "%%%"):
            response = await http.get("/api/v1/listings", params={"cursor": cursor})
            assert response.status_code == 400
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "invalid_cursor"
