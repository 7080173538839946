"""Shoppers' histories drawn from their taste profiles: For You sessions in the event log (what
they were shown, watched, liked, tapped, added to cart, followed) and the matching social rows.

A shopper who loves cooking is mostly shown cooking, watches it to the end, likes it and puts
its products in the cart; other themes get skipped. That is what makes For You personal.
Drawn with numpy a batch of shoppers at a time: millions of events in a minute or two."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from clipcart.demo.world.catalogue import ProductPlan
from clipcart.demo.world.clips import VideoPlan
from clipcart.demo.world.people import Shopper
from clipcart.demo.world.themes import THEMES
from clipcart.recs.domain import (
    EVENT_TYPE_CODES,
    SURFACE_CODES,
    TREND_COMPLETED_WATCH,
    TREND_EPOCH,
    TREND_HALF_LIFE_HOURS,
    TREND_WEIGHTS,
)

EVENT_COLUMNS = (
    "id", "type", "occurred_at", "received_at", "user_id", "session_id", "surface", "position",
    "video_id", "product_id", "variant_id", "target_id", "watch_ms", "duration_ms", "completed",
    "channel",
)  # fmt: skip
EVENTS_PER_IMPRESSION = 1.85  # measured: impression + watch + extras, less impressions dropped
FAVOURITE_SHARE = 0.8  # of what a shopper is shown comes from their favourite themes
HISTORY_SECONDS = 30 * 86_400
COMMENTS = (
    "Obsessed with this!", "Where has this been all my life", "Just ordered one 🙌",
    "Does it come in other colours?", "This is so satisfying to watch", "Need this asap",
    "Great quality, I have two", "The details 😍", "Adding to my wishlist", "How long is shipping?",
)  # fmt: skip
CHANNELS = ("copy_link", "native")
_CODE = EVENT_TYPE_CODES
_FOR_YOU = SURFACE_CODES["for_you"]
_TREND_WEIGHTS = np.zeros(max(EVENT_TYPE_CODES.values()) + 1)
for _code, _weight in TREND_WEIGHTS.items():
    _TREND_WEIGHTS[_code] = _weight
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class Histories:
    """One batch of shoppers' rows: events as driver-ready tuples, social rows as values."""

    events: list[tuple[Any, ...]] = field(default_factory=list)
    likes: list[tuple[uuid.UUID, uuid.UUID, datetime]] = field(default_factory=list)
    follows: list[tuple[uuid.UUID, uuid.UUID, datetime]] = field(default_factory=list)
    shop_follows: list[tuple[uuid.UUID, uuid.UUID, datetime]] = field(default_factory=list)
    collections: list[tuple[uuid.UUID, uuid.UUID, datetime]] = field(default_factory=list)
    saves: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, datetime]] = field(default_factory=list)
    comments: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, str, datetime]] = field(
        default_factory=list
    )
    carts: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)  # (shopper, variant)


def _objects(values: list[Any]) -> npt.NDArray[np.object_]:
    """An object array of `values` with None appended, so index -1 reads as None."""
    array = np.empty(len(values) + 1, dtype=object)
    array[:-1] = values
    array[-1] = None
    return array


class HistoryMaker:
    """Draws shoppers' histories against one world's videos and products."""

    def __init__(
        self,
        videos: list[VideoPlan],
        products: list[ProductPlan],
        *,
        impressions_per_appetite: float,
        postgres: bool,
        now: datetime,
        seed: int,
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.trends = np.zeros(len(videos))
        self.sessions_made = 0
        self.per_appetite = impressions_per_appetite
        self.postgres = postgres
        self.now_us = int(now.timestamp()) * 1_000_000
        self.videos = videos
        self.v_theme = np.array([v.theme_index for v in videos], dtype=np.int64)
        self.v_created = np.array([int(v.created_at.timestamp() * 1e6) for v in videos])
        self.v_duration = np.array([int(v.seconds * 1000) for v in videos], dtype=np.int64)
        product_index = {p.id: i for i, p in enumerate(products)}
        self.v_products = np.full((len(videos), 2), -1, dtype=np.int64)
        for i, video in enumerate(videos):
            for slot, product in enumerate(video.products[:2]):
                self.v_products[i, slot] = product_index[product.id]
        self.v_product_count = (self.v_products >= 0).sum(axis=1)
        owners = {v.owner.id: v.owner for v in videos}
        owner_index = {owner_id: i for i, owner_id in enumerate(owners)}
        self.v_owner = np.array([owner_index[v.owner.id] for v in videos], dtype=np.int64)
        self.owner_ids = list(owners)
        shops = {v.shop.id: v.shop for v in videos}
        shop_index = {shop_id: i for i, shop_id in enumerate(shops)}
        self.v_shop = np.array([shop_index[v.shop.id] for v in videos], dtype=np.int64)
        self.shop_ids = list(shops)
        self.p_variant_count = np.array([len(p.variants) for p in products], dtype=np.int64)
        self.p_variant_start = np.concatenate(([0], np.cumsum(self.p_variant_count)[:-1]))
        self.variant_ids = [variant.id for p in products for variant in p.variants]
        self.product_ids = [p.id for p in products]
        self.video_ids = [v.id for v in videos]
        self.enc_video = _objects([self._uuid(i) for i in self.video_ids])
        self.enc_owner = _objects([self._uuid(i) for i in self.owner_ids])
        self.enc_product = _objects([self._uuid(i) for i in self.product_ids])
        self.enc_variant = _objects([self._uuid(i) for i in self.variant_ids])
        popularity = np.array([v.popularity for v in videos])
        self.draw_tables: dict[int, tuple[IntArray, npt.NDArray[np.float64]]] = {}
        for theme in range(len(THEMES)):
            members = np.flatnonzero(self.v_theme == theme)
            if len(members):
                self.draw_tables[theme] = (members, np.cumsum(popularity[members]))
        self.draw_tables[-1] = (np.arange(len(videos)), np.cumsum(popularity))

    def _uuid(self, value: uuid.UUID) -> Any:
        return value if self.postgres else value.hex

    def _times(self, microseconds: IntArray) -> list[Any]:
        stamps = microseconds.astype("datetime64[us]")
        if self.postgres:
            return [moment.replace(tzinfo=UTC) for moment in stamps.tolist()]
        # SQLAlchemy's SQLite DATETIME text: "YYYY-MM-DD HH:MM:SS.ffffff", compared as text.
        return [text.replace("T", " ") for text in np.datetime_as_string(stamps, unit="us")]

    def _new_ids(self, microseconds: IntArray) -> list[Any]:
        """UUIDv7s for rows made at these times (driver form: hex text or UUID)."""
        count = len(microseconds)
        raw = np.empty((count, 16), dtype=np.uint8)
        milliseconds = (microseconds // 1000).astype(">u8").view(np.uint8).reshape(count, 8)
        raw[:, :6] = milliseconds[:, 2:]
        raw[:, 6:] = self.rng.integers(0, 256, size=(count, 10), dtype=np.uint8)
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x70
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
        text = raw.tobytes().hex()
        hexes = [text[i : i + 32] for i in range(0, len(text), 32)]
        return [uuid.UUID(h) for h in hexes] if self.postgres else hexes

    def _draw(self, themes: IntArray, times: IntArray) -> IntArray:
        """Videos for impressions (theme -1: any), posted before each impression's time."""
        chosen = np.full(len(themes), -1, dtype=np.int64)
        pending = np.arange(len(themes))
        for attempt in range(6):
            wanted = themes[pending] if attempt < 5 else np.full(len(pending), -1)
            for theme in np.unique(wanted):
                members, cumulative = self.draw_tables.get(int(theme), self.draw_tables[-1])
                rows = pending[wanted == theme]
                picks = np.searchsorted(cumulative, self.rng.random(len(rows)) * cumulative[-1])
                chosen[rows] = members[np.minimum(picks, len(members) - 1)]
            pending = pending[self.v_created[chosen[pending]] > times[pending]]
            if not len(pending):
                break
        chosen[pending] = -1  # nothing that old to show: the impression is dropped
        return chosen

    def make(self, shoppers: list[Shopper]) -> Histories:
        """The histories of `shoppers`."""
        rng = self.rng
        count = len(shoppers)
        appetite = np.array([s.appetite for s in shoppers])
        wanted = np.maximum(3, np.rint(self.per_appetite * appetite * rng.uniform(0.7, 1.3, count)))
        favourites = np.full((count, 3), -1, dtype=np.int64)
        weights = np.zeros((count, 3))
        loves_matrix = np.zeros((count, len(THEMES)), dtype=bool)
        for row, shopper in enumerate(shoppers):
            # Favourites with no videos in this world cannot be shown: the others share out.
            showable = [(t, w) for t, w in shopper.favourites if t in self.draw_tables]
            total = sum(weight for _, weight in showable) or 1.0
            for slot, (theme, weight) in enumerate(showable):
                favourites[row, slot], weights[row, slot] = theme, weight / total
            for theme, _ in shopper.favourites:
                loves_matrix[row, theme] = True
        # Sessions of 4-30 impressions, leaning recent like the videos.
        session_shopper, session_length = [], []
        for row, total in enumerate(wanted.astype(np.int64).tolist()):
            while total > 0:
                length = min(total, int(rng.integers(4, 31)))
                session_shopper.append(row)
                session_length.append(length)
                total -= length
        lengths = np.array(session_length, dtype=np.int64)
        sessions = len(lengths)
        starts = self.now_us - (3600 + HISTORY_SECONDS * rng.random(sessions) ** 1.4) * 1e6
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        session_of = np.repeat(np.arange(sessions), lengths)
        shopper_of = np.array(session_shopper, dtype=np.int64)[session_of]
        position = np.arange(len(session_of)) - offsets[session_of]
        gaps = rng.uniform(6e6, 25e6, len(session_of))
        elapsed = np.cumsum(gaps)
        elapsed -= (elapsed[offsets] - gaps[offsets])[session_of]
        times = (starts[session_of] + elapsed).astype(np.int64)
        # Which theme each impression comes from: mostly a favourite, by weight.
        pick = rng.random(len(times))
        slot = (pick > np.cumsum(weights, axis=1)[shopper_of, 0]).astype(np.int64)
        slot += pick > np.cumsum(weights, axis=1)[shopper_of, 1]
        themes = favourites[shopper_of, np.minimum(slot, 2)]
        themes[(rng.random(len(times)) >= FAVOURITE_SHARE) | (themes < 0)] = -1
        video = self._draw(themes, times)
        shown = video >= 0
        video, times, shopper_of = video[shown], times[shown], shopper_of[shown]
        session_of, position = session_of[shown], position[shown]
        loves = loves_matrix[shopper_of, self.v_theme[video]]
        return self._rows(shoppers, video, times, shopper_of, session_of, position, loves)

    def _rows(
        self, shoppers: list[Shopper], video: IntArray, times: IntArray, shopper_of: IntArray,
        session_of: IntArray, position: IntArray, loves: BoolArray,
    ) -> Histories:  # fmt: skip
        rng = self.rng
        n = len(video)
        out = Histories()
        parts: list[dict[str, Any]] = []

        def add(code: int, mask: BoolArray | IntArray, at: IntArray, **extra: Any) -> None:
            rows = np.flatnonzero(mask) if mask.dtype == bool else mask
            parts.append({"code": code, "rows": rows, "at": at[rows], **extra})

        add(_CODE["impression"], np.ones(n, dtype=bool), times)
        duration = self.v_duration[video]
        completed = rng.random(n) < np.where(loves, 0.55, 0.12)
        partial = duration * rng.uniform(0.05, 1.0, n) * np.where(loves, 0.9, 0.4)
        rewatch = np.where(rng.random(n) < 0.15, 2, 1)
        watched = np.where(completed, duration * rewatch, partial).astype(np.int64)
        add(_CODE["watch"], np.ones(n, dtype=bool), times + watched * 1000,
            watch_ms=watched, duration_ms=duration, completed=completed)  # fmt: skip
        key = shopper_of * len(self.videos) + video
        liked = _first(key, loves & (rng.random(n) < 0.1))
        add(_CODE["like"], liked, times)
        saved = _first(key, loves & (rng.random(n) < 0.02))
        shared = rng.random(n) < np.where(loves, 0.02, 0.003)
        add(_CODE["share"], shared, times, channel=rng.integers(0, len(CHANNELS), n))
        commented = rng.random(n) < np.where(loves, 0.006, 0.001)
        add(_CODE["comment"], commented, times)
        owner = self.v_owner[video]
        followed = _first(shopper_of * len(self.owner_ids) + owner, loves & (rng.random(n) < 0.04))
        add(_CODE["follow"], followed, times, target=owner)
        has = self.v_product_count[video] > 0
        tapped = has & (rng.random(n) < np.where(loves, 0.12, 0.01))
        slot = (rng.random(n) * np.maximum(self.v_product_count[video], 1)).astype(np.int64)
        product = self.v_products[video, np.minimum(slot, 1)]
        product = np.where(product >= 0, product, self.v_products[video, 0])
        opened = tapped & (rng.random(n) < 0.6)
        carted = opened & (rng.random(n) < 0.35)
        variant = self.p_variant_start[product] + (
            rng.random(n) * self.p_variant_count[product]
        ).astype(np.int64)
        add(_CODE["chip_tap"], tapped, times + 3_000_000, product=product)
        add(_CODE["sheet_open"], opened, times + 5_000_000, product=product)
        add(_CODE["add_to_cart"], carted, times + 9_000_000, product=product, variant=variant)
        shop_key = shopper_of * len(self.shop_ids) + self.v_shop[video]
        shop_followed = _first(shop_key, tapped & (rng.random(n) < 0.25))
        out.events = self._events(parts, video, shopper_of, session_of, position, shoppers)
        self._social(out, shoppers, video, times, shopper_of, liked, saved, commented,
                     followed, shop_followed, carted, variant)  # fmt: skip
        return out

    def _events(
        self, parts: list[dict[str, Any]], video: IntArray, shopper_of: IntArray,
        session_of: IntArray, position: IntArray, shoppers: list[Shopper],
    ) -> list[tuple[Any, ...]]:  # fmt: skip
        rows = np.concatenate([part["rows"] for part in parts])
        at = np.concatenate([part["at"] for part in parts]).astype(np.int64)
        size = len(rows)

        def column(name: str, fill: int = -1) -> IntArray:
            pieces = []
            for part in parts:
                value = part.get(name)
                if value is None:
                    pieces.append(np.full(len(part["rows"]), fill, dtype=np.int64))
                else:
                    pieces.append(np.asarray(value)[part["rows"]].astype(np.int64))
            return np.concatenate(pieces)

        codes = np.concatenate([np.full(len(p["rows"]), p["code"], dtype=np.int64) for p in parts])
        self._add_trends(codes, video[rows], at, column("completed"))
        enc_users = _objects([self._uuid(s.person.id) for s in shoppers])
        base = self.sessions_made
        session_names = _objects([f"w{base + int(s):x}" for s in np.unique(session_of)])
        self.sessions_made += int(session_of.max()) + 1 if len(session_of) else 0
        _, session_index = np.unique(session_of, return_inverse=True)
        watch = column("watch_ms")
        duration = column("duration_ms")
        completed = column("completed")
        channel = column("channel")
        when = self._times(at)
        flag = _objects([False, True]) if self.postgres else _objects([0, 1])
        return list(
            zip(
                self._new_ids(at),
                codes.tolist(),
                when,
                when,
                enc_users[shopper_of[rows]].tolist(),
                session_names[session_index[rows]].tolist(),
                [_FOR_YOU] * size,
                position[rows].tolist(),
                self.enc_video[video[rows]].tolist(),
                self.enc_product[column("product")].tolist(),
                self.enc_variant[column("variant")].tolist(),
                self.enc_owner[column("target")].tolist(),
                _objects(watch.tolist())[np.where(watch >= 0, np.arange(size), -1)].tolist(),
                _objects(duration.tolist())[np.where(duration >= 0, np.arange(size), -1)].tolist(),
                flag[completed].tolist(),
                _objects(list(CHANNELS))[channel].tolist(),
                strict=True,
            )
        )

    def _add_trends(
        self, codes: IntArray, videos: IntArray, at: IntArray, completed: IntArray
    ) -> None:
        """Add the events' time-decayed engagement to the videos' trend scores (as
        recs.domain.trend_increments does for live events)."""
        weights = _TREND_WEIGHTS[codes]
        completed_watch = (codes == _CODE["watch"]) & (completed == 1)
        weights = np.where(completed_watch, TREND_COMPLETED_WATCH, weights)
        hours = (at / 1e6 - TREND_EPOCH.timestamp()) / 3600
        units = np.exp2(hours / TREND_HALF_LIFE_HOURS)
        self.trends += np.bincount(videos, weights=weights * units, minlength=len(self.videos))

    def trend_rows(self) -> list[tuple[uuid.UUID, float]]:
        """(video id, stored trend score) of every video with engagement."""
        return [
            (self.video_ids[index], float(self.trends[index]))
            for index in np.flatnonzero(self.trends > 0)
        ]

    def _social(
        self, out: Histories, shoppers: list[Shopper], video: IntArray, times: IntArray,
        shopper_of: IntArray, liked: IntArray, saved: IntArray, commented: BoolArray,
        followed: IntArray, shop_followed: IntArray, carted: BoolArray, variant: IntArray,
    ) -> None:  # fmt: skip
        users = [s.person.id for s in shoppers]

        def moments(rows: IntArray) -> list[datetime]:
            stamps = times[rows].astype("datetime64[us]").tolist()
            return [moment.replace(tzinfo=UTC) for moment in stamps]

        out.likes = [
            (users[s], self.video_ids[v], at)
            for s, v, at in zip(shopper_of[liked], video[liked], moments(liked), strict=True)
        ]
        out.follows = [
            (users[s], self.owner_ids[o], at)
            for s, o, at in zip(
                shopper_of[followed], self.v_owner[video[followed]], moments(followed),
                strict=True,
            )
        ]  # fmt: skip
        out.shop_follows = [
            (users[s], self.shop_ids[shop], at)
            for s, shop, at in zip(
                shopper_of[shop_followed], self.v_shop[video[shop_followed]],
                moments(shop_followed), strict=True,
            )
        ]  # fmt: skip
        collections: dict[int, uuid.UUID] = {}
        save_times = moments(saved)
        for s, v, at in zip(shopper_of[saved], video[saved], save_times, strict=True):
            if s not in collections:
                collections[s] = _new_uuid(self.rng, at)
                out.collections.append((collections[s], users[s], at))
            out.saves.append((users[s], self.video_ids[v], collections[s], at))
        comment_rows = np.flatnonzero(commented)
        bodies = self.rng.integers(0, len(COMMENTS), len(comment_rows))
        for row, body, at in zip(comment_rows, bodies, moments(comment_rows), strict=True):
            out.comments.append(
                (_new_uuid(self.rng, at), self.video_ids[video[row]], users[shopper_of[row]],
                 COMMENTS[body], at)
            )  # fmt: skip
        cart_rows = np.flatnonzero(carted)
        out.carts = [(users[shopper_of[r]], self.variant_ids[variant[r]]) for r in cart_rows]


def _first(key: IntArray, mask: BoolArray) -> IntArray:
    """Rows where `mask` holds, keeping only the first row of each key (one like per video)."""
    rows = np.flatnonzero(mask)
    _, first = np.unique(key[rows], return_index=True)
    return rows[np.sort(first)]


def _new_uuid(rng: np.random.Generator, at: datetime) -> uuid.UUID:
    """A UUIDv7 for a social row made `at`."""
    milliseconds = int(at.timestamp() * 1000)
    random_bits = int.from_bytes(rng.bytes(10), "big") & ((0xFFF << 64) | ((1 << 62) - 1))
    return uuid.UUID(int=(milliseconds << 80) | (0x7 << 76) | (0x2 << 62) | random_bits)
