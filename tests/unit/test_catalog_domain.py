"""Pure catalogue rules: taxonomy, prohibited categories, handles, sanitising, stock states."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clipcart.catalog import domain


def test_shipped_taxonomy_is_well_formed() -> None:
    categories = domain.taxonomy()
    assert len(categories) >= 250
    paths = {category.path for category in categories.values()}
    for category in categories.values():
        parent = category.path.rpartition(" > ")[0]
        assert not parent or parent in paths, f"{category.path} has no parent listed"
    shirts = domain.find_category(212)
    assert shirts is not None and shirts.name == "Shirts & Tops"
    assert domain.find_category("apparel & accessories > clothing > shirts & tops") == shirts
    assert domain.find_category("212") == shirts
    assert domain.find_category(999_999_999) is None


@pytest.mark.parametrize(
    "path",
    [
        "Animals & Pet Supplies > Live Animals",
        "Mature > Weapons > Guns",
        "Food, Beverages & Tobacco > Tobacco Products > Cigarettes",
        "Health & Beauty > Health Care > Recreational Drugs & Paraphernalia",
        "Food, Beverages & Tobacco > Beverages > Alcoholic Beverages > Wine",
    ],
)
def test_prohibited_branches_are_refused(path: str) -> None:
    category = domain.find_category(path)
    assert category is not None and category.prohibited
    problems = domain.category_problems(category.id)
    assert problems and "cannot be sold" in problems[0]
    assert category not in domain.listable_categories()


def test_allowed_neighbours_are_not_caught_by_prefixes() -> None:
    pet_supplies = domain.find_category("Animals & Pet Supplies > Pet Supplies")
    assert pet_supplies is not None and not pet_supplies.prohibited
    assert domain.category_problems(pet_supplies.id) == []
    assert domain.category_problems(None) == []
    assert domain.category_problems(123) == ["Choose a category from the ClipCart taxonomy."]


def test_category_and_descendants() -> None:
    clothing = domain.category_and_descendants(1604)
    assert 212 in clothing and 209 in clothing and 187 not in clothing
    assert domain.category_and_descendants(424242) == []


def test_parse_taxonomy_refuses_malformed_lines() -> None:
    with pytest.raises(ValueError, match="malformed"):
        domain.parse_taxonomy("12 Apparel")
    with pytest.raises(ValueError, match="repeats"):
        domain.parse_taxonomy("1 - A\n1 - B")


def test_description_is_sanitised() -> None:
    dirty = (
        '<p style="color:red" onclick="steal()">Hi <script>alert(1)</script>'
        '<a href="javascript:alert(1)">x</a> <a href="https://example.com">ok</a></p>'
        "<iframe src=//evil></iframe><img src=x onerror=alert(1)>"
    )
    clean = domain.sanitize_description(dirty)
    for bad in ("script", "onclick", "style", "javascript", "iframe", "img", "onerror"):
        assert bad not in clean
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow ugc">ok</a>' in clean


@given(st.text(max_size=200))
def test_sanitised_output_never_contains_a_script_tag(text: str) -> None:
    assert "<script" not in domain.sanitize_description(text).lower()


@given(st.text(max_size=100))
def test_slugified_handles_are_always_valid(title: str) -> None:
    assert domain.handle_problems(domain.slugify_handle(title)) == []


def test_handles_tags_and_stock_states() -> None:
    assert domain.slugify_handle("Crème Brûlée Mug — 2 pack!") == "creme-brulee-mug-2-pack"
    assert domain.handle_problems("Bad Handle") != []
    assert domain.normalize_tags([" a  b ", "A B", "", "c"]) == ["a b", "c"]
    assert [domain.stock_state(n) for n in (0, 1, 5, 6)] == [
        "out_of_stock",
        "low_stock",
        "low_stock",
        "in_stock",
    ]
    assert domain.variant_option_problems(["Size"], ["M"]) == []
    assert domain.variant_option_problems(["Size"], []) != []
    assert domain.variant_option_problems(["Size"], [" "]) != []
