"""The world generator's pure parts: sizes, themes against the taxonomy, a deterministic plan
whose names follow the app's rules, and pictures that differ per product."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from clipcart.accounts import domain as accounts_domain
from clipcart.catalog import domain as catalog_domain
from clipcart.demo.world import DEMO_WORLD, WorldSize, bench_world
from clipcart.demo.world.building import plan_world
from clipcart.demo.world.product_images import draw_world_product
from clipcart.demo.world.themes import THEMES
from clipcart.media import domain as media_domain
from clipcart.shops import domain as shops_domain

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
SMALL = WorldSize(shops=13, products=60, creators=9, videos=80, users=40, events=2000, media=False)


def test_the_bench_world_is_at_least_what_the_benchmarks_need() -> None:
    size = bench_world()
    assert size.videos >= 100_000 and size.products >= 20_000
    assert size.users >= 50_000 and size.events >= 5_000_000 and not size.media
    larger = bench_world(1_000_000)
    assert larger.products == 10 * size.products and larger.events == 10 * size.events
    assert DEMO_WORLD.shops >= 12 and DEMO_WORLD.videos == 200 and DEMO_WORLD.media


def test_every_theme_sells_in_listable_taxonomy_categories() -> None:
    assert len(THEMES) >= 12
    for theme in THEMES:
        for category_id, *_ in theme.goods:
            assert catalog_domain.category_problems(category_id) == [], (theme.key, category_id)


def test_a_seed_makes_the_same_world_and_its_names_are_valid() -> None:
    first, again = plan_world(SMALL, seed=5, now=NOW), plan_world(SMALL, seed=5, now=NOW)
    assert [v.id for v in first.videos] == [v.id for v in again.videos]
    assert [p.title for p in first.products] == [p.title for p in again.products]
    assert plan_world(SMALL, seed=6, now=NOW).videos[0].id != first.videos[0].id
    people = [s.owner for s in first.shops] + [c.person for c in first.creators]
    people += [s.person for s in first.shoppers]
    assert len({p.handle for p in people}) == len({p.email for p in people}) == len(people)
    for person in people:
        assert accounts_domain.handle_problems(person.handle) == [], person.handle
    assert len({shop.theme.key for shop in first.shops}) == len(THEMES)
    for shop in first.shops:
        assert shops_domain.handle_problems(shop.handle) == [], shop.handle
    for product in first.products:
        assert catalog_domain.handle_problems(product.handle) == [], product.handle
        assert len({v.sku for v in product.variants}) == len(product.variants)
    for video in first.videos:
        assert timedelta(0) <= NOW - video.created_at <= timedelta(days=30)
        assert all(product.shop is video.shop for product in video.products)
        assert len(video.hashtags) == 2 and 5 <= video.seconds <= 15


def test_shoppers_have_one_to_three_favourite_themes() -> None:
    plan = plan_world(SMALL, seed=5, now=NOW)
    for shopper in plan.shoppers:
        assert 1 <= len(shopper.favourites) <= 3
        assert abs(sum(weight for _, weight in shopper.favourites) - 1.0) < 1e-9


def test_product_pictures_differ_by_product_and_theme() -> None:
    cooking, coffee = THEMES[0], THEMES[-1]
    pan = draw_world_product(
        "Rustic Skillet", cooking.key, cooking.colours[0], cooking.colours[1], seed=1
    )
    cup = draw_world_product(
        "Morning Mug", coffee.key, coffee.colours[0], coffee.colours[1], seed=2
    )
    assert pan.startswith(b"\x89PNG") and cup.startswith(b"\x89PNG") and pan != cup


def test_scale_curve_worlds_grow_in_videos_only_past_the_main_world() -> None:
    from bench._world_cache import world_label, world_size

    main = bench_world(100_000)
    large = world_size(1_000_000, events=5_000_000, population=100_000)
    assert large.videos == 1_000_000 and large.events == main.events == 5_000_000
    population = ("shops", "products", "creators", "users")
    assert [getattr(large, name) for name in population] == [
        getattr(main, name) for name in population
    ]
    assert world_label(large) == "1m_5mev_50kusers"  # cached apart from the uncapped world
    # Smaller worlds keep their own shape, and the curve's 100k world is the main one.
    assert world_size(10_000, events=5_000_000, population=100_000) == bench_world(10_000)
    assert world_size(100_000, events=5_000_000, population=100_000) == main
    assert world_label(main) == "100k"


def test_videos_are_distinct_rows_whose_hashtags_follow_the_apps_rule() -> None:
    # A capped world's shape scaled down: many videos per creator, every video its own row.
    size = replace(SMALL, videos=5000)
    plan = plan_world(size, seed=5, now=NOW)
    assert len({video.id for video in plan.videos}) == 5000
    assert len({video.owner.id for video in plan.videos}) <= SMALL.creators + SMALL.shops
    for video in plan.videos:  # the planner parses each pair of tags once, not every caption
        assert list(video.hashtags) == media_domain.hashtags(video.caption)
