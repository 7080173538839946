"""The people and shops of a world: sellers with their shops, creators who post for a shop,
and shoppers whose taste profiles (favourite themes and an appetite) drive their histories."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from clipcart.demo.world.bulk import world_id
from clipcart.demo.world.sizes import WorldSize
from clipcart.demo.world.themes import THEMES, Theme

WORLD_DOMAIN = "world.clipcart.dev"
FIRST_NAMES = (
    "Maya", "Leo", "Ava", "Noah", "Zoe", "Eli", "Ivy", "Omar", "Lena", "Kai", "Nina", "Theo",
    "Rosa", "Sami", "Iris", "Jude", "Mila", "Arlo", "Ines", "Ravi", "Tess", "Yuki", "Nora",
    "Hugo", "Lila", "Finn", "Ada", "Cruz", "Esme", "Remy", "Priya", "Dara", "Juno", "Milo",
)  # fmt: skip
LAST_NAMES = (
    "Rivera", "Chen", "Okafor", "Larsen", "Novak", "Haddad", "Silva", "Kim", "Moreau",
    "Patel", "Nakamura", "Osei", "Kowalski", "Reyes", "Fischer", "Ahmed", "Costa", "Ito",
)  # fmt: skip


@dataclass(frozen=True)
class Person:
    """A world account: its id, login, names and the roles it holds."""

    id: uuid.UUID
    email: str
    handle: str
    display_name: str
    bio: str
    roles: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class ShopPlan:
    """A shop of one theme and the seller who owns it."""

    id: uuid.UUID
    index: int
    theme: Theme
    handle: str
    name: str
    owner: Person
    created_at: datetime


@dataclass(frozen=True)
class Creator:
    """A creator posting for one shop of their theme; popularity weights their reach."""

    person: Person
    theme_index: int
    shop: ShopPlan
    popularity: float


@dataclass(frozen=True)
class Shopper:
    """A shopper and their taste: 1-3 favourite themes (weights sum to 1) and an appetite."""

    person: Person
    favourites: tuple[tuple[int, float], ...]
    appetite: float  # 0.2 (browses a little) .. 3 (lives in the app)


def _person(
    rng: random.Random, *, kind: str, number: int, roles: tuple[str, ...], now: datetime,
    handle: str, display_name: str, bio: str, days_back: int,
) -> Person:  # fmt: skip
    created = now - timedelta(days=days_back, seconds=rng.randint(0, 86_400 * 30))
    return Person(
        id=world_id(rng, created),
        email=f"{kind}{number}@{WORLD_DOMAIN}",
        handle=handle,
        display_name=display_name[:50],
        bio=bio[:300],
        roles=roles,
        created_at=created,
    )


def make_shops(size: WorldSize, rng: random.Random, now: datetime) -> list[ShopPlan]:
    """One owner and shop per shop slot, themes taken in turn so every theme has shops."""
    shops: list[ShopPlan] = []
    for index in range(size.shops):
        theme = THEMES[index % len(THEMES)]
        word = theme.shop_words[(index // len(THEMES)) % len(theme.shop_words)]
        adjective = theme.adjectives[(index // len(THEMES)) % len(theme.adjectives)]
        name = f"{adjective} {word}"
        handle = f"{adjective}_{word}".lower().replace(" ", "_")[:24] + f"_{index}"
        first, last = FIRST_NAMES[index % len(FIRST_NAMES)], LAST_NAMES[index % len(LAST_NAMES)]
        owner = _person(
            rng, kind="seller", number=index, roles=("buyer", "seller_staff"), now=now,
            handle=f"seller_{index}", display_name=f"{first} {last}",
            bio=f"Runs {name}: {theme.label.lower()} picked with care.", days_back=60,
        )  # fmt: skip
        created = owner.created_at + timedelta(hours=1)
        shops.append(ShopPlan(world_id(rng, created), index, theme, handle, name, owner, created))
    return shops


def make_creators(
    size: WorldSize, shops: list[ShopPlan], rng: random.Random, now: datetime
) -> list[Creator]:
    """Creators spread over the shops, with a long-tailed popularity (a few are stars)."""
    creators: list[Creator] = []
    for index in range(size.creators):
        shop = shops[index % len(shops)]
        theme = shop.theme
        first = FIRST_NAMES[(index * 7) % len(FIRST_NAMES)]
        word = theme.hashtags[index % len(theme.hashtags)]
        handle = f"{first.lower()}.{word}"[:24] + f"_{index}"
        person = _person(
            rng, kind="creator", number=index, roles=("buyer", "creator"), now=now,
            handle=handle, display_name=f"{first} {theme.label}",
            bio=f"{theme.label} videos every week. Shop my picks at @{shop.handle}.",
            days_back=45,
        )  # fmt: skip
        popularity = rng.paretovariate(1.3)
        creators.append(Creator(person, THEMES.index(theme), shop, popularity))
    return creators


def make_shoppers(size: WorldSize, rng: random.Random, now: datetime) -> list[Shopper]:
    """Shoppers with 1-3 favourite themes; shopper 0 is a typical active buyer."""
    shoppers: list[Shopper] = []
    for index in range(size.users):
        count = rng.choices((1, 2, 3), weights=(0.45, 0.4, 0.15))[0]
        themes = rng.sample(range(len(THEMES)), count)
        raw = sorted((rng.uniform(0.5, 1.0) for _ in themes), reverse=True)
        total = sum(raw)
        favourites = tuple(
            (theme, weight / total) for theme, weight in zip(themes, raw, strict=True)
        )
        appetite = min(3.0, max(0.2, rng.lognormvariate(0.0, 0.6)))
        if index == 0:
            appetite = 1.5
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        loves = " and ".join(THEMES[theme].label.lower() for theme, _ in favourites)
        person = _person(
            rng, kind="shopper", number=index, roles=("buyer",), now=now,
            handle=f"{first.lower()}_{last.lower()}_{index}"[:30],
            display_name=f"{first} {last[0]}.", bio=f"Into {loves}.", days_back=30,
        )  # fmt: skip
        shoppers.append(Shopper(person, favourites, appetite))
    return shoppers
