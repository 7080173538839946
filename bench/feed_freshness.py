"""Feed freshness: the time from an interaction accepted by POST /api/v1/events to the next
For You response that reflects it, for a logged-in user of a generated world (clipcart.demo.world,
media off) with a warm model, served by one Granian process.

Each trial picks a topic (a hashtag) the user knows least and that is not on their current first
page, posts that the user watched to the end, replayed and liked several videos of it, and from
the moment the events endpoint answers polls the first page of For You back to back until it
shows another video of that topic (the explanation of that item is kept).

    .venv/bin/python -m bench.feed_freshness [--videos 100000] [--backend sqlite] [--trials 5]
        [--likes 6] [--timeout 10]

Writes bench/results/feed_freshness.json (figure freshness_ms: the median of the trials).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from bench._http import REPO_ROOT, granian_server, machine_description
from bench._world_cache import World, ensure_world, log_in, train, world_size

RESULTS = REPO_ROOT / "bench" / "results" / "feed_freshness.json"
FEED_PATH = "/api/v1/feed?tab=for_you"
TARGET_MS = 1000.0
console = Console(width=120)


@dataclass(frozen=True)
class Trial:
    """One interaction and how long until the feed reflected it (None: not within the timeout)."""

    topic: str
    events_before: int  # the user's events on the topic's videos before the trial
    liked: int
    freshness_ms: float | None
    polls: int
    why: str  # the explanation of the first item that showed the topic


async def _topics(database_url: str, email: str) -> list[tuple[str, list[uuid.UUID], int]]:
    """Every hashtag with its ready public videos and how many events the user has on them,
    least known to the user first (read straight from the world's database)."""
    from sqlalchemy import func, select

    from clipcart.accounts.models import User
    from clipcart.core.db import create_engine
    from clipcart.media.models import Video, VideoHashtag
    from clipcart.recs.models import RecsEvent

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(VideoHashtag.name, VideoHashtag.video_id)
                .join(Video, Video.id == VideoHashtag.video_id)
                .where(Video.status == "ready", Video.visibility == "public")
            )
            videos: dict[str, list[uuid.UUID]] = {}
            for name, video in rows:
                videos.setdefault(name, []).append(video)
            user_id = await connection.scalar(select(User.id).where(User.email == email))
            known = dict(
                (
                    await connection.execute(
                        select(VideoHashtag.name, func.count())
                        .join(RecsEvent, RecsEvent.video_id == VideoHashtag.video_id)
                        .where(RecsEvent.user_id == user_id)
                        .group_by(VideoHashtag.name)
                    )
                ).all()
            )
    finally:
        await engine.dispose()
    topics = [(name, ids, int(known.get(name, 0))) for name, ids in videos.items()]
    return sorted(topics, key=lambda topic: (topic[2], -len(topic[1]), topic[0]))


async def _forget_events(database_url: str, ids: list[uuid.UUID]) -> None:
    """Delete the events the trials posted, so the cached world stays as it was built for the
    next benchmark (the view counters their impressions added stay: a few dozen views)."""
    from sqlalchemy import delete

    from clipcart.core.db import create_engine
    from clipcart.recs.models import RecsEvent

    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                await connection.execute(delete(RecsEvent).where(RecsEvent.id.in_(chunk)))
    finally:
        await engine.dispose()


def _reflects(page: dict[str, Any], topic: str, liked: set[str]) -> dict[str, Any] | None:
    """The first item showing the new taste (a video about the topic not liked just now)."""
    for item in page["items"]:
        if topic in item["video"]["hashtags"] and item["video"]["id"] not in liked:
            return item
    return None


def _events(videos: list[uuid.UUID]) -> list[dict[str, Any]]:
    now = datetime.now(UTC).isoformat()
    events: list[dict[str, Any]] = []
    for position, video in enumerate(videos):
        common = {"occurred_at": now, "surface": "for_you", "position": position}
        common["video_id"] = str(video)
        watch = {"watch_ms": 15_000, "duration_ms": 15_000, "completed": True}
        for kind, extra in (
            ("impression", {}),
            ("watch", watch),
            ("replay", {}),
            ("watch", watch),
            ("like", {}),
        ):
            events.append({"id": str(uuid.uuid4()), "type": kind, **common, **extra})
    return events


def run_trials(world: World, args: argparse.Namespace) -> list[Trial]:
    """Serve the world and run the trials against it, one topic new to the user per trial."""
    topics = asyncio.run(_topics(world.database_url, world.buyer[0]))
    candidates = [topic for topic in topics if len(topic[1]) >= args.likes + 10]
    trials: list[Trial] = []
    posted: list[uuid.UUID] = []
    try:
        _run(world, args, candidates, trials, posted)
    finally:
        asyncio.run(_forget_events(world.database_url, posted))
    return trials


def _run(
    world: World,
    args: argparse.Namespace,
    candidates: list[tuple[str, list[uuid.UUID], int]],
    trials: list[Trial],
    posted: list[uuid.UUID],
) -> None:
    with (
        console.status(f"freshness on {world.backend}, {world.label} videos"),
        granian_server(
            "clipcart.app:create_app",
            factory=True,
            env=world.env(),
            log_path=world.data_dir / "server.log",
            ready_path="/healthz",
        ) as base,
        httpx.Client(base_url=base, timeout=30) as client,
    ):
        client.headers.update(log_in(base, *world.buyer))
        for _ in range(3):  # warm the process (model loaded, caches filled)
            client.get(FEED_PATH).raise_for_status()
        for topic, videos, known in candidates:
            if len(trials) == args.trials:
                break
            before = client.get(FEED_PATH).json()
            if _reflects(before, topic, set()):
                continue  # already on the page: not a new taste
            liked = random.Random(topic).sample(videos, args.likes)
            events = _events(liked)
            posted.extend(uuid.UUID(event["id"]) for event in events)
            answer = client.post("/api/v1/events", json={"events": events})
            accepted_at = time.perf_counter()
            if answer.status_code != 200 or answer.json()["rejected"]:
                raise RuntimeError(f"events refused: {answer.status_code} {answer.text[:300]}")
            liked_ids = {str(video) for video in liked}
            polls, why, freshness = 0, "", None
            while time.perf_counter() - accepted_at < args.timeout:
                page = client.get(FEED_PATH).json()
                polls += 1
                shown = _reflects(page, topic, liked_ids)
                if shown:
                    freshness = (time.perf_counter() - accepted_at) * 1000
                    why = (shown.get("why") or {}).get("summary", "")
                    break
            trials.append(Trial(f"#{topic}", known, len(liked), freshness, polls, why))


def main() -> None:
    """Measure, print the table and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=100_000, help="videos in the world")
    parser.add_argument("--backend", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--trials", type=int, default=5, help="topics liked, one per trial")
    parser.add_argument("--likes", type=int, default=6, help="videos liked per trial")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait per trial")
    parser.add_argument("--retrain", action="store_true", help="train even if a model exists")
    args = parser.parse_args()

    world = ensure_world(args.backend, world_size(args.videos), echo=console.print)
    model = train(world, again=args.retrain, echo=console.print)
    trials = run_trials(world, args)
    if not trials:
        raise RuntimeError("no topic missing from the user's page: use a larger world")

    table = Table(title=f"Feed freshness ({world.backend}, {world.label} videos)")
    columns = ("topic", "events before", "liked", "freshness ms", "feed requests", "why")
    for column in columns:
        table.add_column(column, justify="left" if column in {"topic", "why"} else "right")
    for trial in trials:
        shown = "—" if trial.freshness_ms is None else f"{trial.freshness_ms:,.0f}"
        cells = (str(trial.events_before), str(trial.liked), shown, str(trial.polls))
        why = trial.why.removeprefix("You are seeing this because ")
        table.add_row(trial.topic, *cells, why[:60] or "not reflected")
    console.print(table)

    # A trial the feed never reflected counts as the whole timeout (the figure must not hide it).
    times = [
        trial.freshness_ms if trial.freshness_ms is not None else args.timeout * 1000
        for trial in trials
    ]
    figures = {
        "freshness_ms": round(statistics.median(times), 1),
        "freshness_max_ms": round(max(times), 1),
        "trials_reflected": sum(1 for trial in trials if trial.freshness_ms is not None),
        "trials": len(trials),
    }
    verdict = "met" if figures["freshness_ms"] <= TARGET_MS else "[red]missed[/red]"
    console.print(f"freshness_ms: {figures['freshness_ms']:,} (target {TARGET_MS:,.0f}) {verdict}")
    document: dict[str, Any] = {
        "figures": figures,
        "targets": {"freshness_ms": TARGET_MS},
        "baselines": {},  # a latency of the feed itself: no outside baseline applies
        "machine": machine_description("one Granian worker", f"{world.backend} world"),
        "notes": {
            "world": {"counts": world.report["counts"], "size": world.report["size"]},
            "model": model,
            "signal": f"per trial: impression, 2 full watches, a replay and a like on each of "
            f"{args.likes} videos of one hashtag the user knows least and that is not on their "
            "first page, in one batch",
            "reflected": "the first page shows a video with that hashtag other than those just "
            "liked; polled back to back from the events endpoint's answer",
            "trials": [trial.__dict__ for trial in trials],
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2, default=str) + "\n")
    console.print(f"Wrote {RESULTS.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
