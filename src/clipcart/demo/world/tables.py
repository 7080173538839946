"""The tables a world writes, by short name (taken from the domains' own models)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Table


@dataclass(frozen=True)
class WorldTables:
    """Every table the world generator fills."""

    users: Table
    user_roles: Table
    shops: Table
    shop_staff: Table
    products: Table
    variants: Table
    product_images: Table
    stock_movements: Table
    videos: Table
    video_hashtags: Table
    video_tags: Table
    events: Table
    trends: Table
    likes: Table
    user_follows: Table
    shop_follows: Table
    collections: Table
    saves: Table
    comments: Table
    video_counters: Table
    user_counters: Table
    shop_counters: Table


@lru_cache(maxsize=1)
def tables() -> WorldTables:
    """The world's tables (imported on first use, like the app's models)."""
    from clipcart.accounts.models import User, UserRole
    from clipcart.catalog.models import Product, ProductImage, StockMovement, Variant
    from clipcart.media.models import Video, VideoHashtag, VideoTag
    from clipcart.recs.models import RecsEvent, VideoTrend
    from clipcart.shops.models import Shop, ShopStaff
    from clipcart.social.models import (
        Collection,
        Comment,
        Save,
        ShopCounter,
        ShopFollow,
        UserCounter,
        UserFollow,
        VideoCounter,
        VideoLike,
    )

    def table(model: type) -> Table:
        found = model.__table__  # type: ignore[attr-defined]
        assert isinstance(found, Table)
        return found

    return WorldTables(
        users=table(User),
        user_roles=table(UserRole),
        shops=table(Shop),
        shop_staff=table(ShopStaff),
        products=table(Product),
        variants=table(Variant),
        product_images=table(ProductImage),
        stock_movements=table(StockMovement),
        videos=table(Video),
        video_hashtags=table(VideoHashtag),
        video_tags=table(VideoTag),
        events=table(RecsEvent),
        trends=table(VideoTrend),
        likes=table(VideoLike),
        user_follows=table(UserFollow),
        shop_follows=table(ShopFollow),
        collections=table(Collection),
        saves=table(Save),
        comments=table(Comment),
        video_counters=table(VideoCounter),
        user_counters=table(UserCounter),
        shop_counters=table(ShopCounter),
    )
