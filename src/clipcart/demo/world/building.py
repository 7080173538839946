"""Build a world once: plan it in memory from a seed, write it in bulk, count it, mark it.

This is an edge like a CLI command: it owns its transactions (one per phase or batch) and
writes the tables of several domains directly, in bulk, because per-row services would take
hours at benchmark sizes. Every row is one the app itself could have written."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from clipcart.core import clock
from clipcart.core.db import get_engine
from clipcart.core.ids import new_id
from clipcart.core.security import hash_password
from clipcart.demo.seed import DEMO_PASSWORD
from clipcart.demo.world.bulk import BulkWriter, bulk_engine, without_indexes, world_id
from clipcart.demo.world.catalogue import ProductPlan, make_products
from clipcart.demo.world.clips import VideoPlan, make_videos
from clipcart.demo.world.histories import (
    EVENT_COLUMNS,
    EVENTS_PER_IMPRESSION,
    Histories,
    HistoryMaker,
)
from clipcart.demo.world.people import (
    WORLD_DOMAIN,
    Creator,
    Person,
    Shopper,
    ShopPlan,
    make_creators,
    make_shoppers,
    make_shops,
)
from clipcart.demo.world.sizes import WorldReport, WorldSize
from clipcart.demo.world.tables import tables
from clipcart.demo.world.tallies import count_world, fill_counters

Progress = Callable[[str, int, int], None]
MARKER_EMAIL = f"world@{WORLD_DOMAIN}"
WORLD_PASSWORD = DEMO_PASSWORD  # every account of a world logs in with the demo's password
SHOPPERS_PER_BATCH = 500
INDEX_REBUILD_EVENTS = 250_000


@dataclass
class WorldPlan:
    """Everything a world holds before it is written."""

    shops: list[ShopPlan]
    creators: list[Creator]
    shoppers: list[Shopper]
    products: list[ProductPlan]
    videos: list[VideoPlan]
    guests: list[Shopper] = field(default_factory=list)  # existing accounts, histories only


@dataclass(frozen=True)
class Guest:
    """An account from outside the world that gets a history: its id and favourite themes."""

    user_id: uuid.UUID
    handle: str
    themes: tuple[str, ...]
    appetite: float = 1.5


def _guest_shopper(guest: Guest, now: datetime) -> Shopper:
    from clipcart.demo.world.themes import THEMES

    keys = [theme.key for theme in THEMES]
    favourites = tuple(
        (keys.index(key), 1.0 / len(guest.themes)) for key in guest.themes if key in keys
    )
    person = Person(guest.user_id, "", guest.handle, guest.handle, "", (), now)
    return Shopper(person, favourites or ((0, 1.0),), guest.appetite)


def plan_world(size: WorldSize, *, seed: int, now: datetime) -> WorldPlan:
    """The world a seed makes (the same seed and size make the same world)."""
    rng = random.Random(seed)
    shops = make_shops(size, rng, now)
    creators = make_creators(size, shops, rng, now)
    shoppers = make_shoppers(size, rng, now)
    products = make_products(size.products, shops, rng, now)
    videos = make_videos(size.videos, creators, shops, products, rng, now)
    return WorldPlan(shops, creators, shoppers, products, videos)


async def build_world(
    size: WorldSize,
    *,
    seed: int = 7,
    progress: Progress | None = None,
    guests: Sequence[Guest] = (),
) -> WorldReport:
    """Fill the configured database (CLIPCART_DATABASE_URL, migrated) with a world, once:
    a second call on a database that has it returns its report without writing.

    `guests` are existing accounts (the demo's buyer) given a history from a taste profile too.
    """
    started = time.perf_counter()
    engine = get_engine()
    async with engine.connect() as connection:
        existing = await _marker(connection)
    if existing is not None:
        async with engine.connect() as connection:
            return await _report(connection, existing[0], existing[1], built_now=False)
    say = progress or (lambda _phase, _done, _total: None)
    now = clock.now().replace(microsecond=0)
    phases: dict[str, float] = {}
    mark = time.perf_counter()
    plan = plan_world(size, seed=seed, now=now)
    plan.guests = [_guest_shopper(guest, now) for guest in guests]
    phases["plan"] = time.perf_counter() - mark
    password_hash = hash_password(WORLD_PASSWORD)
    async with bulk_engine() as bulk:
        await _write_world(
            bulk, plan, size, password_hash, seed=seed, now=now, say=say, phases=phases
        )
        mark = time.perf_counter()
        say("counters", 0, 1)
        await _analyze(bulk)  # the counters' joins need row estimates too
        async with bulk.begin() as connection:
            await fill_counters(
                connection, domain=WORLD_DOMAIN, guest_ids=[guest.user_id for guest in guests]
            )
            await _write_marker(connection, size, seed, password_hash, now)
        await _analyze(bulk)
        say("counters", 1, 1)
        phases["counters"] = time.perf_counter() - mark
    async with engine.connect() as connection:
        report = await _report(connection, size, seed, built_now=True)
    report.phases.update(phases)
    return _with_seconds(report, time.perf_counter() - started)


async def _write_world(
    engine: AsyncEngine, plan: WorldPlan, size: WorldSize, password_hash: str, *, seed: int,
    now: datetime, say: Progress, phases: dict[str, float],
) -> None:  # fmt: skip
    """Every row of the world but its counters and marker, a phase at a time (timed)."""
    t = tables()
    steps: list[tuple[str, Callable[[BulkWriter], Any]]] = [
        ("accounts", lambda writer: _write_people(writer, plan, password_hash)),
        ("shops", lambda writer: _write_shops(writer, plan)),
        ("catalogue", lambda writer: _write_catalogue(writer, plan)),
        ("videos", lambda writer: _write_videos(writer, plan, ready=not size.media)),
    ]
    # Rebuilding the indexes once pays off from a few hundred thousand events (not the demo's).
    rebuilt = [t.events, t.videos, t.video_tags, t.video_hashtags]
    async with without_indexes(engine, rebuilt, enabled=size.events >= INDEX_REBUILD_EVENTS):
        for name, step in steps:
            mark = time.perf_counter()
            say(name, 0, 1)
            async with engine.begin() as connection:
                await step(BulkWriter(connection))
            say(name, 1, 1)
            phases[name] = time.perf_counter() - mark
        mark = time.perf_counter()
        await _write_histories(engine, plan, size, seed=seed, now=now, say=say)
        phases["histories"] = time.perf_counter() - mark
        mark = time.perf_counter()
        say("indexes", 0, 1)
    phases["indexes"] = time.perf_counter() - mark


async def _analyze(engine: AsyncEngine) -> None:
    """PostgreSQL: fresh statistics for the tables just filled, or plans go astray (a join
    planned for one row when there are millions)."""
    if engine.dialect.name != "postgresql":
        return
    # Committed: statistics ANALYZE gathers inside a transaction that is rolled back are lost.
    async with engine.begin() as connection:
        for table in vars(tables()).values():
            await connection.exec_driver_sql(f"ANALYZE {table.name}")


def _with_seconds(report: WorldReport, seconds: float) -> WorldReport:
    return replace(report, seconds=round(seconds, 2))


async def _marker(connection: AsyncConnection) -> tuple[WorldSize, int] | None:
    """The size and seed of the world already in the database, if any."""
    users = tables().users
    bio = await connection.scalar(select(users.c.bio).where(users.c.email == MARKER_EMAIL))
    if bio is None:
        return None
    stored = json.loads(bio)
    return WorldSize(**stored["size"]), int(stored["seed"])


async def _write_marker(
    connection: AsyncConnection, size: WorldSize, seed: int, password_hash: str, now: datetime
) -> None:
    # Written last, in the same transaction as the counters: a half-built world has none.
    writer = BulkWriter(connection)
    bio = json.dumps({"size": size.as_dict(), "seed": seed}, separators=(",", ":"))
    users = tables().users
    await writer.write(
        users,
        ("id", "created_at", "email", "handle", "display_name", "bio", "password_hash",
         "is_active"),
        [(new_id(), now, MARKER_EMAIL, "world_keeper",
          "World keeper", bio, password_hash, False)],
    )  # fmt: skip


async def _report(
    connection: AsyncConnection, size: WorldSize, seed: int, *, built_now: bool
) -> WorldReport:
    counts = await count_world(connection)
    t = tables()
    first_shop = await connection.scalar(  # the shop of the first seller
        select(t.shops.c.handle)
        .join(t.shop_staff, t.shop_staff.c.shop_id == t.shops.c.id)
        .join(t.users, t.users.c.id == t.shop_staff.c.user_id)
        .where(t.users.c.email == f"seller0@{WORLD_DOMAIN}", t.shop_staff.c.role == "owner")
    )
    return WorldReport(
        size=size,
        seed=seed,
        counts=counts,
        buyer_email=f"shopper0@{WORLD_DOMAIN}",
        buyer_password=WORLD_PASSWORD,
        creator_email=f"creator0@{WORLD_DOMAIN}",
        seller_email=f"seller0@{WORLD_DOMAIN}",
        shop_handle=first_shop or "",
        built_now=built_now,
    )


def _people(plan: WorldPlan) -> list[Person]:
    return (
        [shop.owner for shop in plan.shops]
        + [creator.person for creator in plan.creators]
        + [shopper.person for shopper in plan.shoppers]
    )


async def _write_people(writer: BulkWriter, plan: WorldPlan, password_hash: str) -> None:
    t = tables()
    people = _people(plan)
    await writer.write(
        t.users,
        ("id", "created_at", "email", "handle", "display_name", "bio", "password_hash",
         "is_active"),
        ((p.id, p.created_at, p.email, p.handle, p.display_name, p.bio, password_hash, True)
         for p in people),
    )  # fmt: skip
    await writer.write(
        t.user_roles,
        ("user_id", "role", "granted_at"),
        ((p.id, role, p.created_at) for p in people for role in p.roles),
    )


async def _write_shops(writer: BulkWriter, plan: WorldPlan) -> None:
    t = tables()
    await writer.write(
        t.shops,
        ("id", "created_at", "handle", "name", "description", "country", "currency",
         "return_policy", "shipping_flat_rate", "free_shipping_threshold", "processing_days"),
        ((s.id, s.created_at, s.handle, s.name,
          f"{s.theme.label} goods, chosen by {s.owner.display_name} and shipped fast.", "US",
          "USD", "Returns within 30 days in the original packaging.", 499, 5000, 1 + s.index % 3)
         for s in plan.shops),
    )  # fmt: skip
    staff = [(s.id, s.owner.id, "owner", s.created_at) for s in plan.shops]
    staff += [(c.shop.id, c.person.id, "manager", c.shop.created_at) for c in plan.creators]
    await writer.write(t.shop_staff, ("shop_id", "user_id", "role", "added_at"), staff)


async def _write_catalogue(writer: BulkWriter, plan: WorldPlan) -> None:
    t = tables()
    await writer.write(
        t.products,
        ("id", "created_at", "updated_at", "shop_id", "handle", "title", "description_html",
         "vendor", "product_type", "tags", "category_id", "status", "options", "currency"),
        ((p.id, p.created_at, p.created_at, p.shop.id, p.handle, p.title, p.description,
          p.shop.name, p.shop.theme.label, [p.shop.theme.key], p.category_id, "active",
          [p.option], "USD") for p in plan.products),
    )  # fmt: skip
    await writer.write(
        t.variants,
        ("id", "created_at", "product_id", "shop_id", "position", "sku", "option_values",
         "price", "compare_at_price", "weight_grams", "stock"),
        ((v.id, p.created_at, p.id, p.shop.id, v.position, v.sku, [v.value], v.price,
          v.compare_at, 250 + 50 * v.position, v.stock)
         for p in plan.products for v in p.variants),
    )  # fmt: skip
    rng = random.Random(len(plan.products))
    await writer.write(
        t.stock_movements,
        ("id", "created_at", "variant_id", "shop_id", "delta", "quantity_after", "reason",
         "note", "actor_id"),
        ((world_id(rng, p.created_at), p.created_at, v.id, p.shop.id, v.stock, v.stock,
          "initial", "", p.shop.owner.id)
         for p in plan.products for v in p.variants if v.stock),
    )  # fmt: skip


async def _write_videos(writer: BulkWriter, plan: WorldPlan, *, ready: bool) -> None:
    t = tables()
    # A million videos: each id, owner and time goes through its bind processor once, for the
    # video's row, its hashtags and its tags alike (rows are then handed over as they are).
    as_id, as_time = writer.encoder(t.videos, "id"), writer.encoder(t.videos, "created_at")
    as_flag = writer.encoder(t.videos, "has_audio")
    as_seconds = writer.encoder(t.videos, "duration_seconds")
    ids = [as_id(v.id) for v in plan.videos]
    times = [as_time(v.created_at) for v in plan.videos]
    people = {v.owner.id: as_id(v.owner.id) for v in plan.videos}
    shops = {s.id: as_id(s.id) for s in plan.shops}
    status = "ready" if ready else "processing"
    source_audio, has_audio = as_flag(True), as_flag(not ready)
    await writer.write(
        t.videos,
        ("id", "created_at", "updated_at", "owner_id", "shop_id", "status", "caption",
         "visibility", "duration_seconds", "source_width", "source_height", "source_codec",
         "source_has_audio", "source_bytes", "has_audio", "poster_version", "ready_at"),
        ((video_id, at, at, people[v.owner.id], shops[v.shop.id], status, v.caption, "public",
          as_seconds(v.seconds), 720, 1280, "h264", source_audio, 0, has_audio, 0,
          as_time(v.created_at + timedelta(minutes=1)) if ready else None)
         for v, video_id, at in zip(plan.videos, ids, times, strict=True)),
        encoded=True,
    )  # fmt: skip
    await writer.write(
        t.video_hashtags,
        ("video_id", "name"),
        ((video_id, name) for v, video_id in zip(plan.videos, ids, strict=True)
         for name in v.hashtags),
        encoded=True,
    )  # fmt: skip
    rng = random.Random(len(plan.videos))
    products = {p.id: as_id(p.id) for p in plan.products}
    await writer.write(
        t.video_tags,
        ("id", "created_at", "video_id", "product_id", "position", "tagged_by_id", "grounds"),
        ((as_id(world_id(rng, v.created_at)), at, video_id, products[p.id], position,
          people[v.owner.id], "own_shop")
         for v, video_id, at in zip(plan.videos, ids, times, strict=True)
         for position, p in enumerate(v.products)),
        encoded=True,
    )  # fmt: skip


async def _write_histories(
    engine: AsyncEngine, plan: WorldPlan, size: WorldSize, *, seed: int, now: datetime,
    say: Progress,
) -> list[tuple[Any, Any]]:  # fmt: skip
    """Every shopper's history, a batch per transaction; what they put in carts."""
    t = tables()
    shoppers = plan.shoppers + plan.guests
    total_appetite = sum(shopper.appetite for shopper in shoppers) or 1.0
    maker = HistoryMaker(
        plan.videos,
        plan.products,
        impressions_per_appetite=size.events / EVENTS_PER_IMPRESSION / total_appetite,
        postgres=engine.dialect.name == "postgresql",
        now=now,
        seed=seed,
    )
    carts: list[tuple[Any, Any]] = []

    async def store(batch: Histories, done: int) -> None:
        async with engine.begin() as connection:
            writer = BulkWriter(connection)
            await writer.write(t.events, EVENT_COLUMNS, batch.events, encoded=True)
            await _write_social(writer, batch)
        say("histories", done, len(shoppers))

    # The next batch is drawn (in a thread) while the last one is written: the database
    # driver works without the GIL for much of an insert.
    writing: asyncio.Task[None] | None = None
    for start in range(0, len(shoppers), SHOPPERS_PER_BATCH):
        batch = await asyncio.to_thread(maker.make, shoppers[start : start + SHOPPERS_PER_BATCH])
        carts += batch.carts
        if writing is not None:
            await writing
        done = min(start + SHOPPERS_PER_BATCH, len(shoppers))
        writing = asyncio.create_task(store(batch, done))
    if writing is not None:
        await writing
    async with engine.begin() as connection:
        await BulkWriter(connection).write(t.trends, ("video_id", "score"), maker.trend_rows())
    return carts


async def _write_social(writer: BulkWriter, batch: Histories) -> None:
    t = tables()
    await writer.write(t.likes, ("user_id", "video_id", "created_at"), batch.likes)
    await writer.write(t.user_follows, ("follower_id", "followed_id", "created_at"), batch.follows)
    await writer.write(t.shop_follows, ("follower_id", "shop_id", "created_at"), batch.shop_follows)
    await writer.write(
        t.collections,
        ("id", "user_id", "created_at", "name", "is_default"),
        ((cid, user, at, "Saved", True) for cid, user, at in batch.collections),
    )
    await writer.write(t.saves, ("user_id", "video_id", "collection_id", "created_at"), batch.saves)
    await writer.write(
        t.comments,
        ("id", "video_id", "author_id", "body", "created_at", "is_pinned", "is_hidden",
         "like_count", "reply_count"),
        ((cid, video, author, body, at, False, False, 0, 0)
         for cid, video, author, body, at in batch.comments),
    )  # fmt: skip
