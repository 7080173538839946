"""Pure catalogue rules: statuses, stock reasons, handles, descriptions, the taxonomy."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import nh3

PRODUCT_STATUSES: tuple[str, ...] = ("draft", "active", "archived")
STOCK_REASONS: tuple[str, ...] = (
    "initial",
    "import",
    "sale",
    "return",
    "correction",
    "reservation",
    "release",
    "damaged",
    "restock",
)
MAX_IMAGES_PER_PRODUCT = 10
MAX_VARIANTS_PER_PRODUCT = 100
MAX_OPTIONS = 3
MAX_TAGS = 50
MAX_STOCK = 1_000_000_000
MAX_PRICE = 10**12  # minor units; keeps totals far from 64-bit limits
DESCRIPTION_MAX = 20_000

# Branches of the taxonomy that cannot be sold on ClipCart (checked by path prefix).
PROHIBITED_CATEGORY_PREFIXES: tuple[str, ...] = (
    "Animals & Pet Supplies > Live Animals",
    "Arts & Entertainment > Party & Celebration > Party Supplies > Fireworks & Firecrackers",
    "Food, Beverages & Tobacco > Beverages > Alcoholic Beverages",
    "Food, Beverages & Tobacco > Tobacco Products",
    "Health & Beauty > Health Care > Medicine & Drugs > Prescription Drugs",
    "Health & Beauty > Health Care > Recreational Drugs & Paraphernalia",
    "Mature",
    "Sporting Goods > Outdoor Recreation > Hunting & Shooting > Firearms & Ammunition",
)

_ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "em", "h2", "h3", "h4", "i", "li", "ol", "p", "s", "small",
    "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Category:
    """One node of the taxonomy."""

    id: int
    path: str

    @property
    def name(self) -> str:
        """The last part of the path ("Shirts & Tops")."""
        return self.path.rpartition(" > ")[2]

    @property
    def prohibited(self) -> bool:
        """True when products of this category cannot be listed."""
        return is_prohibited_path(self.path)


def is_prohibited_path(path: str) -> bool:
    """True when `path` is, or lies under, a prohibited branch."""
    return any(
        path == prefix or path.startswith(prefix + " > ") for prefix in PROHIBITED_CATEGORY_PREFIXES
    )


def parse_taxonomy(text: str) -> dict[int, Category]:
    """Categories from lines like `212 - Apparel & Accessories > Clothing > Shirts & Tops`."""
    categories: dict[int, Category] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        identifier, separator, path = line.partition(" - ")
        if not separator or not identifier.isdigit() or not path:
            raise ValueError(f"taxonomy line {number} is malformed: {raw!r}")
        category = Category(int(identifier), path)
        if category.id in categories:
            raise ValueError(f"taxonomy line {number} repeats id {category.id}")
        categories[category.id] = category
    return categories


@lru_cache(maxsize=1)
def taxonomy() -> dict[int, Category]:
    """The taxonomy shipped with ClipCart, by id."""
    text = resources.files("clipcart.catalog").joinpath("taxonomy.txt").read_text("utf-8")
    return parse_taxonomy(text)


@lru_cache(maxsize=1)
def _categories_by_path() -> dict[str, Category]:
    return {category.path.casefold(): category for category in taxonomy().values()}


def find_category(reference: int | str) -> Category | None:
    """The category with this id, or this full path (case-insensitive), or None."""
    if isinstance(reference, int):
        return taxonomy().get(reference)
    text = reference.strip()
    if text.isdigit():
        return taxonomy().get(int(text))
    return _categories_by_path().get(text.casefold())


def category_problems(category_id: int | None) -> list[str]:
    """Why a product cannot be filed under `category_id` (None: no category, allowed)."""
    if category_id is None:
        return []
    category = find_category(category_id)
    if category is None:
        return ["Choose a category from the ClipCart taxonomy."]
    if category.prohibited:
        return [f"Products in “{category.path}” cannot be sold on ClipCart."]
    return []


def listable_categories() -> list[Category]:
    """Every category a product may be filed under, in path order (for pickers)."""
    return sorted(
        (category for category in taxonomy().values() if not category.prohibited),
        key=lambda category: category.path,
    )


def category_and_descendants(category_id: int) -> list[int]:
    """`category_id` and the ids of every category under it (for filters)."""
    category = find_category(category_id)
    if category is None:
        return []
    prefix = category.path + " > "
    return [category.id] + [
        other.id for other in taxonomy().values() if other.path.startswith(prefix)
    ]


def slugify_handle(text: str) -> str:
    """A URL handle from a title, as Shopify makes them ("Blue Tee!" -> "blue-tee")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:200] or "product"


_HANDLE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def handle_problems(handle: str) -> list[str]:
    """Why `handle` cannot be a product handle."""
    if not 1 <= len(handle) <= 200:
        return ["Use 1 to 200 characters."]
    if not _HANDLE.fullmatch(handle):
        return ["Use lower-case letters and digits separated by single dashes."]
    return []


def sanitize_description(html: str) -> str:
    """Description HTML with only harmless formatting kept (scripts, styles, events dropped)."""
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "td": {"colspan"}, "th": {"colspan"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow ugc",
    ).strip()


def normalize_tags(tags: list[str]) -> list[str]:
    """Tags trimmed, without empties or duplicates (first spelling wins), order kept."""
    seen: set[str] = set()
    result: list[str] = []
    for raw in tags:
        tag = " ".join(raw.split())[:60]
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            result.append(tag)
    return result


def variant_option_problems(options: list[str], values: list[str]) -> list[str]:
    """Why a variant's option values do not fit the product's option names."""
    if len(values) != len(options):
        return [f"Give one value for each option ({', '.join(options) or 'none'})."]
    if any(not value.strip() for value in values):
        return ["Option values cannot be empty."]
    return []


def stock_state(stock: int) -> str:
    """What a buyer is told: `in_stock`, `low_stock` (5 or fewer) or `out_of_stock`."""
    if stock <= 0:
        return "out_of_stock"
    return "low_stock" if stock <= 5 else "in_stock"


def plain_text(html: str, limit: int = 300) -> str:
    """Description HTML as a short plain-text summary (meta tags, cards)."""
    text = " ".join(nh3.clean(html, tags=set()).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
