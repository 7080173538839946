"""How big a generated world is, and what a built world reports back."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class WorldSize:
    """The number of each thing in a world, and whether it gets real pictures and clips."""

    shops: int
    products: int
    creators: int
    videos: int
    users: int
    events: int
    media: bool  # real images + PyAV clips (demo) or rows only (benchmarks)

    def as_dict(self) -> dict[str, int | bool]:
        """The size as plain values (stored with the world, compared on a rerun)."""
        return asdict(self)


DEMO_WORLD = WorldSize(
    shops=12, products=300, creators=40, videos=200, users=2000, events=200_000, media=True
)


def bench_world(videos: int = 100_000) -> WorldSize:
    """At least 100k videos, 20k products, 50k users, 5M events at the default (media off);
    other sizes scale the same shape (10k, 1M videos for the scale curve)."""
    if videos < 1:
        raise ValueError("a world needs at least one video")
    return WorldSize(
        shops=max(12, videos // 250),
        products=max(50, videos // 5),
        creators=max(20, videos // 50),
        videos=videos,
        users=max(100, videos // 2),
        events=videos * 50,
        media=False,
    )


@dataclass(frozen=True)
class WorldReport:
    """What a built world holds, and the handles benchmarks and the demo need."""

    size: WorldSize
    seed: int
    counts: dict[str, int]
    buyer_email: str  # a typical active buyer with a history
    buyer_password: str
    creator_email: str
    seller_email: str
    shop_handle: str
    built_now: bool  # False when the world was already there
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
