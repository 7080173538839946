"""What a person told the feed: more entertainment or more shopping, and chosen interests."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from clipcart.core import clock
from clipcart.core.errors import ValidationFailed
from clipcart.recs import domain
from clipcart.recs.models import FeedPreferences

_INTEREST = re.compile(r"^[a-z0-9_]{1,50}$")


@dataclass(frozen=True)
class Preferences:
    """A person's feed settings (the defaults for anyone who never set them)."""

    shopping_mix: str = "balanced"
    interests: tuple[str, ...] = ()

    @property
    def shoppable_every(self) -> int:
        """K in "at most one shoppable video in K"."""
        return domain.shoppable_every(domain.SHOPPING_MIX_CODES[self.shopping_mix])


DEFAULT = Preferences()

_TABLE = cast(Table, FeedPreferences.__table__)
# Built once, and only read (no ORM object): every For You request reads the settings.
_SETTINGS = select(_TABLE.c.shopping_mix, _TABLE.c.interests).where(
    _TABLE.c.user_id == bindparam("user_id")
)


async def get_preferences(user_id: uuid.UUID | None, *, session: AsyncSession) -> Preferences:
    """The person's feed settings (defaults for visitors and for those who never chose)."""
    if user_id is None:
        return DEFAULT
    row = (await session.execute(_SETTINGS, {"user_id": user_id})).first()
    if row is None:
        return DEFAULT
    shopping_mix, interests = row
    mix = domain.SHOPPING_MIXES.get(shopping_mix, domain.SHOPPING_MIXES[0])[0]
    return Preferences(shopping_mix=mix, interests=tuple(interests or ()))


def clean_interests(interests: list[str]) -> tuple[str, ...]:
    """Interests as lower-case hashtag names without '#', unique, at most MAX_INTERESTS (pure)."""
    cleaned: list[str] = []
    for given in interests:
        name = given.strip().lstrip("#").lower()
        if not name:
            continue
        if not _INTEREST.match(name):
            raise ValidationFailed.field(
                "interests", f"'{given[:60]}' is not a topic: use letters, digits and _ only."
            )
        if name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > domain.MAX_INTERESTS:
        raise ValidationFailed.field(
            "interests", f"Choose at most {domain.MAX_INTERESTS} interests."
        )
    return tuple(cleaned)


async def set_preferences(
    user_id: uuid.UUID,
    *,
    shopping_mix: str | None,
    interests: list[str] | None,
    session: AsyncSession,
) -> Preferences:
    """Change a person's feed settings (None leaves a setting as it is)."""
    if shopping_mix is not None and shopping_mix not in domain.SHOPPING_MIX_CODES:
        choices = ", ".join(domain.SHOPPING_MIX_CODES)
        raise ValidationFailed.field("shopping_mix", f"Choose one of: {choices}.")
    cleaned = clean_interests(interests) if interests is not None else None  # before any change
    row = await session.get(FeedPreferences, user_id)
    if row is None:
        row = FeedPreferences(user_id=user_id, shopping_mix=0, interests=[], updated_at=clock.now())
        session.add(row)
    if shopping_mix is not None:
        row.shopping_mix = domain.SHOPPING_MIX_CODES[shopping_mix]
    if cleaned is not None:
        row.interests = list(cleaned)
    row.updated_at = clock.now()
    await session.flush()
    return await get_preferences(user_id, session=session)
