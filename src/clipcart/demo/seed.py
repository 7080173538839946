"""The demo world: one account per role, created once, and a way to start over."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from clipcart.core.config import Settings

if TYPE_CHECKING:
    from clipcart.demo.world import WorldReport

DEMO_VIDEO_COUNT = 6
DEMO_PASSWORD = "clipcart-demo-2024"  # noqa: S105 - printed for everyone: it is a demo

# (role shown in the table, role granted, email, handle, display name)
DEMO_ACCOUNTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("buyer", "buyer", "buyer@demo.clipcart.dev", "demo_buyer", "Bea Buyer"),
    ("creator", "creator", "creator@demo.clipcart.dev", "demo_creator", "Cole Creator"),
    ("seller", "seller_staff", "seller@demo.clipcart.dev", "demo_seller", "Sam Seller"),
    ("moderator", "moderator", "moderator@demo.clipcart.dev", "demo_moderator", "Mo Moderator"),
    ("admin", "admin", "admin@demo.clipcart.dev", "demo_admin", "Ada Admin"),
)


async def seed_demo() -> list[tuple[str, str, str]]:
    """Create the demo accounts that are missing; (role, email, handle) for each."""
    from sqlalchemy import select

    from clipcart.accounts import service
    from clipcart.accounts.models import User
    from clipcart.accounts.schemas import SignupIn
    from clipcart.core import clock
    from clipcart.core.db import unit_of_work
    from clipcart.demo.affiliate import seed_demo_affiliate
    from clipcart.demo.catalog import DEMO_SHOP_HANDLE, seed_demo_shop
    from clipcart.demo.commerce import in_process_sandbox, plan_demo_commerce
    from clipcart.demo.payouts import plan_demo_payouts
    from clipcart.demo.timeline import Timeline
    from clipcart.demo.videos import seed_demo_videos

    rows: list[tuple[str, str, str]] = []
    async with unit_of_work() as session:
        for label, role, email, handle, display_name in DEMO_ACCOUNTS:
            user = await session.scalar(select(User).where(User.email == email))
            if user is None:
                user = await service.sign_up(
                    SignupIn(
                        email=email,
                        handle=handle,
                        password=DEMO_PASSWORD,
                        display_name=display_name,
                    ),
                    session=session,
                )
            await service.grant_role(user, role, session=session)
            rows.append((label, user.email, user.handle))
            if label == "seller":
                await seed_demo_shop(user, session=session)
                await session.flush()
                await seed_demo_videos(user, count=DEMO_VIDEO_COUNT, session=session)
    # The shop's past (orders, the creator's sales, payouts) is planned now and played in the
    # order it happened, so every posting is dated when its business event took place.
    timeline = Timeline(clock.now())
    await plan_demo_commerce(
        timeline,
        buyer_email=DEMO_ACCOUNTS[0][2],
        seller_email=DEMO_ACCOUNTS[2][2],
        shop_handle=DEMO_SHOP_HANDLE,
    )
    async with unit_of_work() as session:  # the creator's affiliate story with the demo shop
        await seed_demo_affiliate(session, timeline=timeline)
    await plan_demo_payouts(  # from the balances the orders and commissions left
        timeline,
        seller_email=DEMO_ACCOUNTS[2][2],
        shop_handle=DEMO_SHOP_HANDLE,
        creator_handle=DEMO_ACCOUNTS[1][3],
    )
    if len(timeline):  # nothing planned on a rerun
        async with in_process_sandbox():
            await timeline.run()
    return rows


# The demo buyer's taste: their For You leans to cooking and coffee from the first visit.
DEMO_BUYER_THEMES = ("cooking", "coffee")


async def seed_demo_world(
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[WorldReport, tuple[int, int]]:
    """Build the demo's generated world once (the demo buyer gets a history in it) and queue
    the background jobs that draw its pictures and render its clips; the world's report and
    (videos, products) queued."""
    from sqlalchemy import select

    from clipcart.accounts.models import User
    from clipcart.core.db import unit_of_work
    from clipcart.demo.world import DEMO_WORLD, build_world
    from clipcart.demo.world.building import Guest
    from clipcart.demo.world.media_jobs import queue_world_media

    async with unit_of_work() as session:
        buyer = await session.scalar(select(User).where(User.email == DEMO_ACCOUNTS[0][2]))
    guests = [Guest(buyer.id, buyer.handle, DEMO_BUYER_THEMES)] if buyer is not None else []
    report = await build_world(DEMO_WORLD, progress=progress, guests=guests)
    seller_email = DEMO_ACCOUNTS[2][2]  # the demo shop's videos render first
    queued = await queue_world_media(extra_owner_emails=[seller_email])
    return report, queued


def reset_demo_data(settings: Settings) -> None:
    """Delete the embedded SQLite database, the job queue and the media files."""
    if not settings.is_sqlite:
        raise ValueError(
            "Refusing to reset: only the embedded SQLite demo can be reset, and "
            "CLIPCART_DATABASE_URL points at another database. Drop that database yourself."
        )
    data_dir = settings.data_dir.resolve()
    database = Path(settings.resolved_database_url.split("///", 1)[1])
    jobs = data_dir / "jobs.db"
    for base in (database, jobs):
        for suffix in ("", "-wal", "-shm", "-journal"):
            base.with_name(base.name + suffix).unlink(missing_ok=True)
    media = settings.resolved_media_root
    # Only ever delete media kept inside the data directory, never a shared mount.
    if media.is_dir() and media.is_relative_to(data_dir):
        shutil.rmtree(media)
